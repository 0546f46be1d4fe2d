"""Where a rebalance's model and inputs come from: files, MongoDB, the GlobeCo services."""

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ordergen.domain.model import InvestmentModel
from ordergen.io.files import content_digest, read_model
from ordergen.io.policy_files import write_portfolio_policies
from ordergen.observability.run import RunObserver
from ordergen.run.inputs import (
    RunInputs,
    default_run_id,
    inputs_from_files,
    model_fingerprint,
    select_portfolios,
)
from ordergen.run.policies import digest_with_overrides, overrides_document, run_overrides
from ordergen.run.request import RunRequest, Source
from ordergen.settings import Settings

if TYPE_CHECKING:
    from ordergen.store.connection import Db


@dataclass(frozen=True)
class LoadedInputs:
    inputs: RunInputs
    run_id: str
    model_stored: bool
    """The model came from MongoDB, so its `lastRebalanceDate` is kept there."""


def _model(db: "Db | None", request: RunRequest) -> tuple[InvestmentModel, bool]:
    """The model to rebalance and whether it is stored in MongoDB.

    The request names exactly one of a model file, a stored model or a portfolio, and
    a database is open unless it names a model file (the CLI sees to both).
    """
    if request.model_file is not None:
        return read_model(request.model_file), False
    if db is None:
        raise ValueError("a stored model needs the database")
    # Imported here: a files run never loads pymongo (start-up time).
    from ordergen.store.models import ModelRepository

    repository = ModelRepository(db)
    if request.model is not None:
        return repository.get(request.model), True
    if request.portfolio is None:
        raise ValueError("the request names no model")
    return repository.find_by_portfolio(request.portfolio), True


def load_inputs(
    settings: Settings, db: "Db | None", observer: RunObserver, request: RunRequest
) -> LoadedInputs:
    """Resolve the model, load and validate the inputs, choose the run id.

    The request's combination of choices was checked by the CLI; what is checked here
    is what needs the inputs themselves (the model, the portfolio, the files).
    """
    source, portfolio, shard, method = (
        request.source,
        request.portfolio,
        request.shard,
        request.method,
    )
    started = time.perf_counter()
    chosen_model, stored = _model(db, request)
    overrides = run_overrides(chosen_model, db, request.portfolio_policies)
    observer.input_loaded("mongo" if stored else "files", time.perf_counter() - started)
    wanted = select_portfolios(chosen_model, portfolio=portfolio, shard=shard)
    used_overrides = {pid: overrides[pid] for pid in wanted if pid in overrides}
    given_id = request.run_id or settings.job_name
    if source is Source.FILES:
        if request.positions is None or request.prices is None:
            raise ValueError("a files request needs positions and prices")
        started = time.perf_counter()
        inputs = inputs_from_files(
            chosen_model,
            request.positions,
            request.prices,
            method.value,
            wanted,
            selection=portfolio or "",
        )
        observer.input_loaded("files", time.perf_counter() - started)
        digest = digest_with_overrides(inputs.digest, overrides)
        inputs = replace(inputs, digest=digest, overrides=used_overrides)
        return LoadedInputs(inputs, default_run_id(given_id, digest), stored)
    # Imported here: a files run never loads httpx or pymongo (start-up time).
    from ordergen.services.inputs import load_service_inputs, write_snapshot
    from ordergen.store.runs import RunRepository

    runs = None if db is None else RunRepository(db)
    known = {} if runs is None or given_id is None else runs.recorded_prices(given_id)
    loaded = load_service_inputs(settings, chosen_model, wanted, known_prices=known)
    for name, seconds in loaded.load_seconds.items():
        observer.input_loaded(name, seconds)
    digest = content_digest(
        (),
        model_fingerprint(chosen_model),
        method.value,
        repr(loaded.summaries),
        repr(loaded.prices),
    )
    digest = digest_with_overrides(digest, overrides)
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
        used_overrides,
    )
    if request.snapshot is not None:
        write_snapshot(request.snapshot, chosen_model, replace(loaded, prices=used_prices))
        if used_overrides:
            write_portfolio_policies(request.snapshot, overrides_document(used_overrides))
    return LoadedInputs(inputs, chosen_id, stored)
