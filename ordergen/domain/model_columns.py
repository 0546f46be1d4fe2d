"""A model's securities, target weights and prices as exact integer columns."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from ordergen.domain.fixed_point import (
    Exact,
    difference,
    distance,
    exact_array,
    exponent,
    half_up_quotient,
    ratio_half_up,
    shifted,
    times,
    to_units,
)

WEIGHT_SCALE = 4
"""Weights and drifts are reported with 4 places, rounded half-up."""


@dataclass(frozen=True)
class ModelColumns:
    """Targets and prices of a model's securities (model order), shared by a run's chunks.

    The scales are the most places any target or price is written with, so every
    value is a whole number of units; `price_places` keeps each price's own
    places (negative for "1E+1"), which decide how results built from it are written.
    """

    security_ids: tuple[str, ...]
    targets: tuple[Decimal, ...]
    prices: tuple[Decimal, ...]
    target_units: Exact
    target_scale: int
    price_units: Exact
    price_scale: int
    price_places: npt.NDArray[np.int64]

    @classmethod
    def of(
        cls, security_ids: Sequence[str], targets: Sequence[Decimal], prices: Sequence[Decimal]
    ) -> "ModelColumns":
        price_places = [-exponent(price) for price in prices]
        target_scale = max([0, *(-exponent(target) for target in targets)])
        price_scale = max([0, *price_places])
        target_units = [to_units(target, target_scale) for target in targets]
        price_units = [to_units(price, price_scale) for price in prices]
        return cls(
            security_ids=tuple(security_ids),
            targets=tuple(targets),
            prices=tuple(prices),
            target_units=exact_array(target_units, max(target_units, default=0)),
            target_scale=target_scale,
            price_units=exact_array(price_units, max(price_units, default=0)),
            price_scale=price_scale,
            price_places=np.array(price_places, dtype=np.int64),
        )

    @property
    def size(self) -> int:
        return len(self.security_ids)

    def values(self, quantities: Exact) -> Exact:
        """q * p per portfolio (row) and security, at `price_scale`."""
        return times(quantities, self.price_units[None, :])

    def gap_scale(self, market_value_scale: int) -> int:
        """The scale of `gaps`: the places of MV * t and of q * p, whichever is finer."""
        return max(market_value_scale + self.target_scale, self.price_scale)

    def gaps(self, quantities: Exact, market_values: Exact, market_value_scale: int) -> Exact:
        """|MV * t - q * p| per portfolio (row) and security, at `gap_scale`."""
        scale = self.gap_scale(market_value_scale)
        ideal = times(market_values[:, None], self.target_units[None, :])
        ideal = shifted(ideal, scale - market_value_scale - self.target_scale)
        return distance(ideal, shifted(self.values(quantities), scale - self.price_scale))

    def actual_drifts(self, actual: Exact) -> Exact:
        """1 - actual / target per security, at `WEIGHT_SCALE`, from weights at that scale.

        A security with target 0 (held outside the model) has no such drift: its
        column is meaningless and never reported.
        """
        targets = np.where(self.target_units == 0, 1, self.target_units)[None, :]
        remaining = difference(shifted(targets, WEIGHT_SCALE), shifted(actual, self.target_scale))
        return half_up_quotient(remaining, targets)


def weights(
    values: Exact, value_scale: int, market_values: Exact, market_value_scale: int
) -> Exact:
    """values / MV at `WEIGHT_SCALE`, rounded half-up; each MV must be positive."""
    return ratio_half_up(values, value_scale, market_values, market_value_scale, WEIGHT_SCALE)
