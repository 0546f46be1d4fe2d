"""Approval states in the report: read from the orders of a run that needs approval."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.demo import scheduled_run
from ordergen.domain.model import validate_model
from ordergen.io.inputs_out import write_inputs
from ordergen.report.approvals import portfolio_approvals
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.schema import RUN_PORTFOLIOS

runner = CliRunner()
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def order(portfolio: str, state: str | None, hours_ago: float = 1) -> dict[str, Any]:
    approval = None if state is None else {"state": state, "at": NOW - timedelta(hours=hours_ago)}
    return {"portfolioId": portfolio, "approval": approval}


def test_a_portfolio_takes_its_orders_most_pressing_state() -> None:
    orders = [
        order("a", "approved"),
        order("a", "rejected"),
        order("b", "approved"),
        order("b", "proposed"),
        order("c", "approved"),
        order("d", "proposed", hours_ago=30),
        order("e", None),
        order("f", "approved"),
        order("f", "stale"),
    ]
    states = portfolio_approvals(orders, oldest=NOW - timedelta(hours=24))
    assert states == {"a": "rejected", "b": "proposed", "c": "approved", "d": "stale", "f": "stale"}
    assert portfolio_approvals([order("d", "proposed", hours_ago=30)]) == {"d": "proposed"}


def test_a_rejected_portfolio_needs_attention_in_the_runs_report(
    mongo_env: Settings, mongo_db: Db, tmp_path: Path
) -> None:
    data = scheduled_run(seed=4, portfolios=12, securities=8)
    _, positions, prices = write_inputs(tmp_path, data.model, data.summaries, data.prices)
    ModelRepository(mongo_db).create(validate_model(data.model))
    flags = ["--positions", str(positions), "--prices", str(prices), "--jobs", "1"]
    done = runner.invoke(
        app, ["rebalance", "--model", data.model["name"], *flags, "--run-id", "r", "--propose"]
    )
    assert done.exit_code in (0, 3), done.output
    ok = next(
        r["portfolioId"] for r in mongo_db[RUN_PORTFOLIOS].find({"runId": "r", "status": "ok"})
    )
    done = runner.invoke(
        app, ["runs", "reject", "r", "--portfolio", ok, "--reason", "too big", "--by", "pm"]
    )
    assert done.exit_code == 0, done.output
    summary = tmp_path / "summary.md"
    done = runner.invoke(app, ["runs", "report", "r", "--output", str(summary), "--format", "md"])
    assert done.exit_code == 0, done.output
    text = summary.read_text()
    assert f"| `{ok}` | rejected | rejected |" in text
    page = tmp_path / "report.html"
    done = runner.invoke(app, ["runs", "report", "r", "--output", str(page)])
    assert done.exit_code == 0, done.output
    table = page.read_text().split('id="report-data">')[1].split("</script>")[0]
    columns = json.loads(table)["table"]
    assert "approval" in columns and "rejected" in columns["approvals"]
