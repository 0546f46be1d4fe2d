"""Each security's own best whole number, and the certificate that makes it optimal.

Every rule but the cash floor acts on one security, and a security's term is
convex and piecewise linear in u between its breakpoints (zone ends, c) on each
stretch of A_i (the interval cut by the minimum-trade gap around c, plus the
points c and 0). The least term, then the least traded value, on such a stretch
sits at a whole number next to a breakpoint or at a stretch end, so eight
candidates per security, clipped into the interval, hold the exact best: c, 0,
c -/+ the minimum-trade step, and floor and ceil of both zone ends over the price.

The objective and the traded value are sums over securities, so when the
per-security choices meet the cash floor they are the lexicographic optimum of
the whole problem: certified, no solver needed.
"""

from dataclasses import dataclass

import numpy as np

from ordergen.optimize.policies.rules import ExactRules
from ordergen.optimize.policies.units import ceil_div, row_sums


@dataclass(frozen=True)
class Choice:
    """Each security's best whole number with its term and traded value (money units)."""

    units: np.ndarray
    term: np.ndarray
    traded: np.ndarray
    certified: np.ndarray
    """Per row: the choices meet the cash floor, so they are optimal."""


def candidates(rules: ExactRules, upper: np.ndarray) -> np.ndarray:
    """The eight candidates of every row and security, clipped into [lower, upper].

    The interval's ends need no entry of their own: a stretch's best sits at an end
    only when a breakpoint lies beyond it, and that breakpoint clips onto the end.
    """
    step = np.maximum(rules.step, 1)
    zero = np.zeros_like(rules.current)
    raw = np.stack(
        [
            rules.current,
            zero,
            rules.current - step,
            rules.current + step,
            rules.zone_low // rules.price,
            ceil_div(rules.zone_low, rules.price),
            rules.zone_high // rules.price,
            ceil_div(rules.zone_high, rules.price),
        ],
        axis=-1,
    )
    clipped: np.ndarray = np.minimum(np.maximum(raw, rules.lower[..., None]), upper[..., None])
    return clipped


def _least(values: np.ndarray, among: np.ndarray, sentinel: int) -> np.ndarray:
    least: np.ndarray = np.where(among, values, sentinel).min(axis=-1)
    return least


def best_per_security(rules: ExactRules) -> Choice:
    """The least term, then least traded value, then fewest shares, for each security.

    Rows must be feasible (screened): every A_i non-empty and the budget >= 0.
    """
    # The cash floor alone caps u_i at budget/p_i; capping first keeps every candidate
    # affordable on its own and changes no optimum.
    upper = rules.cash_upper()
    units = candidates(rules, upper)
    valid = rules.trade_allowed(units)  # clipped into [lower, upper] already
    term, traded = rules.evaluate(units)
    sentinel = rules.unbounded
    best_term = _least(term, valid, sentinel)
    among = valid & (term == best_term[..., None])
    best_traded = _least(traded, among, sentinel)
    among &= traded == best_traded[..., None]
    best_units = _least(units, among, sentinel)
    spend = row_sums(best_units * rules.price)
    certified = np.array([s <= b for s, b in zip(spend, rules.budget, strict=True)], dtype=bool)
    return Choice(best_units, best_term, best_traded, certified)
