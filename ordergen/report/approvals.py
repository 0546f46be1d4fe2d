"""Each portfolio's approval state, from its orders' `approval.state` (a run that needs
approval: see docs/mongodb.md). Read defensively: a run without approvals has none."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

PROPOSED, APPROVED, REJECTED, STALE = "proposed", "approved", "rejected", "stale"


def _aware(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def portfolio_approvals(
    orders: Iterable[Mapping[str, Any]], oldest: datetime | None = None
) -> dict[str, str]:
    """Portfolio id to its orders' state: `rejected` if any order is, else `stale` if any
    order is (its positions changed before sending) or the proposal is older than
    `oldest` (it can no longer be approved), else `proposed` while any order waits, else
    `approved` (or the first of the states its orders have)."""
    seen: dict[str, set[str]] = {}
    expired: set[str] = set()
    for order in orders:
        approval = order.get("approval")
        if not isinstance(approval, Mapping) or approval.get("state") is None:
            continue
        portfolio = str(order["portfolioId"])
        state = str(approval["state"])
        seen.setdefault(portfolio, set()).add(state)
        at = _aware(approval.get("at"))
        if state == PROPOSED and oldest is not None and at is not None and at < oldest:
            expired.add(portfolio)
    states: dict[str, str] = {}
    for portfolio, found in seen.items():
        if REJECTED in found:
            states[portfolio] = REJECTED
        elif STALE in found:  # `runs send` found its positions changed since the proposal
            states[portfolio] = STALE
        elif PROPOSED in found:
            states[portfolio] = STALE if portfolio in expired else PROPOSED
        else:
            states[portfolio] = APPROVED if APPROVED in found else min(found)
    return states
