"""`ordergen rebalance`: rebalance a model's portfolios from files to an orders file."""

import json
import sys
from pathlib import Path

import typer

from ordergen.batch import RunOptions, Shard
from ordergen.cli.app import app
from ordergen.cli.render import progress_bar, stderr, summary_table
from ordergen.errors import ExitCode
from ordergen.job import RunReport, default_run_id, load_file_inputs, run_to_file
from ordergen.optimize.problem import Method
from ordergen.optimize.solve import resolve_jobs
from ordergen.procinfo import peak_memory_mib
from ordergen.settings import load_settings


def finish(
    report: RunReport, output: Path, as_json: bool, partial_exit: ExitCode = ExitCode.PARTIAL
) -> None:
    """Print the summary (table to stderr, `--json` to stdout) and exit with its code."""
    stderr.print(summary_table(report.run_id, report.model, report.summary, report.seconds))
    stderr.print(f"orders written to {output}")
    if as_json:
        document = {
            "runId": report.run_id,
            "model": report.model,
            "output": str(output),
            "seconds": round(report.seconds, 3),
            "peakMemoryMiB": peak_memory_mib(),
            **report.summary.document(),
        }
        typer.echo(json.dumps(document, indent=2))
    raise typer.Exit(int(partial_exit if report.summary.failed else ExitCode.OK))


@app.command()
def rebalance(
    model_file: Path = typer.Option(..., "--model-file", help="Model JSON or YAML (camelCase)."),
    positions: Path = typer.Option(..., "--positions", help="Positions: JSON summaries or CSV."),
    prices: Path = typer.Option(..., "--prices", help="Prices: JSON object or CSV."),
    output: Path = typer.Option(..., "--output", help="Orders JSON to write (atomically)."),
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
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON on stdout."),
) -> None:
    """Rebalance every portfolio of a model to whole shares inside its bands."""
    settings = load_settings()
    inputs = load_file_inputs(
        model_file, positions, prices, method.value, Shard.parse(shard) if shard else None
    )
    options = RunOptions(
        method=method,
        jobs=resolve_jobs(settings.jobs if jobs is None else jobs),
        time_limit=settings.optimization_timeout,
    )
    chosen_id = default_run_id(run_id, settings.job_name, inputs.digest)
    with progress_bar(len(inputs.holdings), sys.stderr.isatty()) as advance:
        report = run_to_file(inputs, output, chosen_id, options, on_chunk=advance)
    finish(report, output, as_json)
