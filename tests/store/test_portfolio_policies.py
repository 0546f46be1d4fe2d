"""Policies in MongoDB: portfolios' overrides and models' policies, under optimistic concurrency."""

import threading
from decimal import Decimal
from typing import Any

import pytest

from ordergen.domain.model import validate_model
from ordergen.domain.policy import (
    DEFAULT_POLICY,
    MinTrade,
    Mode,
    Policy,
    PolicyOverride,
    Restriction,
    Trigger,
)
from ordergen.errors import ConflictError, InputError, NotFoundError
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.portfolio_policies import PortfolioPolicyRepository
from ordergen.store.schema import MODELS, PORTFOLIO_POLICIES
from tests.factories import gid, model_doc

P = gid("P")
OVERRIDE = PolicyOverride(
    mode=Mode.SELL_ONLY,
    min_trade=MinTrade(Decimal("250.50"), Decimal(0), 10),
    restrictions=((gid("X"), Restriction.HOLD),),
    cash_need=Decimal(2500),
)
OVERRIDE_DOCUMENT = {
    "mode": "sell-only",
    "minTrade": {"amount": "250.50", "fraction": "0", "shares": 10},
    "restrictions": {gid("X"): "hold"},
    "cashNeed": "2500",
}


@pytest.fixture
def policies(mongo_db: Db) -> PortfolioPolicyRepository:
    return PortfolioPolicyRepository(mongo_db)


def stored(db: Db, portfolio_id: str) -> dict[str, Any] | None:
    return db[PORTFOLIO_POLICIES].find_one({"_id": portfolio_id})


# --- portfolio overrides --------------------------------------------------------------


def test_set_creates_at_version_1_as_its_camel_case_document(
    policies: PortfolioPolicyRepository, mongo_db: Db
) -> None:
    assert policies.set(P, OVERRIDE) == (OVERRIDE, 1)
    assert stored(mongo_db, P) == {"_id": P, "policy": OVERRIDE_DOCUMENT, "version": 1}
    assert policies.get(P) == (OVERRIDE, 1)


def test_version_0_also_creates(policies: PortfolioPolicyRepository) -> None:
    assert policies.set(P, OVERRIDE, 0) == (OVERRIDE, 1)


def test_set_replaces_at_the_version_read_and_increments_it(
    policies: PortfolioPolicyRepository,
) -> None:
    policies.set(P, OVERRIDE)
    replacement = PolicyOverride(trigger=Trigger.OUTSIDE_BANDS)
    assert policies.set(P, replacement, 1) == (replacement, 2)
    assert policies.get(P) == (replacement, 2)


def test_a_stale_version_is_a_conflict_and_changes_nothing(
    policies: PortfolioPolicyRepository, mongo_db: Db
) -> None:
    policies.set(P, OVERRIDE)
    policies.set(P, PolicyOverride(inner_band=Decimal("0.5")), 1)
    before = stored(mongo_db, P)
    with pytest.raises(ConflictError, match="version 1 is stale, version 2 is current"):
        policies.set(P, OVERRIDE, 1)
    with pytest.raises(ConflictError, match="expected none, version 2 is current"):
        policies.set(P, OVERRIDE)  # "create" when one exists: someone else created it
    with pytest.raises(ConflictError):
        policies.clear(P, 1)
    assert stored(mongo_db, P) == before


@pytest.mark.parametrize("version", [None, 1], ids=["creating", "replacing"])
def test_of_two_writers_of_the_same_version_exactly_one_wins(
    policies: PortfolioPolicyRepository, version: int | None
) -> None:
    if version is not None:
        policies.set(P, OVERRIDE)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def write(cash_need: int) -> None:
        barrier.wait()  # both hold the same version before either writes
        try:
            outcomes.append(policies.set(P, PolicyOverride(cash_need=Decimal(cash_need)), version))
        except ConflictError as exc:
            outcomes.append(exc)

    writers = [threading.Thread(target=write, args=(need,)) for need in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    won = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
    assert len(won) == 1 and len(outcomes) == 2
    assert policies.get(P) == won[0]


def test_a_version_never_reached_is_an_input_error(policies: PortfolioPolicyRepository) -> None:
    policies.set(P, OVERRIDE)
    with pytest.raises(InputError, match="is at version 1"):
        policies.set(P, OVERRIDE, 3)
    with pytest.raises(NotFoundError, match="has no policy override"):
        policies.set(gid("Q"), OVERRIDE, 1)  # cleared by another writer, or never set


def test_a_change_sees_the_current_override_after_the_version_check(
    policies: PortfolioPolicyRepository,
) -> None:
    policies.set(P, OVERRIDE)
    seen: list[PolicyOverride] = []

    def change(current: PolicyOverride) -> PolicyOverride:
        seen.append(current)
        return PolicyOverride(cash_need=current.cash_need)

    with pytest.raises(ConflictError):
        policies.change(P, change, 0)
    assert seen == []  # stale: the change never ran
    assert policies.change(P, change, 1) == (PolicyOverride(cash_need=Decimal(2500)), 2)
    assert seen == [OVERRIDE]


def test_clear_removes_it_at_the_version_read(
    policies: PortfolioPolicyRepository, mongo_db: Db
) -> None:
    policies.set(P, OVERRIDE)
    policies.clear(P, 1)
    assert stored(mongo_db, P) is None
    with pytest.raises(NotFoundError):
        policies.get(P)
    with pytest.raises(NotFoundError):
        policies.clear(P, 1)
    assert policies.set(P, OVERRIDE) == (OVERRIDE, 1)  # created afresh


def test_for_portfolios_reads_those_that_have_one(policies: PortfolioPolicyRepository) -> None:
    policies.set(P, OVERRIDE)
    other = PolicyOverride(cash_need=Decimal(1))
    policies.set(gid("Q"), other)
    assert policies.for_portfolios([P, gid("Q"), gid("R"), P]) == {P: OVERRIDE, gid("Q"): other}
    assert policies.for_portfolios([gid("R")]) == {}
    assert policies.for_portfolios([]) == {}


def test_portfolio_ids_must_be_globeco_ids(policies: PortfolioPolicyRepository) -> None:
    for call in (
        lambda: policies.get("short"),
        lambda: policies.set("short", OVERRIDE),
        lambda: policies.clear("short", 1),
    ):
        with pytest.raises(InputError) as caught:
            call()
        assert (caught.value.field, caught.value.value) == ("portfolio", "short")


def test_a_stored_override_is_checked_when_read(
    policies: PortfolioPolicyRepository, mongo_db: Db
) -> None:
    mongo_db[PORTFOLIO_POLICIES].insert_one({"_id": P, "policy": {"innerBand": "7"}, "version": 1})
    with pytest.raises(InputError) as caught:
        policies.for_portfolios([P])
    assert caught.value.field == f"stored policy of portfolio {P}.innerBand"
    assert caught.value.value == "7"


# --- a model's policy -----------------------------------------------------------------

POSITIONS = [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")]
MODEL_POLICY = Policy(trigger=Trigger.OUTSIDE_BANDS, inner_band=Decimal("0.5"))


@pytest.fixture
def models(mongo_db: Db) -> ModelRepository:
    repository = ModelRepository(mongo_db)
    repository.create(validate_model(model_doc(POSITIONS, ["P"], name="growth")))
    return repository


def stored_model(db: Db) -> dict[str, Any]:
    document = db[MODELS].find_one({"name": "growth"})
    assert document is not None
    return document


def test_a_model_without_policy_stores_no_policy_field(
    models: ModelRepository, mongo_db: Db
) -> None:
    assert set(stored_model(mongo_db)) == {"_id", "name", "positions", "portfolios", "version"}
    assert models.get("growth").policy == DEFAULT_POLICY


def test_set_and_clear_a_models_policy_under_its_version(
    models: ModelRepository, mongo_db: Db
) -> None:
    changed = models.set_policy("growth", MODEL_POLICY, expected_version=1)
    assert (changed.policy, changed.version) == (MODEL_POLICY, 2)
    assert stored_model(mongo_db)["policy"] == {"trigger": "outside-bands", "innerBand": "0.5"}
    with pytest.raises(ConflictError, match="version 1 is stale"):
        models.clear_policy("growth", expected_version=1)
    cleared = models.clear_policy("growth", expected_version=2)
    assert (cleared.policy, cleared.version) == (DEFAULT_POLICY, 3)
    assert "policy" not in stored_model(mongo_db)  # $unset, not an empty object


def test_replacing_a_model_replaces_its_policy(models: ModelRepository, mongo_db: Db) -> None:
    models.set_policy("growth", MODEL_POLICY, expected_version=1)
    plain = validate_model(model_doc(POSITIONS, ["P"], name="growth"))
    models.replace("growth", plain, 2)
    assert "policy" not in stored_model(mongo_db)
    with_policy = validate_model(
        {**model_doc(POSITIONS, ["P"], name="growth"), "policy": {"mode": "buy-only"}}
    )
    assert models.replace("growth", with_policy, 3).policy == Policy(mode=Mode.BUY_ONLY)


def test_import_compares_the_policy_too(models: ModelRepository) -> None:
    with_policy = validate_model(
        {**model_doc(POSITIONS, ["P"], name="growth"), "policy": {"mode": "buy-only"}}
    )
    assert models.import_models([with_policy]).updated == ["growth"]
    assert models.import_models([with_policy]).unchanged == ["growth"]
    assert models.get("growth").version == 2


def test_a_rejected_policy_change_writes_nothing(models: ModelRepository, mongo_db: Db) -> None:
    before = stored_model(mongo_db)

    def refuse(policy: Policy) -> Policy:
        raise InputError("--unrestrict", gid("Z"), "has no restriction here to remove")

    with pytest.raises(InputError):
        models.change_policy("growth", refuse, expected_version=1)
    assert stored_model(mongo_db) == before
