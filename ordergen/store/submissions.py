"""Where each of a run's orders stands with the order service, in MongoDB (no HTTP here).

`submission.state` on an order document moves `pending` -> `submitting` ->
`accepted` | `rejected` | `failed`:

- `submitting` is written, with a claim token, before a batch is posted. If the answer
  is never recorded (the process died, or the answer was lost), the order stays
  `submitting`: it is *in doubt*, because the service may have created it. In-doubt
  orders are never re-sent automatically (an order is sent at most once); an operator
  who has checked the order service can ask for them to be re-sent.
- `rejected` (the service refused it) and `failed` (the service was not reached, so
  it surely did not create it) are sent again by a later submission of the run.
- `accepted` orders are never sent again.

The orders of a run that needs approval carry an `approval` state as well
(`ordergen.store.approvals`): only an `approved` one, approved within the proposal's
age limit, can be claimed, so an unapproved, rejected or stale order is never posted.

All reads are one range scan of the run's `_id`s; all writes are unordered bulk
updates keyed by `_id`.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne

from ordergen.errors import InputError, NotFoundError
from ordergen.store.connection import Db, Document, database_errors
from ordergen.store.orders import ACCEPTED, APPROVED, PENDING, RESENDABLE, SUBMITTING
from ordergen.store.schema import ORDERS

# What the sender needs from an order document.
ORDER_FIELDS = {
    "portfolioId": 1,
    "securityId": 1,
    "side": 1,
    "quantity": 1,
    "price": 1,
    "createdAt": 1,
    "submission": 1,
    "approval": 1,
}


@dataclass(frozen=True)
class Outcome:
    """What became of one order: its new state, the service's message and order id."""

    state: str
    message: str = ""
    order_id: int | None = None


def approval_of(order: Mapping[str, Any]) -> str | None:
    """An order document's approval state; None when its run needs no approval."""
    approval = order.get("approval")
    return str(approval.get("state")) if isinstance(approval, Mapping) else None


def state_of(order: Mapping[str, Any]) -> str:
    """An order document's submission state (`pending` if it has none)."""
    submission = order.get("submission")
    return str(submission.get("state", PENDING)) if isinstance(submission, Mapping) else PENDING


def scan_run_orders(db: Db, run_id: str) -> Iterator[Document]:
    """Every order of the run, in `_id` order (portfolio, then security), streamed.

    Order ids start with "<run id>:", so one range scan of the `_id` index finds
    them; `runId` in the filter keeps out a run whose id merely starts the same.
    The state is not filtered here: writes during the scan change it, never `_id`.
    """
    query = {"_id": {"$gte": f"{run_id}:", "$lt": f"{run_id};"}, "runId": run_id}
    with database_errors():
        yield from db[ORDERS].find(query, ORDER_FIELDS).sort("_id", 1)


def sendable(proposed_after: datetime | None) -> Document:
    """The filter of orders that may be sent: needing no approval, or approved in time.

    `proposed_after`: the oldest proposal still fresh (None: none is too old). Written
    without `$or` (a missing field matches `None` and `$not: {$lt}`), so the claim's
    `_id` equality keeps using the index.
    """
    allowed: Document = {"approval.state": {"$in": [None, APPROVED]}}
    if proposed_after is not None:
        allowed["approval.at"] = {"$not": {"$lt": proposed_after}}
    return allowed


@database_errors()
def claim(
    db: Db,
    orders: Sequence[Document],
    token: str,
    *,
    resend_in_doubt: bool = False,
    proposed_after: datetime | None = None,
) -> list[Document]:
    """Mark `orders` `submitting` under `token`; the ones this call claimed, in order.

    Only orders still in a resendable state (or in doubt, with `resend_in_doubt`) and
    `sendable` are claimed, so of two submitters racing for an order only one sends it,
    and an order whose approval was withdrawn meanwhile is not sent.
    """
    if not orders:
        return []
    states = [*RESENDABLE, SUBMITTING] if resend_in_doubt else list(RESENDABLE)
    marked = {"state": SUBMITTING, "claim": token, "at": datetime.now(UTC)}
    allowed = sendable(proposed_after)
    written = db[ORDERS].bulk_write(
        [
            UpdateOne(
                {"_id": order["_id"], "submission.state": {"$in": states}, **allowed},
                {"$set": {"submission": marked}},
            )
            for order in orders
        ],
        ordered=False,
    )
    if written.modified_count == len(orders):
        return list(orders)
    # Someone else moved some of them meanwhile: read back which are ours.
    ids = [order["_id"] for order in orders]
    mine = {
        document["_id"]
        for document in db[ORDERS].find(
            {"_id": {"$in": ids}, "submission.claim": token}, {"_id": 1}
        )
    }
    return [order for order in orders if order["_id"] in mine]


def current_states(db: Db, keys: Sequence[str], chunk: int = 10_000) -> Iterator[str]:
    """The submission state of each order named, as it stands now, read in chunks."""
    with database_errors():
        for start in range(0, len(keys), chunk):
            wanted = list(keys[start : start + chunk])
            for order in db[ORDERS].find({"_id": {"$in": wanted}}, {"submission": 1}):
                yield state_of(order)


@database_errors()
def record(db: Db, token: str, outcomes: Mapping[str, Outcome]) -> None:
    """Store each order's outcome by `_id`, if `token` still holds its claim."""
    if not outcomes:
        return
    now = datetime.now(UTC)
    requests = []
    for key, outcome in outcomes.items():
        submission: Document = {"state": outcome.state, "claim": token, "at": now}
        if outcome.message:
            submission["message"] = outcome.message
        if outcome.order_id is not None:
            submission["orderId"] = outcome.order_id
        requests.append(
            UpdateOne({"_id": key, "submission.claim": token}, {"$set": {"submission": submission}})
        )
    db[ORDERS].bulk_write(requests, ordered=False)


@database_errors()
def resolve(db: Db, run_id: str, key: str, created: int | None, by: str) -> str:
    """Record an operator's answer for an order in doubt; its new state.

    `created` (the order service's id): it was created, so `accepted`. None: it was
    not, so `pending`, and the next send posts it. Only an order still in doubt
    changes: anything else is an `InputError` naming its state.
    """
    order = db[ORDERS].find_one({"_id": key, "runId": run_id}, {"submission": 1})
    if order is None:
        raise NotFoundError(f"order {key!r} is not in run {run_id!r}")
    state = ACCEPTED if created is not None else PENDING
    submission: Document = {
        "state": state,
        "at": datetime.now(UTC),
        "resolvedBy": by,
        "message": f"resolved by {by}: {'created' if created is not None else 'not created'}",
    }
    if created is not None:
        submission["orderId"] = created
    written = db[ORDERS].update_one(
        {"_id": key, "submission.state": SUBMITTING}, {"$set": {"submission": submission}}
    )
    if written.modified_count != 1:
        raise InputError("--order", key, f"is not in doubt: it is {state_of(order)}")
    return state
