"""`ordergen rebalance --source services`: live inputs, the order-service sink, snapshots,
re-runs that send nothing twice, and a service outage, against the fake GlobeCo suite."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.domain.model import InvestmentModel, model_to_document
from ordergen.errors import ExitCode
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.orders import orders_for_run
from ordergen.store.runs import RunRepository
from tests.factories import gid
from tests.services.fake_globeco import PRICE, PRICES, SUMMARY, FakeGlobeCo, closed_port_url
from tests.services.test_inputs import suite

runner = CliRunner()


def point_at(monkeypatch: pytest.MonkeyPatch, url: str, accounting: str | None = None) -> None:
    for name in ("SECURITY", "PRICING", "PORTFOLIO", "ORDER"):
        monkeypatch.setenv(f"{name}_SERVICE_URL", url)
    monkeypatch.setenv("PORTFOLIO_ACCOUNTING_SERVICE_URL", accounting or url)
    monkeypatch.setenv("SERVICE_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("SERVICE_RETRIES", "0")


@pytest.fixture
def stored_suite(globeco: FakeGlobeCo, mongo_env: Settings, mongo_db: Db) -> InvestmentModel:
    model = suite(globeco)
    # Large enough that every band fits whole shares whatever prices the fake draws.
    globeco.portfolio(gid("P1"), "90000", **{gid("A"): 10, gid("X"): 5})
    globeco.portfolio(gid("P3"), "75000", **{gid("B"): 7})
    return ModelRepository(mongo_db).create(model)


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["rebalance", "--jobs", "1", "--source", "services", *args])


def stored_orders(db: Db, run_id: str) -> dict[tuple[str, str], tuple[str, int, str]]:
    return {
        (o["portfolioId"], o["securityId"]): (o["side"], o["quantity"], o["submission"]["state"])
        for o in orders_for_run(db, run_id)
    }


def replay_snapshot(snapshot: Path, output: Path, *extra: str) -> Any:
    """`rebalance` offline from the files a `--snapshot` wrote, to `output`."""
    return runner.invoke(app, ["rebalance", "--jobs", "1", "--model-file",
                               str(snapshot / "model.json"), "--positions",
                               str(snapshot / "positions.json"), "--prices",
                               str(snapshot / "prices.json"), "--output", str(output),
                               *extra])  # fmt: skip


def test_live_inputs_to_the_order_service_and_a_snapshot_that_replays(
    globeco: FakeGlobeCo,
    stored_suite: InvestmentModel,
    mongo_db: Db,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    point_at(monkeypatch, globeco.url)
    snapshot = tmp_path / "snap"
    result = invoke("--model", stored_suite.name, "--sink", "order-service",
                    "--snapshot", str(snapshot), "--run-id", "svc", "--json")  # fmt: skip
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout)
    assert summary["byStatus"] == {"ok": 2, "infeasible": 0, "error": 0, "empty": 1}
    assert summary["submission"]["accepted"] == summary["orders"] > 0
    orders = stored_orders(mongo_db, "svc")
    assert {state for _, _, state in orders.values()} == {"accepted"}
    sent = {(o["portfolioId"], o["securityId"]): o["quantity"] for o in globeco.accepted}
    assert sent == {key: quantity for key, (_, quantity, _) in orders.items()}
    assert globeco.count(SUMMARY) == 3 and globeco.count(PRICES) == 1
    # The run used, and recorded, the one price it fetched per security.
    run = RunRepository(mongo_db).get("svc")
    served = {ticker: closes for ticker, closes in globeco.served.items() if closes}
    assert all(len(closes) == 1 for closes in served.values())
    assert run["prices"][gid("C")] == served["TC"][0]
    # Replaying the snapshot offline gives the same orders.
    replay = replay_snapshot(snapshot, tmp_path / "replay.json")
    assert replay.exit_code == ExitCode.OK, replay.output
    replayed = {
        (p["portfolioId"], o["securityId"]): (o["side"], o["quantity"], "accepted")
        for p in json.loads((tmp_path / "replay.json").read_text())["portfolios"]
        for o in p["orders"]
    }
    assert replayed == orders


def test_rerunning_the_run_id_sends_nothing_twice_and_reuses_its_prices(
    globeco: FakeGlobeCo,
    stored_suite: InvestmentModel,
    mongo_db: Db,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_at(monkeypatch, globeco.url)
    args = ("--model", stored_suite.name, "--sink", "order-service", "--run-id", "svc", "--json")
    first = invoke(*args)
    assert first.exit_code == ExitCode.OK, first.output
    sent, priced = len(globeco.accepted), globeco.count(PRICES) + globeco.count(PRICE)
    again = invoke(*args)
    assert again.exit_code == ExitCode.OK, again.output
    submission = json.loads(again.stdout)["submission"]
    assert submission["submitted"] == 0 and submission["alreadyAccepted"] == sent
    assert len(globeco.accepted) == sent
    assert globeco.count(PRICES) + globeco.count(PRICE) == priced
    assert len(stored_orders(mongo_db, "svc")) == sent


def test_an_accounting_outage_fails_its_portfolios_and_names_the_service(
    globeco: FakeGlobeCo,
    stored_suite: InvestmentModel,
    mongo_db: Db,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_at(monkeypatch, globeco.url, accounting=closed_port_url())
    result = invoke("--model", stored_suite.name, "--run-id", "down", "--json")
    assert result.exit_code == ExitCode.PARTIAL, result.output
    summary = json.loads(result.stdout)
    assert summary["byStatus"]["error"] == 3
    assert "portfolio-accounting" in summary["failedServices"]
    run = RunRepository(mongo_db).get("down")
    assert run["status"] == "partial"
    assert "portfolio-accounting" in run["failedServices"]
    details = list(RunRepository(mongo_db).portfolio_results("down"))
    assert all("portfolio-accounting" in item["message"] for item in details)
    assert stored_orders(mongo_db, "down") == {}


def test_a_sharded_services_run_needs_a_shared_run_id(
    globeco: FakeGlobeCo,
    stored_suite: InvestmentModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_at(monkeypatch, globeco.url)
    monkeypatch.delenv("JOB_NAME", raising=False)
    result = invoke("--model", stored_suite.name, "--shard", "0/2")
    assert result.exit_code == ExitCode.INPUT
    assert "--run-id" in result.output
    assert globeco.count(SUMMARY) == 0


def test_services_to_a_json_file_need_no_database(
    globeco: FakeGlobeCo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_at(monkeypatch, globeco.url)
    monkeypatch.setenv("DATABASE_URL", "mongodb://127.0.0.1:1/")  # would fail if it were used
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "0.2")
    model = suite(globeco)
    model_file = tmp_path / "model.json"
    model_file.write_text(json.dumps(model_to_document(model)))
    output = tmp_path / "orders.json"
    result = invoke("--model-file", str(model_file), "--output", str(output))
    assert result.exit_code in (ExitCode.OK, ExitCode.PARTIAL), result.output
    document = json.loads(output.read_text())
    assert [p["portfolioId"] for p in document["portfolios"]] == list(model.portfolios)
    assert globeco.count(SUMMARY) == 3


def test_a_held_security_without_a_ticker_fails_its_portfolio_with_the_reason(
    globeco: FakeGlobeCo,
    stored_suite: InvestmentModel,
    mongo_db: Db,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_at(monkeypatch, globeco.url)
    del globeco.tickers[gid("X")]  # held by P1 only
    result = invoke("--model", stored_suite.name, "--run-id", "gap", "--json")
    assert result.exit_code == ExitCode.PARTIAL, result.output
    details = {d["portfolioId"]: d for d in RunRepository(mongo_db).portfolio_results("gap")}
    assert details[gid("P1")]["status"] == "error"
    assert details[gid("P1")]["message"] == f"no price for security {gid('X')} (no ticker)"
    assert details[gid("P3")]["status"] == "ok"
