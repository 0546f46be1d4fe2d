"""Human output on stderr: the run summary table and the progress bar."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ordergen.domain.summary import RunSummary

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
        table.add_row(f"worst drift {label}", "-" if value is None else f"{value:.2%}")
    if summary.missing_portfolios:
        table.add_row("model portfolios without positions", str(len(summary.missing_portfolios)))
    if summary.unmodelled_portfolios:
        table.add_row(
            "positions outside the model (skipped)", str(len(summary.unmodelled_portfolios))
        )
    table.add_row("seconds", f"{seconds:.2f}")
    return table


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
