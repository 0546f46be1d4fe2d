"""A run's counts and extremes, as the orders file, the run document and `--json` report them."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ordergen.domain.results import PortfolioResult
from ordergen.domain.values import decimal_text
from ordergen.optimize.policies.problem import PolicyStatus
from ordergen.optimize.problem import Status

WITHIN_BANDS = PolicyStatus.WITHIN_BANDS.value
"""A policy's trigger left the portfolio alone: a success with no orders. It is listed by
status only once some portfolio has it, so a run without policies reports as before."""


ATTENTION_LISTED = 10
"""How many portfolios needing attention a summary names; the rest are only counted."""
NEEDS_ATTENTION = frozenset({Status.INFEASIBLE.value, Status.ERROR.value})


@dataclass(frozen=True)
class Attention:
    """A portfolio someone must look at (infeasible, or failed), and why."""

    portfolio_id: str
    status: str
    message: str

    @property
    def reason(self) -> str:
        """The status and the result's message, once: "infeasible: no whole number ..."."""
        if self.message.startswith(f"{self.status}:"):
            return self.message
        return f"{self.status}: {self.message}" if self.message else self.status


def status_counts(count: Callable[[str], int]) -> dict[str, int]:
    """`count(status)` for every status, `within-bands` only where nonzero."""
    counts = {status.value: count(status.value) for status in Status}
    within = count(WITHIN_BANDS)
    if within:
        counts[WITHIN_BANDS] = within
    return counts


@dataclass
class RunSummary:
    """Counts and extremes over the results seen so far."""

    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})
    buy_orders: int = 0
    sell_orders: int = 0
    turnover: Decimal = Decimal(0)
    worst_drift_before: Decimal | None = None
    worst_drift_after: Decimal | None = None
    unmodelled_portfolios: list[str] = field(default_factory=list)
    missing_portfolios: list[str] = field(default_factory=list)
    traded_portfolios: int = 0
    """Portfolios with at least one order (shown beside a policy's, not recorded)."""
    attention: list[Attention] = field(default_factory=list)
    """The first `ATTENTION_LISTED` portfolios needing attention, in the order added (shown,
    not recorded: a summary read from a run's document has none). `failed` counts them all."""

    def add(self, result: PortfolioResult) -> None:
        self.by_status[result.status] = self.by_status.get(result.status, 0) + 1
        if result.status in NEEDS_ATTENTION and len(self.attention) < ATTENTION_LISTED:
            self.attention.append(Attention(result.portfolio_id, result.status, result.message))
        self.traded_portfolios += 1 if result.orders else 0
        self.buy_orders += result.buy_orders
        self.sell_orders += result.sell_orders
        self.turnover += result.turnover
        for name in ("worst_drift_before", "worst_drift_after"):
            value = getattr(result, name)
            current = getattr(self, name)
            if value is not None and (current is None or value > current):
                setattr(self, name, value)

    def document(self) -> dict[str, object]:
        """The camelCase summary written at the end of the orders file and by `--json`."""
        return {
            "portfolios": self.portfolios,
            "byStatus": dict(self.by_status),
            "orders": self.buy_orders + self.sell_orders,
            "buyOrders": self.buy_orders,
            "sellOrders": self.sell_orders,
            "turnover": decimal_text(self.turnover),
            "worstDriftBefore": decimal_text(self.worst_drift_before),
            "worstDriftAfter": decimal_text(self.worst_drift_after),
            "missingPortfolios": self.missing_portfolios,
            "unmodelledPortfolios": self.unmodelled_portfolios,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "RunSummary":
        """The summary `document` recorded (another process's, read from its run)."""
        worst_before, worst_after = (
            document.get("worstDriftBefore"),
            document.get("worstDriftAfter"),
        )
        return cls(
            by_status=dict(document["byStatus"]),
            buy_orders=document["buyOrders"],
            sell_orders=document["sellOrders"],
            turnover=Decimal(document["turnover"]),
            worst_drift_before=None if worst_before is None else Decimal(worst_before),
            worst_drift_after=None if worst_after is None else Decimal(worst_after),
            unmodelled_portfolios=list(document["unmodelledPortfolios"]),
            missing_portfolios=list(document["missingPortfolios"]),
        )

    @property
    def portfolios(self) -> int:
        return sum(self.by_status.values())

    @property
    def failed(self) -> int:
        return self.by_status[Status.INFEASIBLE] + self.by_status[Status.ERROR]
