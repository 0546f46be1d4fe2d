"""The Decimal implementation the columnar engine replaced (ordergen 6436143), as an oracle.

The tests compare every number the engine reports, and every byte of the orders
file, against these per-portfolio, per-security Decimal computations.
"""

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from ordergen.domain.holdings import Holdings
from ordergen.domain.model import Position
from ordergen.domain.results import BUY, SELL, Drift, Order, PortfolioResult

WEIGHT_PLACES = Decimal("0.0001")
MONEY_PLACES = Decimal("0.001")


def market_value(holdings: Holdings, prices: Mapping[str, Decimal]) -> Decimal:
    total = holdings.cash
    for security_id, quantity in holdings.quantities.items():
        if quantity == 0:
            continue
        total += quantity * prices[security_id]
    return total.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def _weight(value: Decimal, market_value: Decimal) -> Decimal:
    if market_value == 0:
        return Decimal(0)
    return (value / market_value).quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP)


def worst_drift(
    quantities: Mapping[str, int],
    targets: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    market_value: Decimal,
) -> Decimal | None:
    if market_value <= 0:
        return None
    securities = set(targets) | {sid for sid, units in quantities.items() if units}
    worst = max(
        (
            abs(quantities.get(sid, 0) * prices[sid] - targets.get(sid, Decimal(0)) * market_value)
            for sid in securities
        ),
        default=Decimal(0),
    )
    return _weight(worst, market_value)


def rebalanced_result(
    holdings: Holdings,
    market_value: Decimal,
    positions: Sequence[Position],
    prices: Mapping[str, Decimal],
    quantities: Sequence[int],
    *,
    solver: str,
    seconds: float,
) -> PortfolioResult:
    adjusted = {
        position.security_id: int(units)
        for position, units in zip(positions, quantities, strict=True)
    }
    targets = {position.security_id: position.target for position in positions}
    outside = sorted(
        sid for sid, units in holdings.quantities.items() if units and sid not in adjusted
    )
    orders: list[Order] = []
    drifts: list[Drift] = []
    objective = Decimal(0)
    worst_gap = Decimal(0)
    traded = Decimal(0)
    cash_after = holdings.cash
    for position in positions:
        sid = position.security_id
        price = prices[sid]
        current = holdings.quantities.get(sid, 0)
        units = adjusted[sid]
        value = units * price
        gap = abs(market_value * position.target - value)
        objective += gap
        worst_gap = max(worst_gap, gap)
        actual = _weight(value, market_value)
        drifts.append(
            Drift(
                sid,
                position.target,
                position.low_drift,
                position.high_drift,
                current,
                units,
                price,
                actual,
                (1 - actual / position.target).quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP),
            ),
        )
        if units != current:
            delta = units - current
            orders.append(Order(sid, BUY if delta > 0 else SELL, abs(delta), price))
            traded += abs(delta) * price
            cash_after -= delta * price
    zero = Decimal(0)
    for sid in outside:
        current = holdings.quantities[sid]
        price = prices[sid]
        drifts.append(Drift(sid, zero, zero, zero, current, 0, price, zero, None))
        orders.append(Order(sid, SELL if current > 0 else BUY, abs(current), price))
        traded += abs(current) * price
        cash_after += current * price
    return PortfolioResult(
        portfolio_id=holdings.portfolio_id,
        status="ok",
        market_value=market_value,
        cash_after=cash_after,
        objective=objective,
        orders=tuple(orders),
        drifts=tuple(drifts),
        solver=solver,
        seconds=seconds,
        worst_drift_before=worst_drift(holdings.quantities, targets, prices, market_value),
        worst_drift_after=_weight(worst_gap, market_value) if market_value > 0 else None,
        turnover=traded,
    )
