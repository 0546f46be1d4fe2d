"""Approve, reject and send a proposed run's orders; resolve an order left in doubt.

Each command checks the run first (it exists, needs approval, is not being written,
its proposal is fresh, the portfolios named are the run's and solved), then makes
its change in one conditional MongoDB write per order, appends what it did to the
audit trail and counts it. A check that fails changes nothing.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ordergen.domain.approval import ApprovalRule
from ordergen.errors import (
    ApprovalRefusedError,
    InputError,
    NotFoundError,
    RunBusyError,
    StaleProposalError,
)
from ordergen.observability.decisions import DecisionMetrics
from ordergen.run.position_check import PositionCheck, check_positions
from ordergen.services.submit import SubmissionReport, submit_run_orders
from ordergen.settings import Settings
from ordergen.store import approvals, audit
from ordergen.store.connection import Db, Document
from ordergen.store.ownership import aware
from ordergen.store.runs import RUNNING, RunRepository
from ordergen.store.schema import RUN_PORTFOLIOS
from ordergen.store.submissions import resolve

UNAPPROVABLE = ("infeasible", "error")


@dataclass(frozen=True)
class Decision:
    """What one approve or reject did: orders changed, of which portfolios (None: all)."""

    run_id: str
    action: str
    by: str
    orders: int
    portfolios: Sequence[str] | None


def proposed_run(db: Db, run_id: str) -> Document:
    """The run, if it needs approval and no process is writing it now."""
    run = RunRepository(db).get(run_id)
    if "approval" not in run:
        raise InputError(
            "RUN_ID", run_id, "needs no approval: its model's rule is none and it was not proposed"
        )
    if run.get("status") == RUNNING:
        raise RunBusyError(f"run {run_id!r} is being written; try again once it has finished")
    return run


def fresh_since(run: Document, settings: Settings, what: str) -> datetime:
    """The oldest proposal time still fresh; `StaleProposalError` if the run's is older."""
    oldest = datetime.now(UTC) - timedelta(seconds=settings.proposal_max_age)
    proposed_at = aware(run["approval"]["proposedAt"])
    if proposed_at < oldest:
        raise StaleProposalError(
            f"run {run['runId']!r} was proposed at {proposed_at.isoformat()}, more than "
            f"PROPOSAL_MAX_AGE={settings.proposal_max_age:g}s ago: it cannot be {what}; "
            "re-run it"
        )
    return oldest


def check_portfolios(db: Db, run_id: str, portfolio_ids: Sequence[str], verb: str) -> None:
    """Each portfolio is in the run and was solved (not `infeasible` nor `error`)."""
    found = {
        document["portfolioId"]: document.get("status")
        for document in db[RUN_PORTFOLIOS].find(
            {"runId": run_id, "portfolioId": {"$in": list(portfolio_ids)}},
            {"portfolioId": 1, "status": 1},
        )
    }
    for portfolio_id in portfolio_ids:
        if portfolio_id not in found:
            raise NotFoundError(f"portfolio {portfolio_id!r} is not in run {run_id!r}")
        if found[portfolio_id] in UNAPPROVABLE:
            raise InputError(
                "--portfolio",
                portfolio_id,
                f"is {found[portfolio_id]} in run {run_id!r}: it has no orders to {verb}",
            )


def approve_run(
    db: Db, settings: Settings, run_id: str, portfolio_ids: Sequence[str] | None, by: str
) -> Decision:
    """Approve the run's proposed orders (all, or these portfolios')."""
    run = proposed_run(db, run_id)
    oldest = fresh_since(run, settings, "approved")
    if portfolio_ids is not None:
        check_portfolios(db, run_id, portfolio_ids, "approve")
    proposer = run["approval"]["proposedBy"]
    if run["approval"]["rule"] == ApprovalRule.FOUR_EYES.value and by == proposer:
        raise ApprovalRefusedError(
            f"run {run_id!r} needs four eyes: {by!r} proposed it, so another person approves it"
        )
    orders = approvals.approve(db, run_id, portfolio_ids, by=by, proposed_after=oldest)
    return _decided(db, settings, run, audit.APPROVE, by, orders, portfolio_ids)


def reject_run(
    db: Db,
    settings: Settings,
    run_id: str,
    portfolio_ids: Sequence[str] | None,
    by: str,
    reason: str,
) -> Decision:
    """Reject the run's orders not yet sent (all, or these portfolios'): never sent."""
    if not reason.strip():
        raise InputError("--reason", reason, "must say why")
    run = proposed_run(db, run_id)
    if portfolio_ids is not None:
        check_portfolios(db, run_id, portfolio_ids, "reject")
    orders = approvals.reject(db, run_id, portfolio_ids, by=by, reason=reason)
    return _decided(db, settings, run, audit.REJECT, by, orders, portfolio_ids, reason=reason)


def _decided(
    db: Db,
    settings: Settings,
    run: Document,
    action: str,
    by: str,
    orders: int,
    portfolio_ids: Sequence[str] | None,
    **details: str,
) -> Decision:
    run_id = run["runId"]
    audit.append(
        db,
        action=action,
        run_id=run_id,
        by=by,
        portfolios=portfolio_ids,
        details={"orders": orders, **details},
    )
    metrics = DecisionMetrics()
    metrics.count(action, run_id, by, orders, **details)
    metrics.push(settings.pushgateway_url, run["model"])
    return Decision(run_id, action, by, orders, portfolio_ids)


@dataclass(frozen=True)
class SendOutcome:
    """What a send did, and the portfolios it would not post (positions changed since
    the proposal: marked stale; or unreadable now: left approved for a later send)."""

    submission: SubmissionReport
    changed: list[str]
    unreadable: list[str]

    @property
    def complete(self) -> bool:
        return not (self.submission.unsubmitted or self.changed or self.unreadable)


def send_run(db: Db, settings: Settings, run_id: str, by: str) -> SendOutcome:
    """Post the run's approved orders not yet sent, at most once each.

    A run whose positions came from the accounting service has them read again first
    (`ordergen.run.position_check`): changed portfolios are marked stale, unreadable
    ones held back; the others are sent.
    """
    run = proposed_run(db, run_id)
    oldest = fresh_since(run, settings, "sent")
    metrics = DecisionMetrics()
    check = PositionCheck()
    if run["approval"].get("positionsChecked"):
        check = check_positions(db, settings, run_id)
    if check.changed:
        orders = approvals.mark_stale(db, run_id, check.changed, by=by)
        audit.append(
            db,
            action=audit.STALE,
            run_id=run_id,
            by=by,
            portfolios=check.changed,
            details={"orders": orders, "reason": "positions changed since the proposal"},
        )
        metrics.count(audit.STALE, run_id, by, orders, portfolios=len(check.changed))
    held_back = set(check.unreadable)
    only = None
    if held_back:
        only = [pid for pid in approvals.run_portfolios(db, run_id) if pid not in held_back]
    # Recorded before posting, so a send killed mid-way still shows in the history: a
    # start without its `send` entry (same attempt) is a send that never finished.
    attempt = uuid.uuid4().hex
    audit.append(db, action=audit.SEND_STARTED, run_id=run_id, by=by, details={"attempt": attempt})
    report = submit_run_orders(db, settings, run_id, portfolio_ids=only, proposed_after=oldest)
    details: dict[str, object] = {"attempt": attempt, "submission": report.document()}
    if check.unreadable:
        details["unreadable"] = check.unreadable
    audit.append(db, action=audit.SEND, run_id=run_id, by=by, details=details)
    metrics.count(audit.SEND, run_id, by, report.submitted, accepted=report.accepted)
    metrics.count_sent(
        {"accepted": report.accepted, "rejected": report.rejected, "failed": report.failed}
    )
    metrics.push(settings.pushgateway_url, run["model"])
    return SendOutcome(report, check.changed, check.unreadable)


def resolve_in_doubt(
    db: Db, settings: Settings, run_id: str, key: str, created: int | None, by: str
) -> str:
    """Record what the order service says of an order in doubt; its new state."""
    run = RunRepository(db).get(run_id)
    state = resolve(db, run_id, key, created, by)
    audit.append(
        db,
        action=audit.RESOLVE,
        run_id=run_id,
        by=by,
        details={"order": key, "created": created is not None, "orderId": created},
    )
    metrics = DecisionMetrics()
    metrics.count(audit.RESOLVE, run_id, by, 1, order=key, state=state)
    metrics.push(settings.pushgateway_url, run["model"])
    return state
