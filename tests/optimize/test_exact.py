"""Band edges worth exactly a whole number of shares survive float64."""

import math
from decimal import Decimal

import numpy as np
import pytest

from ordergen.optimize.exact import round_share_counts, spend_exceeds
from ordergen.optimize.fastpath import CERTIFIED, screen
from ordergen.optimize.problem import ModelTerms

# (MV, weight, price, exact shares) where float64 lands a hair off the whole number.
EDGES = [
    ("424094.16", "0.125", "184.71", 287),
    ("870391.5", "0.240", "124.12", 1683),
    ("65038.6", "0.700", "484.33", 94),
    ("913748", "0.795", "415.34", 1749),
]


@pytest.mark.parametrize(("mv", "weight", "price", "shares"), EDGES)
def test_float_alone_would_miss_the_edge(mv: str, weight: str, price: str, shares: int) -> None:
    naive = float(mv) * (float(weight) / float(price))
    assert naive != shares  # the case is a real trap for float64


@pytest.mark.parametrize(("mv", "weight", "price", "shares"), EDGES)
def test_ceil_and_floor_are_exact_on_the_edge(
    mv: str, weight: str, price: str, shares: int
) -> None:
    args = ([Decimal(mv)], [Decimal(weight)], [Decimal(price)])
    assert round_share_counts(*args, mode="ceil")[0, 0] == shares
    assert round_share_counts(*args, mode="floor")[0, 0] == shares


@pytest.mark.parametrize(("mv", "weight", "price", "shares"), EDGES)
def test_a_zero_width_band_on_an_exact_edge_is_feasible(
    mv: str, weight: str, price: str, shares: int
) -> None:
    terms = ModelTerms(
        ("a" * 24,), (Decimal(weight),), (Decimal(0),), (Decimal(0),), (Decimal(price),)
    )
    screening = screen(terms, [Decimal(mv)])
    assert screening.verdict[0] == CERTIFIED
    assert screening.lower[0, 0] == screening.upper[0, 0] == shares


def test_spending_exactly_the_market_value_is_allowed() -> None:
    prices = [Decimal("0.1"), Decimal("0.2")]
    units = np.array([[1, 1], [2, 1]], dtype=np.int64)  # 0.3 and 0.4; float sums are inexact
    assert 0.1 + 0.2 != 0.3
    assert spend_exceeds(units, prices, [Decimal("0.3"), Decimal("0.399")]).tolist() == [
        False,
        True,
    ]


def test_nearest_count_breaks_exact_ties_towards_fewer_shares() -> None:
    from fractions import Fraction

    # MV*t/p = 2.5 exactly: the nearest whole counts 2 and 3 are equally good.
    nearest = round_share_counts(
        [Decimal(1000)], [Decimal("0.5")], [Decimal(200)], mode="ceil", offset=Fraction(-1, 2)
    )
    assert nearest[0, 0] == 2
    assert math.isclose(1000 * 0.5 / 200, 2.5)
