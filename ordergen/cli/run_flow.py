"""What `rebalance` and `demo` share: the run options they declare, and one run flow
(observer, progress, sink, summary, exit code)."""

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from ordergen.cli.output import print_json
from ordergen.cli.render import attention_list, progress_bar, stderr, summary_table
from ordergen.errors import ExitCode
from ordergen.observability.logs import renders_json
from ordergen.observability.run import RunObserver
from ordergen.optimize.problem import Method
from ordergen.optimize.solve import resolve_jobs
from ordergen.procinfo import peak_memory_mib
from ordergen.run.engine import RunOptions
from ordergen.run.execute import Progress, RunReport
from ordergen.run.inputs import RunInputs
from ordergen.settings import Settings

if TYPE_CHECKING:
    from ordergen.store.connection import Db

METHOD_OPTION = typer.Option(
    Method.AUTO,
    "--method",
    help=(
        "auto: certified fast path, exact knapsack where the cash floor binds, HiGHS as "
        "fallback; milp: HiGHS for all."
    ),
)
JOBS_OPTION = typer.Option(
    None, "--jobs", min=0, help="Processes to solve with (default JOBS, 0 = all cores)."
)
PROBE_PORT_OPTION = typer.Option(
    None, "--probe-port", min=0, max=65535, help="Serve health and /metrics (PROBE_PORT)."
)
JSON_OPTION = typer.Option(False, "--json", help="Print the run summary as JSON on stdout.")


def run_options(settings: Settings, method: Method, jobs: int | None) -> RunOptions:
    """The solve options: `--jobs` over `JOBS`, the time limit from the settings."""
    return RunOptions(
        method=method,
        jobs=resolve_jobs(settings.jobs if jobs is None else jobs),
        time_limit=settings.optimization_timeout,
    )


def _ready_check(db: "Db | None") -> Callable[[], bool]:
    """Always ready without a database; with one, ready while it answers a ping."""
    if db is None:
        return lambda: True
    # Imported here: only a run with a database loads pymongo (start-up time).
    from ordergen.store.connection import ping

    return lambda: ping(db)


def run_observer(settings: Settings, probe_port: int | None, db: "Db | None") -> RunObserver:
    """The run's observer: `--probe-port` over `PROBE_PORT`; ready once `db` answers a ping."""
    return RunObserver(
        probe_port=probe_port if probe_port is not None else settings.probe_port,
        ready_check=_ready_check(db),
        pushgateway_url=settings.pushgateway_url,
        per_portfolio_lines=renders_json(settings.log_format),
    )


def run_and_finish(
    observer: RunObserver,
    inputs: RunInputs,
    run_id: str,
    method: Method,
    run: Callable[[Progress], RunReport],
    as_json: bool,
    partial_exit: ExitCode = ExitCode.PARTIAL,
    then: Callable[[RunReport], None] | None = None,
) -> None:
    """Run to the sink with a progress bar, print the summary and exit with its code.

    The table, and the portfolios needing attention, go to stderr and `--json` to
    stdout; `then(report)` may show more after them.
    """
    observer.start(
        run_id=run_id, model=inputs.model.name, method=method.value, portfolios=len(inputs.holdings)
    )
    with progress_bar(len(inputs.holdings), sys.stderr.isatty()) as advance:
        report = run(advance)
    observer.finish(report.summary, report.seconds, succeeded=not report.failed)
    stderr.print(summary_table(report.run_id, report.model, report.summary, report.seconds))
    attention = attention_list(report.summary)
    if attention is not None:
        stderr.print(attention)
    for service, reason in report.failed_services.items():
        stderr.print(f"[bold red]service failed:[/] {service}: {reason}", highlight=False)
    stderr.print(f"orders written to {report.destination}")
    if then is not None:
        then(report)
    if as_json:
        print_json({**report.document(), "peakMemoryMiB": peak_memory_mib()})
    raise typer.Exit(int(partial_exit if report.failed else ExitCode.OK))
