"""A rebalance job's inputs: which portfolios, their holdings and prices, and the run id.

Everything here is read and validated before anything is written, so bad input
fails the job with nothing half-done.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ordergen.domain.holdings import Holdings, check_market_values
from ordergen.domain.model import InvestmentModel, model_content
from ordergen.domain.policy import PolicyOverride
from ordergen.domain.shard import Shard, select_shard
from ordergen.errors import InputError
from ordergen.io.files import (
    InputDigest,
    read_input,
    read_model,
    read_positions,
    read_prices,
)
from ordergen.run.engine import model_holdings, require_prices


@dataclass(frozen=True)
class RunInputs:
    """Everything a run needs, validated.

    `failed_services` names the services that failed while loading (service name ->
    reason); the portfolios that needed them carry a `load_error`. `unpriced` says why
    a security has no price (security id -> reason). `overrides` are the portfolios'
    policy overrides (the model's policy is on the model).
    """

    model: InvestmentModel
    holdings: list[Holdings]
    prices: dict[str, Decimal]
    missing: list[str]
    unmodelled: list[str]
    digest: str
    failed_services: Mapping[str, str] = field(default_factory=dict)
    unpriced: Mapping[str, str] = field(default_factory=dict)
    overrides: Mapping[str, PolicyOverride] = field(default_factory=dict)
    """Each portfolio's policy override for this run (stored, then a file's), by id."""


def model_fingerprint(model: InvestmentModel) -> str:
    """The model's content as canonical JSON: the same model from a file or MongoDB."""
    return json.dumps(model_content(model), sort_keys=True, separators=(",", ":"))


def select_portfolios(
    model: InvestmentModel, *, portfolio: str | None = None, shard: Shard | None = None
) -> list[str]:
    """The model's portfolio ids this job rebalances: one, a shard, or all of them."""
    if portfolio is not None:
        if portfolio not in model.portfolios:
            raise InputError("portfolio", portfolio, f"is not in model {model.name!r}")
        return [portfolio]
    if shard is not None:
        return select_shard(model.portfolios, shard)
    return list(model.portfolios)


def inputs_from_files(
    model: InvestmentModel,
    positions: Path,
    prices_file: Path,
    method: str,
    wanted: Sequence[str],
    *,
    selection: str = "",
) -> RunInputs:
    """Holdings and prices from files; any problem is an `InputError`.

    The digest covers the model's content, both files, the method and `selection`
    (a single portfolio), but not the shard: every shard of a run shares its id.
    """
    # Each file is read once: the bytes parsed are the bytes hashed, then dropped.
    digest = InputDigest()
    data = read_input(positions)
    digest.add(data)
    found = read_positions(positions, data)
    data = read_input(prices_file)
    digest.add(data)
    prices = read_prices(prices_file, data)
    del data
    holdings, missing, unmodelled = model_holdings(model, found, wanted)
    require_prices(model, holdings, prices)
    check_market_values(holdings, prices, source=str(positions))
    run_digest = digest.hexdigest(model_fingerprint(model), method, selection)
    return RunInputs(model, holdings, prices, missing, unmodelled, run_digest)


def load_file_inputs(
    model_file: Path, positions: Path, prices_file: Path, method: str, shard: Shard | None
) -> RunInputs:
    """Read and validate the three files of a file-based run (demo, tests)."""
    model = read_model(model_file)
    wanted = select_portfolios(model, shard=shard)
    return inputs_from_files(model, positions, prices_file, method, wanted)


def default_run_id(given: str | None, digest: str) -> str:
    """The given run id (`--run-id`, else the Kubernetes Job name), else one from the inputs.

    Deriving it from the inputs makes a repeated run of the same inputs the same run,
    so its orders are written once, and the output file is byte-identical.
    """
    return given or f"run-{digest[:16]}"
