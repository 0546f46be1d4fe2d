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

All reads are one range scan of the run's `_id`s; all writes are unordered bulk
updates keyed by `_id`.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne

from ordergen.store.connection import Db, Document, database_errors
from ordergen.store.orders import PENDING, RESENDABLE, SUBMITTING
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
}


@dataclass(frozen=True)
class Outcome:
    """What became of one order: its new state, the service's message and order id."""

    state: str
    message: str = ""
    order_id: int | None = None


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


@database_errors()
def claim(
    db: Db, orders: Sequence[Document], token: str, *, resend_in_doubt: bool = False
) -> list[Document]:
    """Mark `orders` `submitting` under `token`; the ones this call claimed, in order.

    Only orders still in a resendable state (or in doubt, with `resend_in_doubt`) are
    claimed, so of two submitters racing for an order only one sends it.
    """
    if not orders:
        return []
    states = [*RESENDABLE, SUBMITTING] if resend_in_doubt else list(RESENDABLE)
    marked = {"state": SUBMITTING, "claim": token, "at": datetime.now(UTC)}
    written = db[ORDERS].bulk_write(
        [
            UpdateOne(
                {"_id": order["_id"], "submission.state": {"$in": states}},
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
