"""Each security's rules for a chunk of portfolios, in exact scaled integers.

Everything here is an array of shape (portfolios, securities), or (portfolios, 1)
for a portfolio's own numbers, in money units of 10**-scale (see `units`):

- zone ends MV'(t - f*l), MV'(t + f*h) and band ends MV'(t - l), MV'(t + h);
- the whole-share interval [lower, upper] that direction and (where enforced) the
  band allow; `upper` is `unbounded` where nothing caps it;
- the minimum-trade step k = max(shares, ceil(m / p)), m = max(amount, fraction*MV');
- the cash floor MV - X - R and each order's costs.

`allowed` and `evaluate` are the single definition of A_i and of a security's term,
shared by the fast path, the screening and the exact check of every MILP answer.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from ordergen.optimize.policies.policy import Mode, Policy, Restriction, Trigger
from ordergen.optimize.policies.problem import PolicyTerms, PortfolioCase
from ordergen.optimize.policies.units import (
    ceil_div,
    integer_array,
    integer_dtype,
    most_places,
    places,
    scaled,
)

NO_RESTRICTION = 0
RESTRICTION_CODES = {Restriction.NO_BUY: 1, Restriction.NO_SELL: 2, Restriction.HOLD: 3}
BPS_PER_UNIT = 10_000
# Any step beyond every reachable |u - c| forbids all trades alike; capping it keeps c + k in int64.
STEP_CAP = 2**61


@dataclass(frozen=True)
class Scales:
    """Decimal places of a chunk's inputs, and the money scale that holds every amount."""

    market_value: int
    weight: int
    inner_band: int
    money: int


def _most_places_of(values: Sequence[Decimal]) -> int:
    """`most_places`, skipping values whose written exponent cannot raise the maximum."""
    most = 0
    for value in values:
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int), "finite decimals only"
        if -exponent > most:
            most = max(most, places(value))
    return most


def _scales(terms: PolicyTerms, cases: Sequence[PortfolioCase], policies: set[Policy]) -> Scales:
    mv_places = max(
        _most_places_of([case.market_value for case in cases]),
        _most_places_of([case.cash_need for case in cases]),
    )
    weight_places = most_places((*terms.targets, *terms.low_drifts, *terms.high_drifts))
    band_places = max((places(policy.inner_band) for policy in policies), default=0)
    price_places = most_places(terms.prices)
    # Zone ends MV'*(t - f*l) need all three; u*p needs the price's.
    needed = [mv_places + weight_places + band_places, price_places]
    for policy in policies:
        reserve, minimum, cost = policy.cash_reserve, policy.min_trade, policy.trade_cost
        needed += [
            places(reserve.amount),
            places(reserve.fraction) + mv_places,
            places(minimum.amount),
            places(minimum.fraction) + mv_places,
            places(cost.per_order),
            places(Fraction(cost.bps) / BPS_PER_UNIT) + price_places,
        ]
    return Scales(mv_places, weight_places, band_places, max(needed))


@dataclass(frozen=True)
class PolicyNumbers:
    """One distinct policy's numbers at a chunk's scales (computed once per policy)."""

    restriction_codes: np.ndarray
    inner_band: int
    buy_only: bool
    sell_only: bool
    full: bool
    outside_bands: bool
    reserve_amount: int
    reserve_fraction: tuple[int, int]
    minimum_amount: int
    minimum_fraction: tuple[int, int]
    minimum_shares: int
    per_order: int
    unit_cost: list[int]
    """bps/10000 * p_i per share of each security, in money units."""


def _policy_numbers(policy: Policy, terms: PolicyTerms, scales: Scales) -> PolicyNumbers:
    codes = np.zeros(terms.size, dtype=np.int8)
    column = {sid: index for index, sid in enumerate(terms.security_ids)}
    for sid, restriction in policy.restrictions:
        if sid in column:
            codes[column[sid]] = RESTRICTION_CODES[restriction]
    money = scales.money
    cost_per_unit = Fraction(policy.trade_cost.bps) / BPS_PER_UNIT
    return PolicyNumbers(
        restriction_codes=codes,
        inner_band=scaled(policy.inner_band, scales.inner_band),
        buy_only=policy.mode is Mode.BUY_ONLY,
        sell_only=policy.mode is Mode.SELL_ONLY,
        full=policy.mode is Mode.FULL,
        outside_bands=policy.trigger is Trigger.OUTSIDE_BANDS,
        reserve_amount=scaled(policy.cash_reserve.amount, money),
        reserve_fraction=policy.cash_reserve.fraction.as_integer_ratio(),
        minimum_amount=scaled(policy.min_trade.amount, money),
        minimum_fraction=policy.min_trade.fraction.as_integer_ratio(),
        minimum_shares=min(policy.min_trade.shares, STEP_CAP),
        per_order=scaled(policy.trade_cost.per_order, money),
        unit_cost=[scaled(cost_per_unit * Fraction(price), money) for price in terms.prices],
    )


@dataclass(frozen=True)
class ExactRules:
    """The rules of a chunk of portfolios, exact; rows follow the cases given."""

    scale: int
    dtype: type[Any]
    unbounded: int
    price: np.ndarray
    current: np.ndarray
    in_model: np.ndarray
    restriction_codes: np.ndarray
    zone_low: np.ndarray
    zone_high: np.ndarray
    band_low: np.ndarray
    band_high: np.ndarray
    direction_lower: np.ndarray
    direction_upper: np.ndarray
    band_enforced: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    step: np.ndarray
    per_order: np.ndarray
    unit_cost: np.ndarray
    market_after_need: list[int]
    reserve: list[int]
    budget: list[int]
    outside_bands: np.ndarray
    sell_only: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.budget)

    def select(
        self, rows: Sequence[int], columns: Sequence[int] | np.ndarray | None = None
    ) -> "ExactRules":
        """The rules of some rows (and securities), in the order given."""
        picked_rows = np.asarray(rows, dtype=np.intp)
        picked_columns = (
            np.arange(self.price.shape[0]) if columns is None else np.asarray(columns, np.intp)
        )
        changes: dict[str, Any] = {}
        for name in _MATRIX_FIELDS:
            changes[name] = getattr(self, name)[np.ix_(picked_rows, picked_columns)]
        for name in _ROW_ARRAY_FIELDS:
            changes[name] = getattr(self, name)[picked_rows]
        for name in _ROW_LIST_FIELDS:
            values = getattr(self, name)
            changes[name] = [values[row] for row in picked_rows.tolist()]
        changes["price"] = self.price[picked_columns]
        return replace(self, **changes)

    def allowed(self, units: np.ndarray, upper: np.ndarray | None = None) -> np.ndarray:
        """Whether each whole `units` is in A_i (direction, enforced band, minimum trade).

        `units` is (rows, securities) or (rows, securities, candidates); `upper` may
        replace the interval's top (the cash-tightened one).
        """
        top = self.upper if upper is None else upper
        lower, top = _along(units, self.lower, top)
        inside = (units >= lower) & (units <= top)
        allowed: np.ndarray = inside & self.trade_allowed(units)
        return allowed

    def trade_allowed(self, units: np.ndarray) -> np.ndarray:
        """The minimum-trade rule alone: stay at c, close to 0, or move at least the step."""
        current, step = _along(units, self.current, self.step)
        allowed: np.ndarray = (units == current) | (units == 0) | (np.abs(units - current) >= step)
        return allowed

    def evaluate(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(term, traded value) of each whole `units`, in money units.

        term = dist(u*p, Zone) + perOrder*[u != c] + bps/10000*|u - c|*p.
        """
        price, current, zone_low, zone_high, unit_cost = _along(
            units, self.price, self.current, self.zone_low, self.zone_high, self.unit_cost
        )
        per_order = self.per_order if units.ndim == 2 else self.per_order[..., None]
        value = units * price
        term = np.maximum(zone_low - value, value - zone_high)
        term = np.maximum(term, 0, out=term if term.dtype != object else None)
        moved = np.abs(units - current)
        traded = moved * price
        # Most policies have no costs at all: skip the work rather than add zeros.
        if self.per_order.any():
            term += np.where(moved != 0, per_order, 0)
        if self.unit_cost.any():
            term += moved * unit_cost
        return term, traded

    def cash_upper(self) -> np.ndarray:
        """`upper` capped by what the cash floor alone allows: u_i <= floor(budget / p_i).

        Only for rows whose budget is >= 0 (every feasible row).
        """
        budget = integer_array([[max(value, 0)] for value in self.budget], self.dtype)
        capped: np.ndarray = np.minimum(self.upper, budget // self.price)
        return capped


_MATRIX_FIELDS = (
    "current",
    "in_model",
    "restriction_codes",
    "zone_low",
    "zone_high",
    "band_low",
    "band_high",
    "direction_lower",
    "direction_upper",
    "band_enforced",
    "lower",
    "upper",
    "step",
    "unit_cost",
)
_ROW_ARRAY_FIELDS = ("per_order", "outside_bands", "sell_only")
_ROW_LIST_FIELDS = ("market_after_need", "reserve", "budget")


def _along(units: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """`arrays` shaped to broadcast against `units` (a trailing candidates axis if any)."""
    if units.ndim == 2:
        return list(arrays)
    return [array[..., None] for array in arrays]


def build_rules(terms: PolicyTerms, cases: Sequence[PortfolioCase]) -> ExactRules:
    """The exact rules of `cases` (at least one portfolio of one batch) against `terms`."""
    if not cases:
        raise ValueError("build_rules needs at least one portfolio")
    # Cases mostly share one policy object: look policies up by identity, hash only those.
    distinct = {id(case.policy): case.policy for case in cases}
    policies = set(distinct.values())
    scales = _scales(terms, cases, policies)
    numbers = {policy: _policy_numbers(policy, terms, scales) for policy in policies}
    by_identity = {key: numbers[policy] for key, policy in distinct.items()}
    per_case = [by_identity[id(case.policy)] for case in cases]
    scale, mv_places = scales.money, scales.market_value
    to_money = 10 ** (scale - mv_places)

    # Each portfolio's own amounts, in money units: MV', the reserve, the minimum trade.
    after_need = [
        (scaled(case.market_value, mv_places) - scaled(case.cash_need, mv_places)) * to_money
        for case in cases
    ]
    reserve = [
        max(row.reserve_amount, _times(row.reserve_fraction, mv))
        for row, mv in zip(per_case, after_need, strict=True)
    ]
    minimum = [
        max(row.minimum_amount, _times(row.minimum_fraction, mv))
        for row, mv in zip(per_case, after_need, strict=True)
    ]
    budget = [mv - r for mv, r in zip(after_need, reserve, strict=True)]

    weight_places = scales.weight
    price_scaled = [scaled(price, scale) for price in terms.prices]
    target = [scaled(t, weight_places) for t in terms.targets]
    low = [scaled(x, weight_places) for x in terms.low_drifts]
    high = [scaled(x, weight_places) for x in terms.high_drifts]
    current_matrix = np.stack([np.asarray(case.quantities, dtype=np.int64) for case in cases])

    # int64 or Python ints, from the largest value any step can reach.
    band_unit = 10**scales.inner_band
    widest_weight = max(
        (
            (abs(t) + max(abs(lo), abs(hi))) * band_unit
            for t, lo, hi in zip(target, low, high, strict=True)
        ),
        default=0,
    )
    # Zone ends come out at mv_places + weight + band places; this lifts them to money units.
    upscale = 10 ** (scale - mv_places - weight_places - scales.inner_band)
    largest_held = np.abs(current_matrix).max(axis=0).tolist()
    extremes = [
        max(abs(mv) for mv in after_need) // to_money * widest_weight * upscale,  # zone ends
        max(abs(b) for b in budget),
        max(abs(r) for r in reserve),
        max(minimum),
        max(numbers[policy].per_order for policy in policies),
        max(price_scaled) * 2,
        max(held * p for held, p in zip(largest_held, price_scaled, strict=True)),
    ]
    largest = max(extremes)
    largest_bps = max(policy.trade_cost.bps for policy in policies)
    bps_factor = 2 + int(largest_bps // BPS_PER_UNIT)
    dtype = integer_dtype(16 * largest * bps_factor)
    unbounded = 2**62 if dtype is np.int64 else 2**62 + 64 * largest * bps_factor

    def array(values: Any) -> np.ndarray:
        return integer_array(values, dtype)

    def column(values: Sequence[int]) -> np.ndarray:
        return array([[value] for value in values])

    price = array(price_scaled)
    current = array(current_matrix) if dtype is object else current_matrix
    mv = column([value // to_money for value in after_need])
    inner = column([row.inner_band for row in per_case])
    target_w = array(target) * band_unit

    def value_at(weight: np.ndarray) -> np.ndarray:
        value: np.ndarray = mv * weight * upscale
        return value

    zone_low = value_at(target_w - inner * array(low))
    zone_high = value_at(target_w + inner * array(high))
    band_low = value_at(target_w - band_unit * array(low))
    band_high = value_at(target_w + band_unit * array(high))

    codes = np.stack([row.restriction_codes for row in per_case])
    lower, upper, direction_lower, direction_upper, band_enforced = _intervals(
        per_case,
        codes,
        terms.in_model,
        current,
        (ceil_div(band_low, price), band_high // price),
        array(unbounded),
    )
    step = np.maximum(
        column([row.minimum_shares for row in per_case]), ceil_div(column(minimum), price)
    )
    return ExactRules(
        scale=scale,
        dtype=dtype,
        unbounded=unbounded,
        price=price,
        current=current,
        in_model=np.broadcast_to(terms.in_model[None, :], codes.shape),
        restriction_codes=codes,
        zone_low=zone_low,
        zone_high=zone_high,
        band_low=band_low,
        band_high=band_high,
        direction_lower=direction_lower,
        direction_upper=direction_upper,
        band_enforced=band_enforced,
        lower=lower,
        upper=upper,
        step=np.minimum(step, array(STEP_CAP)),
        per_order=column([row.per_order for row in per_case]),
        unit_cost=array([row.unit_cost for row in per_case]),
        market_after_need=after_need,
        reserve=reserve,
        budget=budget,
        outside_bands=np.array([row.outside_bands for row in per_case], dtype=bool),
        sell_only=np.array([row.sell_only for row in per_case], dtype=bool),
    )


def _times(fraction: tuple[int, int], amount: int) -> int:
    """fraction * amount, exact when the money scale holds it (it is chosen to)."""
    numerator, denominator = fraction
    return numerator * amount // denominator


def _intervals(
    per_case: Sequence[PolicyNumbers],
    codes: np.ndarray,
    in_model: np.ndarray,
    current: np.ndarray,
    band_shares: tuple[np.ndarray, np.ndarray],
    unbounded: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """[lower, upper] from direction and, where enforced, the band; with their parts.

    u >= 0 always; u <= c outside the model, in sell-only mode and under no-buy or
    hold; u >= c in buy-only mode and under no-sell or hold. Bands bind only in full
    mode on unrestricted securities.
    """
    buy_only, sell_only, full = (
        np.fromiter((getattr(row, flag) for row in per_case), bool, count=len(per_case))[:, None]
        for flag in ("buy_only", "sell_only", "full")
    )
    no_buy, no_sell, hold = (
        codes == RESTRICTION_CODES[kind]
        for kind in (Restriction.NO_BUY, Restriction.NO_SELL, Restriction.HOLD)
    )
    caps_at_current = ~in_model[None, :] | sell_only | no_buy | hold
    floors_at_current = buy_only | no_sell | hold
    zero = np.zeros_like(unbounded)
    direction_lower = np.where(floors_at_current, np.maximum(current, zero), zero)
    direction_upper = np.where(caps_at_current, current, unbounded)
    band_enforced = full & (codes == NO_RESTRICTION)
    band_lower, band_upper = band_shares
    lower = np.where(band_enforced, np.maximum(direction_lower, band_lower), direction_lower)
    upper = np.where(band_enforced, np.minimum(direction_upper, band_upper), direction_upper)
    return lower, upper, direction_lower, direction_upper, band_enforced
