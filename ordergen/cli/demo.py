"""`ordergen demo`: write a realistic data set, rebalance it, show the result. No services."""

import sys
from pathlib import Path

import typer

from ordergen.batch import RunOptions
from ordergen.cli.app import app
from ordergen.cli.rebalance import finish, run_observer
from ordergen.cli.render import progress_bar, stderr
from ordergen.demo import generate
from ordergen.errors import ExitCode
from ordergen.io.inputs_out import write_inputs
from ordergen.job import default_run_id, load_file_inputs
from ordergen.observability.logs import configure_logging
from ordergen.optimize.problem import Method
from ordergen.optimize.solve import resolve_jobs
from ordergen.runner import run_to_file
from ordergen.settings import load_settings


@app.command()
def demo(
    directory: Path = typer.Option(
        Path("ordergen-demo"), "--dir", help="Folder for the demo files."
    ),
    portfolios: int = typer.Option(300, "--portfolios", min=1, help="Number of portfolios."),
    securities: int = typer.Option(30, "--securities", min=1, max=100, help="Model positions."),
    seed: int = typer.Option(7, "--seed", help="Seed of the generated data."),
    method: Method = typer.Option(Method.AUTO, "--method"),
    jobs: int | None = typer.Option(
        None, "--jobs", min=0, help="Solver processes (0 = all cores)."
    ),
    probe_port: int | None = typer.Option(
        None, "--probe-port", min=0, max=65535, help="Serve health and /metrics (PROBE_PORT)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON on stdout."),
) -> None:
    """Generate demo inputs in --dir, rebalance them, write --dir/orders.json."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    data = generate(seed=seed, portfolios=portfolios, securities=securities)
    model_file, positions, prices = write_inputs(directory, data.model, data.summaries, data.prices)
    stderr.print(
        f"demo inputs written to {directory}/ ({portfolios} portfolios, {securities} securities)"
    )
    inputs = load_file_inputs(model_file, positions, prices, method.value, None)
    options = RunOptions(
        method=method,
        jobs=resolve_jobs(settings.jobs if jobs is None else jobs),
        time_limit=settings.optimization_timeout,
    )
    output = directory / "orders.json"
    run_id = default_run_id(None, inputs.digest)
    with run_observer(settings, probe_port, None) as observer:
        observer.start(
            run_id=run_id, model=inputs.model.name, method=method.value, portfolios=portfolios
        )
        with progress_bar(len(inputs.holdings), sys.stderr.isatty()) as advance:
            report = run_to_file(inputs, output, run_id, options, observer, advance)
        # The demo data deliberately include an infeasible portfolio: showing it is success.
        finish(report, observer, as_json, partial_exit=ExitCode.OK)
