"""Run a rebalance job to its sink: an orders file, or MongoDB (and the order service).

The inputs are validated before this starts, so every failure here is the
infrastructure's: a MongoDB run records a failed attempt, and re-running the same
run id completes it without duplicating anything.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ordergen import __version__
from ordergen.batch import WHOLE_RUN, RunOptions, RunSummary, Shard
from ordergen.io.orders_json import OrdersFileWriter, atomic_text_file
from ordergen.job import RunInputs
from ordergen.observability.run import RunObserver
from ordergen.pipeline import ResultSink, execute
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.orders import MongoResultSink
from ordergen.store.runs import COMPLETED, FAILED, PARTIAL, RunRepository

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RunReport:
    """How a run ended; `failed` decides the partial-failure exit code."""

    run_id: str
    model: str
    summary: RunSummary
    seconds: float
    destination: str
    failed_services: Mapping[str, str] = field(default_factory=dict)
    submission: Mapping[str, Any] | None = None

    @property
    def failed(self) -> bool:
        unsubmitted = bool(self.submission and self.submission.get("unsubmitted"))
        return bool(self.summary.failed or self.failed_services or unsubmitted)

    def outcome(self) -> dict[str, Any]:
        """Counts, failed services and submission: what the run document records."""
        outcome: dict[str, Any] = {
            **self.summary.document(),
            "failedServices": dict(self.failed_services),
        }
        if self.submission is not None:
            outcome["submission"] = dict(self.submission)
        return outcome

    def document(self) -> dict[str, Any]:
        """The `--json` run summary."""
        return {
            "runId": self.run_id,
            "model": self.model,
            "output": self.destination,
            "seconds": round(self.seconds, 3),
            **self.outcome(),
        }


def _solve(
    inputs: RunInputs,
    sink: ResultSink,
    options: RunOptions,
    observer: RunObserver,
    progress: Progress | None,
) -> RunSummary:
    def on_chunk(count: int) -> None:
        observer.on_chunk(count)
        if progress is not None:
            progress(count)

    summary = RunSummary(missing_portfolios=inputs.missing, unmodelled_portfolios=inputs.unmodelled)
    return execute(
        inputs.model,
        inputs.holdings,
        inputs.prices,
        sink,
        summary,
        options,
        on_result=observer.on_result,
        on_chunk=on_chunk,
        unpriced=inputs.unpriced,
    )


def run_to_file(
    inputs: RunInputs,
    output: Path,
    run_id: str,
    options: RunOptions,
    observer: RunObserver,
    progress: Progress | None = None,
) -> RunReport:
    """Rebalance and write the orders file atomically: all of it, or nothing."""
    started = time.perf_counter()
    header = {
        "runId": run_id,
        "method": options.method.value,
        "model": inputs.model.name,
        "inputDigest": inputs.digest,
        "ordergenVersion": __version__,
    }
    with atomic_text_file(output) as stream:
        summary = _solve(inputs, OrdersFileWriter(stream, header), options, observer, progress)
    return RunReport(
        run_id,
        inputs.model.name,
        summary,
        time.perf_counter() - started,
        str(output),
        inputs.failed_services,
    )


def run_to_mongo(
    inputs: RunInputs,
    db: Db,
    run_id: str,
    options: RunOptions,
    observer: RunObserver,
    *,
    shard: Shard = WHOLE_RUN,
    model_stored: bool = False,
    submit: Callable[[], Mapping[str, Any]] | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Rebalance into MongoDB under `run_id`, then optionally submit the orders.

    The run document records the start, the inputs' digest, the prices used and, at
    the end, this shard's counts and status. A crash records the attempt as failed
    and re-raises. `lastRebalanceDate` moves only for portfolios that succeeded
    (and the model's, when it is stored and some portfolio succeeded).
    """
    started = time.perf_counter()
    runs = RunRepository(db)
    runs.start(
        run_id,
        model=inputs.model.name,
        method=options.method.value,
        input_digest=inputs.digest,
        shard=shard,
        portfolios=len(inputs.holdings),
        prices=inputs.prices,
    )
    sink = MongoResultSink(db, run_id, model_name=inputs.model.name, shard=shard)
    summary: RunSummary | None = None
    try:
        summary = _solve(inputs, sink, options, observer, progress)
        submission = None if submit is None else submit()
    except BaseException:
        runs.finish(
            run_id,
            shard=shard,
            summary={} if summary is None else summary.document(),
            status=FAILED,
        )
        raise
    report = RunReport(
        run_id,
        inputs.model.name,
        summary,
        time.perf_counter() - started,
        f"mongodb database {db.name!r}",
        inputs.failed_services,
        submission,
    )
    runs.finish(
        run_id,
        shard=shard,
        summary=report.outcome(),
        status=PARTIAL if report.failed else COMPLETED,
    )
    if model_stored and summary.by_status["ok"]:
        ModelRepository(db).mark_rebalanced(inputs.model.name, datetime.now(UTC))
    return report
