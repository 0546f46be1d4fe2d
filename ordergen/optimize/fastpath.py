"""Feasibility screening and the certified fast path, vectorised across portfolios.

With the bands alone the objective separates by security, and each term
|MV*t - u*p| is convex in whole u, so the best u is the whole number nearest
MV*t/p clipped into [lo, hi]. When those choices also leave cash >= 0 they are
optimal for the whole problem: the cash floor did not bind. Only the portfolios
where it binds need a MILP.

Infeasibility is decided here, exactly, before any solver runs: the problem has
a solution iff every lo <= hi and the band minimums together cost at most MV
(u = lo is then feasible).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np

from ordergen.optimize.exact import round_share_counts, spend_exceeds
from ordergen.optimize.problem import IntArray, ModelTerms

INFEASIBLE, CERTIFIED, NEEDS_MILP = 0, 1, 2
_NEGATIVE_MV = "infeasible: market value {} is negative, so cash cannot end >= 0"


@dataclass(frozen=True)
class Screening:
    """Per-portfolio verdicts for one batch; rows follow the market values given."""

    lower: IntArray
    upper: IntArray
    nearest: IntArray
    verdict: np.ndarray
    messages: tuple[str, ...]


def _band_message(terms: ModelTerms, market_value: Decimal, index: int) -> str:
    if market_value < 0:
        return _NEGATIVE_MV.format(market_value)
    target = terms.targets[index]
    low = market_value * (target - terms.low_drifts[index])
    high = market_value * (target + terms.high_drifts[index])
    return (
        f"infeasible: no whole number of shares of {terms.security_ids[index]} at "
        f"{terms.prices[index]} fits its band [{low.normalize():f}, {high.normalize():f}] "
        f"(MV {market_value})"
    )


def _cash_message(terms: ModelTerms, market_value: Decimal, lower: IntArray) -> str:
    if market_value < 0:
        return _NEGATIVE_MV.format(market_value)
    costs = [int(units) * price for units, price in zip(lower, terms.prices, strict=True)]
    binding = max(range(len(costs)), key=lambda index: costs[index])
    total = sum(costs, Decimal(0))
    return (
        f"infeasible: the band minimums cost {total} > market value {market_value}; "
        f"largest minimum is {terms.security_ids[binding]} ({int(lower[binding])} shares)"
    )


def screen(terms: ModelTerms, market_values: Sequence[Decimal]) -> Screening:
    """Exact bounds, infeasibility verdicts and the fast-path candidate for each portfolio."""
    lows = [t - low for t, low in zip(terms.targets, terms.low_drifts, strict=True)]
    highs = [t + high for t, high in zip(terms.targets, terms.high_drifts, strict=True)]
    lower = np.maximum(round_share_counts(market_values, lows, terms.prices, mode="ceil"), 0)
    upper = round_share_counts(market_values, highs, terms.prices, mode="floor")
    # Nearest whole number to MV*t/p, ties to the smaller count: ceil(MV*t/p - 1/2).
    unclipped = round_share_counts(
        market_values, terms.targets, terms.prices, mode="ceil", offset=Fraction(-1, 2)
    )
    nearest = np.clip(unclipped, lower, upper)

    band_broken = (lower > upper).any(axis=1)
    cash_broken = ~band_broken & spend_exceeds(lower, terms.prices, market_values)
    overspent = ~band_broken & ~cash_broken & spend_exceeds(nearest, terms.prices, market_values)
    verdict = np.where(
        band_broken | cash_broken, INFEASIBLE, np.where(overspent, NEEDS_MILP, CERTIFIED)
    )

    messages = [""] * len(market_values)
    for row in np.nonzero(band_broken)[0].tolist():
        first_broken = int(np.argmax(lower[row] > upper[row]))
        messages[row] = _band_message(terms, market_values[row], first_broken)
    for row in np.nonzero(cash_broken)[0].tolist():
        messages[row] = _cash_message(terms, market_values[row], lower[row])
    return Screening(lower, upper, nearest, verdict, tuple(messages))
