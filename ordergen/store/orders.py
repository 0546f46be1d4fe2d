"""`MongoResultSink`: a run's results and orders written to MongoDB in bounded batches.

Every write is an upsert keyed by the run id, so writing the same run again (a retried
Job) replaces documents instead of adding copies. An order's `submission` state is set
only when the order is first inserted: a re-run never resets what the order-service
sink recorded. Memory holds at most one batch of pending writes.

Only the shard's owner writes (`ordergen.store.ownership`), and it stamps what it
writes with its `attempt` token (the owner token); when it closes, it sweeps the
shard's still-pending orders and results that an earlier attempt wrote and this one
did not (new prices or holdings changed the answer). One sweep per attempt keeps the
writes linear: a per-batch "not in these ids" delete is quadratic. Before each write
the sink asks its `guard` whether the ownership still holds, so a writer that lost it
stops before its writes could land after a new owner's.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError

from ordergen.domain.results import BUY, SELL, PortfolioResult
from ordergen.domain.shard import WHOLE_RUN, Shard
from ordergen.domain.summary import status_counts
from ordergen.io.orders_json import portfolio_document
from ordergen.optimize.problem import Status
from ordergen.store.connection import Db, Document, database_errors
from ordergen.store.schema import ORDERS, PORTFOLIO_STATE, RUN_PORTFOLIOS

DEFAULT_BATCH = 5000
# Submission states (see ordergen.store.submissions); only these may still be rewritten.
PENDING, SUBMITTING, ACCEPTED = "pending", "submitting", "accepted"
REJECTED, FAILED = "rejected", "failed"
RESENDABLE = (PENDING, REJECTED, FAILED)
# Approval states of the orders of a run that needs approval (ordergen.store.approvals);
# the orders of a run that needs none carry no `approval` at all.
PROPOSED, APPROVED, DECLINED = "proposed", "approved", "rejected"
STALE = "stale"
"""Approved, but the portfolio's positions changed since the proposal: never sent."""
DUPLICATE_KEY = 11000


@dataclass(frozen=True)
class StoredCounts:
    """A shard's orders and portfolio results as stored, to check a run's own tally."""

    buy_orders: int
    sell_orders: int
    orders: int
    by_status: dict[str, int]
    portfolios: int


def order_id(run_id: str, portfolio_id: str, security_id: str) -> str:
    """The order's `_id`: one order per run, portfolio and security, whatever the re-runs."""
    return f"{run_id}:{portfolio_id}:{security_id}"


class MongoResultSink:
    """A `ResultSink` writing to `run_portfolios`, `orders` and `portfolio_state`.

    Per portfolio: one `run_portfolios` document (`portfolio_document`), one `orders`
    document per order, and for `ok` results its `lastRebalanceDate` and `lastRunId`
    in `portfolio_state`.
    """

    def __init__(
        self,
        db: Db,
        run_id: str,
        *,
        model_name: str,
        attempt: str,
        shard: Shard = WHOLE_RUN,
        batch_size: int = DEFAULT_BATCH,
        guard: Callable[[], None] = lambda: None,
        fresh: bool = False,
        proposed_at: datetime | None = None,
    ) -> None:
        """`fresh`: this run shard has no document yet (checked after claiming it), so
        orders and results are plain inserts; a re-run upserts instead.

        `proposed_at`: the run needs approval, so every order written is `proposed` at
        that time (a re-run proposes again what it rewrites, even an approved order),
        and no order is sent until it is approved."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self._db = db
        self._run_id = run_id
        self._model = model_name
        self._shard = str(shard)
        self._attempt = attempt
        self._guard = guard
        self._fresh = fresh
        self._batch_size = batch_size
        self._rebalanced_at = datetime.now(UTC)
        self._approval = None if proposed_at is None else {"state": PROPOSED, "at": proposed_at}
        self._results: list[InsertOne[Document] | UpdateOne] = []
        self._orders: list[InsertOne[Document] | UpdateOne] = []
        self._state: list[UpdateOne] = []

    @database_errors()
    def add(self, result: PortfolioResult) -> None:
        """Queue one portfolio's writes; write the batch once it is full.

        A portfolio's writes always go in one batch, so the batch may exceed
        `batch_size` by one portfolio's orders.
        """
        document = portfolio_document(result)
        portfolio_id = result.portfolio_id
        created = datetime.now(UTC)
        owner: Document = {
            "runId": self._run_id,
            "model": self._model,
            "portfolioId": portfolio_id,
            "shard": self._shard,
            "attempt": self._attempt,
        }
        order_owner = owner if self._approval is None else {**owner, "approval": self._approval}
        first_written = {"createdAt": created, "submission": {"state": PENDING}}
        for order in document["orders"]:
            key = order_id(self._run_id, portfolio_id, order["securityId"])
            if self._fresh:
                self._orders.append(
                    InsertOne({"_id": key, **order_owner, **order, **first_written})
                )
                continue
            self._orders.append(
                UpdateOne(
                    # An order already sent (or in doubt) is left as it was sent: the
                    # filter misses it and the upsert's insert fails as a duplicate.
                    {"_id": key, "submission.state": {"$in": list(RESENDABLE)}},
                    {"$set": {**order_owner, **order}, "$setOnInsert": first_written},
                    upsert=True,
                )
            )
        result_id = f"{self._run_id}:{portfolio_id}"
        self._results.append(
            InsertOne({"_id": result_id, **owner, **document})
            if self._fresh
            else UpdateOne({"_id": result_id}, {"$set": {**owner, **document}}, upsert=True)
        )
        if result.status == Status.OK:
            self._state.append(
                UpdateOne(
                    {"_id": portfolio_id},
                    {"$set": {"lastRebalanceDate": self._rebalanced_at, "lastRunId": self._run_id}},
                    upsert=True,
                )
            )
        if len(self._orders) + len(self._results) + len(self._state) >= self._batch_size:
            self._flush()

    @database_errors()
    def close(self, summary: dict[str, Any]) -> None:
        """Write what is left, then drop earlier attempts' unsubmitted orders and results.

        The summary belongs to the run (`RunRepository.finish`).
        """
        self._flush()
        self._guard()
        earlier = {"runId": self._run_id, "shard": self._shard, "attempt": {"$ne": self._attempt}}
        self._db[ORDERS].delete_many({**earlier, "submission.state": {"$in": list(RESENDABLE)}})
        self._db[RUN_PORTFOLIOS].delete_many(earlier)

    @database_errors()
    def stored_counts(self) -> "StoredCounts":
        """What MongoDB holds for this shard: orders by side, portfolios by status."""
        shard = {"runId": self._run_id, "shard": self._shard}
        orders = self._db[ORDERS]
        results = self._db[RUN_PORTFOLIOS]
        return StoredCounts(
            buy_orders=orders.count_documents({**shard, "side": BUY}),
            sell_orders=orders.count_documents({**shard, "side": SELL}),
            orders=orders.count_documents(shard),
            by_status=status_counts(
                lambda status: results.count_documents({**shard, "status": status})
            ),
            portfolios=results.count_documents(shard),
        )

    def _flush(self) -> None:
        """Orders first, then results: a stored result implies its orders are stored."""
        if self._orders or self._results or self._state:
            self._guard()
        for collection, requests in (
            (ORDERS, self._orders),
            (RUN_PORTFOLIOS, self._results),
            (PORTFOLIO_STATE, self._state),
        ):
            if requests:
                try:
                    self._db[collection].bulk_write(requests, ordered=False)
                except BulkWriteError as exc:
                    errors = exc.details.get("writeErrors", [])
                    if any(error.get("code") != DUPLICATE_KEY for error in errors) or not errors:
                        raise
        self._results, self._orders, self._state = [], [], []


def orders_for_run(db: Db, run_id: str, portfolio_id: str | None = None) -> Iterator[Document]:
    """A run's orders (optionally one portfolio's), by portfolio and security, streamed."""
    query = {"runId": run_id}
    if portfolio_id is not None:
        query["portfolioId"] = portfolio_id
    with database_errors():
        yield from db[ORDERS].find(query).sort([("portfolioId", 1), ("securityId", 1)])


@database_errors()
def shard_has_documents(db: Db, run_id: str, shard: Shard) -> bool:
    """Whether any order or result of this run shard is stored (an earlier attempt's)."""
    query = {"runId": run_id, "shard": str(shard)}
    return any(db[name].find_one(query, {"_id": 1}) for name in (ORDERS, RUN_PORTFOLIOS))


@database_errors()
def count_orders(db: Db, run_id: str) -> int:
    """How many orders the run has."""
    return db[ORDERS].count_documents({"runId": run_id})
