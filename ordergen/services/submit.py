"""`submit_run_orders`: send a run's stored orders to the order service, at most once each.

The HTTP side is `order_service`, the MongoDB side `store.submissions`; this module
walks the run's orders in batches and keeps the count.
"""

import uuid
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ordergen.services.client import ServiceClient
from ordergen.services.options import ServiceOptions
from ordergen.services.order_service import SERVICE, order_payload, post_orders
from ordergen.settings import Settings
from ordergen.store.connection import Db, Document
from ordergen.store.orders import ACCEPTED, APPROVED, FAILED, REJECTED, SUBMITTING
from ordergen.store.ownership import aware
from ordergen.store.submissions import (
    Outcome,
    approval_of,
    claim,
    current_states,
    record,
    scan_run_orders,
    state_of,
)

MAX_MESSAGES = 20
IN_DOUBT_MESSAGE = (
    "left in doubt by an earlier submission (sent, answer not recorded); not re-sent: "
    "check the order service, then re-submit with resend_in_doubt"
)

ANSWERED_ELSEWHERE = "sent by another submission running at the same time"


@dataclass
class SubmissionReport:
    """What one `submit_run_orders` call did with the run's orders."""

    submitted: int = 0
    """Orders posted by this call."""
    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    """Not delivered (the service was down); sent again by the next submission."""
    in_doubt: int = 0
    """Posted but the answer is unknown (this call or an earlier one); not re-sent."""
    already_accepted: int = 0
    unsent: int = 0
    """Not posted because the order service's breaker was open; sent next time."""
    failed_service: str | None = None
    """`order-service` when the service failed during this call."""
    held: Counter[str] = field(default_factory=Counter)
    """Orders not posted for want of approval, by reason: `proposed` (awaiting it),
    `rejected` (by an approver), `stale` (approved, but the proposal is too old)."""
    messages: list[str] = field(default_factory=list)
    """Distinct problems, most frequent first: "<count> <state>: <message>"."""
    _problems: Counter[tuple[str, str]] = field(default_factory=Counter, init=False, repr=False)

    @property
    def unsubmitted(self) -> int:
        """Orders of the run still not accepted."""
        return self.rejected + self.failed + self.in_doubt + self.unsent

    def add(self, outcome: Outcome) -> None:
        if outcome.state == ACCEPTED:
            self.accepted += 1
            return
        if outcome.state == REJECTED:
            self.rejected += 1
        elif outcome.state == FAILED:
            self.failed += 1
        else:
            self.in_doubt += 1
        self._problems[(outcome.state, outcome.message)] += 1

    def finish(self) -> "SubmissionReport":
        self.messages = [
            f"{count} {'in doubt' if state == SUBMITTING else state}: {message}"
            for (state, message), count in self._problems.most_common(MAX_MESSAGES)
        ]
        if self.unsent:
            self.messages.append(f"{self.unsent} unsent: {SERVICE} circuit breaker open")
        return self

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "SubmissionReport":
        """A report as `document` recorded it (another process's, read from its run)."""
        return cls(
            submitted=document["submitted"],
            accepted=document["accepted"],
            rejected=document["rejected"],
            failed=document["failed"],
            in_doubt=document["inDoubt"],
            already_accepted=document["alreadyAccepted"],
            unsent=document["unsent"],
            failed_service=document["failedService"],
            messages=list(document["messages"]),
        )

    def document(self) -> dict[str, Any]:
        """camelCase, for the run document and `--json` (`held` only when some are)."""
        held = {"held": dict(sorted(self.held.items()))} if self.held else {}
        return {
            "submitted": self.submitted,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "failed": self.failed,
            "inDoubt": self.in_doubt,
            "alreadyAccepted": self.already_accepted,
            "unsent": self.unsent,
            "unsubmitted": self.unsubmitted,
            "failedService": self.failed_service,
            "messages": list(self.messages),
            **held,
        }


def _held(order: Document, proposed_after: datetime | None) -> str | None:
    """Why an order may not be posted for want of approval, or None if it may."""
    approval = approval_of(order)
    if approval is None:
        return None
    if approval != APPROVED:
        return approval
    if proposed_after is not None and aware(order["approval"]["at"]) < proposed_after:
        return "stale"
    return None


def _send(
    db: Db,
    client: ServiceClient,
    batch: list[Document],
    report: SubmissionReport,
    *,
    resend_in_doubt: bool,
    proposed_after: datetime | None,
) -> None:
    """Claim, post and record one batch."""
    token = uuid.uuid4().hex
    claimed = claim(
        db, batch, token, resend_in_doubt=resend_in_doubt, proposed_after=proposed_after
    )
    if not claimed:  # another submitter took them all
        return
    outcomes = post_orders(client, [order_payload(order) for order in claimed])
    record(
        db, token, {order["_id"]: outcome for order, outcome in zip(claimed, outcomes, strict=True)}
    )
    report.submitted += len(claimed)
    for outcome in outcomes:
        report.add(outcome)
        if outcome.state in (FAILED, SUBMITTING):  # not reached, or no usable answer
            report.failed_service = SERVICE


def submit_run_orders(
    db: Db,
    settings: Settings,
    run_id: str,
    *,
    portfolio_ids: Collection[str] | None = None,
    options: ServiceOptions | None = None,
    resend_in_doubt: bool = False,
    proposed_after: datetime | None = None,
) -> SubmissionReport:
    """Post the run's orders that are not yet accepted to the order service.

    Orders are read in one scan of the run, posted in batches of at most 1000, and
    each batch is marked `submitting` before it is posted and its outcomes recorded
    after, so a re-run of the same run id sends only what was not accepted, and an
    order whose answer was lost is not sent twice (see `ordergen.store.submissions`).
    Once the service's circuit breaker opens, the remaining orders are left for the
    next submission.

    Parameters
    ----------
    db
        The database the run's orders were written to (`MongoResultSink`).
    settings
        `order_service_url` and the resilience settings.
    run_id
        The run whose orders to send.
    portfolio_ids
        Only these portfolios' orders (one shard of a sharded run).
    options
        Client behaviour; `ServiceOptions.from_settings(settings)` by default.
    resend_in_doubt
        Also re-send orders left in doubt, once an operator has checked that the
        order service did not create them.
    proposed_after
        For a run that needs approval: the oldest proposal still fresh. Only approved
        orders proposed since are posted; the others are counted in `held`.

    Returns
    -------
    SubmissionReport
        The counts; `failed_service` names the order service if it failed.

    Raises
    ------
    DatabaseError
        MongoDB failed.
    """
    options = options or ServiceOptions.from_settings(settings)
    wanted = None if portfolio_ids is None else set(portfolio_ids)
    report = SubmissionReport()
    seen_in_doubt: list[str] = []
    sending: dict[str, Any] = {
        "resend_in_doubt": resend_in_doubt,
        "proposed_after": proposed_after,
    }
    batch: list[Document] = []
    with ServiceClient(SERVICE, settings.order_service_url, options) as client:
        for order in scan_run_orders(db, run_id):
            if wanted is not None and order["portfolioId"] not in wanted:
                continue
            state = state_of(order)
            held = None if state == ACCEPTED else _held(order, proposed_after)
            if held is not None:
                report.held[held] += 1
            elif state == ACCEPTED:
                report.already_accepted += 1
            elif state == SUBMITTING and not resend_in_doubt:
                seen_in_doubt.append(order["_id"])
            elif client.breaker.failing_fast:
                report.unsent += 1
            else:
                batch.append(order)
                if len(batch) == options.order_batch_size:
                    _send(db, client, batch, report, **sending)
                    batch = []
        if batch:
            _send(db, client, batch, report, **sending)
    _settle_in_doubt(db, seen_in_doubt, report)
    return report.finish()


def _settle_in_doubt(db: Db, keys: list[str], report: SubmissionReport) -> None:
    """Count the orders found `submitting` as they stand now.

    One found `submitting` may have been mid-post by another submission (two sends at
    once): if that one has since recorded its answer, the order is counted by that
    answer; only an order still `submitting` is in doubt.
    """
    for state in current_states(db, keys):
        if state == ACCEPTED:
            report.already_accepted += 1
        elif state == SUBMITTING:
            report.add(Outcome(SUBMITTING, IN_DOUBT_MESSAGE))
        elif state in (REJECTED, FAILED):
            report.add(Outcome(state, ANSWERED_ELSEWHERE))
        else:  # returned to pending meanwhile (`runs resolve --not-created`)
            report.unsent += 1
