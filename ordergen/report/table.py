"""The per-portfolio table the page sorts, filters and charts from, as compact columns.

Money stays the orders file's decimal text (exact); worst drifts are whole numbers of
0.0001 (the file's precision); statuses and messages are indexes into their distinct
values, so 10,000 "within bands: ..." messages cost one string.
"""

from decimal import Decimal
from typing import Any

from ordergen.domain.values import decimal_text
from ordergen.report.drill import UNIT
from ordergen.report.model import Report


def _units(value: Decimal | None) -> int | None:
    return None if value is None else int(value * UNIT)


class _Distinct:
    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        index = self._index.get(value)
        if index is None:
            index = self._index[value] = len(self.values)
            self.values.append(value)
        return index


def table_columns(report: Report) -> dict[str, Any]:
    """Column name to values, one per portfolio in run order (what the page reads)."""
    statuses, messages, approvals = _Distinct(), _Distinct(), _Distinct()
    rows = report.rows
    columns: dict[str, Any] = {
        "id": [row.portfolio_id for row in rows],
        "status": [statuses(row.status) for row in rows],
        "marketValue": [decimal_text(row.market_value) for row in rows],
        "turnover": [decimal_text(row.turnover) for row in rows],
        "buys": [row.buy_orders for row in rows],
        "sells": [row.sell_orders for row in rows],
        "before": [_units(row.worst_drift_before) for row in rows],
        "after": [_units(row.worst_drift_after) for row in rows],
        "cashAfter": [decimal_text(row.cash_after) for row in rows],
        "message": [messages(row.message) for row in rows],
    }
    if report.has_approvals:
        columns["approval"] = [approvals(row.approval or "") for row in rows]
    columns["statuses"] = statuses.values
    columns["messages"] = messages.values
    columns["approvals"] = approvals.values
    return columns
