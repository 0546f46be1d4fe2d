"""Decisions made exactly before any solving: the trigger and infeasibility.

A portfolio is infeasible exactly when MV' < 0, when some security's allowed set
A_i is empty, or when the least each A_i allows already costs more than the cash
floor (every rule but the floor acts on one security, so u_i = min(A_i) is then
the cheapest holding there is).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ordergen.optimize.policies.policy import Restriction
from ordergen.optimize.policies.problem import PolicyTerms, PortfolioCase
from ordergen.optimize.policies.rules import NO_RESTRICTION, RESTRICTION_CODES, ExactRules
from ordergen.optimize.policies.units import row_sums, unscaled

SOLVE, WITHIN_BANDS, INFEASIBLE = 0, 1, 2
WITHIN_BANDS_MESSAGE = (
    "within bands: every unrestricted security is inside its band and the cash floor "
    "holds, so the portfolio is not traded"
)


@dataclass(frozen=True)
class Screening:
    """Per-row verdict (SOLVE, WITHIN_BANDS, INFEASIBLE), message and min(A_i)."""

    verdict: np.ndarray
    messages: list[str]
    least: np.ndarray


def _text(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def triggered(rules: ExactRules) -> np.ndarray:
    """Whether each row must be solved under `trigger: outside-bands`.

    True when an unrestricted security's current value is outside its band (a held
    security outside the model always is: its band is [0, 0]) or when the current
    holdings break the cash floor. Independent of `mode`.
    """
    held_value = rules.current * rules.price
    outside = (held_value < rules.band_low) | (held_value > rules.band_high)
    from_bands = (outside & (rules.restriction_codes == NO_RESTRICTION)).any(axis=1)
    spent = row_sums(held_value)
    from_cash = np.array([s > b for s, b in zip(spent, rules.budget, strict=True)], dtype=bool)
    return np.asarray(from_bands | from_cash, dtype=bool)


def least_allowed(rules: ExactRules) -> np.ndarray:
    """min(A_i) for every row and security; `rules.unbounded` where A_i is empty.

    The smallest allowed whole number is the interval's bottom unless the minimum
    trade forbids it, and then the first trade up from c that is big enough
    (c itself is smaller but was tried: it is either allowed or out of the interval).
    """
    first_trade_up = rules.current + np.maximum(rules.step, 1)
    candidates = np.stack([rules.lower, rules.current, first_trade_up], axis=-1)
    valid = rules.allowed(candidates)
    least: np.ndarray = np.where(valid, candidates, rules.unbounded).min(axis=-1)
    return least


def _direction_reason(rules: ExactRules, row: int, column: int, sell_only: bool) -> str:
    code = rules.restriction_codes[row, column]
    if not rules.in_model[row, column]:
        return "a security outside the model is never bought"
    if code == RESTRICTION_CODES[Restriction.HOLD]:
        return "its hold restriction allows no buying"
    if code == RESTRICTION_CODES[Restriction.NO_BUY]:
        return "its no-buy restriction allows no buying"
    assert sell_only
    return "sell-only mode allows no buying"


def _empty_set_message(rules: ExactRules, terms: PolicyTerms, row: int, column: int) -> str:
    sid = terms.security_ids[column]
    current = int(rules.current[row, column])
    if rules.direction_lower[row, column] > rules.direction_upper[row, column]:
        reason = _direction_reason(rules, row, column, bool(rules.sell_only[row]))
        return (
            f"infeasible: {sid} is held short ({current} shares) and {reason}; "
            "quantities cannot be negative"
        )
    scale = rules.scale
    if rules.lower[row, column] > rules.upper[row, column]:
        low = _text(unscaled(int(rules.band_low[row, column]), scale))
        high = _text(unscaled(int(rules.band_high[row, column]), scale))
        return (
            f"infeasible: no whole number of shares of {sid} at {terms.prices[column]} fits its "
            f"band [{low}, {high}] (MV' {_text(unscaled(rules.market_after_need[row], scale))})"
        )
    lower, upper = int(rules.lower[row, column]), int(rules.upper[row, column])
    step = int(rules.step[row, column])
    return (
        f"infeasible: {sid} may neither stay at {current} nor close to 0 within "
        f"[{lower}, {upper}] shares, and no trade of at least {step} shares (the minimum "
        "trade) lands there"
    )


def _cash_message(rules: ExactRules, case: PortfolioCase, row: int, cost: int) -> str:
    scale = rules.scale
    floor = rules.budget[row]
    return (
        f"infeasible: the least holdings the rules allow cost {_text(unscaled(cost, scale))}, "
        f"more than the cash floor allows ({_text(unscaled(floor, scale))} = market value "
        f"{_text(case.market_value)} - cash need {_text(case.cash_need)} - reserve "
        f"{_text(unscaled(rules.reserve[row], scale))}): short by "
        f"{_text(unscaled(cost - floor, scale))}"
    )


def screen(rules: ExactRules, terms: PolicyTerms, cases: Sequence[PortfolioCase]) -> Screening:
    """Which rows to solve, which are within their bands, which are infeasible and why."""
    verdict = np.full(rules.rows, SOLVE, dtype=np.int8)
    messages = [""] * rules.rows
    for row, case in enumerate(cases):
        if rules.market_after_need[row] < 0:
            verdict[row] = INFEASIBLE
            messages[row] = (
                f"infeasible: cash need {_text(case.cash_need)} exceeds market value "
                f"{_text(case.market_value)}"
            )
    must_trade = triggered(rules)
    within = rules.outside_bands & ~must_trade & (verdict == SOLVE)
    verdict[within] = WITHIN_BANDS
    for row in np.nonzero(within)[0].tolist():
        messages[row] = WITHIN_BANDS_MESSAGE

    least = least_allowed(rules)
    empty = least == rules.unbounded
    first_empty = np.where(empty.any(axis=1), empty.argmax(axis=1), -1).tolist()
    cost = row_sums(np.where(empty, 0, least) * rules.price)
    for row in np.nonzero(verdict == SOLVE)[0].tolist():
        if first_empty[row] >= 0:
            verdict[row] = INFEASIBLE
            messages[row] = _empty_set_message(rules, terms, row, first_empty[row])
        elif cost[row] > rules.budget[row]:
            verdict[row] = INFEASIBLE
            messages[row] = _cash_message(rules, cases[row], row, cost[row])
    return Screening(verdict, messages, least)
