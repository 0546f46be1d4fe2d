"""The numeric limits of every input value, and why they keep downstream arithmetic exact."""

import math
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

import pytest

from ordergen.domain.fixed_point import exact_array, places, to_units
from ordergen.domain.holdings import Holdings, market_value
from ordergen.domain.holdings_columns import HoldingsColumns
from ordergen.domain.model import MAX_DRIFT, MAX_TARGET
from ordergen.domain.model_columns import ModelColumns
from ordergen.domain.values import (
    MAX_AMOUNT,
    MAX_PLACES,
    MAX_PRICE,
    MAX_QUANTITY,
    MIN_PRICE,
    parse_cash,
    parse_decimal,
    parse_globeco_id,
    parse_price,
    parse_whole_number,
)
from ordergen.errors import InputError
from ordergen.optimize.exact import round_share_counts
from tests.factories import gid


def refused(parse: object, value: object) -> InputError:
    with pytest.raises(InputError) as caught:
        parse(value, "f")  # type: ignore[operator]
    assert caught.value.field == "f" and caught.value.value is value
    assert "None" not in str(caught.value) and "Decimal(" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.001", Decimal("0.001")),
        ("1e9", Decimal("1e9")),
        (Decimal("12.34567891"), Decimal("12.34567891")),
        ("99.003906250", Decimal("99.00390625")),  # a trailing zero past 8 places is dropped
        (5, Decimal(5)),
        (0.1, Decimal("0.1")),
    ],
)
def test_prices_inside_the_limits(value: object, expected: Decimal) -> None:
    price = parse_price(value, "f")
    assert price == expected and price.as_tuple().exponent >= -MAX_PLACES  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1e400", "is out of range"),
        (Decimal("1e400"), "is out of range"),
        ("1e30", "is out of range"),
        ("1000000000.00000001", "is out of range"),
        ("1e-400", "is out of range"),
        ("0.000999", "is out of range"),
        ("0", "is not positive"),
        ("-1", "is not positive"),
        ("1.123456789", "has too many decimal places"),
        ("NaN", "is not a finite number"),
        (Decimal("sNaN"), "is not a finite number"),
        ("-Infinity", "is not a finite number"),
        (float("inf"), "is not a finite number"),
        ("1e999999999999999999999", "is not a decimal number"),
        ("", "is not a decimal number"),
        ([], "is not a number"),
        (True, "is not a number"),
    ],
)
def test_prices_outside_the_limits_say_what_is_allowed(value: object, problem: str) -> None:
    error = refused(parse_price, value)
    assert error.problem.startswith(problem)
    if "range" in problem or "places" in problem:
        assert "a price must be between 0.001 and 1e9 with at most 8 decimal places" in str(error)


def test_the_value_is_shown_as_written() -> None:
    assert str(refused(parse_price, "1e400")).startswith('f: "1e400" is out of range: ')
    assert str(refused(parse_price, Decimal("1.5e400"))).startswith("f: 1.5E+400 is out")
    assert str(refused(parse_cash, None)) == "f is null: expected a number or a decimal string"


@pytest.mark.parametrize("value", ["1e12", "-1e12", "0.00000001", "-12.5", 0])
def test_cash_inside_the_limits(value: object) -> None:
    assert parse_cash(value, "f") == Decimal(str(value))


@pytest.mark.parametrize("value", ["1e400", "1000000000000.01", "-1e13", "0.000000001", "NaN"])
def test_cash_outside_the_limits(value: str) -> None:
    error = refused(parse_cash, value)
    if value != "NaN":
        assert "a cash balance must be between -1e12 and 1e12" in error.problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100", 100),
        ("100.00", 100),
        ("-3", -3),
        ("007", 7),
        ("999999999999999", 10**15 - 1),
        ("1000000000000000", 10**15),
        (10**15, 10**15),
        ("-1e15", -(10**15)),
        (7, 7),
    ],
)
def test_quantities_inside_the_limits(value: object, expected: int) -> None:
    assert parse_whole_number(value, "f") == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1.5", "is not a whole number"),
        ("1000000000000001", "is out of range"),
        ("1e400", "is out of range"),
        (10**15 + 1, "is out of range"),
        pytest.param(10**5000, "is out of range", id="a JSON integer of 5001 digits"),
        ("1e-400", "is not a whole number"),
        ("Infinity", "is not a finite number"),
        (None, "is null"),
        ({}, "is not a number"),
    ],
)
def test_quantities_outside_the_limits(value: object, problem: str) -> None:
    assert refused(parse_whole_number, value).problem.startswith(problem)


def test_a_huge_integer_is_described_not_printed() -> None:
    message = str(refused(parse_whole_number, 10**5000))
    assert "a number of about 5000 digits is out of range" in message and len(message) < 200


def test_ids_and_generic_decimals() -> None:
    assert parse_globeco_id(gid("A"), "f") == gid("A")
    assert str(refused(parse_globeco_id, "x")) == 'f: "x" is not a 24-character alphanumeric id'
    assert parse_decimal(" 1.50 ", "f") == Decimal("1.50")


def test_the_limits_keep_every_downstream_computation_exact() -> None:
    """The reasoning in ordergen.domain.values, checked at the corners of the limits."""
    # Share counts: the largest the solver can meet is below 2**53 (exact in float64).
    largest_weight = MAX_TARGET + MAX_DRIFT
    assert MAX_AMOUNT * largest_weight / MIN_PRICE < 2**53
    assert MAX_QUANTITY * MIN_PRICE <= MAX_AMOUNT
    counts = round_share_counts([MAX_AMOUNT], [largest_weight], [MIN_PRICE], mode="floor")
    exact = Fraction(MAX_AMOUNT) * Fraction(largest_weight) / Fraction(MIN_PRICE)
    assert int(counts[0, 0]) == math.floor(exact)
    # Decimal: a market value at the limits, built from values with every digit the limits
    # allow, and a weight against the smallest positive market value, equal the exact
    # rational results rounded half-up (no digit lost to the 28-digit context).
    price = Decimal("0.00199999")  # 8 places, near the smallest price
    quantity = int(MAX_AMOUNT / price / 2)
    cash = Decimal("-123456789012.12345678")
    holdings = Holdings(gid("P"), cash, {gid("A"): quantity, gid("B"): -1, gid("C"): 3})
    prices = {gid("A"): price, gid("B"): MAX_PRICE, gid("C"): Decimal("999999999.99999999")}
    exact_mv = Fraction(cash) + sum(
        Fraction(units) * Fraction(prices[sid]) for sid, units in holdings.quantities.items()
    )
    assert market_value(holdings, prices) == half_up(exact_mv, 3)
    tiny = Decimal("0.001")
    exact_gap = abs(Fraction(quantity) * Fraction(price) - Fraction(MAX_TARGET) * Fraction(tiny))
    drift = worst_drift({gid("A"): quantity}, {gid("A"): MAX_TARGET}, prices, tiny)
    assert drift == half_up(exact_gap / Fraction(tiny), 4)


def worst_drift(
    quantities: Mapping[str, int],
    targets: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    valued_at: Decimal,
) -> Decimal | None:
    """One portfolio's `HoldingsColumns.worst_drifts`: the largest |weight - target| over
    every security held or targeted, valued at `valued_at` (None when it is <= 0)."""
    model = ModelColumns.of(list(targets), list(targets.values()), [prices[s] for s in targets])
    holdings = HoldingsColumns.of([Decimal(0)], [quantities], model.security_ids, prices)
    scale = places(valued_at)
    units = to_units(valued_at, scale)
    (drift,) = holdings.worst_drifts([0], exact_array([units], abs(units)), model, scale)
    return drift


def half_up(value: Fraction, digits: int) -> Decimal:
    """`value` rounded half-up (away from zero) to `digits` places, computed exactly."""
    scaled = abs(value) * 10**digits
    whole = math.floor(scaled + Fraction(1, 2))
    return (Decimal(whole if value >= 0 else -whole)).scaleb(-digits)


def test_a_holding_or_market_value_out_of_range_is_an_input_error() -> None:
    big = Holdings(gid("P"), Decimal(0), {gid("A"): 10**13})
    with pytest.raises(InputError, match="the value of a holding must be between -1e12 and 1e12"):
        market_value(big, {gid("A"): Decimal(1000)})
    # Each holding is inside the limit, but together they are not.
    wide = Holdings(gid("P"), MAX_AMOUNT, {gid("A"): 10**9})
    with pytest.raises(InputError) as caught:
        market_value(wide, {gid("A"): Decimal(1000)})
    assert caught.value.field == f"portfolio {gid('P')}"
    assert "a market value must" in str(caught.value)
    # Shorts that offset are fine as long as each holding is within the limit.
    hedged = Holdings(gid("P"), Decimal(0), {gid("A"): 10**9, gid("B"): -(10**9)})
    assert market_value(hedged, {gid("A"): Decimal(1000), gid("B"): Decimal(1000)}) == 0
