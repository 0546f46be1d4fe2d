"""The audit trail: one document per proposal, approval, rejection, send and resolution,
and per portfolio set a send found stale.

Append-only: this module inserts and reads, and no command updates or deletes an
entry. Each says who acted, when, what they did, on which run and which portfolios
(None: all of the run's), and what came of it (counts, a reason).
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ordergen.store.connection import Db, Document, database_errors
from ordergen.store.schema import AUDIT

PROPOSE, APPROVE, REJECT, SEND, RESOLVE = "propose", "approve", "reject", "send", "resolve"
STALE, SEND_STARTED = "stale", "send-started"


@database_errors()
def append(
    db: Db,
    *,
    action: str,
    run_id: str,
    by: str,
    portfolios: Sequence[str] | None = None,
    details: Mapping[str, Any] | None = None,
) -> Document:
    """Append one entry; returns it as stored."""
    entry: Document = {
        "at": datetime.now(UTC),
        "by": by,
        "action": action,
        "runId": run_id,
        "portfolios": None if portfolios is None else list(portfolios),
        **dict(details or {}),
    }
    db[AUDIT].insert_one(entry)
    return entry


def history(db: Db, run_id: str) -> Iterator[Document]:
    """The run's entries, oldest first."""
    with database_errors():
        yield from db[AUDIT].find({"runId": run_id}, {"_id": 0}).sort([("at", 1), ("_id", 1)])
