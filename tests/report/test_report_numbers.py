"""The report's numbers are the orders file's and the run document's: counts, turnover,
worst drifts, each portfolio's row and drifts, in the HTML page and in the Markdown."""

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.demo import DESK_POLICY, scheduled_run
from ordergen.domain.model import validate_model
from ordergen.io.inputs_out import write_inputs
from ordergen.io.orders_read import OrdersFile
from ordergen.report.drill import UNIT
from ordergen.report.formats import money, percent
from ordergen.report.model import Report
from ordergen.report.sources import file_report, run_report
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.runs import RunRepository

runner = CliRunner()


def rebalance(*args: str) -> None:
    done = runner.invoke(app, ["rebalance", "--jobs", "1", *args])
    assert done.exit_code in (0, 3), done.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A scheduled run's inputs (one portfolio infeasible), with the model's policy."""
    folder = tmp_path_factory.mktemp("inputs")
    data = scheduled_run(seed=4, portfolios=40, securities=12)
    model = {**data.model, "policy": DESK_POLICY}
    write_inputs(folder, model, data.summaries, data.prices)
    return folder, model


def files_flags(folder: Path) -> list[str]:
    return ["--positions", str(folder / "positions.json"), "--prices", str(folder / "prices.json")]


@pytest.fixture(scope="module")
def orders(demo: tuple[Path, dict[str, Any]]) -> Path:
    folder, _ = demo
    output = folder / "orders.json"
    summary = folder / "summary.md"
    flags = ["--model-file", str(folder / "model.json"), *files_flags(folder)]
    rebalance(*flags, "--output", str(output), "--summary-md", str(summary))
    return output


def documents(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    whole = json.loads(path.read_text())
    return whole, whole["portfolios"]


def assert_matches(report: Report, summary: dict[str, Any], results: list[dict[str, Any]]) -> None:
    """Every number of `report` against the run's summary and its portfolio documents."""
    assert report.by_status == summary["byStatus"]
    assert (report.orders, report.buy_orders, report.sell_orders) == (
        summary["orders"],
        summary["buyOrders"],
        summary["sellOrders"],
    )
    assert report.turnover == Decimal(summary["turnover"])
    assert str(report.worst_drift_before) == summary["worstDriftBefore"]
    assert str(report.worst_drift_after) == summary["worstDriftAfter"]
    assert [row.portfolio_id for row in report.rows] == [r["portfolioId"] for r in results]
    for index, (row, result) in enumerate(zip(report.rows, results, strict=True)):
        assert row.status == result["status"]
        assert row.orders == len(result["orders"])
        assert row.turnover == sum(
            (o["quantity"] * Decimal(o["price"]) for o in result["orders"]), Decimal(0)
        )
        for mine, theirs in (
            (row.market_value, result["marketValue"]),
            (row.cash_after, result["cashAfter"]),
            (row.worst_drift_before, result["worstDriftBefore"]),
            (row.worst_drift_after, result["worstDriftAfter"]),
        ):
            assert mine == (None if theirs is None else Decimal(theirs))
        drills = report.drill.rows(index)
        assert [d[0] for d in drills] == [d["securityId"] for d in result["drifts"]]
        for (_, _, after), drift in zip(drills, result["drifts"], strict=True):
            assert after == int((Decimal(drift["actual"]) - Decimal(drift["target"])) * UNIT)
    assert report.attention, "the demo data have an infeasible portfolio"


def test_a_files_report_has_the_orders_files_numbers(orders: Path) -> None:
    whole, results = documents(orders)
    report = file_report(orders)
    assert_matches(report, whole["summary"], results)
    assert report.facts.run_id == whole["runId"]
    assert report.facts.policy == whole["policy"]
    assert report.facts.exit_code == 3  # one portfolio is infeasible


def test_the_page_and_the_markdown_show_those_numbers(orders: Path, tmp_path: Path) -> None:
    page, summary = tmp_path / "report.html", tmp_path / "summary.md"
    for output, form in ((page, "html"), (summary, "md")):
        done = runner.invoke(
            app, ["report", "--orders", str(orders), "--output", str(output), "--format", form]
        )
        assert done.exit_code == 0, done.output
    whole, _ = documents(orders)
    totals = whole["summary"]
    text = page.read_text()
    shown = dict(re.findall(r'data-measure="([^"]+)">([^<]*)<', text))
    assert shown["turnover"] == money(Decimal(totals["turnover"]))
    assert shown["turnover"].replace(",", "") == totals["turnover"]
    assert shown["worst drift before"] == percent(Decimal(totals["worstDriftBefore"]))
    assert shown["orders (buy / sell)"] == f"{totals['buyOrders']:,} / {totals['sellOrders']:,}"
    for status, count in totals["byStatus"].items():
        assert shown[f"portfolios {status}"] == f"{count:,}"
    assert f'data-field="input digest">{whole["inputDigest"]}<' in text
    # Nothing is fetched: no external URL is referenced by an element.
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?:', text)
    # The summary written by `rebalance --summary-md` is the same Markdown (but its times).
    written = (orders.parent / "summary.md").read_text()
    assert written.splitlines()[4:] == summary.read_text().splitlines()[4:]
    cells = markdown_cells(summary.read_text())
    assert ["turnover", money(Decimal(totals["turnover"]))] in cells
    assert ["worst drift after", percent(Decimal(totals["worstDriftAfter"]))] in cells


def markdown_cells(text: str) -> list[list[str]]:
    """The rows of every table in `text`, as a CommonMark + GFM-tables parser reads them."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows: list[list[str]] = []
    in_cell = False
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        in_cell = token.type in ("td_open", "th_open") or (in_cell and token.type == "inline")
        if in_cell and token.type == "inline":
            rows[-1].append(token.content)
    return rows


def test_an_indented_orders_file_is_read_whole_with_the_same_numbers(
    orders: Path, tmp_path: Path
) -> None:
    indented = tmp_path / "indented.json"
    indented.write_text(json.dumps(json.loads(orders.read_text()), indent=2))
    assert OrdersFile(indented).header == OrdersFile(orders).header
    whole, results = documents(orders)
    assert_matches(file_report(indented), whole["summary"], results)


def test_a_policy_run_against_back_to_target_says_what_the_policy_saved(
    demo: tuple[Path, dict[str, Any]], orders: Path, tmp_path: Path
) -> None:
    folder, model = demo
    plain = folder / "model-plain.json"
    plain.write_text(json.dumps({k: v for k, v in model.items() if k != "policy"}))
    target = tmp_path / "back-to-target.json"
    rebalance("--model-file", str(plain), *files_flags(folder), "--output", str(target))
    report = file_report(orders, compare=target)
    back = json.loads(target.read_text())["summary"]
    assert report.baseline is not None
    assert report.baseline.orders == back["orders"]
    assert report.baseline.turnover == Decimal(back["turnover"])
    assert report.within_bands == report.by_status["within-bands"] > 0


def test_a_runs_report_has_the_run_documents_numbers(
    mongo_env: Settings, mongo_db: Db, demo: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder, model = demo
    ModelRepository(mongo_db).create(validate_model(model))
    summary_md = tmp_path / "summary.md"
    flags = ("--run-id", "report-run", "--summary-md", str(summary_md))
    rebalance("--model", model["name"], *files_flags(folder), *flags)
    page = tmp_path / "run.html"
    done = runner.invoke(app, ["runs", "report", "report-run", "--output", str(page)])
    assert done.exit_code == 0, done.output
    runs = RunRepository(mongo_db)
    run = runs.get("report-run")
    results = list(runs.portfolio_results("report-run"))
    report = run_report(run, results)
    summary = run["shards"]["0"]["summary"]
    assert report.by_status == run["byStatus"] == summary["byStatus"]
    assert report.orders == run["orders"]
    assert_matches(report, summary, results)
    assert (report.facts.run_status, report.facts.exit_code) == ("partial", 3)
    assert report.facts.started is not None and report.facts.ended is not None
    text = page.read_text()
    assert f'data-measure="turnover">{money(Decimal(summary["turnover"]))}<' in text
    assert 'data-field="run status">partial<' in text
    # `rebalance --summary-md` to MongoDB summarised the same run from its documents.
    cells = markdown_cells(summary_md.read_text())
    assert ["turnover", money(Decimal(summary["turnover"]))] in cells
    assert [f"portfolios {s}" for s in summary["byStatus"]] == [c[0] for c in cells[1:6]]


def test_a_missing_or_foreign_file_is_bad_input_naming_it(tmp_path: Path) -> None:
    foreign = tmp_path / "prices.json"
    foreign.write_text('{"S": "1.5"}')
    page = tmp_path / "report.html"
    for path, said in ((tmp_path / "none.json", "cannot be read"), (foreign, "no runId")):
        done = runner.invoke(app, ["report", "--orders", str(path), "--output", str(page)])
        assert done.exit_code == 2
        assert said in done.output and path.name in done.output
    assert not page.exists()
