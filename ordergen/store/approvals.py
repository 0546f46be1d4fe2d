"""Approving and rejecting a proposed run's orders in MongoDB, one atomic update each.

The orders of a run that needs approval carry `approval.state`: `proposed` when the
run writes them, then `approved` or `rejected`. `approval.at` is when the run
proposed them; a proposal older than the age limit can no longer be approved, and
`ordergen.store.submissions.claim` does not send it.

Every change is a conditional `update_many`, so two commands acting at once cannot
both make a change: an order is approved once, and an order already claimed for
sending (its submission no longer resendable) can no longer be rejected.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from ordergen.store.connection import Db, Document, database_errors
from ordergen.store.orders import APPROVED, DECLINED, PROPOSED, RESENDABLE
from ordergen.store.schema import ORDERS


def _scope(run_id: str, portfolio_ids: Sequence[str] | None) -> Document:
    query: Document = {"runId": run_id}
    if portfolio_ids is not None:
        query["portfolioId"] = {"$in": list(portfolio_ids)}
    return query


@database_errors()
def approve(
    db: Db,
    run_id: str,
    portfolio_ids: Sequence[str] | None,
    *,
    by: str,
    proposed_after: datetime,
) -> int:
    """Approve the run's proposed orders (of these portfolios) proposed since
    `proposed_after`; how many this call approved."""
    written = db[ORDERS].update_many(
        {
            **_scope(run_id, portfolio_ids),
            "approval.state": PROPOSED,
            "approval.at": {"$gte": proposed_after},
        },
        {
            "$set": {
                "approval.state": APPROVED,
                "approval.by": by,
                "approval.decidedAt": datetime.now(UTC),
            }
        },
    )
    return written.modified_count


@database_errors()
def reject(
    db: Db, run_id: str, portfolio_ids: Sequence[str] | None, *, by: str, reason: str
) -> int:
    """Reject the run's proposed or approved orders (of these portfolios) that no send
    has claimed; how many this call rejected."""
    written = db[ORDERS].update_many(
        {
            **_scope(run_id, portfolio_ids),
            "approval.state": {"$in": [PROPOSED, APPROVED]},
            "submission.state": {"$in": list(RESENDABLE)},
        },
        {
            "$set": {
                "approval.state": DECLINED,
                "approval.by": by,
                "approval.reason": reason,
                "approval.decidedAt": datetime.now(UTC),
            }
        },
    )
    return written.modified_count


@database_errors()
def approval_counts(db: Db, run_id: str) -> dict[str, int]:
    """The run's orders by approval state (`proposed`, `approved`, `rejected`)."""
    counts: Counter[str] = Counter()
    for row in db[ORDERS].aggregate(
        [{"$match": {"runId": run_id}}, {"$group": {"_id": "$approval.state", "n": {"$sum": 1}}}]
    ):
        if row["_id"] is not None:
            counts[str(row["_id"])] += int(row["n"])
    return dict(sorted(counts.items()))
