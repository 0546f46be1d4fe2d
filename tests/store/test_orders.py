"""MongoResultSink: idempotent re-runs, kept submission states, bounded batches, 10k portfolios."""

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from ordergen.demo import generate
from ordergen.domain.results import BUY, SELL, PortfolioResult
from ordergen.domain.shard import WHOLE_RUN, Shard
from ordergen.io.inputs_out import write_inputs
from ordergen.run.engine import RunOptions, rebalance
from ordergen.run.inputs import load_file_inputs
from ordergen.store.connection import Db
from ordergen.store.orders import (
    MongoResultSink,
    count_orders,
    order_id,
    orders_for_run,
    shard_has_documents,
)
from ordergen.store.schema import ORDERS, PORTFOLIO_STATE, RUN_PORTFOLIOS
from tests.factories import gid, result

RESULTS = [
    result("P1", ("S", BUY, 3), ("B", SELL, 2)),
    result("P2", ("S", SELL, 1)),
    result("P3", status="infeasible"),
]


def write(
    db: Db,
    run_id: str,
    results: list[PortfolioResult],
    batch_size: int = 5000,
    *,
    fresh: bool = False,
) -> None:
    sink = MongoResultSink(
        db,
        run_id,
        model_name="growth",
        attempt=uuid.uuid4().hex,
        batch_size=batch_size,
        fresh=fresh,
    )
    for item in results:
        sink.add(item)
    sink.close({"portfolios": len(results)})


def everything(db: Db) -> dict[str, list[dict[str, Any]]]:
    """Every stored document, without the token that tells one attempt from another."""
    return {
        name: list(db[name].find({}, {"attempt": 0}).sort("_id", 1))
        for name in (ORDERS, RUN_PORTFOLIOS, PORTFOLIO_STATE)
    }


def test_writes_results_orders_and_the_state_of_ok_portfolios(mongo_db: Db) -> None:
    write(mongo_db, "r1", RESULTS)
    orders = list(orders_for_run(mongo_db, "r1"))
    assert [(o["portfolioId"], o["securityId"]) for o in orders] == [
        (gid("P1"), gid("B")),
        (gid("P1"), gid("S")),
        (gid("P2"), gid("S")),
    ]
    first = orders[1]
    assert first["_id"] == order_id("r1", gid("P1"), gid("S"))
    assert (first["runId"], first["model"], first["side"], first["quantity"]) == (
        "r1",
        "growth",
        BUY,
        3,
    )
    assert first["price"] == "12.50"
    assert first["submission"] == {"state": "pending"}
    assert first["createdAt"].tzinfo is not None
    assert count_orders(mongo_db, "r1") == 3
    assert [o["securityId"] for o in orders_for_run(mongo_db, "r1", gid("P2"))] == [gid("S")]
    stored = mongo_db[RUN_PORTFOLIOS].find_one({"_id": f"r1:{gid('P3')}"})
    assert stored is not None
    assert (stored["status"], stored["message"], stored["orders"]) == (
        "infeasible",
        "bands cannot be met",
        [],
    )
    state = {s["_id"]: s["lastRunId"] for s in mongo_db[PORTFOLIO_STATE].find()}
    assert state == {gid("P1"): "r1", gid("P2"): "r1"}  # not the infeasible P3


def test_writing_the_same_run_twice_gives_identical_documents_and_no_duplicates(
    mongo_db: Db,
) -> None:
    write(mongo_db, "r1", RESULTS)
    before = everything(mongo_db)
    before.pop(PORTFOLIO_STATE)  # holds the time of the latest rebalance, so it moves
    write(mongo_db, "r1", RESULTS)
    after = everything(mongo_db)
    assert len(after.pop(PORTFOLIO_STATE)) == 2
    assert after == before
    assert len(after[ORDERS]) == 3
    assert len(after[RUN_PORTFOLIOS]) == 3


def test_a_rerun_keeps_the_submission_state_recorded_meanwhile(mongo_db: Db) -> None:
    write(mongo_db, "r1", RESULTS)
    submitted = {"state": "submitted", "orderId": 4711}
    key = order_id("r1", gid("P1"), gid("S"))
    mongo_db[ORDERS].update_one({"_id": key}, {"$set": {"submission": submitted}})
    write(mongo_db, "r1", RESULTS)
    assert mongo_db[ORDERS].find_one({"_id": key}, {"submission": 1}) == {
        "_id": key,
        "submission": submitted,
    }
    assert count_orders(mongo_db, "r1") == 3


def test_a_rerun_drops_pending_orders_it_no_longer_makes_but_keeps_submitted_ones(
    mongo_db: Db,
) -> None:
    write(mongo_db, "r1", RESULTS)
    kept = order_id("r1", gid("P1"), gid("B"))
    mongo_db[ORDERS].update_one({"_id": kept}, {"$set": {"submission.state": "submitted"}})
    # Second attempt (say, new prices): P1 orders neither S nor B, P2 now buys.
    write(mongo_db, "r1", [result("P1"), result("P2", ("S", BUY, 4)), RESULTS[2]])
    orders = {o["_id"]: o for o in orders_for_run(mongo_db, "r1")}
    assert set(orders) == {kept, order_id("r1", gid("P2"), gid("S"))}
    assert orders[order_id("r1", gid("P2"), gid("S"))]["side"] == BUY


def test_a_rerun_never_rewrites_a_sent_order_and_sweeps_stale_unsent_ones(mongo_db: Db) -> None:
    write(mongo_db, "r1", RESULTS)
    accepted, rejected = order_id("r1", gid("P1"), gid("S")), order_id("r1", gid("P1"), gid("B"))
    mongo_db[ORDERS].update_one({"_id": accepted}, {"$set": {"submission.state": "accepted"}})
    mongo_db[ORDERS].update_one({"_id": rejected}, {"$set": {"submission.state": "rejected"}})
    # Second attempt: P1 would now buy 5 S and no longer trade B.
    write(mongo_db, "r1", [result("P1", ("S", BUY, 5)), *RESULTS[1:]])
    orders = {o["_id"]: o for o in orders_for_run(mongo_db, "r1")}
    assert orders[accepted]["quantity"] == 3  # as it was sent
    assert rejected not in orders  # never sent successfully, and no longer wanted
    assert len(orders) == 2


def test_a_shard_attempt_sweeps_only_its_own_shard(mongo_db: Db) -> None:
    for shard, item in ((Shard(0, 2), RESULTS[0]), (Shard(1, 2), RESULTS[1])):
        sink = MongoResultSink(
            mongo_db, "r1", model_name="growth", attempt=uuid.uuid4().hex, shard=shard
        )
        sink.add(item)
        sink.close({})
    again = MongoResultSink(
        mongo_db, "r1", model_name="growth", attempt=uuid.uuid4().hex, shard=Shard(0, 2)
    )
    again.add(result("P1"))  # shard 0 now orders nothing for P1
    again.close({})
    assert [o["portfolioId"] for o in orders_for_run(mongo_db, "r1")] == [gid("P2")]


def test_other_runs_are_left_alone(mongo_db: Db) -> None:
    write(mongo_db, "r1", RESULTS)
    write(mongo_db, "r2", [result("P1")])
    assert count_orders(mongo_db, "r1") == 3
    assert count_orders(mongo_db, "r2") == 0


def test_full_batches_are_written_before_close(mongo_db: Db) -> None:
    sink = MongoResultSink(
        mongo_db, "r1", model_name="growth", attempt=uuid.uuid4().hex, batch_size=10
    )
    for index in range(6):  # 4 writes each (2 orders, result, state): flush after the 3rd
        sink.add(result(f"P{index}", ("S", BUY, 1), ("B", SELL, 1)))
        if index == 2:
            assert mongo_db[RUN_PORTFOLIOS].count_documents({}) == 3
            assert count_orders(mongo_db, "r1") == 6
    assert mongo_db[RUN_PORTFOLIOS].count_documents({}) == 6
    sink.close({})
    assert count_orders(mongo_db, "r1") == 12
    assert mongo_db[PORTFOLIO_STATE].count_documents({}) == 6


def test_batch_size_must_be_positive(mongo_db: Db) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        MongoResultSink(mongo_db, "r1", model_name="growth", attempt=uuid.uuid4().hex, batch_size=0)


@pytest.mark.slow
def test_ten_thousand_portfolios_written_and_read_back(mongo_db: Db, tmp_path: Path) -> None:
    data = generate(seed=11, portfolios=10_000, securities=10)
    inputs = load_file_inputs(
        *write_inputs(tmp_path, data.model, data.summaries, data.prices), "auto", None
    )
    results = list(rebalance(inputs.model, inputs.holdings, inputs.prices, RunOptions(jobs=1)))
    expected = {
        (item.portfolio_id, order.security_id): (order.side, order.quantity, f"{order.price:f}")
        for item in results
        for order in item.orders
    }
    started = time.perf_counter()
    write(mongo_db, "big", results)
    seconds = time.perf_counter() - started
    print(
        f"\n{len(results)} portfolios, {len(expected)} orders written in {seconds:.1f} s: "
        f"{len(expected) / seconds:,.0f} orders/s"
    )
    assert len(results) == 10_000
    assert len(expected) > 50_000
    assert count_orders(mongo_db, "big") == len(expected)
    found = {
        (o["portfolioId"], o["securityId"]): (o["side"], o["quantity"], o["price"])
        for o in orders_for_run(mongo_db, "big")
    }
    assert found == expected
    assert mongo_db[RUN_PORTFOLIOS].count_documents({"runId": "big"}) == 10_000
    ok = sum(1 for item in results if item.status == "ok")
    assert mongo_db[PORTFOLIO_STATE].count_documents({"lastRunId": "big"}) == ok


def test_a_fresh_shard_is_inserted_as_an_upserting_attempt_would_write_it(mongo_db: Db) -> None:
    write(mongo_db, "r1", RESULTS, fresh=True)
    inserted = everything(mongo_db)
    assert not shard_has_documents(mongo_db, "r2", WHOLE_RUN)
    assert shard_has_documents(mongo_db, "r1", WHOLE_RUN)
    for name in (ORDERS, RUN_PORTFOLIOS):
        mongo_db[name].delete_many({})
    write(mongo_db, "r1", RESULTS)
    upserted = everything(mongo_db)
    for name in (ORDERS, RUN_PORTFOLIOS):
        for document in (*inserted[name], *upserted[name]):
            document.pop("createdAt", None)  # the time of writing
        assert inserted[name] == upserted[name]
