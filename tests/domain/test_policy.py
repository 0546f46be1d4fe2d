"""Policies: parsing and validation of every field, the merge rule, documents and audits."""

from decimal import Decimal
from typing import Any

import pytest

from ordergen.domain.policy import (
    DEFAULT_POLICY,
    CashReserve,
    MinTrade,
    Mode,
    Policy,
    PolicyOverride,
    Restriction,
    TradeCost,
    Trigger,
    effective_policy,
    parse_policy,
    parse_policy_override,
    policy_differences,
)
from ordergen.errors import InputError
from tests.factories import gid

FULL_DOCUMENT: dict[str, Any] = {
    "trigger": "outside-bands",
    "innerBand": "0.875",
    "mode": "sell-only",
    "cashReserve": {"amount": "1000", "fraction": "0.01"},
    "minTrade": {"amount": "250.50", "fraction": "0.001", "shares": 10},
    "tradeCost": {"perOrder": "4.95", "bps": "2.5"},
    "restrictions": {gid("X"): "hold", gid("Y"): "no-buy", gid("Z"): "no-sell"},
}


def rejected(raw: object, *, override: bool = False) -> InputError:
    with pytest.raises(InputError) as caught:
        (parse_policy_override if override else parse_policy)(raw)
    return caught.value


def test_empty_policy_is_the_default() -> None:
    assert parse_policy({}) == DEFAULT_POLICY
    assert Policy().is_default
    assert parse_policy({}).is_default
    assert parse_policy({"innerBand": "0.0", "mode": "full"}).is_default
    assert DEFAULT_POLICY.document() == {}


def test_every_field_parses() -> None:
    policy = parse_policy(FULL_DOCUMENT)
    assert policy == Policy(
        trigger=Trigger.OUTSIDE_BANDS,
        inner_band=Decimal("0.875"),
        mode=Mode.SELL_ONLY,
        cash_reserve=CashReserve(Decimal(1000), Decimal("0.01")),
        min_trade=MinTrade(Decimal("250.50"), Decimal("0.001"), 10),
        trade_cost=TradeCost(Decimal("4.95"), Decimal("2.5")),
        restrictions=(
            (gid("X"), Restriction.HOLD),
            (gid("Y"), Restriction.NO_BUY),
            (gid("Z"), Restriction.NO_SELL),
        ),
    )
    assert not policy.is_default
    assert policy.restriction_of(gid("Y")) is Restriction.NO_BUY
    assert policy.restriction_of(gid("Q")) is None


def test_json_numbers_and_decimal_strings_are_the_same_decimal() -> None:
    from_numbers = parse_policy({"innerBand": 0.5, "tradeCost": {"perOrder": 5, "bps": 1.25}})
    from_text = parse_policy({"innerBand": "0.5", "tradeCost": {"perOrder": "5", "bps": "1.25"}})
    assert from_numbers == from_text
    assert from_numbers.inner_band == Decimal("0.5")


def test_object_fields_default_inside_the_object() -> None:
    policy = parse_policy({"minTrade": {"shares": 5}, "cashReserve": {"fraction": "0.02"}})
    assert policy.min_trade == MinTrade(shares=5)
    assert policy.cash_reserve == CashReserve(fraction=Decimal("0.02"))


def test_document_round_trips_with_plain_decimal_text() -> None:
    policy = parse_policy(FULL_DOCUMENT)
    document = policy.document()
    assert document == FULL_DOCUMENT | {
        "cashReserve": {"amount": "1000", "fraction": "0.01"},
    }
    assert parse_policy(document) == policy
    tiny = parse_policy({"minTrade": {"amount": "1E-7"}})
    assert tiny.document() == {"minTrade": {"amount": "0.0000001", "fraction": "0", "shares": 0}}


def test_document_lists_only_fields_that_differ_from_the_default() -> None:
    assert parse_policy({"innerBand": "1", "mode": "full"}).document() == {"innerBand": "1"}


@pytest.mark.parametrize(
    ("raw", "field", "value"),
    [
        ({"trigger": "sometimes"}, "policy.trigger", "sometimes"),
        ({"trigger": 1}, "policy.trigger", 1),
        ({"mode": "sell"}, "policy.mode", "sell"),
        ({"mode": None}, "policy.mode", None),
        ({"innerBand": "-0.01"}, "policy.innerBand", "-0.01"),
        ({"innerBand": "1.001"}, "policy.innerBand", "1.001"),
        ({"innerBand": "half"}, "policy.innerBand", "half"),
        ({"innerBand": True}, "policy.innerBand", True),
        ({"innerBand": [1]}, "policy.innerBand", [1]),
        ({"innerBand": "NaN"}, "policy.innerBand", "NaN"),
        ({"cashReserve": {"amount": "-1"}}, "policy.cashReserve.amount", "-1"),
        ({"cashReserve": {"fraction": "1"}}, "policy.cashReserve.fraction", "1"),
        ({"cashReserve": {"fraction": "-0.1"}}, "policy.cashReserve.fraction", "-0.1"),
        ({"cashReserve": "100"}, "policy.cashReserve", "100"),
        ({"minTrade": {"amount": "-5"}}, "policy.minTrade.amount", "-5"),
        ({"minTrade": {"fraction": "1.5"}}, "policy.minTrade.fraction", "1.5"),
        ({"minTrade": {"shares": -1}}, "policy.minTrade.shares", -1),
        ({"minTrade": {"shares": 2.5}}, "policy.minTrade.shares", 2.5),
        ({"minTrade": {"shares": "ten"}}, "policy.minTrade.shares", "ten"),
        ({"minTrade": [100]}, "policy.minTrade", [100]),
        ({"tradeCost": {"perOrder": "-0.01"}}, "policy.tradeCost.perOrder", "-0.01"),
        ({"tradeCost": {"bps": "-1"}}, "policy.tradeCost.bps", "-1"),
        ({"tradeCost": {"bps": "Infinity"}}, "policy.tradeCost.bps", "Infinity"),
        ({"tradeCost": 5}, "policy.tradeCost", 5),
        ({"restrictions": {gid("X"): "sell-all"}}, f"policy.restrictions.{gid('X')}", "sell-all"),
        ({"restrictions": {gid("X"): None}}, f"policy.restrictions.{gid('X')}", None),
        ({"restrictions": {"short-id": "hold"}}, "policy.restrictions", "short-id"),
        ({"restrictions": {"x" * 23 + "!": "hold"}}, "policy.restrictions", "x" * 23 + "!"),
        ({"restrictions": [gid("X")]}, "policy.restrictions", [gid("X")]),
    ],
)
def test_bad_values_name_the_field_and_value(
    raw: dict[str, Any], field: str, value: object
) -> None:
    for override in (False, True):
        error = rejected(raw, override=override)
        assert error.field == field
        assert error.value == value


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"triger": "always"}, "policy.triger"),
        ({"cashReserve": {"amount": "1", "percent": "2"}}, "policy.cashReserve.percent"),
        ({"minTrade": {"value": "1"}}, "policy.minTrade.value"),
        ({"tradeCost": {"perTrade": "1"}}, "policy.tradeCost.perTrade"),
    ],
)
def test_unknown_fields_are_refused(raw: dict[str, Any], field: str) -> None:
    for override in (False, True):
        assert rejected(raw, override=override).field == field


def test_a_policy_must_be_an_object() -> None:
    error = rejected(["always"])
    assert (error.field, error.value) == ("policy", ["always"])


def test_range_edges_that_are_allowed() -> None:
    policy = parse_policy(
        {
            "innerBand": "1",
            "cashReserve": {"fraction": "0.999999"},
            "minTrade": {"fraction": "1", "shares": "100.00"},
            "tradeCost": {"bps": "10000"},
        }
    )
    assert policy.inner_band == 1
    assert policy.min_trade.shares == 100


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"tradeCost": {"bps": "1e400"}}, "policy.tradeCost.bps", "must be in [0, 10000]"),
        ({"tradeCost": {"bps": "10000.01"}}, "policy.tradeCost.bps", "must be in [0, 10000]"),
        ({"tradeCost": {"perOrder": "1e13"}}, "policy.tradeCost.perOrder", "[0, 1000000000000]"),
        ({"cashReserve": {"amount": "1e400"}}, "policy.cashReserve.amount", "[0, 1000000000000]"),
        ({"minTrade": {"amount": "2e12"}}, "policy.minTrade.amount", "[0, 1000000000000]"),
        ({"minTrade": {"amount": "1e-400"}}, "policy.minTrade.amount", "decimal places"),
        ({"tradeCost": {"bps": "0.000000001"}}, "policy.tradeCost.bps", "decimal places"),
    ],
)
def test_amounts_and_costs_are_bounded_so_exact_arithmetic_stays_in_range(
    raw: dict[str, Any], field: str, message: str
) -> None:
    for override in (False, True):
        error = rejected(raw, override=override)
        assert error.field == field and message in str(error)
    error = rejected({"cashNeed": "1e13"}, override=True)
    assert error.field == "policy.cashNeed" and "[0, 1000000000000]" in str(error)


def test_cash_need_is_per_portfolio_only() -> None:
    error = rejected({"cashNeed": "100"})
    assert (error.field, error.value) == ("policy.cashNeed", "100")
    override = parse_policy_override({"cashNeed": "2500.50"})
    assert override.cash_need == Decimal("2500.50")
    assert override.cash_to_raise == Decimal("2500.50")
    assert parse_policy_override({}).cash_to_raise == 0


@pytest.mark.parametrize("value", ["-1", "lots", None, True])
def test_cash_need_must_be_a_decimal_at_least_zero(value: object) -> None:
    error = rejected({"cashNeed": value}, override=True)
    assert (error.field, error.value) == ("policy.cashNeed", value)


def test_field_names_follow_where_the_policy_sits() -> None:
    with pytest.raises(InputError) as caught:
        parse_policy({"innerBand": "2"}, where="models[0].policy")
    assert caught.value.field == "models[0].policy.innerBand"


# --- the merge rule -------------------------------------------------------------------

MODEL = parse_policy(
    {
        "trigger": "outside-bands",
        "innerBand": "0.5",
        "minTrade": {"amount": "1000", "shares": 10},
        "cashReserve": {"fraction": "0.02"},
        "restrictions": {gid("X"): "hold", gid("Y"): "no-buy"},
    }
)


def test_no_override_keeps_the_models_policy() -> None:
    assert effective_policy(MODEL, None) == (MODEL, Decimal(0))
    assert MODEL.merged(None) == MODEL
    assert MODEL.merged(PolicyOverride()) == MODEL


def test_override_replaces_fields_one_by_one() -> None:
    override = parse_policy_override({"innerBand": "1", "mode": "buy-only"})
    merged = MODEL.merged(override)
    assert merged.inner_band == 1
    assert merged.mode is Mode.BUY_ONLY
    assert merged.trigger is Trigger.OUTSIDE_BANDS
    assert merged.min_trade == MODEL.min_trade
    assert merged.cash_reserve == MODEL.cash_reserve


def test_override_objects_replace_the_models_whole() -> None:
    merged = MODEL.merged(parse_policy_override({"minTrade": {"fraction": "0.001"}}))
    # Not amount 1000 and shares 10 kept beside the new fraction: the object is replaced.
    assert merged.min_trade == MinTrade(fraction=Decimal("0.001"))


def test_restrictions_merge_with_the_portfolio_entry_winning() -> None:
    override = parse_policy_override({"restrictions": {gid("Y"): "no-sell", gid("Z"): "hold"}})
    merged = MODEL.merged(override)
    assert dict(merged.restrictions) == {
        gid("X"): Restriction.HOLD,
        gid("Y"): Restriction.NO_SELL,
        gid("Z"): Restriction.HOLD,
    }


def test_effective_policy_carries_the_cash_need() -> None:
    policy, need = effective_policy(MODEL, parse_policy_override({"cashNeed": 500}))
    assert policy == MODEL
    assert need == Decimal(500)


def test_override_document_lists_only_what_it_sets() -> None:
    raw = {"mode": "sell-only", "minTrade": {"shares": 3}, "cashNeed": "20000"}
    document = parse_policy_override(raw).document()
    assert document == {
        "mode": "sell-only",
        "minTrade": {"amount": "0", "fraction": "0", "shares": 3},
        "cashNeed": "20000",
    }
    assert parse_policy_override(document) == parse_policy_override(raw)


def test_differences_list_what_the_override_changed() -> None:
    override = parse_policy_override(
        {
            "innerBand": "0.50",  # same value as the model's: not a difference
            "mode": "sell-only",
            "tradeCost": {"perOrder": "5"},
            "restrictions": {gid("X"): "hold", gid("Z"): "no-sell"},
        }
    )
    assert policy_differences(MODEL, MODEL.merged(override)) == {
        "mode": "sell-only",
        "tradeCost": {"perOrder": "5", "bps": "0"},
        f"restrictions.{gid('Z')}": "no-sell",
    }
    assert policy_differences(MODEL, MODEL) == {}


def test_equal_policies_hash_alike_whatever_the_restriction_order() -> None:
    first = Policy(restrictions=((gid("B"), Restriction.HOLD), (gid("A"), Restriction.NO_BUY)))
    second = Policy(restrictions=((gid("A"), Restriction.NO_BUY), (gid("B"), Restriction.HOLD)))
    assert first == second
    assert len({first, second}) == 1
