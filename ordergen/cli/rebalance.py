"""`ordergen rebalance`: rebalance a model's portfolios, from files or services, to a sink."""

from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ordergen.cli.app import app
from ordergen.cli.approval_output import say_awaiting
from ordergen.cli.run_flow import (
    JOBS_OPTION,
    JSON_OPTION,
    METHOD_OPTION,
    PROBE_PORT_OPTION,
    run_and_finish,
    run_observer,
    run_options,
)
from ordergen.domain.shard import WHOLE_RUN, Shard
from ordergen.errors import DatabaseError, InputError
from ordergen.observability.logs import configure_logging
from ordergen.optimize.problem import Method
from ordergen.run.execute import Progress, RunReport, run_to_file
from ordergen.run.request import RunRequest, Source
from ordergen.run.sources import load_inputs
from ordergen.settings import Settings, load_settings

if TYPE_CHECKING:
    from ordergen.store.connection import Db


class Sink(StrEnum):
    """Where the orders go."""

    JSON = "json"
    MONGO = "mongo"
    ORDER_SERVICE = "order-service"


def _chosen_sink(sink: Sink | None, output: Path | None) -> Sink:
    """`--sink`, defaulting to JSON when `--output` is given and to MongoDB otherwise."""
    chosen = sink or (Sink.JSON if output is not None else Sink.MONGO)
    if chosen is Sink.JSON and output is None:
        raise InputError("--output", None, "the json sink needs an orders file to write")
    if chosen is not Sink.JSON and output is not None:
        raise InputError("--output", str(output), f"only the json sink writes a file, not {chosen}")
    return chosen


def _check_flags(
    settings: Settings,
    source: Source,
    model_file: Path | None,
    model: str | None,
    portfolio: str | None,
    shard: Shard | None,
    positions: Path | None,
    prices: Path | None,
    snapshot: Path | None,
    run_id: str | None,
) -> None:
    """Refuse combinations of flags that cannot make a run, naming the flag."""
    if model_file is not None and model is not None:
        raise InputError("--model", model, "give --model or --model-file, not both")
    if model_file is None and model is None and portfolio is None:
        raise InputError("--model", None, "give --model NAME, --model-file FILE or --portfolio ID")
    if portfolio is not None and shard is not None:
        raise InputError("--shard", str(shard), "not with --portfolio")
    if source is Source.FILES:
        for flag, value in (("--positions", positions), ("--prices", prices)):
            if value is None:
                raise InputError(flag, None, "required with --source files")
        if snapshot is not None:
            raise InputError("--snapshot", str(snapshot), "only with --source services")
        return
    for flag, value in (("--positions", positions), ("--prices", prices)):
        if value is not None:
            raise InputError(flag, str(value), "not with --source services")
    if shard is not None and run_id is None and settings.job_name is None:
        # Service prices differ per fetch: the shards must share one run to share prices.
        raise InputError(
            "--run-id", None, "a sharded services run needs --run-id or JOB_NAME for all shards"
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
    portfolio_policies: Path | None = typer.Option(
        None,
        "--portfolio-policies",
        help="Policy overrides by portfolio id (JSON or YAML); they win over stored ones.",
    ),
    sink: Sink | None = typer.Option(
        None, "--sink", help="json (with --output), mongo (default otherwise), order-service."
    ),
    output: Path | None = typer.Option(None, "--output", help="Orders JSON to write (atomically)."),
    method: Method = METHOD_OPTION,
    jobs: int | None = JOBS_OPTION,
    run_id: str | None = typer.Option(
        None, "--run-id", help="Run id (default: Job name, else from the inputs)."
    ),
    shard: str | None = typer.Option(
        None, "--shard", help="Only shard I of N of the model's portfolios: I/N."
    ),
    propose: bool = typer.Option(
        False,
        "--propose",
        help="Store the orders as proposed, to send once approved (`runs approve`, `runs send`).",
    ),
    probe_port: int | None = PROBE_PORT_OPTION,
    as_json: bool = JSON_OPTION,
    summary_md: Path | None = typer.Option(
        None, "--summary-md", help="Also write a Markdown summary of the run here (CI)."
    ),
) -> None:
    """Rebalance a model's portfolios to whole shares inside their bands."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    chosen_sink = _chosen_sink(sink, output)
    if propose and chosen_sink is Sink.JSON:
        raise InputError("--propose", None, "needs MongoDB: an orders file is never sent")
    part = None if shard is None else Shard.parse(shard)
    _check_flags(
        settings, source, model_file, model, portfolio, part, positions, prices, snapshot, run_id
    )
    request = RunRequest(
        source=source,
        method=method,
        model_file=model_file,
        model=model,
        portfolio=portfolio,
        shard=part,
        positions=positions,
        prices=prices,
        snapshot=snapshot,
        run_id=run_id,
        portfolio_policies=portfolio_policies,
    )
    options = run_options(settings, method, jobs)
    needs_db = chosen_sink is not Sink.JSON or model_file is None
    with ExitStack() as stack:
        db: Db | None = None
        if needs_db:
            # Imported here, as the MongoDB sinks below: a files run to a JSON file never
            # loads pymongo or httpx (start-up time).
            from ordergen.store.connection import open_database

            try:
                db = stack.enter_context(open_database(settings))
            except DatabaseError as exc:
                if sink is not None:
                    raise
                # The user never asked for MongoDB: say how to do without it.
                raise DatabaseError(
                    f"{exc} (without --output the orders go to MongoDB; "
                    "give --output FILE to write them as JSON)"
                ) from exc
        observer = stack.enter_context(run_observer(settings, probe_port, db))
        loaded = load_inputs(settings, db, observer, request)
        inputs, chosen_id = loaded.inputs, loaded.run_id

        def to_sink(advance: Progress) -> RunReport:
            if chosen_sink is Sink.JSON:
                assert output is not None  # _chosen_sink guarantees it
                return run_to_file(inputs, output, chosen_id, options, observer, advance)
            assert db is not None  # every non-JSON sink needs the database
            from ordergen.run.proposal import proposal_for
            from ordergen.run.to_mongo import run_to_mongo
            from ordergen.services.submit import submit_run_orders

            proposal = proposal_for(
                db,
                settings,
                inputs.model.approval,
                propose=propose,
                positions_from_services=source is Source.SERVICES,
            )
            wanted = [holdings.portfolio_id for holdings in inputs.holdings]
            return run_to_mongo(
                inputs,
                db,
                chosen_id,
                options,
                observer,
                lease_seconds=settings.run_lease_seconds,
                shard=part or WHOLE_RUN,
                model_stored=loaded.model_stored,
                submit=(
                    (lambda: submit_run_orders(db, settings, chosen_id, portfolio_ids=wanted))
                    if chosen_sink is Sink.ORDER_SERVICE
                    else None
                ),
                progress=advance,
                proposal=proposal,
            )

        if summary_md is not None:
            from ordergen.cli.run_report import with_summary

            to_sink = with_summary(to_sink, summary_md, output, db, inputs.holdings)

        run_and_finish(
            observer,
            inputs,
            chosen_id,
            method,
            to_sink,
            as_json,
            then=lambda report: say_awaiting(report, chosen_sink is Sink.ORDER_SERVICE),
        )
