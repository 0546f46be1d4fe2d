"""`ordergen runs list/show` on runs written by RunRepository and MongoResultSink."""

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ordergen.cli.main import app
from ordergen.domain.results import BUY, SELL, Drift, PortfolioResult
from ordergen.errors import ExitCode
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.orders import MongoResultSink, order_id
from ordergen.store.runs import RunRepository
from ordergen.store.schema import ORDERS
from tests.factories import gid
from tests.factories import result as factory_result

runner = CliRunner()


def ordergen(*args: str) -> Result:
    return runner.invoke(app, list(args))


# Security S: held 40, adjusted to 43 at 12.50 in a market value of 1000.
DRIFT = Drift(
    gid("S"), Decimal("0.60"), Decimal("0.05"), Decimal("0.05"), 40, 43, Decimal("12.50"),
    Decimal("0.5375"), Decimal("-0.0625"),
)  # fmt: skip


def result(portfolio: str, *orders: tuple[str, str, int], status: str = "ok") -> PortfolioResult:
    """A factory result carrying S's drift and the worst drifts before and after."""
    after = Decimal("0.0625") if status == "ok" else None
    return factory_result(
        portfolio, *orders, status=status, drifts=(DRIFT,), worst_drifts=(Decimal("0.1211"), after)
    )


def record_run(db: Db, run_id: str, model: str, results: list[PortfolioResult]) -> None:
    """A finished run, written the way `rebalance --sink mongo` writes one."""
    runs = RunRepository(db)
    writer = uuid.uuid4().hex
    runs.claim(
        run_id, model=model, method="auto", input_digest="f42fc990",
        portfolios=len(results), owner=writer, lease_seconds=30,
    )  # fmt: skip
    sink = MongoResultSink(db, run_id, model_name=model, attempt=uuid.uuid4().hex)
    for item in results:
        sink.add(item)
    sink.close({})
    by_status = {"ok": 0, "infeasible": 0, "error": 0, "empty": 0}
    for item in results:
        by_status[item.status] += 1
    summary = {
        "portfolios": len(results),
        "byStatus": by_status,
        "orders": sum(len(item.orders) for item in results),
    }
    status = "completed" if by_status["infeasible"] == 0 else "partial"
    runs.finish(run_id, summary=summary, status=status, owner=writer)


GROWTH = [
    result("P1", ("S", BUY, 3), ("B", SELL, 2)),
    result("P2", ("S", SELL, 1)),
    result("P3", status="infeasible"),
]


@pytest.fixture
def two_runs(mongo_env: Settings, mongo_db: Db) -> Db:
    record_run(mongo_db, "r-growth", "growth", GROWTH)
    record_run(mongo_db, "r-income", "income", [result("P9", ("B", BUY, 1))])
    return mongo_db


def as_json(*args: str) -> Any:
    outcome = ordergen(*args, "--json")
    assert outcome.exit_code == ExitCode.OK, outcome.output
    return json.loads(outcome.stdout)


def test_list_is_latest_first_and_filters_by_model(two_runs: Db) -> None:
    runs = as_json("runs", "list")
    assert [run["runId"] for run in runs] == ["r-income", "r-growth"]
    growth = runs[1]
    assert (growth["status"], growth["method"], growth["portfolios"], growth["orders"]) == (
        "partial",
        "auto",
        3,
        3,
    )
    assert growth["byStatus"]["infeasible"] == 1
    assert [run["runId"] for run in as_json("runs", "list", "--model", "growth")] == ["r-growth"]
    assert [run["runId"] for run in as_json("runs", "list", "--limit", "1")] == ["r-income"]
    table = ordergen("runs", "list")
    assert "r-growth" in table.stdout and "partial" in table.stdout


def test_show_gives_the_run_and_its_first_portfolios(two_runs: Db) -> None:
    shown = as_json("runs", "show", "r-growth", "--limit", "2")
    run = shown["run"]
    assert (run["runId"], run["model"], run["inputDigest"], run["status"]) == (
        "r-growth",
        "growth",
        "f42fc990",
        "partial",
    )
    assert run["shards"]["0"]["status"] == "partial"
    assert shown["portfolios"] == [
        {
            "portfolioId": gid("P1"),
            "status": "ok",
            "worstDriftBefore": "0.1211",
            "worstDriftAfter": "0.0625",
            "message": "",
            "orders": 2,
        },
        {
            "portfolioId": gid("P2"),
            "status": "ok",
            "worstDriftBefore": "0.1211",
            "worstDriftAfter": "0.0625",
            "message": "",
            "orders": 1,
        },
    ]
    table = ordergen("runs", "show", "r-growth", "--limit", "1")
    assert table.exit_code == ExitCode.OK
    assert "infeasible 1" in table.stdout
    assert gid("P1") in table.stdout and gid("P2") not in table.stdout
    assert "2 more" in table.stdout


def test_show_one_portfolio_with_its_orders_and_submission_state(two_runs: Db) -> None:
    key = order_id("r-growth", gid("P1"), gid("S"))
    two_runs[ORDERS].update_one({"_id": key}, {"$set": {"submission.state": "submitted"}})
    shown = as_json("runs", "show", "r-growth", "--portfolio", gid("P1"))
    assert shown["portfolio"]["status"] == "ok"
    assert shown["portfolio"]["drifts"][0]["actualDrift"] == "-0.0625"
    orders = [
        (o["side"], o["quantity"], o["securityId"], o["price"], o["submission"]["state"])
        for o in shown["orders"]
    ]
    assert orders == [
        (SELL, 2, gid("B"), "12.50", "pending"),
        (BUY, 3, gid("S"), "12.50", "submitted"),
    ]
    table = ordergen("runs", "show", "r-growth", "--portfolio", gid("P1"))
    assert table.exit_code == ExitCode.OK
    for text in ("SELL", "12.50", "submitted", "-0.0625", "0.1211"):
        assert text in table.stdout


def test_show_an_infeasible_portfolio_has_its_message_and_no_orders(two_runs: Db) -> None:
    shown = as_json("runs", "show", "r-growth", "--portfolio", gid("P3"))
    assert (shown["portfolio"]["message"], shown["orders"]) == ("bands cannot be met", [])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("runs", "show", "nope"), "run 'nope' not found"),
        (("runs", "show", "r-growth", "--portfolio", gid("P9")), "is not in run"),
        (("runs", "show", "r-growth", "--portfolio", "short"), '--portfolio: "short"'),
    ],
)
def test_unknown_runs_and_portfolios_exit_2_with_one_line(
    two_runs: Db, args: tuple[str, ...], expected: str
) -> None:
    outcome = ordergen(*args)
    assert outcome.exit_code == ExitCode.INPUT
    message = outcome.stderr.strip()
    assert expected in message and "\n" not in message


def test_an_empty_database_lists_no_runs(mongo_env: Settings) -> None:
    assert as_json("runs", "list") == []


def test_help() -> None:
    outcome = ordergen("runs", "--help")
    assert outcome.exit_code == ExitCode.OK
    assert "list" in outcome.stdout and "show" in outcome.stdout
