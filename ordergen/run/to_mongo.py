"""Run a rebalance job into MongoDB (and, optionally, on to the order service).

A module of its own: only a MongoDB run needs pymongo, so a files run never imports
it. A failure here is the infrastructure's: the run records a failed attempt, and
re-running the same run id completes it without duplicating anything.
"""

import contextlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from ordergen.domain.shard import WHOLE_RUN, Shard
from ordergen.domain.summary import RunSummary
from ordergen.errors import DatabaseError, OwnershipLostError
from ordergen.observability.logs import get_logger
from ordergen.observability.run import RunObserver
from ordergen.run.engine import RunOptions
from ordergen.run.execute import Progress, RunReport, solve_into
from ordergen.run.inputs import RunInputs
from ordergen.run.proposal import Proposal, record_positions_read, record_proposal
from ordergen.services.submit import SubmissionReport
from ordergen.store.connection import Db, Document
from ordergen.store.models import ModelRepository
from ordergen.store.orders import MongoResultSink, StoredCounts, shard_has_documents
from ordergen.store.ownership import Heartbeat, ModelLocks
from ordergen.store.runs import (
    COMPLETED,
    FAILED,
    FINISHED,
    PARTIAL,
    RunRepository,
    live_owner,
)

log = get_logger(__name__)


def _check_stored(stored: StoredCounts, summary: RunSummary, where: str) -> None:
    """Raise `DatabaseError` unless MongoDB holds exactly what the run made."""
    expected = (summary.buy_orders, summary.sell_orders, summary.by_status)
    found = (stored.buy_orders, stored.sell_orders, stored.by_status)
    if expected != found or stored.orders != stored.buy_orders + stored.sell_orders:
        raise DatabaseError(
            f"{where}: MongoDB holds {stored.buy_orders} buy and {stored.sell_orders} sell "
            f"orders and portfolios {stored.by_status}, but the run made {summary.buy_orders} "
            f"buy and {summary.sell_orders} sell orders and portfolios {summary.by_status}"
        )


def _claim_or_wait(
    runs: RunRepository, claim: Callable[[], str | None], run_id: str, shard: Shard, poll: float
) -> Document | None:
    """Claim the shard (None), or wait for its live writer and return its finished entry.

    A writer whose lease lapses (killed) or whose attempt failed is replaced: the
    waiter claims the shard itself. Only an outcome written by a writer this process
    saw alive is reported as its own.
    """
    seen: set[str] = set()
    while True:
        holder = claim()
        if holder is None:
            return None
        seen.add(holder)
        log.info("run_shard_busy", run_id=run_id, shard=str(shard), owner=holder)
        while True:
            time.sleep(poll)
            entry = runs.shard_entry(run_id, shard) or {}
            holder = live_owner(entry, datetime.now(UTC))
            if holder is None:
                break
            seen.add(holder)
        if entry.get("status") in (COMPLETED, PARTIAL) and entry.get("writer") in seen:
            return entry


def run_to_mongo(
    inputs: RunInputs,
    db: Db,
    run_id: str,
    options: RunOptions,
    observer: RunObserver,
    *,
    lease_seconds: float,
    shard: Shard = WHOLE_RUN,
    model_stored: bool = False,
    submit: Callable[[], SubmissionReport] | None = None,
    progress: Progress | None = None,
    proposal: Proposal | None = None,
) -> RunReport:
    """Rebalance into MongoDB under `run_id`, then optionally submit the orders.

    One process writes a shard of a run at a time. Another run id of the same model
    that is still live makes this one a `RunBusyError`, with nothing written. Another
    live writer of the same shard is waited for, and its outcome reported as this
    one's; if it dies, this process takes over once its lease lapses.

    The run document records the start, the inputs' digest, the prices used and, at
    the end, this shard's counts, checked against what MongoDB holds, and status. A
    crash records the attempt as failed and re-raises. `lastRebalanceDate` moves only
    for portfolios that succeeded (and the model's, when it is stored and some
    portfolio succeeded).
    """
    started = time.perf_counter()
    model = inputs.model.name
    runs, locks = RunRepository(db), ModelLocks(db)
    owner = uuid.uuid4().hex
    locks.acquire(model, run_id, lease_seconds)  # refuse another live run before waiting

    def claim() -> str | None:
        return runs.claim(
            run_id,
            model=model,
            method=options.method.value,
            input_digest=inputs.digest,
            shard=shard,
            portfolios=len(inputs.holdings),
            owner=owner,
            lease_seconds=lease_seconds,
            prices=inputs.prices,
            model_policy=inputs.model.policy.document(),
            approval=None if proposal is None else proposal.document(),
        )

    destination = f"mongodb database {db.name!r}"
    written_by_other = _claim_or_wait(runs, claim, run_id, shard, min(1.0, lease_seconds / 10))
    if written_by_other is not None:
        recorded = written_by_other["summary"]
        submitted = recorded.get("submission")
        return RunReport(
            run_id,
            model,
            RunSummary.from_document(recorded),
            time.perf_counter() - started,
            destination,
            recorded["failedServices"],
            None if submitted is None else SubmissionReport.from_document(submitted),
            recorded.get("approval"),
        )

    def renew() -> bool:
        return runs.renew(run_id, shard, owner, lease_seconds) and locks.renew(
            model, run_id, lease_seconds
        )

    where = f"run {run_id!r} shard {shard}"
    with Heartbeat(renew, lease_seconds, where) as heartbeat:
        summary: RunSummary | None = None
        try:
            locks.acquire(model, run_id, lease_seconds)  # still ours after a wait
            sink = MongoResultSink(
                db,
                run_id,
                model_name=model,
                shard=shard,
                attempt=owner,
                guard=heartbeat.ensure_held,
                # Read after claiming: an earlier owner's writes have all landed by now.
                fresh=not shard_has_documents(db, run_id, shard),
                proposed_at=None if proposal is None else proposal.at,
            )
            summary = solve_into(inputs, sink, options, observer, progress)
            _check_stored(sink.stored_counts(), summary, where)
            if proposal is not None:
                record_positions_read(db, run_id, proposal, inputs.holdings)
            submission = None if submit is None or proposal is not None else submit()
            heartbeat.ensure_held()
        except BaseException:
            with contextlib.suppress(OwnershipLostError):  # the new owner's record stands
                failed = runs.finish(
                    run_id,
                    shard=shard,
                    summary={} if summary is None else summary.document(),
                    status=FAILED,
                    owner=owner,
                )
                if failed["status"] in FINISHED:
                    locks.release(model, run_id)
            raise
        report = RunReport(
            run_id,
            model,
            summary,
            time.perf_counter() - started,
            destination,
            inputs.failed_services,
            submission,
            None if proposal is None else proposal.document(),
        )
        run = runs.finish(
            run_id,
            shard=shard,
            summary=report.outcome(),
            status=PARTIAL if report.failed else COMPLETED,
            owner=owner,
        )
    if run["status"] in FINISHED:
        locks.release(model, run_id)
    if proposal is not None:
        record_proposal(db, run_id, proposal, shard, summary.buy_orders + summary.sell_orders)
    if model_stored and summary.by_status["ok"]:
        ModelRepository(db).mark_rebalanced(model, datetime.now(UTC))
    return report
