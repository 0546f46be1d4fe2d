"""A model's policy, combining a portfolio's overrides, and editing a policy field by field."""

from decimal import Decimal
from typing import Any

import pytest

from ordergen.domain.model import model_content, model_to_document, validate_model
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
    parse_policy_override,
)
from ordergen.domain.policy_overrides import PolicyEdit, combine_overrides, overrides_for_run
from ordergen.errors import InputError
from ordergen.run.inputs import model_fingerprint
from tests.factories import gid, model_doc

POSITIONS = [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")]
POLICY = {
    "trigger": "outside-bands",
    "innerBand": "0.5",
    "minTrade": {"amount": "100", "fraction": "0", "shares": 5},
    "restrictions": {gid("X"): "no-sell"},
}


def with_policy(policy: object) -> dict[str, Any]:
    return {**model_doc(POSITIONS, ["P"], name="growth"), "policy": policy}


# --- a model without a policy is exactly today's model --------------------------------


def test_a_model_without_policy_has_todays_document_content_and_fingerprint() -> None:
    model = validate_model(model_doc(POSITIONS, ["P"], name="growth"))
    assert model.policy == DEFAULT_POLICY
    positions = [
        {"securityId": gid("S"), "target": "0.60", "lowDrift": "0.05", "highDrift": "0.05"},
        {"securityId": gid("B"), "target": "0.30", "lowDrift": "0.03", "highDrift": "0.03"},
    ]
    today = {"name": "growth", "positions": positions, "portfolios": [gid("P")], "version": 1}
    assert model_to_document(model) == today
    assert list(model_to_document(model)) == ["name", "positions", "portfolios", "version"]
    assert model_content(model) == {
        "name": "growth",
        "positions": positions,
        "portfolios": [gid("P")],
    }
    # The fingerprint names runs: recorded from the code before policies existed.
    assert model_fingerprint(model) == (
        '{"name":"growth","portfolios":["P00000000000000000000000"],"positions":['
        '{"highDrift":"0.05","lowDrift":"0.05","securityId":"S00000000000000000000000",'
        '"target":"0.60"},{"highDrift":"0.03","lowDrift":"0.03",'
        '"securityId":"B00000000000000000000000","target":"0.30"}]}'
    )


@pytest.mark.parametrize("policy", [{}, {"innerBand": "0.0", "mode": "full", "restrictions": {}}])
def test_a_policy_of_defaults_is_no_policy(policy: dict[str, Any]) -> None:
    model = validate_model(with_policy(policy))
    without = validate_model(model_doc(POSITIONS, ["P"], name="growth"))
    assert model.policy.is_default
    assert model == without
    assert model_to_document(model) == model_to_document(without)
    assert model_fingerprint(model) == model_fingerprint(without)


# --- a model with a policy ------------------------------------------------------------


def test_a_policy_is_parsed_and_kept_in_documents_and_content() -> None:
    model = validate_model(with_policy(POLICY))
    assert model.policy == Policy(
        trigger=Trigger.OUTSIDE_BANDS,
        inner_band=Decimal("0.5"),
        min_trade=MinTrade(Decimal(100), Decimal(0), 5),
        restrictions=((gid("X"), Restriction.NO_SELL),),
    )
    document = model_to_document(model)
    assert list(document) == ["name", "positions", "portfolios", "policy", "version"]
    assert document["policy"] == POLICY
    assert model_content(model)["policy"] == POLICY
    assert validate_model(document) == model


def test_the_policy_is_content_a_different_one_is_a_different_model() -> None:
    plain = validate_model(model_doc(POSITIONS, ["P"], name="growth"))
    model = validate_model(with_policy(POLICY))
    assert model != plain
    assert model_fingerprint(model) != model_fingerprint(plain)
    # Only fields that differ from the default are written, objects whole.
    cash = validate_model(with_policy({"cashReserve": {"fraction": "0.02"}, "mode": "full"}))
    assert model_to_document(cash)["policy"] == {"cashReserve": {"amount": "0", "fraction": "0.02"}}


@pytest.mark.parametrize(
    ("policy", "field", "value"),
    [
        ({"innerBand": "2"}, "policy.innerBand", "2"),
        ({"mode": "sideways"}, "policy.mode", "sideways"),
        ({"minTrade": {"shares": "1.5"}}, "policy.minTrade.shares", "1.5"),
        ({"cashReserve": {"fraction": "1"}}, "policy.cashReserve.fraction", "1"),
        ({"restrictions": {"short": "hold"}}, "policy.restrictions", "short"),
        ({"restrictions": {gid("X"): "sell"}}, f"policy.restrictions.{gid('X')}", "sell"),
        ({"cashNeed": "10"}, "policy.cashNeed", "10"),
        ({"colour": "red"}, "policy.colour", "red"),
        ("fast", "policy", "fast"),
    ],
)
def test_policy_errors_name_the_field_and_the_value(policy: object, field: str, value: str) -> None:
    with pytest.raises(InputError) as caught:
        validate_model(with_policy(policy))
    assert (caught.value.field, caught.value.value) == (field, value)
    assert "\n" not in str(caught.value)


# --- combining a portfolio's stored override with a file's ----------------------------

STORED = PolicyOverride(
    trigger=Trigger.OUTSIDE_BANDS,
    mode=Mode.SELL_ONLY,
    min_trade=MinTrade(Decimal(500), Decimal(0), 10),
    restrictions=((gid("X"), Restriction.NO_SELL), (gid("Y"), Restriction.HOLD)),
    cash_need=Decimal(1000),
)


def test_nothing_to_combine() -> None:
    assert combine_overrides(None, None) is None
    assert combine_overrides(STORED, None) == STORED
    assert combine_overrides(None, STORED) == STORED


def test_the_files_fields_win_one_by_one_objects_whole_restrictions_merged() -> None:
    given = PolicyOverride(
        mode=Mode.FULL,
        min_trade=MinTrade(amount=Decimal(50)),
        restrictions=((gid("Y"), Restriction.NO_BUY), (gid("Z"), Restriction.HOLD)),
        cash_need=Decimal(2500),
    )
    assert combine_overrides(STORED, given) == PolicyOverride(
        trigger=Trigger.OUTSIDE_BANDS,  # not in the file: the stored one
        mode=Mode.FULL,
        min_trade=MinTrade(amount=Decimal(50)),  # whole: the stored shares do not survive
        restrictions=(
            (gid("X"), Restriction.NO_SELL),
            (gid("Y"), Restriction.NO_BUY),
            (gid("Z"), Restriction.HOLD),
        ),
        cash_need=Decimal(2500),
    )


def test_restrictions_from_one_side_only() -> None:
    no_restrictions = PolicyOverride(inner_band=Decimal("0.5"))
    combined = combine_overrides(STORED, no_restrictions)
    assert combined is not None and combined.restrictions == STORED.restrictions
    combined = combine_overrides(no_restrictions, STORED)
    assert combined is not None and combined.restrictions == STORED.restrictions
    assert combine_overrides(no_restrictions, no_restrictions) == no_restrictions


def test_precedence_is_file_then_stored_then_model() -> None:
    model = Policy(
        mode=Mode.BUY_ONLY, inner_band=Decimal("0.25"), trade_cost=TradeCost(bps=Decimal(5))
    )
    given = PolicyOverride(mode=Mode.FULL)
    policy, cash_need = effective_policy(model, combine_overrides(STORED, given))
    assert policy.mode is Mode.FULL  # file
    assert policy.trigger is Trigger.OUTSIDE_BANDS  # stored
    assert policy.inner_band == Decimal("0.25")  # model
    assert policy.trade_cost == TradeCost(bps=Decimal(5))  # model
    assert cash_need == Decimal(1000)  # stored


def test_overrides_for_a_run_keep_only_portfolios_with_one() -> None:
    given = {gid("Q"): PolicyOverride(cash_need=Decimal(5))}
    combined = overrides_for_run([gid("P"), gid("Q"), gid("R")], {gid("P"): STORED}, given)
    assert combined == {gid("P"): STORED, gid("Q"): given[gid("Q")]}


# --- editing a policy field by field ---------------------------------------------------


def test_an_edit_changes_only_the_given_fields_and_sub_fields() -> None:
    policy = Policy(
        trigger=Trigger.OUTSIDE_BANDS,
        min_trade=MinTrade(Decimal(100), Decimal("0.01"), 5),
        cash_reserve=CashReserve(amount=Decimal(20)),
    )
    edit = PolicyEdit({"mode": "buy-only", "minTrade": {"shares": "7"}})
    assert edit.to_policy(policy) == Policy(
        trigger=Trigger.OUTSIDE_BANDS,
        mode=Mode.BUY_ONLY,
        min_trade=MinTrade(Decimal(100), Decimal("0.01"), 7),
        cash_reserve=CashReserve(amount=Decimal(20)),
    )
    # An object the policy does not set starts from its defaults.
    assert PolicyEdit({"tradeCost": {"bps": "3"}}).to_policy(DEFAULT_POLICY) == Policy(
        trade_cost=TradeCost(bps=Decimal(3))
    )


def test_an_edit_restricts_and_unrestricts() -> None:
    policy = Policy(restrictions=((gid("X"), Restriction.HOLD),))
    edit = PolicyEdit(restrict={gid("Y"): "no-buy", gid("X"): "no-sell"})
    assert edit.to_policy(policy).restrictions == (
        (gid("X"), Restriction.NO_SELL),
        (gid("Y"), Restriction.NO_BUY),
    )
    assert PolicyEdit(unrestrict=(gid("X"),)).to_policy(policy).is_default
    with pytest.raises(InputError) as caught:
        PolicyEdit(unrestrict=(gid("Z"),)).to_policy(policy)
    assert (caught.value.field, caught.value.value) == ("--unrestrict", gid("Z"))


def test_an_override_edit_drops_emptied_restrictions_and_keeps_the_cash_need() -> None:
    override = parse_policy_override({"restrictions": {gid("X"): "hold"}, "cashNeed": "10"})
    edited = PolicyEdit(unrestrict=(gid("X"),)).to_override(override)
    assert edited == PolicyOverride(cash_need=Decimal(10))
    assert edited.document() == {"cashNeed": "10"}


@pytest.mark.parametrize(
    ("edit", "field", "value"),
    [
        (PolicyEdit({"innerBand": "1.5"}), "policy.innerBand", "1.5"),
        (PolicyEdit({"minTrade": {"amount": "-1"}}), "policy.minTrade.amount", "-1"),
        (PolicyEdit({"cashNeed": "x"}), "policy.cashNeed", "x"),
        (PolicyEdit(restrict={gid("X"): "sell"}), f"policy.restrictions.{gid('X')}", "sell"),
        (PolicyEdit(unrestrict=("short",)), "--unrestrict", "short"),
        (PolicyEdit(restrict={gid("X"): "hold"}, unrestrict=(gid("X"),)), "--unrestrict", gid("X")),
    ],
)
def test_an_edit_is_checked_before_anything_is_read(
    edit: PolicyEdit, field: str, value: str
) -> None:
    with pytest.raises(InputError) as caught:
        edit.check()
    assert (caught.value.field, caught.value.value) == (field, value)
