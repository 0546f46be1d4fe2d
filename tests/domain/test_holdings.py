"""Market value: cash plus every holding, rounded to 3 dp half-up."""

from decimal import Decimal

import pytest

from ordergen.domain.holdings import market_value
from ordergen.errors import InputError
from tests.factories import gid, holdings, prices


def test_includes_cash_and_every_holding_model_or_not() -> None:
    value = market_value(holdings("P", "9000", S=100, X=50), prices(S="100", X="20"))
    assert value == Decimal("20000.000")


def test_rounds_half_up_to_three_places() -> None:
    assert market_value(holdings("P", "0.0005"), {}) == Decimal("0.001")
    assert market_value(holdings("P", "0.0004"), {}) == Decimal("0.000")


def test_short_holdings_and_negative_cash_are_valid() -> None:
    value = market_value(holdings("P", "-500", S=-3, B=10), prices(S="100", B="120"))
    assert value == Decimal("400.000")


def test_a_held_security_without_a_price_is_an_error_not_zero() -> None:
    with pytest.raises(InputError) as caught:
        market_value(holdings("P", "0", S=1), {})
    assert gid("S") in caught.value.field
