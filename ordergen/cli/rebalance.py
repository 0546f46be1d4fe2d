"""`ordergen rebalance`: rebalance a model's portfolios, from files or services, to a sink."""

import sys
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path

import typer

from ordergen.batch import WHOLE_RUN, RunOptions, Shard
from ordergen.cli.app import app
from ordergen.cli.output import print_json
from ordergen.cli.render import progress_bar, stderr, summary_table
from ordergen.errors import DatabaseError, ExitCode, InputError
from ordergen.observability.logs import configure_logging, renders_json
from ordergen.observability.run import RunObserver
from ordergen.optimize.problem import Method
from ordergen.optimize.solve import resolve_jobs
from ordergen.procinfo import peak_memory_mib
from ordergen.runner import RunReport, run_to_file, run_to_mongo
from ordergen.services.submit import submit_run_orders
from ordergen.settings import Settings, load_settings
from ordergen.sources import Source, load_inputs
from ordergen.store.connection import Db, open_database, ping


class Sink(StrEnum):
    """Where the orders go."""

    JSON = "json"
    MONGO = "mongo"
    ORDER_SERVICE = "order-service"


def finish(
    report: RunReport,
    observer: RunObserver,
    as_json: bool,
    partial_exit: ExitCode = ExitCode.PARTIAL,
) -> None:
    """Print the summary (table to stderr, `--json` to stdout) and exit with its code."""
    observer.finish(report.summary, report.seconds, succeeded=not report.failed)
    stderr.print(summary_table(report.run_id, report.model, report.summary, report.seconds))
    for service, reason in report.failed_services.items():
        stderr.print(f"[bold red]service failed:[/] {service}: {reason}", highlight=False)
    stderr.print(f"orders written to {report.destination}")
    if as_json:
        print_json({**report.document(), "peakMemoryMiB": peak_memory_mib()})
    raise typer.Exit(int(partial_exit if report.failed else ExitCode.OK))


def _chosen_sink(sink: Sink | None, output: Path | None) -> Sink:
    """`--sink`, defaulting to JSON when `--output` is given and to MongoDB otherwise."""
    chosen = sink or (Sink.JSON if output is not None else Sink.MONGO)
    if chosen is Sink.JSON and output is None:
        raise InputError("--output", None, "the json sink needs an orders file to write")
    if chosen is not Sink.JSON and output is not None:
        raise InputError("--output", str(output), f"only the json sink writes a file, not {chosen}")
    return chosen


def run_observer(settings: Settings, probe_port: int | None, db: Db | None) -> RunObserver:
    """The run's observer: `--probe-port` over `PROBE_PORT`; ready once `db` answers a ping."""
    return RunObserver(
        probe_port=probe_port if probe_port is not None else settings.probe_port,
        ready_check=(lambda: True) if db is None else (lambda: ping(db)),
        pushgateway_url=settings.pushgateway_url,
        per_portfolio_lines=renders_json(settings.log_format),
    )


@app.command()
def rebalance(
    model_file: Path | None = typer.Option(
        None, "--model-file", help="Model JSON or YAML (camelCase)."
    ),
    model: str | None = typer.Option(None, "--model", help="Model name or id in MongoDB."),
    portfolio: str | None = typer.Option(
        None, "--portfolio", help="Only this portfolio (alone: its model is found in MongoDB)."
    ),
    source: Source = typer.Option(
        Source.FILES, "--source", help="files: --positions/--prices; services: GlobeCo services."
    ),
    positions: Path | None = typer.Option(
        None, "--positions", help="Positions: JSON summaries or CSV."
    ),
    prices: Path | None = typer.Option(None, "--prices", help="Prices: JSON object or CSV."),
    snapshot: Path | None = typer.Option(
        None, "--snapshot", help="With --source services: write the inputs used to this folder."
    ),
    sink: Sink | None = typer.Option(
        None, "--sink", help="json (with --output), mongo (default otherwise), order-service."
    ),
    output: Path | None = typer.Option(None, "--output", help="Orders JSON to write (atomically)."),
    method: Method = typer.Option(
        Method.AUTO, "--method", help="auto: certified fast path + MILP; milp: MILP for all."
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", min=0, help="Solver processes (default JOBS, 0 = all cores)."
    ),
    run_id: str | None = typer.Option(
        None, "--run-id", help="Run id (default: Job name, else from the inputs)."
    ),
    shard: str | None = typer.Option(
        None, "--shard", help="Only shard I of N of the model's portfolios: I/N."
    ),
    probe_port: int | None = typer.Option(
        None, "--probe-port", min=0, max=65535, help="Serve health and /metrics (PROBE_PORT)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON on stdout."),
) -> None:
    """Rebalance a model's portfolios to whole shares inside their bands."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    chosen_sink = _chosen_sink(sink, output)
    part = None if shard is None else Shard.parse(shard)
    options = RunOptions(
        method=method,
        jobs=resolve_jobs(settings.jobs if jobs is None else jobs),
        time_limit=settings.optimization_timeout,
    )
    needs_db = chosen_sink is not Sink.JSON or model_file is None
    with ExitStack() as stack:
        try:
            db = stack.enter_context(open_database(settings)) if needs_db else None
        except DatabaseError as exc:
            if sink is not None:
                raise
            # The user never asked for MongoDB: say how to do without it.
            raise DatabaseError(
                f"{exc} (without --output the orders go to MongoDB; "
                "give --output FILE to write them as JSON)"
            ) from exc
        observer = stack.enter_context(run_observer(settings, probe_port, db))
        loaded = load_inputs(
            settings,
            db,
            observer,
            source=source,
            model_file=model_file,
            model=model,
            portfolio=portfolio,
            shard=part,
            positions=positions,
            prices=prices,
            snapshot=snapshot,
            method=method,
            run_id=run_id,
        )
        inputs, chosen_id = loaded.inputs, loaded.run_id
        observer.start(
            run_id=chosen_id,
            model=inputs.model.name,
            method=method.value,
            portfolios=len(inputs.holdings),
        )
        with progress_bar(len(inputs.holdings), sys.stderr.isatty()) as advance:
            if chosen_sink is Sink.JSON:
                assert output is not None  # _chosen_sink guarantees it
                report = run_to_file(inputs, output, chosen_id, options, observer, advance)
            else:
                assert db is not None  # every non-JSON sink needs the database
                wanted = [holdings.portfolio_id for holdings in inputs.holdings]
                report = run_to_mongo(
                    inputs,
                    db,
                    chosen_id,
                    options,
                    observer,
                    lease_seconds=settings.run_lease_seconds,
                    shard=part or WHOLE_RUN,
                    model_stored=loaded.model_stored,
                    submit=(
                        (
                            lambda: submit_run_orders(
                                db, settings, chosen_id, portfolio_ids=wanted
                            ).document()
                        )
                        if chosen_sink is Sink.ORDER_SERVICE
                        else None
                    ),
                    progress=advance,
                )
        finish(report, observer, as_json)
