"""Histograms for the report's distributions, binned here so the page holds counts only."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_BINS = 30


@dataclass(frozen=True)
class Bin:
    """Values v with start <= v < end (the last bin also holds its end)."""

    start: float
    end: float
    count: int


def nice_step(span: float, bins: int = MAX_BINS) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that covers `span` in `bins` steps."""
    if span <= 0:
        return 1.0
    raw = span / bins
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def histogram(
    values: Sequence[float], step: float, low: float, high: float | None = None
) -> list[Bin]:
    """`values` counted in bins of width `step` from `low` up to `high` (by default the
    largest value)."""
    if not values:
        return []
    top = max(values) if high is None else high
    count = max(1, math.floor((top - low) / step) + 1)
    counts = [0] * count
    for value in values:
        counts[min(count - 1, max(0, math.floor((value - low) / step)))] += 1
    return [Bin(low + i * step, low + (i + 1) * step, n) for i, n in enumerate(counts)]


def paired_histograms(
    before: Sequence[float], after: Sequence[float]
) -> tuple[list[Bin], list[Bin]]:
    """Two histograms on the same bins: before and after, over both ranges."""
    both = [*before, *after]
    if not both:
        return [], []
    low_value, high_value = min(both), max(both)
    step = nice_step(high_value - low_value)
    low = math.floor(low_value / step) * step
    return histogram(before, step, low, high_value), histogram(after, step, low, high_value)
