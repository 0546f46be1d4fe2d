"""The exact knapsack solver for one portfolio, its answer checked exactly."""

import time

import numpy as np

from ordergen.collector import cyclic_gc_paused
from ordergen.optimize.policies.knapsack.cost_stage import least_cost
from ordergen.optimize.policies.knapsack.effort import STATES, WORK, Effort, GiveUp, TimeUp
from ordergen.optimize.policies.knapsack.pieces import securities
from ordergen.optimize.policies.knapsack.traded_stage import least_traded
from ordergen.optimize.policies.problem import RowAnswer, SolvedBy
from ordergen.optimize.policies.rules import ExactRules
from ordergen.optimize.policies.units import row_sums


def knapsack_answer(rules: ExactRules, *, traded_counts: bool, deadline: float) -> RowAnswer | None:
    """`solve_knapsack` within the usual effort; None when HiGHS must decide instead
    (the effort ran out, or the knapsack failed), an error when `deadline` passed."""
    started = time.perf_counter()
    try:
        with cyclic_gc_paused():
            return solve_knapsack(
                rules, traded_counts=traded_counts, effort=Effort(STATES, WORK, deadline)
            )
    except TimeUp as exc:
        message = f"solver stopped: {exc}"
        return RowAnswer(None, 0, 0, message, time.perf_counter() - started, SolvedBy.KNAPSACK)
    except GiveUp:
        return None
    except Exception:  # a failure here is no answer: HiGHS decides, and is checked alike
        return None


def solve_knapsack(rules: ExactRules, *, traded_counts: bool, effort: Effort) -> RowAnswer:
    """The optimum of the single row of `rules`: the least objective, then (with
    `traded_counts`) the least traded value, any tie left to the search's fixed order.

    `rules.upper` is each security's top: its own best choice, or lower
    (`policies.solve._milp_rules`). Raises `GiveUp` when the effort allowed runs out.
    """
    started = time.perf_counter()
    found = securities(rules, traded_counts=traded_counts)
    # Savings are measured from each top, which need not be allowed itself (the cash
    # floor may cut it inside a minimum-trade gap); saving nothing is enough when <= 0.
    needed = max(sum(sec.top * sec.price for sec in found) - rules.budget[0], 0)
    stage = least_cost(found, needed, effort)
    units = least_traded(found, needed, stage, effort)
    exact = np.array([units], dtype=object if rules.dtype is object else np.int64)
    if not rules.allowed(exact).all():
        raise AssertionError("the knapsack's holding breaks a security's rules")
    if row_sums(exact * rules.price)[0] > rules.budget[0]:
        raise AssertionError("the knapsack's holding overspends the cash floor")
    term, traded = rules.evaluate(exact)
    return RowAnswer(
        np.asarray(units, dtype=np.int64),
        row_sums(term)[0],
        row_sums(traded)[0],
        "",
        time.perf_counter() - started,
        SolvedBy.KNAPSACK,
    )
