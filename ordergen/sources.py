"""Where a rebalance's model and inputs come from: files, MongoDB, the GlobeCo services."""

import time
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from ordergen.batch import Shard
from ordergen.domain.model import InvestmentModel
from ordergen.errors import InputError
from ordergen.io.files import input_digest, read_model
from ordergen.job import (
    RunInputs,
    default_run_id,
    inputs_from_files,
    model_fingerprint,
    select_portfolios,
)
from ordergen.observability.run import RunObserver
from ordergen.optimize.problem import Method
from ordergen.services.inputs import load_service_inputs, write_snapshot
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.runs import RunRepository


class Source(StrEnum):
    """Where positions and prices come from."""

    FILES = "files"
    SERVICES = "services"


@dataclass(frozen=True)
class LoadedInputs:
    inputs: RunInputs
    run_id: str
    model_stored: bool
    """The model came from MongoDB, so its `lastRebalanceDate` is kept there."""


def _model(
    db: Db | None, model_file: Path | None, model: str | None, portfolio: str | None
) -> tuple[InvestmentModel, bool]:
    """The model to rebalance and whether it is stored in MongoDB."""
    if model_file is not None and model is not None:
        raise InputError("--model", model, "give --model or --model-file, not both")
    if model_file is not None:
        return read_model(model_file), False
    if db is None:  # the CLI opens the database whenever no model file is given
        raise InputError("--model", model, "a stored model needs the database")
    repository = ModelRepository(db)
    if model is not None:
        return repository.get(model), True
    if portfolio is not None:
        return repository.find_by_portfolio(portfolio), True
    raise InputError("--model", None, "give --model NAME, --model-file FILE or --portfolio ID")


def _check_flags(
    source: Source,
    positions: Path | None,
    prices: Path | None,
    snapshot: Path | None,
    portfolio: str | None,
    shard: Shard | None,
) -> None:
    if portfolio is not None and shard is not None:
        raise InputError("--shard", str(shard), "not with --portfolio")
    if source is Source.FILES:
        for flag, value in (("--positions", positions), ("--prices", prices)):
            if value is None:
                raise InputError(flag, None, "required with --source files")
        if snapshot is not None:
            raise InputError("--snapshot", str(snapshot), "only with --source services")
    else:
        for flag, value in (("--positions", positions), ("--prices", prices)):
            if value is not None:
                raise InputError(flag, str(value), "not with --source services")


def load_inputs(
    settings: Settings,
    db: Db | None,
    observer: RunObserver,
    *,
    source: Source,
    model_file: Path | None,
    model: str | None,
    portfolio: str | None,
    shard: Shard | None,
    positions: Path | None,
    prices: Path | None,
    snapshot: Path | None,
    method: Method,
    run_id: str | None,
) -> LoadedInputs:
    """Resolve the model, load and validate the inputs, choose the run id."""
    _check_flags(source, positions, prices, snapshot, portfolio, shard)
    started = time.perf_counter()
    chosen_model, stored = _model(db, model_file, model, portfolio)
    observer.input_loaded("mongo" if stored else "files", time.perf_counter() - started)
    wanted = select_portfolios(chosen_model, portfolio=portfolio, shard=shard)
    given_id = run_id or settings.job_name
    if source is Source.FILES:
        assert positions is not None and prices is not None  # _check_flags guarantees it
        started = time.perf_counter()
        inputs = inputs_from_files(
            chosen_model, positions, prices, method.value, wanted, selection=portfolio or ""
        )
        observer.input_loaded("files", time.perf_counter() - started)
        return LoadedInputs(inputs, default_run_id(given_id, inputs.digest), stored)
    if shard is not None and given_id is None:
        raise InputError(
            "--run-id", None, "a sharded services run needs --run-id or JOB_NAME for all shards"
        )
    runs = None if db is None else RunRepository(db)
    known = {} if runs is None or given_id is None else runs.recorded_prices(given_id)
    loaded = load_service_inputs(settings, chosen_model, wanted, known_prices=known)
    for name, seconds in loaded.load_seconds.items():
        observer.input_loaded(name, seconds)
    digest = input_digest(
        (),
        model_fingerprint(chosen_model),
        method.value,
        repr(loaded.summaries),
        repr(loaded.prices),
    )
    chosen_id = default_run_id(given_id, digest)
    used_prices = loaded.prices if runs is None else runs.claim_prices(chosen_id, loaded.prices)
    inputs = RunInputs(
        chosen_model,
        loaded.holdings,
        used_prices,
        [h.portfolio_id for h in loaded.holdings if not h.has_record],
        [],
        digest,
        loaded.failed_services,
        loaded.unpriced,
    )
    if snapshot is not None:
        write_snapshot(snapshot, chosen_model, replace(loaded, prices=used_prices))
    return LoadedInputs(inputs, chosen_id, stored)
