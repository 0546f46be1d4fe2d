"""Human output on stderr: the run summary table, the portfolios needing attention and
the progress bar."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ordergen.domain.summary import WITHIN_BANDS, RunSummary
from ordergen.optimize.problem import Status

stderr = Console(stderr=True)


def summary_table(run_id: str, model: str, summary: RunSummary, seconds: float) -> Table:
    table = Table(title=f"run {run_id} — model {model}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for status, count in summary.by_status.items():
        table.add_row(f"portfolios {status}", str(count))
    table.add_row("orders (buy / sell)", f"{summary.buy_orders} / {summary.sell_orders}")
    table.add_row("turnover", f"{summary.turnover:,.2f}")
    for label, value in (
        ("before", summary.worst_drift_before),
        ("after", summary.worst_drift_after),
    ):
        table.add_row(f"worst drift {label}", _percent(value))
    if summary.missing_portfolios:
        table.add_row("model portfolios without positions", str(len(summary.missing_portfolios)))
    if summary.unmodelled_portfolios:
        table.add_row(
            "positions outside the model (skipped)", str(len(summary.unmodelled_portfolios))
        )
    table.add_row("seconds", f"{seconds:.2f}")
    return table


def comparison_table(title: str, summaries: Mapping[str, RunSummary]) -> Table:
    """The runs of `summaries` (by label) side by side: what trading and what it left."""
    table = Table(title=title, title_justify="left")
    table.add_column("measure")
    for label in summaries:
        table.add_column(label, justify="right")
    runs = list(summaries.values())
    rows: list[tuple[str, list[str]]] = [
        ("portfolios traded", [str(run.traded_portfolios) for run in runs]),
        ("portfolios within bands", [str(run.by_status.get(WITHIN_BANDS, 0)) for run in runs]),
        ("portfolios infeasible", [str(run.by_status[Status.INFEASIBLE]) for run in runs]),
        ("orders", [str(run.buy_orders + run.sell_orders) for run in runs]),
        ("turnover", [f"{run.turnover:,.2f}" for run in runs]),
        ("worst drift after", [_percent(run.worst_drift_after) for run in runs]),
    ]
    for label, cells in rows:
        table.add_row(label, *cells)
    return table


def attention_list(summary: RunSummary, where: str = "") -> Group | None:
    """The portfolios of `summary` that need attention (infeasible or error): the first
    ones it kept, each with its reason, then how many more; None when there are none.

    `where` follows "need attention" in the heading (" under the desk policy").
    """
    count = summary.failed
    if not count:
        return None
    noun, verb = ("portfolio", "needs") if count == 1 else ("portfolios", "need")
    lines: list[Text | Padding] = [Text(f"{count} {noun} {verb} attention{where}:")]
    listed = Table.grid(padding=(0, 2))
    listed.add_column(no_wrap=True)
    listed.add_column()
    for item in summary.attention:
        listed.add_row(Text(item.portfolio_id), Text(item.reason))  # Text: no markup
    if summary.attention:
        lines.append(Padding(listed, (0, 0, 0, 2)))
    more = count - len(summary.attention)
    if more and summary.attention:
        lines.append(Text(f"  and {more} more"))
    elif more:  # only a summary read from a run's document lists none
        lines.append(Text("  not listed: another process recorded this run, with counts only"))
    return Group(*lines)


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2%}"


@contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Any]:
    """A progress bar on stderr; `advance(n)` is a no-op when disabled."""
    if not enabled:
        yield lambda count: None
        return
    with Progress(
        TextColumn("solving"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        task = progress.add_task("solve", total=total)
        yield lambda count: progress.advance(task, count)
