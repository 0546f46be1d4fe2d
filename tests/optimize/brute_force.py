"""An independent exhaustive solver over Fractions, to hold the engine against."""

import itertools
import math
from collections.abc import Sequence
from fractions import Fraction


def brute_force(
    market_value: Fraction,
    targets: Sequence[Fraction],
    lows: Sequence[Fraction],
    highs: Sequence[Fraction],
    prices: Sequence[Fraction],
) -> tuple[Fraction, tuple[int, ...]] | None:
    """(optimal objective, one optimal u), or None when no whole u meets every rule."""
    ranges = []
    for t, low, high, price in zip(targets, lows, highs, prices, strict=True):
        first = max(0, math.ceil(market_value * (t - low) / price))
        last = math.floor(market_value * (t + high) / price)
        if first > last:
            return None
        ranges.append(range(first, last + 1))
    best: tuple[Fraction, tuple[int, ...]] | None = None
    for units in itertools.product(*ranges):
        spend = sum((u * p for u, p in zip(units, prices, strict=True)), Fraction(0))
        if spend > market_value:
            continue
        objective = sum(
            (abs(market_value * t - u * p) for t, u, p in zip(targets, units, prices, strict=True)),
            Fraction(0),
        )
        if best is None or objective < best[0]:
            best = (objective, units)
    return best
