"""Exact fixed-point arithmetic on integer arrays: `units` at `scale` means units / 10**scale.

Arrays hold int64 while every value an operation can produce fits with room to
spare, and Python ints (numpy object arrays: slower, unbounded) when it might
not, so no result ever depends on overflow or float rounding. Rounding is
Decimal's ROUND_HALF_UP: ties go away from zero.

A Decimal is written with as many places as its exponent says ("1.50" has two),
so results keep the exponent Decimal arithmetic would give them: `from_units`
builds the Decimal with exactly the places asked for.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

Exact = npt.NDArray[Any]
"""Integers, exactly: int64, or object holding Python ints where int64 could overflow."""

INT64_ROOM = 2**62
"""Results stay below this in int64 (half of its range: a sign flip or a doubling fits)."""


def exponent(value: Decimal) -> int:
    """The exponent of a finite Decimal: Decimal("1.50") -> -2, Decimal("1E+3") -> 3."""
    power = value.as_tuple().exponent
    if not isinstance(power, int):
        raise ValueError(f"{value} is not a finite number")
    return power


def places(value: Decimal) -> int:
    """Places a Decimal is written with: 2 for "1.50", 0 for "7" and for "1E+3"."""
    return max(0, -exponent(value))


def to_units(value: Decimal | int, scale: int) -> int:
    """`value * 10**scale` as an int; ValueError when that is not a whole number."""
    numerator, denominator = value.as_integer_ratio()
    factor: int = 10**scale
    whole, remainder = divmod(numerator * factor, denominator)
    if remainder:
        raise ValueError(f"{value} has more than {scale} decimal places")
    return whole


def from_units(units: int, scale: int) -> Decimal:
    """The Decimal units / 10**scale, written with exactly `scale` places (exact at any size)."""
    return Decimal(f"{units}E{-scale}")


def exact_array(values: Sequence[int], largest: int) -> Exact:
    """A 1-D exact array of `values`, each at most `largest` in magnitude."""
    if largest < INT64_ROOM:
        return np.array(values, dtype=np.int64)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def largest(values: Exact) -> int:
    """The largest magnitude in `values` (0 when empty), as a Python int."""
    return int(np.abs(values).max()) if values.size else 0


def _wide(values: Exact, bound: int) -> Exact:
    """`values` as Python ints when a result may reach `bound`."""
    return values.astype(object) if bound >= INT64_ROOM and values.dtype != object else values


def times(left: Exact, right: Exact) -> Exact:
    """Elementwise (broadcast) products."""
    bound = largest(left) * largest(right)
    return _wide(left, bound) * _wide(right, bound)


def total(left: Exact, right: Exact) -> Exact:
    """Elementwise (broadcast) left + right."""
    bound = largest(left) + largest(right)
    return _wide(left, bound) + _wide(right, bound)


def difference(left: Exact, right: Exact) -> Exact:
    """Elementwise (broadcast) left - right."""
    bound = largest(left) + largest(right)
    return _wide(left, bound) - _wide(right, bound)


def distance(left: Exact, right: Exact) -> Exact:
    """Elementwise (broadcast) |left - right|."""
    return np.abs(difference(left, right))


def shifted(units: Exact, by: int) -> Exact:
    """`units * 10**by` for by >= 0: the same values at a finer scale."""
    if by == 0:
        return units
    factor: int = 10**by
    return _wide(units, largest(units) * factor) * factor


def row_sums(matrix: Exact) -> Exact:
    """The sum of each row of a 2-D array."""
    sums: Exact = _wide(matrix, largest(matrix) * max(1, matrix.shape[1])).sum(axis=1)
    return sums


def half_up_quotient(numerator: Exact, denominator: Exact) -> Exact:
    """numerator / denominator rounded to a whole number, ties away from zero (denominator > 0)."""
    bound = 2 * largest(numerator) + largest(denominator)
    numerator, denominator = _wide(numerator, bound), _wide(denominator, bound)
    rounded = (2 * abs(numerator) + denominator) // (2 * denominator)
    signed: Exact = np.where(numerator < 0, -rounded, rounded)
    return signed


def ratio_half_up(
    numerator: Exact, numerator_scale: int, denominator: Exact, denominator_scale: int, scale: int
) -> Exact:
    """numerator / denominator (each at its scale) in units at `scale`, rounded half-up.

    Every denominator must be positive.
    """
    power = scale + denominator_scale - numerator_scale
    if power >= 0:
        return half_up_quotient(shifted(numerator, power), denominator)
    return half_up_quotient(numerator, shifted(denominator, -power))
