"""Exact money as scaled integers: every Decimal of a batch times one power of ten.

Every comparison the policies need (a value against a zone end, one candidate's
term against another's, a spend against the cash floor) is decided on integers,
so nothing depends on float rounding. The scale is the fewest decimal places that
hold every quantity exactly; int64 carries the arithmetic when the largest value
fits with room to spare, and Python integers (numpy object arrays, slower but
unbounded) when it does not.
"""

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

# Per-element values stay below this, so a few additions and comparisons never overflow.
INT64_HEADROOM = 2**60


def places(value: Decimal | Fraction) -> int:
    """Decimal places needed to write `value` exactly (trailing zeros do not count).

    `value` must have a terminating decimal expansion (a Decimal always has).
    """
    # In lowest terms the denominator is 2**twos * 5**fives; the places are the larger power.
    denominator = value.as_integer_ratio()[1]
    twos = (denominator & -denominator).bit_length() - 1
    fives = 0
    denominator >>= twos
    while denominator > 1:
        denominator //= 5
        fives += 1
    return max(twos, fives)


def most_places(values: Iterable[Decimal]) -> int:
    return max((places(value) for value in values), default=0)


def scaled(value: Decimal | Fraction | int, exponent: int) -> int:
    """`value * 10**exponent` as an int; raises ValueError unless that is a whole number."""
    numerator, denominator = value.as_integer_ratio()
    whole, remainder = divmod(numerator * 10**exponent, denominator)
    if remainder:
        raise ValueError(f"{value} has more than {exponent} decimal places")
    return int(whole)


def unscaled(value: int, exponent: int) -> Decimal:
    """The Decimal `value / 10**exponent`, exactly."""
    return Decimal(value).scaleb(-exponent) if value else Decimal(0)


def ceil_div(numerator: Any, denominator: Any) -> Any:
    """ceil(numerator / denominator) for integer arrays (or ints), exactly."""
    return -((-numerator) // denominator)


def integer_dtype(largest: int) -> type[Any]:
    """int64 when every value is at most `largest` in magnitude and that fits, else object."""
    return np.int64 if largest < INT64_HEADROOM else object


def integer_array(values: Any, dtype: type[Any]) -> np.ndarray:
    """An integer array of `dtype` (object arrays hold Python ints, never floats)."""
    if dtype is object:
        array = np.empty(np.shape(values), dtype=object)
        array[...] = np.asarray(values, dtype=object)
        return array
    return np.asarray(values, dtype=np.int64)


def row_sums(matrix: np.ndarray) -> list[int]:
    """Exact sum of each row as Python ints (an int64 sum could overflow).

    int64 rows are summed in numpy in two halves, the high and low 32 bits, which
    cannot overflow below 2**31 columns; object rows in Python.
    """
    if matrix.dtype == object:
        return [sum(row) for row in matrix.tolist()]
    high = (matrix >> 32).sum(axis=-1)
    low = (matrix & 0xFFFFFFFF).sum(axis=-1)
    return [(h << 32) + lo for h, lo in zip(high.tolist(), low.tolist(), strict=True)]
