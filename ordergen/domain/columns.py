"""A chunk's results in columns: the rebalanced portfolios security by security.

Everything reported is computed exactly on integers (ordergen.domain.fixed_point),
with the digits and places the same Decimal arithmetic gives: weights are
value / MV and `actualDrift` is 1 - actual / target, each rounded half-up to 4
places; cash after and turnover keep the places of the prices traded. Within the
input limits (ordergen.domain.values) every such Decimal operation is exact in the
default 28-digit context, so the digits are the same; past them the integers stay
exact where Decimal would round.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property, partial
from itertools import count

import numpy as np
import numpy.typing as npt

from ordergen.domain.fixed_point import (
    Exact,
    difference,
    exponent,
    from_units,
    row_sums,
    shifted,
    total,
)
from ordergen.domain.holdings_columns import MONEY_SCALE, HoldingsColumns, OutsideHolding
from ordergen.domain.model import Position
from ordergen.domain.model_columns import WEIGHT_SCALE, ModelColumns, weights
from ordergen.domain.results import (
    BUY,
    SELL,
    Deferred,
    DeferredOrders,
    Drift,
    Order,
    PortfolioResult,
)

_ZERO = Decimal(0)
_NOTHING_TRADED = np.iinfo(np.int64).min


def _sold(item: OutsideHolding) -> Order:
    """The order taking a security outside the model to zero."""
    side = SELL if item.quantity > 0 else BUY
    return Order(item.security_id, side, abs(item.quantity), item.price)


@dataclass(frozen=True)
class RebalancedColumns:
    """The rebalanced (`ok`) portfolios of a chunk, one row each, model securities as columns.

    `rows` are the portfolios' positions in the chunk; `delta` is adjusted - original
    (> 0 buys, < 0 sells). `actual` and `actual_drift` are units at `WEIGHT_SCALE`;
    `weighted` is False where MV is 0, whose weights are a plain 0 (Decimal(0),
    written "0"). Securities held outside the model are in `outside`, sold to zero.
    The per-portfolio figures (`objective`, `cash_after`, `turnover`,
    `worst_drift_after`) follow the rows too.

    Under a policy a security held outside the model may stay held, so the columns
    may go on past the model's `positions` with such securities (target 0); a row
    reports them only where it held them.
    """

    positions: tuple[Position, ...]
    model: ModelColumns
    rows: tuple[int, ...]
    original: Exact
    adjusted: Exact
    delta: Exact
    actual: Exact
    actual_drift: Exact
    weighted: npt.NDArray[np.bool_]
    outside: tuple[tuple[OutsideHolding, ...], ...]
    objective: tuple[Decimal, ...]
    cash_after: tuple[Decimal, ...]
    turnover: tuple[Decimal, ...]
    worst_drift_after: tuple[Decimal | None, ...]

    @classmethod
    def of(
        cls,
        positions: Sequence[Position],
        model: ModelColumns,
        holdings: HoldingsColumns,
        rows: Sequence[int],
        adjusted: Exact,
        market_values: Exact,
        *,
        market_value_scale: int = MONEY_SCALE,
        objectives: Sequence[Decimal] | None = None,
        chunk_rows: Sequence[int] | None = None,
    ) -> "RebalancedColumns":
        """Columns for `rows` of `holdings` rebalanced to `adjusted` (one row each).

        `market_values` are the values weights are fractions of, one per row, as units
        at `market_value_scale`: MV (never negative for a feasible portfolio), or
        MV - cashNeed under a policy. `objectives` replace the objective of the base
        problem (the sum of the gaps) when the rows were solved under policies.
        `chunk_rows` are the rows' positions in the chunk when `holdings` holds only
        some of its portfolios (by default, `rows`).
        """
        original = holdings.quantities[list(rows)]
        outside = tuple(holdings.outside[row] for row in rows)
        weighted = market_values > 0
        divisor = np.where(weighted, market_values, 1)[:, None]
        actual = weights(model.values(adjusted), model.price_scale, divisor, market_value_scale)
        actual = np.where(weighted[:, None], actual, 0)
        gaps = model.gaps(adjusted, market_values, market_value_scale)
        gap_scale = model.gap_scale(market_value_scale)
        objective_scale = gap_scale if model.size else 0  # a sum of no terms is a plain 0
        worst = gaps.max(axis=1) if model.size else np.zeros(len(rows), dtype=np.int64)
        worst_after = weights(worst, gap_scale, divisor[:, 0], market_value_scale).tolist()
        delta = difference(adjusted, original)
        cash_after, turnover = _money_after(model, holdings, rows, delta)
        return cls(
            positions=tuple(positions),
            model=model,
            rows=tuple(rows if chunk_rows is None else chunk_rows),
            original=original,
            adjusted=adjusted,
            delta=delta,
            actual=actual,
            actual_drift=model.actual_drifts(actual),
            weighted=weighted,
            outside=outside,
            objective=tuple(from_units(value, objective_scale) for value in row_sums(gaps).tolist())
            if objectives is None
            else tuple(objectives),
            cash_after=cash_after,
            turnover=turnover,
            worst_drift_after=tuple(
                from_units(value, WEIGHT_SCALE) if positive else None
                for value, positive in zip(worst_after, weighted.tolist(), strict=True)
            ),
        )

    @cached_property
    def order_counts(self) -> tuple[list[int], list[int]]:
        """Buy and sell orders per row (model securities, then those sold to zero)."""
        buys = (self.delta > 0).sum(axis=1).tolist()
        sells = (self.delta < 0).sum(axis=1).tolist()
        for index, held in enumerate(self.outside):
            short = sum(1 for item in held if item.quantity < 0)
            buys[index] += short
            sells[index] += len(held) - short
        return buys, sells

    @cached_property
    def _orders(self) -> list[tuple[Order, ...]]:
        """Every row's orders, built together the first time any is read."""
        rows, columns = np.nonzero(self.delta)
        units = self.delta[rows, columns]
        made = list(
            map(
                Order,
                np.array(self.model.security_ids, dtype=object)[columns].tolist(),
                np.array([SELL, BUY], dtype=object)[(units > 0).astype(np.intp)].tolist(),
                np.abs(units).tolist(),
                np.array(self.model.prices, dtype=object)[columns].tolist(),
            )
        )
        counts = np.bincount(rows, minlength=len(self.rows))
        ends = np.cumsum(counts).tolist()
        return [
            (*made[end - count : end], *map(_sold, held))
            for end, count, held in zip(ends, counts.tolist(), self.outside, strict=True)
        ]

    def orders(self, index: int) -> tuple[Order, ...]:
        """Row `index`'s orders: model securities in model order, then the outside ones."""
        return self._orders[index]

    @property
    def modelled(self) -> int:
        """How many of the columns are the model's securities (the others are outside it)."""
        return len(self.positions)

    def kept_outside(self, index: int) -> list[int]:
        """The columns past the model's that row `index` held (under a policy)."""
        held = np.nonzero(self.original[index, self.modelled :])[0] + self.modelled
        return held.tolist()

    def drifts(self, index: int) -> tuple[Drift, ...]:
        """Row `index`'s drift report: model securities, then the outside ones (target 0)."""
        if self.weighted[index]:
            actual = [from_units(units, WEIGHT_SCALE) for units in self.actual[index].tolist()]
        else:
            actual = [_ZERO] * self.model.size
        original, adjusted = self.original[index].tolist(), self.adjusted[index].tolist()
        model_drifts = (
            Drift(
                position.security_id,
                position.target,
                position.low_drift,
                position.high_drift,
                before,
                after,
                price,
                weight,
                from_units(drift, WEIGHT_SCALE),
            )
            for position, before, after, price, weight, drift in zip(
                self.positions,
                original,
                adjusted,
                self.model.prices,
                actual,
                self.actual_drift[index].tolist(),
                strict=False,  # the model's columns; any after them are outside ones
            )
        )
        kept_drifts = (
            Drift(
                self.model.security_ids[column],
                _ZERO,
                _ZERO,
                _ZERO,
                original[column],
                adjusted[column],
                self.model.prices[column],
                actual[column],
                None,
            )
            for column in self.kept_outside(index)
        )
        sold_drifts = (
            Drift(item.security_id, _ZERO, _ZERO, _ZERO, item.quantity, 0, item.price, _ZERO, None)
            for item in self.outside[index]
        )
        return (*model_drifts, *kept_drifts, *sold_drifts)

    def completed(self, index: int, result: PortfolioResult) -> PortfolioResult:
        """`result` (row `index`, solved `ok`) with what the columns report; its orders
        and drifts are built when read."""
        buys, sells = self.order_counts
        listed = self.modelled + len(self.kept_outside(index)) + len(self.outside[index])
        return replace(
            result,
            cash_after=self.cash_after[index],
            objective=self.objective[index],
            orders=DeferredOrders(buys[index], sells[index], partial(self.orders, index)),
            drifts=Deferred(listed, partial(self.drifts, index)),
            worst_drift_after=self.worst_drift_after[index],
            turnover=self.turnover[index],
        )


def completed_results(
    results: Sequence[PortfolioResult], rebalanced: "RebalancedColumns | None"
) -> list[PortfolioResult]:
    """`results` with each `ok` one completed from `rebalanced`, whose rows are the `ok`
    ones in the same order."""
    if rebalanced is None:
        return list(results)
    column_rows = count()
    return [
        rebalanced.completed(next(column_rows), result) if result.status == "ok" else result
        for result in results
    ]


def _money_after(
    model: ModelColumns, holdings: HoldingsColumns, rows: Sequence[int], delta: Exact
) -> tuple[tuple[Decimal, ...], tuple[Decimal, ...]]:
    """Cash after trading and the value traded, for `rows`, with Decimal's places.

    Decimal sums take the finest places of their terms, so cash after has those of
    the cash and of every price traded, and turnover (a sum from 0) those of the
    prices traded. A portfolio that trades nothing keeps its cash as it was.
    """
    scale = max(model.price_scale, holdings.cash_scale, holdings.outside_places(rows))
    cash = shifted(holdings.cash_units[list(rows)], scale - holdings.cash_scale)
    spent = shifted(row_sums(model.values(delta)), scale - model.price_scale)
    moved = shifted(row_sums(model.values(np.abs(delta))), scale - model.price_scale)
    left = total(difference(cash, spent), holdings.outside_values(rows, scale, signed=True))
    moved = total(moved, holdings.outside_values(rows, scale, signed=False))
    if model.size:
        priced = np.where(delta != 0, model.price_places[None, :], _NOTHING_TRADED).max(axis=1)
    else:
        priced = np.full(len(rows), _NOTHING_TRADED)
    cash_after: list[Decimal] = []
    turnover: list[Decimal] = []
    for row, model_places, remaining, value in zip(
        rows, priced.tolist(), left.tolist(), moved.tolist(), strict=True
    ):
        outside = [-exponent(item.price) for item in holdings.outside[row]]
        traded = max([model_places, *outside])
        if traded == _NOTHING_TRADED:
            cash_after.append(holdings.cash[row])
            turnover.append(_ZERO)
            continue
        cash_places = max(0, traded, -exponent(holdings.cash[row]))
        cash_after.append(from_units(remaining // 10 ** (scale - cash_places), cash_places))
        turnover_places = max(0, traded)
        turnover.append(from_units(value // 10 ** (scale - turnover_places), turnover_places))
    return tuple(cash_after), tuple(turnover)


@dataclass(frozen=True)
class ResultChunk:
    """One chunk's results: a `PortfolioResult` per portfolio, in order.

    The rebalanced ones are also in `rebalanced`, and those rebalanced under a policy
    in `under_policy` (their positions in `.rows` of each), where a writer reads them
    without building orders or drifts.
    """

    results: tuple[PortfolioResult, ...]
    rebalanced: RebalancedColumns | None
    under_policy: RebalancedColumns | None = None

    @property
    def columns(self) -> tuple[RebalancedColumns, ...]:
        """Every set of columns of the chunk."""
        return tuple(found for found in (self.rebalanced, self.under_policy) if found is not None)
