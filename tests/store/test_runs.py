"""RunRepository: run documents, re-runs, and sharded runs settling once every shard ends."""

import itertools
import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from ordergen.domain.shard import Shard
from ordergen.errors import InputError, NotFoundError
from ordergen.store.connection import Db
from ordergen.store.runs import RunRepository
from ordergen.store.schema import RUNS
from tests.factories import gid

WRITER = "the-writer"


def summary(ok: int, infeasible: int = 0, orders: int = 0) -> dict[str, Any]:
    return {
        "portfolios": ok + infeasible,
        "byStatus": {"ok": ok, "infeasible": infeasible, "error": 0, "empty": 0},
        "orders": orders,
    }


def start(runs: RunRepository, run_id: str, shard: str = "0/1", model: str = "m") -> None:
    runs.claim(
        run_id,
        model=model,
        method="auto",
        input_digest="abc",
        shard=Shard.parse(shard),
        portfolios=10,
        owner=WRITER,
        lease_seconds=30,
        prices={gid("S"): Decimal("100.50")},
    )


@pytest.fixture
def runs(mongo_db: Db) -> RunRepository:
    return RunRepository(mongo_db)


def test_an_unsharded_run_records_its_start_and_end(runs: RunRepository) -> None:
    start(runs, "r1")
    running = runs.get("r1")
    assert running["status"] == "running"
    assert running["model"] == "m"
    assert running["inputDigest"] == "abc"
    assert running["prices"] == {gid("S"): "100.50"}
    assert "endedAt" not in running
    done = runs.finish("r1", summary=summary(9, 1, orders=30), status="partial", owner=WRITER)
    assert done["status"] == "partial"
    assert done["byStatus"] == {"ok": 9, "infeasible": 1, "error": 0, "empty": 0}
    assert (done["portfolios"], done["orders"]) == (10, 30)
    assert done["endedAt"] >= done["startedAt"]
    assert "revision" not in done


def test_starting_a_run_id_again_starts_over_without_a_second_document(
    runs: RunRepository, mongo_db: Db
) -> None:
    start(runs, "r1")
    runs.finish("r1", summary={}, status="failed", owner=WRITER)
    start(runs, "r1")
    again = runs.get("r1")
    assert again["status"] == "running"
    assert "endedAt" not in again
    assert again["shards"]["0"]["status"] == "running"
    runs.finish("r1", summary=summary(10), status="completed", owner=WRITER)
    assert runs.get("r1")["status"] == "completed"
    assert mongo_db[RUNS].count_documents({}) == 1


def test_a_run_id_of_another_model_or_shard_count_is_refused(runs: RunRepository) -> None:
    start(runs, "r1", shard="0/2")
    with pytest.raises(InputError, match="already used for model 'm' with 2 shard"):
        start(runs, "r1", shard="1/2", model="other")
    with pytest.raises(InputError, match="already used"):
        start(runs, "r1", shard="0/3")
    with pytest.raises(InputError, match="shard"):
        start(runs, "r2", shard="2/2")


def test_finishing_a_shard_never_started_is_not_found(runs: RunRepository) -> None:
    start(runs, "r1", shard="0/2")
    with pytest.raises(NotFoundError):
        runs.finish("r1", shard=Shard(1, 2), summary={}, status="completed", owner=WRITER)
    with pytest.raises(NotFoundError):
        runs.finish("nope", summary={}, status="completed", owner=WRITER)
    with pytest.raises(ValueError, match="status"):
        runs.finish("r1", shard=Shard(0, 2), summary={}, status="running", owner=WRITER)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_sharded_run_settles_only_when_every_shard_has_finished(
    runs: RunRepository, order: tuple[int, ...]
) -> None:
    for index in range(3):
        start(runs, "r", shard=f"{index}/3")
    for position, index in enumerate(order):
        status = "partial" if index == 1 else "completed"
        result = runs.finish(
            "r",
            shard=Shard(index, 3),
            summary=summary(4, int(index == 1), orders=5),
            status=status,
            owner=WRITER,
        )
        if position < 2:
            assert result["status"] == "running"
            assert "byStatus" not in result
    final = runs.get("r")
    assert final["status"] == "partial"
    assert final["byStatus"]["ok"] == 12
    assert final["byStatus"]["infeasible"] == 1
    assert (final["portfolios"], final["orders"]) == (13, 15)
    assert final["endedAt"] == max(entry["endedAt"] for entry in final["shards"].values())


def test_shards_started_and_finished_concurrently_settle_the_run_once_all_end(
    runs: RunRepository, mongo_db: Db
) -> None:
    count = 6
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def shard(index: int) -> None:
        try:
            barrier.wait()
            start(runs, "together", shard=f"{index}/{count}")
            barrier.wait()  # every shard running before any finishes
            runs.finish(
                "together",
                shard=Shard(index, count),
                summary=summary(2, orders=1),
                status="completed",
                owner=WRITER,
            )
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=shard, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = runs.get("together")
    assert final["status"] == "completed"
    assert (final["portfolios"], final["orders"]) == (2 * count, count)
    assert mongo_db[RUNS].count_documents({}) == 1


def test_list_latest_first_filtered_by_model_without_prices(runs: RunRepository) -> None:
    for run_id, model in (("r1", "a"), ("r2", "b"), ("r3", "a")):
        start(runs, run_id, model=model)
        time.sleep(0.005)  # distinct start times (stored to the millisecond)
    assert [r["runId"] for r in runs.list()] == ["r3", "r2", "r1"]
    assert [r["runId"] for r in runs.list(model="a")] == ["r3", "r1"]
    assert [r["runId"] for r in runs.list(limit=1)] == ["r3"]
    assert all("prices" not in r for r in runs.list())
    with pytest.raises(NotFoundError):
        runs.get("nope")


def test_the_first_claimed_price_of_a_security_wins_for_the_whole_run(
    runs: RunRepository,
) -> None:
    first = runs.claim_prices("r1", {gid("S"): Decimal("10.01"), gid("B"): Decimal("20")})
    assert first == {gid("S"): Decimal("10.01"), gid("B"): Decimal("20")}
    # Another shard (or a re-run) fetched a new random price for S and a new security X.
    second = runs.claim_prices("r1", {gid("S"): Decimal("10.99"), gid("X"): Decimal("5.5")})
    assert second == {gid("S"): Decimal("10.01"), gid("X"): Decimal("5.5")}
    assert runs.recorded_prices("r1") == {
        gid("S"): Decimal("10.01"),
        gid("B"): Decimal("20"),
        gid("X"): Decimal("5.5"),
    }
    assert runs.recorded_prices("r2") == {}
    assert runs.claim_prices("r2", {}) == {}


def test_shards_add_their_prices_to_the_run_record(runs: RunRepository) -> None:
    for index, label in enumerate("AB"):
        runs.claim(
            "r1",
            model="m",
            method="auto",
            input_digest="abc",
            shard=Shard(index, 2),
            portfolios=1,
            owner=WRITER,
            lease_seconds=30,
            prices={gid(label): Decimal("1.5")},
        )
    assert runs.get("r1")["prices"] == {gid("A"): "1.5", gid("B"): "1.5"}
