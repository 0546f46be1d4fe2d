"""A chunk of portfolios' holdings as columns: market values and worst drifts, exactly.

Quantities of the model's securities form a matrix (portfolios x model securities);
the few securities held outside the model are kept per portfolio, sparsely.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

import numpy as np
import numpy.typing as npt

from ordergen.domain.fixed_point import (
    Exact,
    exact_array,
    from_units,
    places,
    ratio_half_up,
    row_sums,
    shifted,
    to_units,
    total,
)
from ordergen.domain.model_columns import WEIGHT_SCALE, ModelColumns, weights

MONEY_SCALE = 3
"""Market values are rounded to 3 places, half-up."""
_ONE = np.ones(1, dtype=np.int64)
_NEGATIVE_ZERO_MONEY = Decimal((1, (0,), -MONEY_SCALE))


@dataclass(frozen=True)
class OutsideHolding:
    """A held security the model does not hold, with its price: it is sold to zero."""

    security_id: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class HoldingsColumns:
    """What each portfolio of a chunk holds (rows in the chunk's order).

    `cash_units` are the cash balances at `cash_scale`, the most places any is
    written with. `quantities` covers the model's securities (0 where not held).
    `outside` lists, by security id, the nonzero holdings of other securities that
    have a price, and `unpriced` the ids of those that have none. `holds_any`: some
    quantity is nonzero.
    """

    cash: tuple[Decimal, ...]
    cash_units: Exact
    cash_scale: int
    quantities: Exact
    outside: tuple[tuple[OutsideHolding, ...], ...]
    unpriced: tuple[tuple[str, ...], ...]
    holds_any: npt.NDArray[np.bool_]

    @classmethod
    def of(
        cls,
        cash: Sequence[Decimal],
        quantities: Sequence[Mapping[str, int]],
        security_ids: Sequence[str],
        prices: Mapping[str, Decimal],
    ) -> "HoldingsColumns":
        """Columns of each portfolio's cash and `quantities` against `security_ids`."""
        column = {security_id: index for index, security_id in enumerate(security_ids)}
        sizes: list[int] = []  # model securities listed per row
        columns: list[int] = []
        values: list[int] = []
        outside: list[tuple[OutsideHolding, ...]] = []
        unpriced: list[tuple[str, ...]] = []
        for held in quantities:
            listed = len(columns)
            found = list(map(column.get, held))
            if None not in found:  # the usual portfolio: model securities only
                columns.extend(cast(list[int], found))
                values.extend(held.values())
                outside.append(())
                unpriced.append(())
            else:
                others: list[str] = []
                for (security_id, quantity), index in zip(held.items(), found, strict=True):
                    if index is not None:
                        columns.append(index)
                        values.append(quantity)
                    elif quantity:
                        others.append(security_id)
                others.sort()
                outside.append(
                    tuple(
                        OutsideHolding(sid, held[sid], prices[sid])
                        for sid in others
                        if sid in prices
                    )
                )
                unpriced.append(tuple(sid for sid in others if sid not in prices))
            sizes.append(len(columns) - listed)
        try:
            held_units: Exact = np.array(values, dtype=np.int64)
        except OverflowError:  # beyond int64: Python ints
            held_units = np.array(values, dtype=object)
        matrix = np.zeros((len(quantities), len(security_ids)), dtype=held_units.dtype)
        matrix[np.repeat(np.arange(len(sizes)), sizes), columns] = held_units
        sparse = np.array(
            [bool(o or u) for o, u in zip(outside, unpriced, strict=True)], dtype=bool
        )
        cash_scale = max((places(balance) for balance in cash), default=0)
        cash_units = [to_units(balance, cash_scale) for balance in cash]
        return cls(
            cash=tuple(cash),
            cash_units=exact_array(cash_units, max(map(abs, cash_units), default=0)),
            cash_scale=cash_scale,
            quantities=matrix,
            outside=tuple(outside),
            unpriced=tuple(unpriced),
            holds_any=(matrix != 0).any(axis=1) | sparse,
        )

    def outside_values(self, rows: Sequence[int], scale: int, *, signed: bool) -> Exact:
        """Sum of q * p (or of |q| * p) over the outside holdings of each of `rows`, at `scale`."""
        values = [
            sum(
                (item.quantity if signed else abs(item.quantity)) * to_units(item.price, scale)
                for item in self.outside[row]
            )
            for row in rows
        ]
        return exact_array(values, max(map(abs, values), default=0))

    def outside_places(self, rows: Sequence[int]) -> int:
        """The most places any outside holding's price of `rows` is written with."""
        return max((places(item.price) for row in rows for item in self.outside[row]), default=0)

    def market_values(self, rows: Sequence[int], model: ModelColumns) -> list[Decimal]:
        """Cash plus every holding at its price, rounded to 3 places half-up, for `rows`.

        The rows given must hold only priced securities. Written as Decimal arithmetic
        would: "-0.000" when a negative total rounds to zero.
        """
        scale = max(MONEY_SCALE, model.price_scale, self.cash_scale, self.outside_places(rows))
        held = shifted(
            row_sums(model.values(self.quantities[list(rows)])), scale - model.price_scale
        )
        cash = shifted(self.cash_units[list(rows)], scale - self.cash_scale)
        totals = total(total(cash, held), self.outside_values(rows, scale, signed=True))
        rounded = ratio_half_up(totals, scale, _ONE, 0, MONEY_SCALE).tolist()
        return [
            _NEGATIVE_ZERO_MONEY
            if units == 0 and (whole < 0 or (whole == 0 and self._signed_cash_alone(row)))
            else from_units(units, MONEY_SCALE)
            for row, whole, units in zip(rows, totals.tolist(), rounded, strict=True)
        ]

    def _signed_cash_alone(self, row: int) -> bool:
        # Decimal keeps the sign of a -0 cash balance when nothing is added to it.
        return not self.holds_any[row] and self.cash[row].is_signed()

    def worst_drifts(
        self,
        rows: Sequence[int],
        market_values: Exact,
        model: ModelColumns,
        market_value_scale: int = MONEY_SCALE,
    ) -> list[Decimal | None]:
        """Largest |weight - target| over the securities held or targeted, for `rows`.

        `market_values` are units at `market_value_scale`, one per row given; the
        answer is None where MV <= 0.
        """
        scale = model.gap_scale(market_value_scale)
        if model.size:
            gaps = model.gaps(self.quantities[list(rows)], market_values, market_value_scale)
            worst = gaps.max(axis=1).tolist()
        else:
            worst = [0] * len(rows)
        finest = max(scale, self.outside_places(rows))
        worst = [
            max(
                [value * 10 ** (finest - scale)]
                + [abs(item.quantity) * to_units(item.price, finest) for item in self.outside[row]]
            )
            for row, value in zip(rows, worst, strict=True)
        ]
        positive = market_values > 0
        measured = weights(
            exact_array(worst, max(worst, default=0)),
            finest,
            np.where(positive, market_values, 1),
            market_value_scale,
        ).tolist()
        return [
            from_units(value, WEIGHT_SCALE) if is_positive else None
            for value, is_positive in zip(measured, positive.tolist(), strict=True)
        ]
