"""`ordergen demo`: write a realistic data set (a scheduled run's portfolios, drifted since
their last rebalance), rebalance it, show the result beside the same portfolios under a
desk policy. No services."""

import json
from pathlib import Path
from typing import Any

import typer

from ordergen.cli.app import app
from ordergen.cli.render import attention_list, comparison_table, stderr
from ordergen.cli.run_flow import (
    JOBS_OPTION,
    JSON_OPTION,
    METHOD_OPTION,
    PROBE_PORT_OPTION,
    run_and_finish,
    run_observer,
    run_options,
)
from ordergen.demo import DESK_POLICY, scheduled_run
from ordergen.errors import ExitCode
from ordergen.io.inputs_out import write_inputs
from ordergen.observability.logs import configure_logging
from ordergen.observability.run import RunObserver
from ordergen.optimize.problem import Method
from ordergen.run.engine import RunOptions
from ordergen.run.execute import RunReport, run_to_file
from ordergen.run.inputs import default_run_id, load_file_inputs
from ordergen.settings import load_settings


@app.command()
def demo(
    directory: Path = typer.Option(
        Path("ordergen-demo"), "--dir", help="Folder for the demo files."
    ),
    portfolios: int = typer.Option(300, "--portfolios", min=1, help="Number of portfolios."),
    securities: int = typer.Option(30, "--securities", min=1, max=100, help="Model positions."),
    seed: int = typer.Option(7, "--seed", help="Seed of the generated data."),
    method: Method = METHOD_OPTION,
    jobs: int | None = JOBS_OPTION,
    probe_port: int | None = PROBE_PORT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Generate demo inputs in --dir, rebalance them, write --dir/orders.json."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    data = scheduled_run(seed=seed, portfolios=portfolios, securities=securities)
    model_file, positions, prices = write_inputs(directory, data.model, data.summaries, data.prices)
    stderr.print(
        f"demo inputs written to {directory}/ ({portfolios} portfolios, {securities} securities)"
    )
    inputs = load_file_inputs(model_file, positions, prices, method.value, None)
    options = run_options(settings, method, jobs)
    output = directory / "orders.json"
    run_id = default_run_id(None, inputs.digest)

    def beside_a_desk_policy(report: RunReport) -> None:
        desk = _desk_policy_run(directory, data.model, positions, prices, method, options)
        title = f"the same portfolios under a desk policy ({desk.destination})"
        summaries = {"no policy": report.summary, "desk policy": desk.summary}
        stderr.print(comparison_table(title, summaries))
        attention = attention_list(desk.summary, " under the desk policy")
        if attention is not None:
            stderr.print(attention)
        from ordergen.cli.run_report import write_demo_reports

        page, desk_page = write_demo_reports(directory, report)
        stderr.print(
            f"report written to {page} (open it in a browser); "
            f"the desk policy's, against back to target: {desk_page}",
            highlight=False,
        )

    with run_observer(settings, probe_port, None) as observer:
        run_and_finish(
            observer,
            inputs,
            run_id,
            method,
            lambda advance: run_to_file(inputs, output, run_id, options, observer, advance),
            as_json,
            # The demo data are built with an infeasible portfolio (ordergen.demo.SMALL_ACCOUNT):
            # showing it is success.
            partial_exit=ExitCode.OK,
            then=beside_a_desk_policy,
        )


def _desk_policy_run(
    directory: Path,
    model: dict[str, Any],
    positions: Path,
    prices: Path,
    method: Method,
    options: RunOptions,
) -> RunReport:
    """The demo's model with `DESK_POLICY`, rebalanced quietly to orders-desk-policy.json.

    Its model file is written beside the others, so the run can be repeated by hand.
    """
    model_file = directory / "model-desk-policy.json"
    model_file.write_text(json.dumps({**model, "policy": DESK_POLICY}, indent=2) + "\n")
    inputs = load_file_inputs(model_file, positions, prices, method.value, None)
    output = directory / "orders-desk-policy.json"
    run_id = default_run_id(None, inputs.digest)
    # No probe, no pushes and no per-portfolio lines: the run shown is the demo's own.
    with RunObserver(per_portfolio_lines=False) as observer:
        return run_to_file(inputs, output, run_id, options, observer)
