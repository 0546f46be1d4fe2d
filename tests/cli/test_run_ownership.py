"""One writer per run: processes started together, killed writers, and rival runs.

Every test goes through the real CLI in separate processes against the real test
server, and ends by comparing the run's stored orders with a clean run's.
"""

import signal
import subprocess
import time
from pathlib import Path

import pytest

from ordergen.errors import ExitCode
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.orders import count_orders, order_id
from ordergen.store.runs import RunRepository
from ordergen.store.schema import ORDERS, RUN_PORTFOLIOS, RUNS
from tests.cli.test_rebalance_mongo import input_flags, ordergen_process, orders_of, store_demo

PORTFOLIOS = 1500


@pytest.fixture
def demo(mongo_settings: Settings, mongo_db: Db, tmp_path: Path) -> tuple[str, ...]:
    """The input flags of a stored demo model big enough for writers to overlap."""
    positions, prices, name = store_demo(mongo_db, tmp_path, seed=21, portfolios=PORTFOLIOS)
    return input_flags(positions, prices, name)


def finish_all(processes: list[subprocess.Popen[str]]) -> list[int]:
    codes = []
    for process in processes:
        _, stderr = process.communicate(timeout=600)
        assert "Traceback" not in stderr, stderr
        codes.append(process.returncode)
    return codes


def clean_run(settings: Settings, flags: tuple[str, ...], run_id: str = "clean") -> int:
    return finish_all([ordergen_process(settings, *flags, "--run-id", run_id)])[0]


def assert_one_clean_run(db: Db, run_id: str, clean: str = "clean") -> None:
    """The run holds exactly the clean run's orders and results, and says so."""
    assert orders_of(db, run_id) == orders_of(db, clean)
    assert count_orders(db, run_id) == count_orders(db, clean) > 0
    assert db[RUN_PORTFOLIOS].count_documents({"runId": run_id}) == PORTFOLIOS
    run = RunRepository(db).get(run_id)
    assert run["status"] in ("completed", "partial")
    assert run["orders"] == count_orders(db, run_id)
    assert run["byStatus"] == RunRepository(db).get(clean)["byStatus"]


def wait_for_orders(db: Db, run_id: str) -> None:
    """Until a writer of `run_id` has stored some orders (it is mid-run)."""
    deadline = time.monotonic() + 300
    while count_orders(db, run_id) == 0:
        assert time.monotonic() < deadline, "the writer never wrote"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("copies", [2, 3])
def test_processes_started_together_on_one_run_write_it_once(
    demo: tuple[str, ...], mongo_settings: Settings, mongo_db: Db, copies: int
) -> None:
    together = [
        ordergen_process(mongo_settings, *demo, "--run-id", "double") for _ in range(copies)
    ]
    codes = finish_all(together)
    expected = clean_run(mongo_settings, demo)
    # The waiters report the writer's outcome: every copy ends like one clean run.
    assert codes == [expected] * copies
    assert expected in (ExitCode.OK, ExitCode.PARTIAL)
    assert_one_clean_run(mongo_db, "double")
    writers = {
        entry["writer"] for entry in RunRepository(mongo_db).get("double")["shards"].values()
    }
    assert len(writers) == 1


@pytest.mark.slow
def test_two_processes_of_one_shard_write_that_shard_once(
    demo: tuple[str, ...], mongo_settings: Settings, mongo_db: Db
) -> None:
    shard = ("--run-id", "sharded", "--shard")
    processes = [
        ordergen_process(mongo_settings, *demo, *shard, "0/2"),
        ordergen_process(mongo_settings, *demo, *shard, "0/2"),
        ordergen_process(mongo_settings, *demo, *shard, "1/2"),
    ]
    codes = finish_all(processes)
    clean_run(mongo_settings, demo)
    assert codes[0] == codes[1]
    assert set(codes) <= {ExitCode.OK, ExitCode.PARTIAL}
    assert_one_clean_run(mongo_db, "sharded")


@pytest.mark.slow
def test_a_killed_writer_is_replaced_by_the_process_waiting_for_it(
    demo: tuple[str, ...], mongo_settings: Settings, mongo_db: Db
) -> None:
    writer = ordergen_process(mongo_settings, *demo, "--run-id", "crash")
    wait_for_orders(mongo_db, "crash")
    waiter = ordergen_process(mongo_settings, *demo, "--run-id", "crash")
    time.sleep(1)  # the waiter has found the live writer
    writer.send_signal(signal.SIGKILL)
    writer.communicate(timeout=60)
    # An immediate re-run joins the waiter: one of the two takes over once the lease lapses.
    rerun = ordergen_process(mongo_settings, *demo, "--run-id", "crash")
    codes = finish_all([waiter, rerun])
    expected = clean_run(mongo_settings, demo)
    assert codes == [expected, expected]
    assert_one_clean_run(mongo_db, "crash")


@pytest.mark.slow
def test_a_completed_run_started_again_twice_at_once_stays_one_clean_run(
    demo: tuple[str, ...], mongo_settings: Settings, mongo_db: Db
) -> None:
    expected = clean_run(mongo_settings, demo, run_id="again")
    codes = finish_all(
        [ordergen_process(mongo_settings, *demo, "--run-id", "again") for _ in range(2)]
    )
    clean_run(mongo_settings, demo)
    assert codes == [expected, expected]
    assert_one_clean_run(mongo_db, "again")


@pytest.mark.slow
def test_another_run_of_a_model_being_rebalanced_is_refused_and_writes_nothing(
    demo: tuple[str, ...], mongo_settings: Settings, mongo_db: Db
) -> None:
    nightly = ordergen_process(mongo_settings, *demo, "--run-id", "nightly")
    wait_for_orders(mongo_db, "nightly")
    adhoc = ordergen_process(mongo_settings, *demo, "--run-id", "adhoc")
    _, stderr = adhoc.communicate(timeout=120)
    assert adhoc.returncode == ExitCode.BUSY, stderr
    assert "'nightly'" in stderr
    assert mongo_db[RUNS].count_documents({"_id": "adhoc"}) == 0
    assert count_orders(mongo_db, "adhoc") == 0
    finish_all([nightly])
    # Once the model's run has settled, the other run goes ahead.
    assert clean_run(mongo_settings, demo, run_id="adhoc") in (ExitCode.OK, ExitCode.PARTIAL)
    clean_run(mongo_settings, demo)
    assert_one_clean_run(mongo_db, "nightly")
    assert_one_clean_run(mongo_db, "adhoc")


def test_a_run_whose_stored_orders_disagree_with_its_tally_fails(
    mongo_settings: Settings, mongo_db: Db, tmp_path: Path
) -> None:
    positions, prices, name = store_demo(mongo_db, tmp_path, seed=5, portfolios=20)
    flags = input_flags(positions, prices, name)
    # An order an earlier attempt sent (so no sweep removes it) that this run does not make.
    stray = {"runId": "r1", "shard": "0/1", "portfolioId": "p" * 24, "securityId": "s" * 24}
    mongo_db[ORDERS].insert_one(
        {
            "_id": order_id("r1", "p" * 24, "s" * 24),
            **stray,
            "side": "BUY",
            "quantity": 1,
            "submission": {"state": "accepted"},
        }
    )
    process = ordergen_process(mongo_settings, *flags, "--run-id", "r1")
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == ExitCode.DATABASE, stderr
    assert "MongoDB holds" in stderr
    assert RunRepository(mongo_db).get("r1")["status"] == "failed"
