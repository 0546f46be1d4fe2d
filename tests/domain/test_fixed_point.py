"""Exact fixed-point arithmetic: half-up rounding as Decimal does it, in int64 or beyond."""

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordergen.domain.fixed_point import (
    exact_array,
    from_units,
    half_up_quotient,
    places,
    ratio_half_up,
    row_sums,
    to_units,
)

big = st.integers(-(10**40), 10**40)


def decimal_half_up(numerator: int, denominator: int) -> int:
    with localcontext() as context:
        context.prec = 200
        return int((Decimal(numerator) / Decimal(denominator)).quantize(1, ROUND_HALF_UP))


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(big | st.integers(-1000, 1000), st.integers(1, 10**30) | st.integers(1, 20)),
        min_size=1,
    )
)
def test_half_up_quotient_rounds_ties_away_from_zero_like_decimal(
    pairs: list[tuple[int, int]],
) -> None:
    numerators = [n for n, _ in pairs]
    denominators = [d for _, d in pairs]
    got = half_up_quotient(
        exact_array(numerators, max(map(abs, numerators))),
        exact_array(denominators, max(denominators)),
    ).tolist()
    assert got == [decimal_half_up(n, d) for n, d in pairs]


def test_ties_and_negatives() -> None:
    numerators = np.array([5, -5, 15, -15, 4, -4, 6, -6], dtype=np.int64)
    assert half_up_quotient(numerators, np.array([10])).tolist() == [1, -1, 2, -2, 0, 0, 1, -1]


@settings(max_examples=300, deadline=None)
@given(big, st.integers(0, 12), st.integers(1, 10**20), st.integers(0, 12), st.integers(0, 6))
def test_ratio_half_up_is_the_exact_quotient_rounded(
    numerator: int, numerator_scale: int, denominator: int, denominator_scale: int, scale: int
) -> None:
    (got,) = ratio_half_up(
        exact_array([numerator], abs(numerator)),
        numerator_scale,
        exact_array([denominator], denominator),
        denominator_scale,
        scale,
    ).tolist()
    exact = Fraction(numerator, 10**numerator_scale) / Fraction(denominator, 10**denominator_scale)
    scaled = abs(exact) * 10**scale
    rounded = int(scaled + Fraction(1, 2))
    assert got == (rounded if exact >= 0 else -rounded)


def test_int64_overflow_widens_to_python_ints() -> None:
    matrix = np.array([[2**61, 2**61, 2**61]], dtype=np.int64)
    assert row_sums(matrix).tolist() == [3 * 2**61]


@pytest.mark.parametrize(
    ("text", "expected_places", "scale", "units"),
    [("1.50", 2, 3, 1500), ("7", 0, 0, 7), ("1E+3", 0, 0, 1000), ("-0.005", 3, 4, -50)],
)
def test_units_and_places(text: str, expected_places: int, scale: int, units: int) -> None:
    assert places(Decimal(text)) == expected_places
    assert to_units(Decimal(text), scale) == units
    assert str(from_units(units, scale)) == str(Decimal(units).scaleb(-scale))
    with pytest.raises(ValueError):
        to_units(Decimal("0.125"), 2)
