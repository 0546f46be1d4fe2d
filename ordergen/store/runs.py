"""Rebalance runs in MongoDB: one document per run id, one entry per shard.

A sharded run (`--shard I/N`) is N processes sharing one run id. Each records its own
entry under `shards.<I>`; the run's status and counts are settled only once all N
entries have finished, by whichever shard finishes last. Starting a run id again
(after a crash) resets that shard's entry and the run's status: nothing is duplicated.

Each shard has at most one writer at a time: `claim` makes a process its `owner`
under a lease that its heartbeat (`renew`) extends; `finish` gives the ownership up.
A process that finds a live owner waits for it (see `ordergen.run.to_mongo`), and a writer
killed outright blocks the shard for at most one lease.
"""

import builtins
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from ordergen.domain.shard import WHOLE_RUN, Shard
from ordergen.domain.values import decimal_text
from ordergen.errors import DatabaseError, InputError, NotFoundError, OwnershipLostError
from ordergen.store.connection import Db, Document, database_errors
from ordergen.store.ownership import CLAIM_ATTEMPTS, aware
from ordergen.store.schema import RUN_PORTFOLIOS, RUN_PRICES, RUNS

RUNNING, COMPLETED, PARTIAL, FAILED = "running", "completed", "partial", "failed"
FINISHED = (COMPLETED, PARTIAL, FAILED)
# Internal bookkeeping, not part of what `get` and `list` return.
HIDDEN = {"revision": 0}


def live_owner(entry: Document | None, now: datetime) -> str | None:
    """The token of the shard entry's owner while its lease runs, else None."""
    owner = (entry or {}).get("owner")
    if owner is None or aware(owner["expiresAt"]) < now:
        return None
    return str(owner["token"])


def _public(document: Document) -> Document:
    return {"runId": document.pop("_id"), **document}


def _settled(shards: list[Document]) -> Document:
    """The run-level status and counts from every shard's finished entry."""
    statuses = {entry["status"] for entry in shards}
    # A crashed shard outweighs failed portfolios, which outweigh a clean finish.
    status = FAILED if FAILED in statuses else PARTIAL if PARTIAL in statuses else COMPLETED
    by_status: Counter[str] = Counter()
    for entry in shards:
        by_status.update(entry.get("summary", {}).get("byStatus", {}))
    return {
        "status": status,
        "endedAt": max(entry["endedAt"] for entry in shards),
        "portfolios": sum(entry.get("summary", {}).get("portfolios", 0) for entry in shards),
        "byStatus": dict(by_status),
        "orders": sum(entry.get("summary", {}).get("orders", 0) for entry in shards),
        "failedServices": {
            service: reason
            for entry in shards
            for service, reason in entry.get("summary", {}).get("failedServices", {}).items()
        },
    }


class RunRepository:
    """The `runs` collection, and reading a run's per-portfolio results."""

    def __init__(self, db: Db) -> None:
        self._runs = db[RUNS]
        self._results = db[RUN_PORTFOLIOS]
        self._prices = db[RUN_PRICES]

    @database_errors()
    def claim(
        self,
        run_id: str,
        *,
        model: str,
        method: str,
        input_digest: str,
        shard: Shard = WHOLE_RUN,
        portfolios: int,
        owner: str,
        lease_seconds: float,
        prices: Mapping[str, Decimal] | None = None,
        model_policy: Mapping[str, Any] | None = None,
        approval: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Make `owner` this shard's one writer and record it as running.

        `model_policy`, the model's policy document when it has one, is recorded as the
        run's `policy`, so the run can be audited after the model changes. `approval`
        (the rule, proposer and proposal time of a run that needs approval) is recorded
        as the run's `approval`.

        Succeeds when the shard has no owner or its owner's lease has lapsed; returns
        None then, or the live owner's token. A run id already used for another model
        or another shard count is an `InputError`: its results would mix with this run's.
        """
        key = f"shards.{shard.index}"
        for _attempt in range(CLAIM_ATTEMPTS):
            now = datetime.now(UTC)
            fields: Document = {
                "method": method,
                "inputDigest": input_digest,
                "status": RUNNING,
                key: {
                    "status": RUNNING,
                    "startedAt": now,
                    "portfolios": portfolios,
                    "owner": {
                        "token": owner,
                        "heartbeatAt": now,
                        "expiresAt": now + timedelta(seconds=lease_seconds),
                    },
                },
            }
            if model_policy:
                fields["policy"] = dict(model_policy)
            if approval:
                fields["approval"] = dict(approval)
            # One key per security, so shards of one run add to the record, never replace it.
            for security_id, price in sorted((prices or {}).items()):
                fields[f"prices.{security_id}"] = decimal_text(price)
            update = {
                "$set": fields,
                "$setOnInsert": {"startedAt": now},
                "$unset": {
                    "endedAt": "",
                    "portfolios": "",
                    "byStatus": "",
                    "orders": "",
                    "failedServices": "",
                },
                "$inc": {"revision": 1},
            }
            # model and shardCount are equalities, so the upsert inserts them, and a run
            # id taken by another model or shard count fails to match and then to insert.
            query = {
                "_id": run_id,
                "model": model,
                "shardCount": shard.count,
                "$or": [
                    {f"{key}.owner": {"$exists": False}},
                    {f"{key}.owner.expiresAt": {"$lt": now}},
                ],
            }
            try:
                self._runs.update_one(query, update, upsert=True)
                return None
            except DuplicateKeyError:
                existing = self._runs.find_one({"_id": run_id}) or {}
            if existing.get("model") != model or existing.get("shardCount") != shard.count:
                if existing:
                    raise InputError(
                        "run id",
                        run_id,
                        f"already used for model {existing.get('model')!r} with "
                        f"{existing.get('shardCount')} shard(s)",
                    )
                continue  # the document was removed meanwhile: claim again
            holder = live_owner(existing["shards"].get(str(shard.index)), now)
            if holder is not None:
                return holder
        raise DatabaseError(f"could not claim run {run_id!r} shard {shard}: it kept changing")

    @database_errors()
    def renew(self, run_id: str, shard: Shard, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease on the shard; False once another process owns it."""
        key = f"shards.{shard.index}.owner"
        now = datetime.now(UTC)
        written = self._runs.update_one(
            {"_id": run_id, f"{key}.token": owner},
            {
                "$set": {
                    f"{key}.heartbeatAt": now,
                    f"{key}.expiresAt": now + timedelta(seconds=lease_seconds),
                }
            },
        )
        return written.matched_count == 1

    @database_errors()
    def shard_entry(self, run_id: str, shard: Shard) -> Document | None:
        """The shard's entry of the run document as it stands now."""
        run = self._runs.find_one({"_id": run_id}, {f"shards.{shard.index}": 1})
        return None if run is None else run.get("shards", {}).get(str(shard.index))

    @database_errors()
    def finish(
        self,
        run_id: str,
        *,
        shard: Shard = WHOLE_RUN,
        summary: Mapping[str, Any],
        status: str,
        owner: str,
    ) -> Document:
        """Record this shard's end and give up its ownership; settle the run if every
        shard has finished.

        `status` is `completed` (no portfolio failed), `partial` (some did) or `failed`
        (the process crashed). `owner` must still own the shard, else
        `OwnershipLostError`: another writer took over and its record stands. Returns
        the run document as it now stands.
        """
        if status not in FINISHED:
            raise ValueError(f"status must be one of {FINISHED}, not {status!r}")
        key = f"shards.{shard.index}"
        entry = {
            f"{key}.status": status,
            f"{key}.endedAt": datetime.now(UTC),
            f"{key}.summary": dict(summary),
            f"{key}.writer": owner,
        }
        written = self._runs.update_one(
            {"_id": run_id, "shardCount": shard.count, f"{key}.owner.token": owner},
            {"$set": entry, "$unset": {f"{key}.owner": ""}, "$inc": {"revision": 1}},
        )
        if written.matched_count == 0:
            if self.shard_entry(run_id, shard) is None:
                raise NotFoundError(f"run {run_id!r} has no started shard {shard}")
            raise OwnershipLostError(
                f"run {run_id!r} shard {shard}: another writer owns it now; its record stands"
            )
        self._settle(run_id)
        return self.get(run_id)

    def _settle(self, run_id: str) -> None:
        """Write the run's final status if all shards have finished.

        The write is conditional on the revision read, so a shard that starts or
        finishes meanwhile is never overwritten by a stale settlement: that shard
        settles the run itself, from what it reads after its own write.
        """
        run = self._runs.find_one({"_id": run_id})
        if run is None:
            return
        shards = [run["shards"].get(str(index)) for index in range(run["shardCount"])]
        if any(entry is None or entry["status"] not in FINISHED for entry in shards):
            return
        self._runs.update_one(
            {"_id": run_id, "revision": run["revision"]}, {"$set": _settled(shards)}
        )

    @database_errors()
    def claim_prices(self, run_id: str, prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """The run's price of each security in `prices`: the first recorded one wins.

        Shards of a run, and re-runs after a crash, fetch prices separately and the
        pricing service answers differently each time; claiming makes every
        portfolio of the run use one price per security.
        """
        if prices:
            self._prices.bulk_write(
                [
                    UpdateOne(
                        {"_id": f"{run_id}:{security_id}"},
                        {
                            "$setOnInsert": {
                                "runId": run_id,
                                "securityId": security_id,
                                "price": decimal_text(price),
                            }
                        },
                        upsert=True,
                    )
                    for security_id, price in sorted(prices.items())
                ],
                ordered=False,
            )
        recorded = self.recorded_prices(run_id)
        return {security_id: recorded[security_id] for security_id in prices}

    @database_errors()
    def recorded_prices(self, run_id: str) -> dict[str, Decimal]:
        """Every price claimed so far by the run (none for a new run id)."""
        return {
            document["securityId"]: Decimal(document["price"])
            for document in self._prices.find({"runId": run_id})
        }

    @database_errors()
    def get(self, run_id: str) -> Document:
        """The run document (`runId` in place of `_id`)."""
        document = self._runs.find_one({"_id": run_id}, HIDDEN)
        if document is None:
            raise NotFoundError(f"run {run_id!r} not found")
        return _public(document)

    @database_errors()
    def list(self, model: str | None = None, limit: int = 20) -> builtins.list[Document]:
        """The latest runs first, optionally of one model; without the prices."""
        query = {} if model is None else {"model": model}
        cursor = self._runs.find(query, {**HIDDEN, "prices": 0})
        return [_public(run) for run in cursor.sort("startedAt", -1).limit(limit)]

    def portfolio_results(self, run_id: str, portfolio_id: str | None = None) -> Iterator[Document]:
        """The run's per-portfolio result documents by portfolio id, streamed."""
        query = {"runId": run_id}
        if portfolio_id is not None:
            query["portfolioId"] = portfolio_id
        with database_errors():
            yield from self._results.find(query, {"_id": 0}).sort("portfolioId", 1)
