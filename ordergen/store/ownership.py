"""Who may write a run: one live run per model, one live writer per run shard.

Two leases, both kept alive by one `Heartbeat` while a process writes:

- the model lock (`run_locks`, one document per model name) names the run id that may
  write the model's portfolios now. Another run id is refused (`RunBusyError`, exit 6)
  until that run has settled or its lock has gone `lease_seconds` without a heartbeat;
- the shard owner (`runs.shards.<i>.owner`, kept by `RunRepository`) names the one
  process writing that shard of the run. Other processes of the same run wait for it.

Expiry is judged on the claimant's clock: pods' clocks must agree to well within the
lease (NTP keeps Kubernetes nodes within milliseconds).
"""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType

from pymongo.errors import DuplicateKeyError

from ordergen.errors import DatabaseError, OwnershipLostError, RunBusyError
from ordergen.store.connection import Db, database_errors
from ordergen.store.schema import RUN_LOCKS

RELEASED = datetime(1970, 1, 1, tzinfo=UTC)
# A claim that loses an insert race re-reads and tries again; more than this many
# losses in a row means the document keeps changing under us, which a retry settles.
CLAIM_ATTEMPTS = 5


def aware(moment: datetime) -> datetime:
    """A stored datetime as UTC-aware (a client without `tz_aware` reads naive UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ModelLocks:
    """The `run_locks` collection: the run id that may write a model's portfolios now."""

    def __init__(self, db: Db) -> None:
        self._locks = db[RUN_LOCKS]

    @database_errors()
    def acquire(self, model: str, run_id: str, lease_seconds: float) -> None:
        """Hold `model` for `run_id`, or raise `RunBusyError` naming the live run that does.

        Idempotent for the same run id: every shard and every attempt of a run holds
        the same lock.
        """
        for _attempt in range(CLAIM_ATTEMPTS):
            now = datetime.now(UTC)
            try:
                self._locks.update_one(
                    {"_id": model, "$or": [{"runId": run_id}, {"expiresAt": {"$lt": now}}]},
                    {
                        "$set": {"runId": run_id, "heartbeatAt": now},
                        "$max": {"expiresAt": now + timedelta(seconds=lease_seconds)},
                    },
                    upsert=True,
                )
                return
            except DuplicateKeyError:
                holder = self._locks.find_one({"_id": model})
                if holder is not None and aware(holder["expiresAt"]) >= now:
                    raise RunBusyError(
                        f"model {model!r} is being rebalanced by run {holder['runId']!r} "
                        f"(last heartbeat {aware(holder['heartbeatAt']):%Y-%m-%d %H:%M:%S} UTC); "
                        "run again once it has finished"
                    ) from None
        raise DatabaseError(f"could not take the lock of model {model!r}: it kept changing")

    @database_errors()
    def renew(self, model: str, run_id: str, lease_seconds: float) -> bool:
        """Extend the lock; False when another run has taken it (ours had lapsed)."""
        now = datetime.now(UTC)
        written = self._locks.update_one(
            {"_id": model, "runId": run_id},
            {
                "$set": {"heartbeatAt": now},
                "$max": {"expiresAt": now + timedelta(seconds=lease_seconds)},
            },
        )
        return written.matched_count == 1

    @database_errors()
    def release(self, model: str, run_id: str) -> None:
        """Free the model for other runs (the run has settled)."""
        self._locks.update_one({"_id": model, "runId": run_id}, {"$set": {"expiresAt": RELEASED}})


class Heartbeat:
    """Renews a process's leases in the background; says when they may have lapsed.

    `renew()` returns False once another process owns what we held: the heartbeat
    stops and `ensure_held` raises from then on. A renewal that fails for a database
    error is retried at the next beat; only the lease's expiry makes it lost.
    """

    def __init__(self, renew: Callable[[], bool], lease_seconds: float, what: str) -> None:
        self._renew = renew
        self._lease = lease_seconds
        self._what = what
        self._held_until = time.monotonic() + lease_seconds  # the claim was just written
        self._lost = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stopped.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stopped.wait(self._lease / 3):
            sent = time.monotonic()
            try:
                held = self._renew()
            except DatabaseError:
                continue
            if not held:
                self._lost = True
                return
            self._held_until = sent + self._lease

    def ensure_held(self) -> None:
        """Raise `OwnershipLostError` unless the leases surely still hold.

        Writing stops with a third of the lease to go, so that a write sent now has
        landed before any other process may claim: a new owner never sees a stale
        write arrive after it started.
        """
        if self._lost or time.monotonic() > self._held_until - self._lease / 3:
            raise OwnershipLostError(
                f"{self._what}: this process lost its ownership (no heartbeat for "
                f"{self._lease:g} s, or another writer took over); it stopped writing"
            )
