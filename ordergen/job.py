"""The rebalance job: load inputs, pick a sink, run, report. The CLI only maps flags here."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ordergen import __version__
from ordergen.batch import (
    RunOptions,
    RunSummary,
    Shard,
    model_holdings,
    require_prices,
    select_shard,
)
from ordergen.domain.holdings import Holdings
from ordergen.domain.model import InvestmentModel
from ordergen.domain.results import PortfolioResult
from ordergen.io.files import input_digest, read_model, read_positions, read_prices
from ordergen.io.orders_json import OrdersFileWriter, atomic_text_file
from ordergen.pipeline import execute


@dataclass(frozen=True)
class RunInputs:
    """Everything a run needs, validated."""

    model: InvestmentModel
    holdings: list[Holdings]
    prices: dict[str, Decimal]
    missing: list[str]
    unmodelled: list[str]
    digest: str


@dataclass(frozen=True)
class RunReport:
    run_id: str
    model: str
    summary: RunSummary
    seconds: float


def load_file_inputs(
    model_file: Path, positions: Path, prices_file: Path, method: str, shard: Shard | None
) -> RunInputs:
    """Read and validate the three files; any problem is an `InputError`, nothing written."""
    model = read_model(model_file)
    found = read_positions(positions)
    prices = read_prices(prices_file)
    wanted = None if shard is None else select_shard(model.portfolios, shard)
    holdings, missing, unmodelled = model_holdings(model, found, wanted)
    require_prices(model, holdings, prices)
    digest = input_digest((model_file, positions, prices_file), method)
    return RunInputs(model, holdings, prices, missing, unmodelled, digest)


def default_run_id(given: str | None, job_name: str | None, digest: str) -> str:
    """`--run-id`, else the Kubernetes Job name, else one derived from the inputs.

    Deriving it from the inputs makes a repeated run of the same inputs the same run,
    so its orders are written once, and the output file is byte-identical.
    """
    return given or job_name or f"run-{digest[:16]}"


def run_to_file(
    inputs: RunInputs,
    output: Path,
    run_id: str,
    options: RunOptions,
    *,
    on_result: Callable[[PortfolioResult], None] | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> RunReport:
    """Rebalance and write the orders file atomically."""
    started = time.perf_counter()
    summary = RunSummary(missing_portfolios=inputs.missing, unmodelled_portfolios=inputs.unmodelled)
    header = {
        "runId": run_id,
        "method": options.method.value,
        "model": inputs.model.name,
        "inputDigest": inputs.digest,
        "ordergenVersion": __version__,
    }
    with atomic_text_file(output) as stream:
        writer = OrdersFileWriter(stream, header)
        execute(
            inputs.model,
            inputs.holdings,
            inputs.prices,
            writer,
            summary,
            options,
            on_result=on_result,
            on_chunk=on_chunk,
        )
    return RunReport(run_id, inputs.model.name, summary, time.perf_counter() - started)
