"""ModelRepository against a real server: names, versions, validation, import, lookups."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from bson import ObjectId

from ordergen.domain.model import InvestmentModel, validate_model
from ordergen.errors import ConflictError, InputError, NotFoundError
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.schema import MODELS
from tests.factories import gid, model_doc

POSITIONS = [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")]


def model(name: str = "growth", portfolios: tuple[str, ...] = ("P",)) -> InvestmentModel:
    return validate_model(model_doc(POSITIONS, list(portfolios), name=name))


def stored(db: Db, name: str) -> dict[str, Any] | None:
    return db[MODELS].find_one({"name": name})


@pytest.fixture
def repo(mongo_db: Db) -> ModelRepository:
    return ModelRepository(mongo_db)


def test_create_stores_decimals_as_strings_at_version_1(
    repo: ModelRepository, mongo_db: Db
) -> None:
    created = repo.create(model())
    assert created.version == 1
    assert created.model_id is not None
    document = stored(mongo_db, "growth")
    assert document is not None
    assert document["version"] == 1
    assert document["positions"][0] == {
        "securityId": gid("S"),
        "target": "0.60",
        "lowDrift": "0.05",
        "highDrift": "0.05",
    }
    assert document["portfolios"] == [gid("P")]


def test_get_by_name_or_by_id_and_list_by_name(repo: ModelRepository) -> None:
    created = repo.create(model("b"))
    repo.create(model("a", ("Q",)))
    assert created.model_id is not None
    assert repo.get("b") == created
    assert repo.get(created.model_id) == created
    assert [m.name for m in repo.list()] == ["a", "b"]
    with pytest.raises(NotFoundError):
        repo.get("nope")
    with pytest.raises(NotFoundError):
        repo.get(str(ObjectId()))


def test_a_second_model_with_the_same_name_is_refused(repo: ModelRepository, mongo_db: Db) -> None:
    repo.create(model())
    with pytest.raises(InputError, match="already exists"):
        repo.create(model(portfolios=("Q",)))
    assert mongo_db[MODELS].count_documents({}) == 1


def test_renaming_onto_a_taken_name_is_refused_and_changes_nothing(repo: ModelRepository) -> None:
    repo.create(model("a"))
    repo.create(model("b"))
    with pytest.raises(InputError, match="already exists"):
        repo.replace("b", model("a"), expected_version=1)
    assert repo.get("b").version == 1


def test_each_change_names_the_version_read_and_increments_it(repo: ModelRepository) -> None:
    repo.create(model())
    changed = repo.replace("growth", model(portfolios=("P", "Q")), expected_version=1)
    assert changed.version == 2
    assert changed.portfolios == (gid("P"), gid("Q"))
    with pytest.raises(ConflictError, match="version 1 is stale, version 2 is current"):
        repo.replace("growth", model(), expected_version=1)
    assert repo.get("growth").portfolios == (gid("P"), gid("Q"))


def test_two_writers_of_the_same_version_exactly_one_wins(repo: ModelRepository) -> None:
    repo.create(model())
    for round_ in range(10):
        version = round_ + 1
        barrier = threading.Barrier(2)
        outcomes: list[object] = []

        def write(
            portfolio: str,
            version: int = version,
            barrier: Any = barrier,
            outcomes: list[object] = outcomes,
        ) -> None:
            read = repo.get("growth")
            assert read.version == version
            barrier.wait()  # both have read version N before either writes
            try:
                outcomes.append(
                    repo.replace("growth", model(portfolios=(portfolio,)), expected_version=version)
                )
            except ConflictError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=write, args=(p,)) for p in ("X", "Y")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [o for o in outcomes if isinstance(o, InvestmentModel)]
        losers = [o for o in outcomes if isinstance(o, ConflictError)]
        assert len(winners) == 1
        assert len(losers) == 1
        assert f"version {version + 1} is current" in str(losers[0])
        assert repo.get("growth") == winners[0]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda r: r.add_position(
                "growth", security_id=gid("C"), target=Decimal("0.10"), expected_version=1
            ),
            "sum",
        ),
        (
            lambda r: r.add_position(
                "growth", security_id="short", target=Decimal("0.01"), expected_version=1
            ),
            "24-character",
        ),
        (
            lambda r: r.add_position(
                "growth", security_id=gid("S"), target=Decimal("0.01"), expected_version=1
            ),
            "already in the model",
        ),
        (
            lambda r: r.update_position(
                "growth", security_id=gid("S"), target=Decimal("0.601"), expected_version=1
            ),
            "multiple of 0.005",
        ),
        (
            lambda r: r.update_position(
                "growth", security_id=gid("S"), high_drift=Decimal(2), expected_version=1
            ),
            "must be in [0, 1]",
        ),
        (lambda r: r.add_portfolios("growth", [gid("P")], expected_version=1), "duplicate"),
        (lambda r: r.add_portfolios("growth", ["x"], expected_version=1), "24-character"),
        (lambda r: r.replace("growth", InvestmentModel("", (), ()), expected_version=1), "name"),
    ],
)
def test_a_rejected_change_changes_nothing(
    repo: ModelRepository, mongo_db: Db, change: Any, problem: str
) -> None:
    repo.create(model())
    before = stored(mongo_db, "growth")
    with pytest.raises(InputError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        change(repo)
    assert stored(mongo_db, "growth") == before


def test_missing_positions_and_portfolios_are_not_found_and_change_nothing(
    repo: ModelRepository, mongo_db: Db
) -> None:
    repo.create(model())
    before = stored(mongo_db, "growth")
    with pytest.raises(NotFoundError, match="security"):
        repo.update_position(
            "growth", security_id=gid("Z"), target=Decimal("0.1"), expected_version=1
        )
    with pytest.raises(NotFoundError, match="security"):
        repo.remove_position("growth", security_id=gid("Z"), expected_version=1)
    with pytest.raises(NotFoundError, match="portfolio"):
        repo.remove_portfolios("growth", [gid("Z")], expected_version=1)
    assert stored(mongo_db, "growth") == before


def test_position_and_portfolio_edits(repo: ModelRepository) -> None:
    repo.create(model())
    m = repo.add_position(
        "growth",
        security_id=gid("C"),
        target=Decimal("0.05"),
        low_drift=Decimal("0.01"),
        high_drift=Decimal("0.02"),
        expected_version=1,
    )
    assert m.version == 2
    assert m.positions[-1].security_id == gid("C")
    assert m.positions[-1].high_drift == Decimal("0.02")
    m = repo.update_position(
        "growth", security_id=gid("S"), low_drift=Decimal("0.01"), expected_version=2
    )
    assert (m.positions[0].target, m.positions[0].low_drift) == (Decimal("0.60"), Decimal("0.01"))
    m = repo.update_position("growth", security_id=gid("B"), target=Decimal(0), expected_version=3)
    assert m.security_ids == (gid("S"), gid("C"))  # a target of 0 removes the position
    m = repo.remove_position("growth", security_id=gid("C"), expected_version=4)
    assert m.security_ids == (gid("S"),)
    m = repo.add_portfolios("growth", [gid("Q"), gid("R")], expected_version=5)
    assert m.portfolios == (gid("P"), gid("Q"), gid("R"))
    m = repo.remove_portfolios("growth", [gid("P"), gid("R")], expected_version=6)
    assert (m.portfolios, m.version) == ((gid("Q"),), 7)


def test_delete_with_and_without_a_version(repo: ModelRepository, mongo_db: Db) -> None:
    repo.create(model("a"))
    repo.create(model("b"))
    repo.replace("a", model("a", portfolios=(gid("Z"),)), expected_version=1)
    with pytest.raises(ConflictError, match="version 1 is stale, version 2 is current"):
        repo.delete("a", expected_version=1)
    with pytest.raises(InputError, match="is at version 2"):
        repo.delete("a", expected_version=3)
    repo.delete("a", expected_version=2)
    repo.delete("b")
    assert mongo_db[MODELS].count_documents({}) == 0
    with pytest.raises(NotFoundError):
        repo.delete("a")


def test_import_inserts_updates_and_leaves_identical_models_alone(repo: ModelRepository) -> None:
    first = repo.import_models([model("a"), model("b")])
    assert (first.created, first.updated, first.unchanged) == (["a", "b"], [], [])
    again = repo.import_models([model("a"), model("b")])
    assert (again.created, again.updated, again.unchanged) == ([], [], ["a", "b"])
    assert [m.version for m in repo.list()] == [1, 1]
    # "0.6" equals the stored "0.60": same content, so still unchanged
    same = validate_model(
        model_doc([("S", "0.6", "0.05", "0.05"), ("B", "0.3", "0.03", "0.03")], ["P"], name="a")
    )
    changed = model("b", ("P", "Q"))
    third = repo.import_models([same, changed, model("c")])
    assert (third.created, third.updated, third.unchanged) == (["c"], ["b"], ["a"])
    assert [m.version for m in repo.list()] == [1, 2, 1]


def test_import_refuses_a_name_given_twice_before_writing(
    repo: ModelRepository, mongo_db: Db
) -> None:
    with pytest.raises(InputError, match="imported twice"):
        repo.import_models([model("a"), model("a", ("Q",))])
    assert mongo_db[MODELS].count_documents({}) == 0


def test_find_by_portfolio_names_both_models_when_in_two(repo: ModelRepository) -> None:
    repo.create(model("a", ("P", "Q")))
    repo.create(model("b", ("R", "Q")))
    assert repo.find_by_portfolio(gid("P")).name == "a"
    with pytest.raises(InputError, match="'a', 'b'"):
        repo.find_by_portfolio(gid("Q"))
    with pytest.raises(NotFoundError):
        repo.find_by_portfolio(gid("Z"))


def test_mark_rebalanced_keeps_the_latest_time_and_the_version(repo: ModelRepository) -> None:
    repo.create(model())
    later = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    repo.mark_rebalanced("growth", later)
    repo.mark_rebalanced("growth", later - timedelta(hours=1))
    stored_model = repo.get("growth")
    assert stored_model.last_rebalance_date == later
    assert stored_model.version == 1
    with pytest.raises(NotFoundError):
        repo.mark_rebalanced("nope", later)


def test_a_version_that_never_existed_is_an_input_error(repo: ModelRepository) -> None:
    repo.create(model())
    with pytest.raises(InputError, match="is at version 1; give the version you read"):
        repo.replace("growth", model(), expected_version=7)
    assert repo.get("growth").version == 1
