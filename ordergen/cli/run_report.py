"""`ordergen report` and `ordergen runs report`: a run as one HTML page or a Markdown summary.

The report code and its chart library are imported only inside these commands (and
by `rebalance --summary-md`): a run that asks for no report never loads them.
"""

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

import typer

from ordergen.cli.app import app
from ordergen.cli.render import stderr
from ordergen.cli.runs import runs_app
from ordergen.errors import ExitCode
from ordergen.io.orders_json import atomic_text_file
from ordergen.settings import load_settings

if TYPE_CHECKING:
    from ordergen.domain.holdings import Holdings
    from ordergen.report.model import Report
    from ordergen.run.execute import Progress, RunReport
    from ordergen.store.connection import Db

RunToSink = TypeVar("RunToSink", bound="Callable[[Progress], RunReport]")


class ReportFormat(StrEnum):
    """What a report is written as."""

    HTML = "html"
    MD = "md"


FORMAT_OPTION = typer.Option(
    ReportFormat.HTML, "--format", help="html: the page with charts; md: a Markdown summary."
)
OUTPUT_OPTION = typer.Option(..., "--output", help="The file to write (atomically).")
COMPARE_OPTION = typer.Option(
    None,
    "--compare",
    help="Orders file of the same portfolios without a policy: what the policy saved.",
)


def write_report(report: "Report", output: Path, form: ReportFormat) -> None:
    """Render `report` as `form` and write it to `output`, whole or not at all."""
    if form is ReportFormat.MD:
        from ordergen.report.markdown import render_markdown

        text = render_markdown(report)
    else:
        from ordergen.report.html import render_html

        text = render_html(report)
    with atomic_text_file(output) as stream:
        stream.write(text)


@app.command("report")
def report_command(
    orders: Path = typer.Option(..., "--orders", help="The orders file of a files run."),
    output: Path = OUTPUT_OPTION,
    form: ReportFormat = FORMAT_OPTION,
    compare: Path | None = COMPARE_OPTION,
) -> None:
    """Write the report of a files run (an orders file): HTML with charts, or Markdown."""
    from ordergen.report.sources import file_report

    write_report(file_report(orders, compare), output, form)
    stderr.print(f"report written to {output}", highlight=False)


@runs_app.command("report")
def runs_report(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="The run id."),
    output: Path = OUTPUT_OPTION,
    form: ReportFormat = FORMAT_OPTION,
    compare: Path | None = COMPARE_OPTION,
) -> None:
    """Write the report of a run in MongoDB: HTML with charts, or Markdown."""
    from ordergen.report.sources import run_report
    from ordergen.store.connection import open_database
    from ordergen.store.runs import RunRepository

    settings = load_settings()
    with open_database(settings) as db:
        runs = RunRepository(db)
        run = runs.get(run_id)
        approvals = None
        if "approval" in run:  # a run that needs approval: its orders carry their state
            from ordergen.report.approvals import portfolio_approvals
            from ordergen.store.orders import orders_for_run

            oldest = datetime.now(UTC) - timedelta(seconds=settings.proposal_max_age)
            approvals = portfolio_approvals(orders_for_run(db, run_id), oldest)
        report = run_report(run, runs.portfolio_results(run_id), compare, approvals)
    write_report(report, output, form)
    stderr.print(f"report written to {output}", highlight=False)


def _times(seconds: float) -> tuple[str, str]:
    ended = datetime.now(UTC)
    started = ended - timedelta(seconds=seconds)
    return started.isoformat(timespec="seconds"), ended.isoformat(timespec="seconds")


def write_run_summary(
    path: Path,
    ran: "RunReport",
    orders_file: Path | None,
    db: "Db | None",
    portfolio_ids: Iterable[str] = (),
) -> None:
    """`rebalance --summary-md`: the Markdown summary of the run that just ended.

    From its orders file, or else from MongoDB: the run's results for `portfolio_ids`
    (this process's portfolios, so a shard summarises its own).
    """
    from ordergen.report.sources import file_report, run_report

    if orders_file is not None:
        started, ended = _times(ran.seconds)
        report = file_report(orders_file, started=started, ended=ended)
    else:
        from ordergen.store.runs import RunRepository

        assert db is not None  # a run without an orders file wrote to MongoDB
        runs = RunRepository(db)
        wanted = set(portfolio_ids)
        results = (r for r in runs.portfolio_results(ran.run_id) if r["portfolioId"] in wanted)
        report = run_report(runs.get(ran.run_id), results)
    # The exit code this process is about to end with (a shard's, for a shard).
    code = ExitCode.PARTIAL if ran.failed else ExitCode.OK
    report.facts = replace(report.facts, exit_code=int(code))
    write_report(report, path, ReportFormat.MD)
    stderr.print(f"summary written to {path}", highlight=False)


def with_summary(
    run: RunToSink,
    path: Path,
    orders_file: Path | None,
    db: "Db | None",
    holdings: "Iterable[Holdings]",
) -> RunToSink:
    """`run`, then its Markdown summary written to `path` (`rebalance --summary-md`)."""

    def summarised(advance: "Progress") -> "RunReport":
        ran = run(advance)
        ids = [item.portfolio_id for item in holdings]
        write_run_summary(path, ran, orders_file, db, ids)
        return ran

    return cast(RunToSink, summarised)


def write_demo_reports(directory: Path, ran: "RunReport") -> list[Path]:
    """The demo's pages: its run (report.html) and the desk policy's against it."""
    from ordergen.report.sources import file_report

    orders = directory / "orders.json"
    started, ended = _times(ran.seconds)
    pages = [
        (directory / "report.html", file_report(orders, started=started, ended=ended)),
        (
            directory / "report-desk-policy.html",
            file_report(directory / "orders-desk-policy.json", compare=orders),
        ),
    ]
    for path, report in pages:
        write_report(report, path, ReportFormat.HTML)
    return [path for path, _ in pages]
