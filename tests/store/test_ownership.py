"""Leases: one live run per model, one live writer per run shard, and the heartbeat."""

import threading
import time

import pytest

from ordergen.domain.shard import Shard
from ordergen.errors import DatabaseError, OwnershipLostError, RunBusyError
from ordergen.store.connection import Db
from ordergen.store.ownership import Heartbeat, ModelLocks
from ordergen.store.runs import RunRepository

SHORT = 2.0  # seconds: the shortest lease the settings allow


def claim(
    runs: RunRepository, owner: str, lease: float = 30, shard: Shard = Shard(0, 1)
) -> str | None:
    return runs.claim(
        "r1",
        model="m",
        method="auto",
        input_digest="abc",
        shard=shard,
        portfolios=3,
        owner=owner,
        lease_seconds=lease,
    )


def test_a_live_owner_keeps_the_shard_and_a_lapsed_one_loses_it(mongo_db: Db) -> None:
    runs = RunRepository(mongo_db)
    assert claim(runs, "a", lease=SHORT) is None
    assert claim(runs, "b") == "a"
    assert runs.renew("r1", Shard(0, 1), "a", SHORT)
    time.sleep(SHORT + 0.2)
    assert claim(runs, "b") is None  # a's lease lapsed: b takes over
    assert not runs.renew("r1", Shard(0, 1), "a", SHORT)
    with pytest.raises(OwnershipLostError):
        runs.finish("r1", summary={}, status="completed", owner="a")
    done = runs.finish("r1", summary={}, status="completed", owner="b")
    assert done["shards"]["0"]["writer"] == "b"
    assert "owner" not in done["shards"]["0"]
    assert claim(runs, "c") is None  # a finished shard is free to run again


def test_shards_of_one_run_have_owners_of_their_own(mongo_db: Db) -> None:
    runs = RunRepository(mongo_db)
    assert claim(runs, "a", shard=Shard(0, 2)) is None
    assert claim(runs, "b", shard=Shard(1, 2)) is None
    assert claim(runs, "c", shard=Shard(1, 2)) == "b"


def test_of_many_claims_at_once_exactly_one_wins(mongo_db: Db) -> None:
    runs = RunRepository(mongo_db)
    count = 6
    barrier = threading.Barrier(count)
    answers: dict[str, str | None] = {}

    def contend(owner: str) -> None:
        barrier.wait()
        answers[owner] = claim(runs, owner)

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [owner for owner, holder in answers.items() if holder is None]
    assert len(winners) == 1
    assert {holder for holder in answers.values() if holder is not None} == set(winners)


def test_one_live_run_per_model(mongo_db: Db) -> None:
    locks = ModelLocks(mongo_db)
    locks.acquire("m", "nightly", 30)
    locks.acquire("m", "nightly", 30)  # every shard and attempt of the run holds it
    locks.acquire("other-model", "adhoc", 30)
    with pytest.raises(RunBusyError, match="'nightly'"):
        locks.acquire("m", "adhoc", 30)
    locks.release("m", "nightly")
    locks.acquire("m", "adhoc", SHORT)
    assert not locks.renew("m", "nightly", 30)
    time.sleep(SHORT + 0.2)  # adhoc was killed: its lock lapses without anyone's help
    locks.acquire("m", "nightly", 30)
    assert not locks.renew("m", "adhoc", 30)


def test_the_heartbeat_renews_and_notices_a_takeover() -> None:
    beats: list[float] = []
    taken = threading.Event()

    def renew() -> bool:
        beats.append(time.monotonic())
        return not taken.is_set()

    with Heartbeat(renew, SHORT, "run 'r1' shard 0/1") as heartbeat:
        time.sleep(SHORT * 1.2)
        heartbeat.ensure_held()  # renewed in time: still held past the first lease
        assert len(beats) >= 1
        taken.set()
        time.sleep(SHORT / 2)
        with pytest.raises(OwnershipLostError, match="stopped writing"):
            heartbeat.ensure_held()


def test_a_heartbeat_that_cannot_reach_the_database_lapses_with_its_lease() -> None:
    def unreachable() -> bool:
        raise DatabaseError("MongoDB unreachable")

    with Heartbeat(unreachable, SHORT, "run 'r1' shard 0/1") as heartbeat:
        heartbeat.ensure_held()
        time.sleep(SHORT * 0.8)
        with pytest.raises(OwnershipLostError):
            heartbeat.ensure_held()
