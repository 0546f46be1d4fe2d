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
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from pymongo import UpdateOne

from ordergen.store.connection import Db, Document, database_errors
from ordergen.store.orders import APPROVED, DECLINED, PROPOSED, RESENDABLE, STALE
from ordergen.store.schema import ORDERS, PROPOSAL_POSITIONS


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


@database_errors()
def mark_stale(db: Db, run_id: str, portfolio_ids: Sequence[str], *, by: str) -> int:
    """Withdraw the approval of these portfolios' unsent orders: their positions changed
    since the proposal. How many orders this call marked `stale`."""
    written = db[ORDERS].update_many(
        {
            **_scope(run_id, portfolio_ids),
            "approval.state": APPROVED,
            "submission.state": {"$in": list(RESENDABLE)},
        },
        {
            "$set": {
                "approval.state": STALE,
                "approval.by": by,
                "approval.decidedAt": datetime.now(UTC),
            }
        },
    )
    return written.modified_count


@database_errors()
def portfolios_to_send(db: Db, run_id: str) -> list[str]:
    """The portfolios with approved orders that no send has claimed, by id."""
    found = db[ORDERS].distinct(
        "portfolioId",
        {
            "runId": run_id,
            "approval.state": APPROVED,
            "submission.state": {"$in": list(RESENDABLE)},
        },
    )
    return sorted(str(portfolio_id) for portfolio_id in found)


@database_errors()
def record_positions(db: Db, run_id: str, fingerprints: Mapping[str, str]) -> None:
    """Record what each portfolio held when the run proposed its orders."""
    if fingerprints:
        db[PROPOSAL_POSITIONS].bulk_write(
            [
                UpdateOne(
                    {"_id": f"{run_id}:{portfolio_id}"},
                    {"$set": {"runId": run_id, "portfolioId": portfolio_id, "positions": text}},
                    upsert=True,
                )
                for portfolio_id, text in fingerprints.items()
            ],
            ordered=False,
        )


@database_errors()
def recorded_positions(db: Db, run_id: str, portfolio_ids: Sequence[str]) -> dict[str, str]:
    """What these portfolios held at the proposal, as recorded (absent: not recorded)."""
    keys = [f"{run_id}:{portfolio_id}" for portfolio_id in portfolio_ids]
    return {
        document["portfolioId"]: document["positions"]
        for document in db[PROPOSAL_POSITIONS].find({"_id": {"$in": keys}})
    }


@database_errors()
def run_portfolios(db: Db, run_id: str) -> list[str]:
    """Every portfolio with orders in the run, by id."""
    return sorted(str(pid) for pid in db[ORDERS].distinct("portfolioId", {"runId": run_id}))
