"""`ordergen rebalance` with MongoDB: stored models, run documents, idempotent re-runs,
a run killed mid-way, shards in parallel processes, and 10,000 portfolios end to end."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.demo import generate
from ordergen.domain.model import validate_model
from ordergen.errors import ExitCode
from ordergen.io.inputs_out import write_inputs
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.orders import count_orders, orders_for_run
from ordergen.store.runs import RunRepository
from ordergen.store.schema import ORDERS, PORTFOLIO_STATE, RUN_PORTFOLIOS
from tests.factories import model_doc

runner = CliRunner()
LEASE_SECONDS = 20


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["rebalance", "--jobs", "1", *args])


def input_flags(positions: Path, prices: Path, name: str) -> tuple[str, ...]:
    """The flags naming a stored model and its input files."""
    return ("--model", name, "--positions", str(positions), "--prices", str(prices))


def store_demo(db: Db, folder: Path, seed: int, portfolios: int) -> tuple[Path, Path, str]:
    """A demo model stored in MongoDB; its positions and prices as files in `folder`."""
    data = generate(seed=seed, portfolios=portfolios, securities=10)
    _, positions, prices = write_inputs(folder, data.model, data.summaries, data.prices)
    ModelRepository(db).create(validate_model(data.model))
    return positions, prices, data.model["name"]


@pytest.fixture
def stored(mongo_env: Settings, mongo_db: Db, tmp_path: Path) -> tuple[Path, Path, str]:
    return store_demo(mongo_db, tmp_path, seed=5, portfolios=40)


def orders_of(db: Db, run_id: str) -> dict[tuple[str, str], tuple[str, int]]:
    return {
        (o["portfolioId"], o["securityId"]): (o["side"], o["quantity"])
        for o in orders_for_run(db, run_id)
    }


def test_a_stored_model_is_rebalanced_into_mongodb_and_the_run_recorded(
    stored: tuple[Path, Path, str], mongo_db: Db, tmp_path: Path
) -> None:
    positions, prices, name = stored
    result = invoke(*input_flags(positions, prices, name), "--run-id", "r1", "--json")
    assert result.exit_code in (ExitCode.OK, ExitCode.PARTIAL), result.output
    summary = json.loads(result.stdout)
    run = RunRepository(mongo_db).get("r1")
    assert run["status"] in ("completed", "partial")
    assert run["model"] == name and run["portfolios"] == 40
    assert run["orders"] == summary["orders"] == count_orders(mongo_db, "r1") > 0
    assert mongo_db[RUN_PORTFOLIOS].count_documents({"runId": "r1"}) == 40
    ok = summary["byStatus"]["ok"]
    assert mongo_db[PORTFOLIO_STATE].count_documents({"lastRunId": "r1"}) == ok
    assert ModelRepository(mongo_db).get(name).last_rebalance_date is not None
    # The same orders as the file sink writes from the same inputs.
    model_file = tmp_path / "model.json"
    as_file = invoke(
        "--model-file",
        str(model_file),
        "--positions",
        str(positions),
        "--prices",
        str(prices),
        "--output",
        str(tmp_path / "o.json"),
    )
    assert as_file.exit_code == result.exit_code
    from_file = {
        (p["portfolioId"], o["securityId"]): (o["side"], o["quantity"])
        for p in json.loads((tmp_path / "o.json").read_text())["portfolios"]
        for o in p["orders"]
    }
    assert orders_of(mongo_db, "r1") == from_file


def test_running_the_same_run_id_again_writes_each_order_once(
    stored: tuple[Path, Path, str], mongo_db: Db
) -> None:
    positions, prices, name = stored
    args = input_flags(positions, prices, name)
    invoke(*args, "--run-id", "r1")
    first = orders_of(mongo_db, "r1")
    again = invoke(*args, "--run-id", "r1")
    assert again.exit_code in (ExitCode.OK, ExitCode.PARTIAL), again.output
    assert orders_of(mongo_db, "r1") == first
    assert mongo_db[ORDERS].count_documents({}) == len(first)
    assert mongo_db[RUN_PORTFOLIOS].count_documents({}) == 40


def test_without_a_run_id_the_same_inputs_are_the_same_run(
    stored: tuple[Path, Path, str], mongo_db: Db
) -> None:
    positions, prices, name = stored
    args = (*input_flags(positions, prices, name), "--json")
    first = json.loads(invoke(*args).stdout)["runId"]
    second = json.loads(invoke(*args).stdout)["runId"]
    assert first == second
    assert len(RunRepository(mongo_db).list()) == 1


def test_a_portfolio_is_rebalanced_in_the_model_that_holds_it(
    stored: tuple[Path, Path, str], mongo_db: Db
) -> None:
    positions, prices, name = stored
    portfolio = ModelRepository(mongo_db).get(name).portfolios[3]
    files = ("--portfolio", portfolio, "--positions", str(positions), "--prices", str(prices))
    result = invoke(*files, "--run-id", "one", "--json")
    assert result.exit_code in (ExitCode.OK, ExitCode.PARTIAL), result.output
    assert json.loads(result.stdout)["portfolios"] == 1
    assert {key[0] for key in orders_of(mongo_db, "one")} <= {portfolio}
    # Put it in a second model as well: now it is ambiguous, and nothing is written.
    other = model_doc([("S", "0.5", "0.1", "0.1")], [], name="other")
    other["portfolios"] = [portfolio]
    ModelRepository(mongo_db).create(validate_model(other))
    clash = invoke(*files, "--run-id", "two")
    assert clash.exit_code == ExitCode.INPUT
    assert name in clash.output and "other" in clash.output
    assert count_orders(mongo_db, "two") == 0


def test_an_unknown_model_is_an_input_error(mongo_env: Settings, tmp_path: Path) -> None:
    result = invoke("--model", "nope", "--positions", "p.json", "--prices", "q.json")
    assert result.exit_code == ExitCode.INPUT
    assert "nope" in result.output


def test_an_unreachable_database_exits_4_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mongodb://ordergen:hunter2@127.0.0.1:1/")
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "0.3")
    result = invoke("--model", "m", "--positions", "p.json", "--prices", "q.json")
    assert result.exit_code == ExitCode.DATABASE
    assert "cannot reach MongoDB" in result.output
    assert "give --output FILE" in result.output  # the sink was MongoDB by default
    assert "hunter2" not in result.output


def test_bad_flag_combinations_are_input_errors(
    stored: tuple[Path, Path, str], tmp_path: Path
) -> None:
    positions, prices, name = stored
    files = ("--positions", str(positions), "--prices", str(prices))
    cases = [
        (("--model", name, "--positions", str(positions)), "--prices"),
        (("--model", name, *files, "--sink", "json"), "--output"),
        (("--model", name, *files, "--sink", "mongo", "--output", "x.json"), "--output"),
        (("--model", name, *files, "--snapshot", str(tmp_path)), "--snapshot"),
        (("--model", name, *files, "--source", "services"), "--positions"),
        ((*files,), "--model"),
    ]
    for args, named in cases:
        result = invoke(*args)
        assert result.exit_code == ExitCode.INPUT, (args, result.output)
        assert named in result.output, (args, result.output)


def ordergen_process(settings: Settings, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "DATABASE_NAME": settings.database_name,
        "LOG_LEVEL": "WARNING",
        # A killed writer holds its shard for one lease: keep the wait short in tests.
        "RUN_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "ordergen", "rebalance", "--jobs", "1", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def big(mongo_settings: Settings, mongo_db: Db, tmp_path: Path) -> tuple[Path, Path, str]:
    return store_demo(mongo_db, tmp_path, seed=9, portfolios=3000)


@pytest.mark.slow
def test_shards_in_parallel_processes_add_up_to_one_run(
    big: tuple[Path, Path, str], mongo_settings: Settings, mongo_db: Db
) -> None:
    positions, prices, name = big
    files = input_flags(positions, prices, name)
    whole = ordergen_process(mongo_settings, *files, "--run-id", "whole")
    whole.communicate(timeout=600)
    shards = [
        ordergen_process(mongo_settings, *files, "--run-id", "sharded", "--shard", f"{i}/3")
        for i in range(3)
    ]
    for process in shards:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode in (ExitCode.OK, ExitCode.PARTIAL), stderr
    assert orders_of(mongo_db, "sharded") == orders_of(mongo_db, "whole")
    assert count_orders(mongo_db, "sharded") == count_orders(mongo_db, "whole")
    runs = RunRepository(mongo_db)
    sharded, single = runs.get("sharded"), runs.get("whole")
    assert sharded["status"] == single["status"] != "running"
    assert sorted(sharded["shards"]) == ["0", "1", "2"]
    for key in ("portfolios", "orders", "byStatus"):
        assert sharded[key] == single[key]


@pytest.mark.slow
def test_a_stopped_and_a_killed_run_complete_on_a_rerun_without_duplicates(
    big: tuple[Path, Path, str], mongo_settings: Settings, mongo_db: Db
) -> None:
    positions, prices, name = big
    files = input_flags(positions, prices, name)
    runs = RunRepository(mongo_db)

    def interrupt(how: signal.Signals) -> int:
        """Start the run, send `how` once it has stored orders of its own; the exit code."""
        earlier = set(mongo_db[ORDERS].distinct("attempt", {"runId": "crash"}))
        victim = ordergen_process(mongo_settings, *files, "--run-id", "crash")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if set(mongo_db[ORDERS].distinct("attempt", {"runId": "crash"})) - earlier:
                break
            time.sleep(0.05)
        victim.send_signal(how)
        victim.communicate(timeout=60)
        return victim.returncode

    # Kubernetes stops a pod with SIGTERM: the attempt is recorded as failed.
    assert interrupt(signal.SIGTERM) == 128 + signal.SIGTERM
    assert runs.get("crash")["shards"]["0"]["status"] == "failed"
    # SIGKILL (OOM, node loss) leaves no chance to record anything.
    assert interrupt(signal.SIGKILL) == -signal.SIGKILL
    assert runs.get("crash")["status"] == "running"
    partial = count_orders(mongo_db, "crash")
    rerun = ordergen_process(mongo_settings, *files, "--run-id", "crash")
    _, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode in (ExitCode.OK, ExitCode.PARTIAL), stderr
    clean = ordergen_process(mongo_settings, *files, "--run-id", "clean")
    clean.communicate(timeout=600)
    assert orders_of(mongo_db, "crash") == orders_of(mongo_db, "clean")
    assert 0 < partial < count_orders(mongo_db, "crash")
    assert mongo_db[RUN_PORTFOLIOS].count_documents({"runId": "crash"}) == 3000
    assert runs.get("crash")["status"] in ("completed", "partial")


@pytest.mark.slow
def test_ten_thousand_portfolios_end_to_end(
    mongo_env: Settings, mongo_db: Db, tmp_path: Path
) -> None:
    positions, prices, name = store_demo(mongo_db, tmp_path, seed=13, portfolios=10_000)
    started = time.perf_counter()
    result = invoke(*input_flags(positions, prices, name), "--run-id", "big", "--json")
    seconds = time.perf_counter() - started
    assert result.exit_code in (ExitCode.OK, ExitCode.PARTIAL), result.output
    summary = json.loads(result.stdout)
    stored = count_orders(mongo_db, "big")
    print(f"\n10,000 portfolios, {stored} orders into MongoDB in {seconds:.1f} s")
    assert summary["portfolios"] == 10_000
    assert stored == summary["orders"] > 50_000
    assert mongo_db[RUN_PORTFOLIOS].count_documents({"runId": "big"}) == 10_000
    assert RunRepository(mongo_db).get("big")["orders"] == stored
