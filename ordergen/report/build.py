"""A `Report` from a run's facts and its portfolio documents, read once, in order."""

import heapq
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ordergen.domain.summary import status_counts
from ordergen.report.drill import DrillTable
from ordergen.report.model import (
    Comparison,
    LargeOrder,
    PortfolioRow,
    Report,
    RunFacts,
    SecurityFlow,
)

LARGEST_ORDERS = 20


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def approval_state(document: Mapping[str, Any]) -> str | None:
    """The portfolio's approval state, if the run has approvals: read defensively, as
    `approval` (a state, or a document with `state`) or `approvalState`."""
    approval = document.get("approval", document.get("approvalState"))
    if isinstance(approval, Mapping):
        approval = approval.get("state")
    return None if approval is None else str(approval)


def _row(document: Mapping[str, Any], turnover: Decimal, buys: int, sells: int) -> PortfolioRow:
    market_value = _decimal(document.get("marketValue"))
    drifts = document.get("drifts") or []
    cash_before = None
    if market_value is not None and drifts:
        held = sum(
            (int(d["originalQuantity"]) * Decimal(str(d["price"])) for d in drifts), Decimal(0)
        )
        cash_before = market_value - held
    policy = document.get("policy") or {}
    return PortfolioRow(
        portfolio_id=str(document["portfolioId"]),
        status=str(document["status"]),
        market_value=market_value,
        turnover=turnover,
        buy_orders=buys,
        sell_orders=sells,
        worst_drift_before=_decimal(document.get("worstDriftBefore")),
        worst_drift_after=_decimal(document.get("worstDriftAfter")),
        cash_before=cash_before,
        cash_after=_decimal(document.get("cashAfter")),
        cash_floor=_decimal(policy.get("cashFloor")),
        message=str(document.get("message") or ""),
        approval=approval_state(document),
    )


class ReportBuilder:
    """Adds portfolio documents one at a time, keeping sums and the rows, not the documents."""

    def __init__(self) -> None:
        self.rows: list[PortfolioRow] = []
        self.flows: dict[str, SecurityFlow] = {}
        self.largest: list[tuple[Decimal, int, LargeOrder]] = []
        self.drill = DrillTable()
        self._orders_seen = 0

    def add(self, document: Mapping[str, Any]) -> None:
        """Add one portfolio's result document (orders file or MongoDB)."""
        buys = sells = 0
        turnover = Decimal(0)
        for order in document.get("orders") or []:
            price = Decimal(str(order["price"]))
            value = order["quantity"] * price
            turnover += value
            flow = self.flows.setdefault(order["securityId"], SecurityFlow(order["securityId"]))
            if order["side"] == "BUY":
                buys += 1
                flow.buy_turnover += value
                flow.buy_orders += 1
            else:
                sells += 1
                flow.sell_turnover += value
                flow.sell_orders += 1
            self._keep_if_large(document, order, price, value)
        row = _row(document, turnover, buys, sells)
        self.rows.append(row)
        drifts = document.get("drifts") or []
        cash_need = _decimal((document.get("policy") or {}).get("cashNeed")) or Decimal(0)
        base = None if row.market_value is None else row.market_value - cash_need
        self.drill.add(drifts, base)

    def _keep_if_large(
        self, document: Mapping[str, Any], order: Mapping[str, Any], price: Decimal, value: Decimal
    ) -> None:
        self._orders_seen += 1
        if len(self.largest) == LARGEST_ORDERS and value <= self.largest[0][0]:
            return  # not larger than the smallest kept (which, seen first, wins a tie)
        large = LargeOrder(
            portfolio_id=str(document["portfolioId"]),
            security_id=str(order["securityId"]),
            side=str(order["side"]),
            quantity=int(order["quantity"]),
            price=price,
            value=value,
        )
        # The earlier order wins a tie: the key (value, -seen) is larger for it.
        item = (value, -self._orders_seen, large)
        if len(self.largest) < LARGEST_ORDERS:
            heapq.heappush(self.largest, item)
        elif item[:2] > self.largest[0][:2]:
            heapq.heapreplace(self.largest, item)

    def report(
        self,
        facts: RunFacts,
        summary: Mapping[str, Any] | None = None,
        baseline: Comparison | None = None,
    ) -> Report:
        """The report of everything added; `summary`, the run's recorded summary document,
        gives the portfolios missing from the positions and those outside the model."""
        rows = self.rows
        counts = status_counts(lambda status: sum(1 for row in rows if row.status == status))
        befores = [row.worst_drift_before for row in rows if row.worst_drift_before is not None]
        afters = [row.worst_drift_after for row in rows if row.worst_drift_after is not None]
        largest = sorted(self.largest, key=lambda item: item[:2], reverse=True)
        return Report(
            facts=facts,
            by_status=counts,
            buy_orders=sum(row.buy_orders for row in rows),
            sell_orders=sum(row.sell_orders for row in rows),
            turnover=sum((row.turnover for row in rows), Decimal(0)),
            worst_drift_before=max(befores, default=None),
            worst_drift_after=max(afters, default=None),
            traded_portfolios=sum(1 for row in rows if row.orders),
            rows=rows,
            securities=sorted(
                self.flows.values(), key=lambda flow: (-flow.turnover, flow.security_id)
            ),
            largest_orders=[item[2] for item in largest],
            band_edges=sorted(self.drill.band_edges),
            drill=self.drill,
            baseline=baseline,
            missing_portfolios=list((summary or {}).get("missingPortfolios", [])),
            unmodelled_portfolios=list((summary or {}).get("unmodelledPortfolios", [])),
        )


def build_report(
    facts: RunFacts,
    documents: Iterable[Mapping[str, Any]],
    summary: Mapping[str, Any] | None = None,
    baseline: Comparison | None = None,
) -> Report:
    """The report of a run: its `facts` and its portfolios' result `documents`."""
    builder = ReportBuilder()
    for document in documents:
        builder.add(document)
    return builder.report(facts, summary, baseline)


def comparison(documents: Iterable[Mapping[str, Any]]) -> Comparison:
    """What trading the same portfolios back to target did (a run without a policy)."""
    traded = orders = 0
    turnover = Decimal(0)
    for document in documents:
        placed = document.get("orders") or []
        traded += 1 if placed else 0
        orders += len(placed)
        turnover += sum((o["quantity"] * Decimal(str(o["price"])) for o in placed), Decimal(0))
    return Comparison(traded_portfolios=traded, orders=orders, turnover=turnover)
