"""What a report shows, as numbers: the run's facts, its counts, and one row per portfolio."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ordergen.report.drill import DrillTable

APPROVAL_ATTENTION = frozenset({"stale", "rejected"})
"""Approval states that need a person (when the run has approvals)."""


@dataclass(frozen=True)
class RunFacts:
    """Who ran what: the header of the report.

    `started`, `ended` and `run_status` are known for a run in MongoDB only; `exit_code`
    is None when it cannot be told (a run that crashed, or one still running).
    """

    run_id: str
    model: str
    method: str
    input_digest: str
    policy: Mapping[str, Any] | None
    source: str
    started: str | None = None
    ended: str | None = None
    run_status: str | None = None
    exit_code: int | None = None


@dataclass(frozen=True)
class PortfolioRow:
    """One portfolio's line: its status and the money and weights that describe it."""

    portfolio_id: str
    status: str
    market_value: Decimal | None
    turnover: Decimal
    buy_orders: int
    sell_orders: int
    worst_drift_before: Decimal | None
    worst_drift_after: Decimal | None
    cash_before: Decimal | None
    cash_after: Decimal | None
    cash_floor: Decimal | None
    message: str
    approval: str | None = None

    @property
    def orders(self) -> int:
        return self.buy_orders + self.sell_orders

    @property
    def needs_attention(self) -> bool:
        """Infeasible, in error, or (with approvals) stale or rejected."""
        return self.status in ("infeasible", "error") or self.approval in APPROVAL_ATTENTION

    @property
    def reason(self) -> str:
        """Why it needs attention: the status (or approval state) and the message, once."""
        label = self.status if self.status in ("infeasible", "error") else str(self.approval)
        if not self.message or self.message.startswith(f"{label}:"):
            return self.message or label
        return f"{label}: {self.message}"


@dataclass
class SecurityFlow:
    """What the run buys and sells of one security (or of "the rest")."""

    security_id: str
    buy_turnover: Decimal = Decimal(0)
    sell_turnover: Decimal = Decimal(0)
    buy_orders: int = 0
    sell_orders: int = 0

    @property
    def turnover(self) -> Decimal:
        return self.buy_turnover + self.sell_turnover


@dataclass(frozen=True)
class LargeOrder:
    """One order and its value (quantity x price)."""

    portfolio_id: str
    security_id: str
    side: str
    quantity: int
    price: Decimal
    value: Decimal


@dataclass(frozen=True)
class Comparison:
    """The same portfolios traded back to target (no policy): what a policy run is set against."""

    traded_portfolios: int
    orders: int
    turnover: Decimal


@dataclass
class Report:
    """Everything a report shows, computed from a run's portfolio documents."""

    facts: RunFacts
    by_status: dict[str, int]
    buy_orders: int
    sell_orders: int
    turnover: Decimal
    worst_drift_before: Decimal | None
    worst_drift_after: Decimal | None
    traded_portfolios: int
    rows: list[PortfolioRow]
    securities: list[SecurityFlow]
    """By turnover, largest first: every security that has orders."""
    largest_orders: list[LargeOrder]
    band_edges: list[Decimal]
    """The distinct drift limits (lowDrift, highDrift) of the model's securities."""
    drill: DrillTable
    baseline: Comparison | None = None
    missing_portfolios: list[str] = field(default_factory=list)
    unmodelled_portfolios: list[str] = field(default_factory=list)

    @property
    def portfolios(self) -> int:
        return len(self.rows)

    @property
    def orders(self) -> int:
        return self.buy_orders + self.sell_orders

    @property
    def attention(self) -> list[PortfolioRow]:
        """The portfolios needing attention, in run order."""
        return [row for row in self.rows if row.needs_attention]

    @property
    def has_approvals(self) -> bool:
        return any(row.approval is not None for row in self.rows)

    @property
    def within_bands(self) -> int:
        return self.by_status.get("within-bands", 0)

    def top_securities(self, count: int = 20) -> list[SecurityFlow]:
        """The `count` securities with most turnover, then one "the rest" for the others."""
        top = self.securities[:count]
        rest = self.securities[count:]
        if rest:
            other = SecurityFlow(f"the other {len(rest)}")
            for flow in rest:
                other.buy_turnover += flow.buy_turnover
                other.sell_turnover += flow.sell_turnover
                other.buy_orders += flow.buy_orders
                other.sell_orders += flow.sell_orders
            top.append(other)
        return top
