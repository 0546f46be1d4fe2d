"""The policy MILP for portfolios whose cash floor binds: CVXPY + HiGHS, built once per size.

Each security's allowed set A_i is the union of up to four regimes chosen by
binaries: stay (u = c, no binary set), close (u = 0), sell (u in [lower, c - k])
and buy (u in [c + k, upper]), k the minimum-trade step. The whole numbers
`sold` and `bought` are non-zero only in their regime (a disjunction, so the
relaxation is the convex hull of A_i), the per-order cost falls on the binaries
and u = c - sold + bought - c*close. Working in trades rather than holdings keeps
the cash row's numbers small, so HiGHS's tolerances cost cents, not dollars.
Distance to the zone is an epigraph variable cut by the secants through the whole
numbers around each zone end, so each term's relaxation is its convex hull too.

Two solves per portfolio: the least objective, then the least traded value with
the objective held at that optimum. Every answer is checked exactly (A_i, cash
floor, objective and traded value in integers) and the better kept; the solver's
floats never decide anything on their own. The problem is DPP: CVXPY compiles it
once per security count, and each portfolio only swaps parameter values.
"""

import math
import time
from math import gcd

import cvxpy as cp
import numpy as np

from ordergen.optimize.milp import HIGHS_OPTIONS, divert_highs_banner
from ordergen.optimize.policies.problem import RowAnswer
from ordergen.optimize.policies.rules import ExactRules
from ordergen.optimize.policies.screen import least_allowed
from ordergen.optimize.policies.units import row_sums

# Feasibility jump rarely finds anything here that the LP-based heuristics do not, and
# costs a good share of the median solve.
POLICY_HIGHS_OPTIONS = {**HIGHS_OPTIONS, "mip_heuristic_run_feasibility_jump": False}
VARIABLES = ("close", "sell", "buy", "sold", "bought")


def _floats(values: np.ndarray, scale: int) -> np.ndarray:
    """Money units as floats, each correctly rounded (int / int), so a portfolio's solver
    input is the same bits whatever money scale its chunk happened to need."""
    unit = 10**scale
    return np.array([int(value) / unit for value in values], dtype=np.float64)


class PolicyMilp:
    """A reusable parameterised MILP for portfolios with `size` securities."""

    def __init__(self, size: int, time_limit: float) -> None:
        divert_highs_banner()
        self.size = size
        self.time_limit = time_limit
        self._deadline = math.inf
        self._variables = {
            "close": cp.Variable(size, boolean=True),
            "sell": cp.Variable(size, boolean=True),
            "buy": cp.Variable(size, boolean=True),
            "sold": cp.Variable(size, integer=True),
            "bought": cp.Variable(size, integer=True),
        }
        self._distance = cp.Variable(size, nonneg=True)
        self._parameters: dict[str, cp.Parameter] = {}
        close, sell, buy = (self._variables[name] for name in ("close", "sell", "buy"))
        sold, bought = self._variables["sold"], self._variables["bought"]

        # One problem for both solves: only the objective's weights and bound change.
        objective = self._parameter("weight.distance") @ self._distance + self._total("weight")
        cost = cp.sum(self._distance) + self._total("cost")
        constraints = [
            close + sell + buy <= 1,
            close + sell + buy >= self._parameter("must_move"),
            close <= self._parameter("can_close"),
            sold >= cp.multiply(self._parameter("sold_low"), sell),
            sold <= cp.multiply(self._parameter("sold_high"), sell),
            bought >= cp.multiply(self._parameter("bought_low"), buy),
            bought <= cp.multiply(self._parameter("bought_high"), buy),
            # The distance is at least each of its four lines in u.
            self._distance >= self._line("below_zone"),
            self._distance >= self._line("above_zone"),
            self._distance >= self._line("secant_low"),
            self._distance >= self._line("secant_high"),
            self._total("spend_change") <= self._parameter("budget_change", scalar=True),
            cost <= self._parameter("objective_bound", scalar=True),
        ]
        self._problem = cp.Problem(cp.Minimize(objective), constraints)

    def _parameter(self, name: str, *, scalar: bool = False) -> cp.Parameter:
        if name not in self._parameters:
            self._parameters[name] = cp.Parameter(() if scalar else self.size, name=name)
        return self._parameters[name]

    def _line(self, name: str) -> cp.Expression:
        """Per security: sum over variables of coefficient * variable, plus a constant."""
        terms = [
            cp.multiply(self._parameter(f"{name}.{key}"), variable)
            for key, variable in self._variables.items()
        ]
        return cp.sum(terms) + self._parameter(f"{name}.constant")

    def _total(self, name: str) -> cp.Expression:
        """Over all securities: sum of coefficient vector @ variable."""
        return cp.sum(
            [self._parameter(f"{name}.{key}") @ var for key, var in self._variables.items()]
        )

    def solve(self, rules: ExactRules, deadline: float = math.inf) -> RowAnswer:
        """The lexicographic optimum (objective, traded value) of the single row of `rules`.

        `rules.upper` may be tightened below A_i's top (for example to each security's
        own best choice); the answer is checked against it exactly. No solve runs past
        `deadline` (`time.perf_counter()` seconds) nor longer than the time limit.
        """
        started = time.perf_counter()
        self._deadline = deadline
        values = _parameter_values(rules)
        unit = 10**rules.scale
        objective_step, traded_step = _objective_step(rules) / unit, _price_step(rules) / unit
        # First the least objective (costs as weights), bounded by any feasible answer's.
        self._assign(
            values, "cost", distance_weight=1.0, bound=values["objective_ceiling"], data=True
        )
        first = self._attempt(rules, _stop_within(objective_step), objective=1)
        if isinstance(first, str):
            return RowAnswer(None, 0, 0, first, time.perf_counter() - started)
        best = first
        # Then the least traded value with the objective held at that optimum. Objectives
        # are multiples of their step, so anything less than a step above is the optimum
        # itself; the slack also covers float error. Answers are re-checked exactly and
        # kept only if no worse.
        optimum = best[1] / unit
        for slack in (max(1e-9 * max(1.0, abs(optimum)), 0.5 * objective_step), 0.0):
            self._assign(values, "traded", distance_weight=0.0, bound=optimum + slack, data=False)
            second = self._attempt(rules, _stop_within(traded_step), objective=2)
            if isinstance(second, str):
                return RowAnswer(None, 0, 0, second, time.perf_counter() - started)
            if (second[1], second[2]) <= (best[1], best[2]):
                best = second
                break
        units, objective, traded = best
        return RowAnswer(units, objective, traded, "", time.perf_counter() - started)

    def _assign(
        self,
        values: dict[str, np.ndarray | float],
        weights: str,
        *,
        distance_weight: float,
        bound: np.ndarray | float,
        data: bool,
    ) -> None:
        """Set the objective (`weights` and the distances) and bound; with `data`, the rest."""
        if data:
            for name, value in values.items():
                if name in self._parameters:
                    self._parameters[name].value = value
        for key in VARIABLES:
            self._parameters[f"weight.{key}"].value = values[f"{weights}.{key}"]
        self._parameters["weight.distance"].value = np.full(self.size, distance_weight)
        self._parameters["objective_bound"].value = bound

    def _attempt(
        self, rules: ExactRules, options: dict[str, float], *, objective: int
    ) -> tuple[np.ndarray, int, int] | str:
        """(units, exact objective, exact traded value), or why there is no answer.

        `objective` says which of the two the solver minimised (1 or 2), so its own
        value can be held against the exact one.
        """
        problem = self._problem
        limit = min(self.time_limit, self._deadline - time.perf_counter())
        if limit <= 0:
            return f"solver stopped: the time limit ({self.time_limit:g}s) passed"
        try:
            # Never a warm start: the answer must not depend on what was solved before,
            # and HiGHS 1.16 has been seen to report a MIP start as optimal after
            # presolve mapped it to a better objective than it has.
            problem.solve(
                solver=cp.HIGHS,
                warm_start=False,
                time_limit=limit,
                **{**POLICY_HIGHS_OPTIONS, **options},
            )
        except cp.SolverError as exc:
            return f"solver failed: {exc}"
        if problem.status != cp.OPTIMAL or self._variables["sold"].value is None:
            return (
                f"solver stopped with status {problem.status!r} (time limit {self.time_limit:g}s)"
            )
        value = {name: np.rint(var.value).astype(np.int64) for name, var in self._variables.items()}
        current = rules.current[0]
        units = current - value["sold"] + value["bought"] - current * value["close"]
        exact = units[None, :].astype(object) if rules.dtype is object else units[None, :]
        if not rules.allowed(exact).all():
            return "solver answer broke a security's rules"
        if row_sums(exact * rules.price)[0] > rules.budget[0]:
            return "solver answer overspent the cash floor"
        term, traded = rules.evaluate(exact)
        exact_values = (row_sums(term)[0], row_sums(traded)[0])
        claimed, actual = float(problem.value), exact_values[objective - 1] / 10**rules.scale
        size = abs(actual) + float(np.abs(rules.current[0] * rules.price).sum()) / 10**rules.scale
        if abs(claimed - actual) > 1e-5 * (1.0 + size):
            return f"solver's objective {claimed!r} disagrees with its answer's {actual!r}"
        return units, *exact_values


def _parameter_values(rules: ExactRules) -> dict[str, np.ndarray | float]:
    """Every parameter's value for the single row of `rules`."""
    scale = rules.scale
    lower, top, exact_current = rules.lower[0], rules.upper[0], rules.current[0]
    current = exact_current.astype(np.float64)
    step = np.maximum(rules.step[0], 1)
    price = _floats(rules.price, scale)
    size = price.shape[0]
    zeros = np.zeros(size)
    values: dict[str, np.ndarray | float] = {}
    stays = (lower <= exact_current) & (exact_current <= top)
    values["must_move"] = (~stays).astype(np.float64)
    values["can_close"] = ((lower == 0) & (exact_current != 0)).astype(np.float64)
    # Sold in [c - min(top, c - k), c - lower]; bought in [max(lower, c + k) - c, top - c].
    # An empty regime gets bounds [1, 0], so its binary can only be 0.
    sold_low = exact_current - np.minimum(top, exact_current - step)
    sold_high = exact_current - lower
    bought_low = np.maximum(lower, exact_current + step) - exact_current
    bought_high = top - exact_current
    no_sale, no_purchase = sold_low > sold_high, bought_low > bought_high
    values["sold_low"] = np.where(no_sale, 1, sold_low).astype(np.float64)
    values["sold_high"] = np.where(no_sale, 0, sold_high).astype(np.float64)
    values["bought_low"] = np.where(no_purchase, 1, bought_low).astype(np.float64)
    values["bought_high"] = np.where(no_purchase, 0, bought_high).astype(np.float64)

    def line(name: str, slope: np.ndarray, constant: np.ndarray) -> None:
        """slope_i * u_i + constant_i, with u = c - sold + bought - c*close."""
        values[f"{name}.close"] = -slope * current
        values[f"{name}.sell"] = zeros
        values[f"{name}.buy"] = zeros
        values[f"{name}.sold"] = -slope
        values[f"{name}.bought"] = slope
        values[f"{name}.constant"] = constant + slope * current

    zone_low, zone_high = rules.zone_low[0], rules.zone_high[0]
    line("below_zone", -price, _floats(zone_low, scale))
    line("above_zone", price, -_floats(zone_high, scale))
    for name, end in (("secant_low", zone_low), ("secant_high", zone_high)):
        below = end // rules.price
        at_below, at_above = _distances(rules, below), _distances(rules, below + 1)
        rise = at_above - at_below
        line(name, _floats(rise, scale), _floats(at_below - rise * below, scale))

    def total(name: str, per_order: np.ndarray, per_share: np.ndarray) -> None:
        """sum_i per_order_i * [order_i] + per_share_i * |u_i - c_i|."""
        values[f"{name}.close"] = per_order + per_share * np.abs(current)
        values[f"{name}.sell"] = per_order
        values[f"{name}.buy"] = per_order
        values[f"{name}.sold"] = per_share
        values[f"{name}.bought"] = per_share

    per_order = np.full(size, int(rules.per_order[0, 0]) / 10**scale)
    total("cost", per_order, _floats(rules.unit_cost[0], scale))
    total("traded", zeros, price)
    values["spend_change.close"] = -price * current
    values["spend_change.sell"] = zeros
    values["spend_change.buy"] = zeros
    values["spend_change.sold"] = -price
    values["spend_change.bought"] = price
    values["budget_change"] = _budget_change(rules)
    # Holding each security's least allowed is feasible: its objective bounds the optimum.
    least_term = rules.evaluate(least_allowed(rules))[0]
    ceiling = row_sums(least_term)[0] / 10**scale
    values["objective_ceiling"] = ceiling + max(1e-9 * abs(ceiling), 1e-6)
    return values


def _distances(rules: ExactRules, units: np.ndarray) -> np.ndarray:
    """dist(u*p, Zone) of one row, exactly."""
    value = units * rules.price
    zone_low, zone_high = rules.zone_low[0], rules.zone_high[0]
    distance: np.ndarray = np.maximum(np.maximum(zone_low - value, value - zone_high), 0)
    return distance


def _price_step(rules: ExactRules) -> int:
    """The gcd of the prices in money units: every spend and traded value is a multiple."""
    step = 0
    for price in rules.price.tolist():
        step = gcd(step, int(price))
    return step


def _objective_step(rules: ExactRules) -> int:
    """A step every objective value is a multiple of (money units).

    Each term is a whole combination of a zone end, the price, the per-order cost and
    the cost per share, so their gcd divides every objective.
    """
    step = _price_step(rules)
    numbers = [
        *rules.zone_low[0].tolist(),
        *rules.zone_high[0].tolist(),
        *rules.unit_cost[0].tolist(),
        int(rules.per_order[0, 0]),
    ]
    for number in numbers:
        step = gcd(step, int(number))
    return step


def _stop_within(step: float) -> dict[str, float]:
    """HiGHS options that stop the search once no multiple of `step` is left between the
    bound and the best answer (never looser than the base problem's absolute gap)."""
    return {"mip_abs_gap": max(float(HIGHS_OPTIONS["mip_abs_gap"]), 0.9 * step)}


def _budget_change(rules: ExactRules) -> float:
    """How much the spend may rise from today's, for the solver, with half a step to spare.

    Spends are multiples of the price step g, so the exact floor is the largest such
    multiple <= budget. Offering the solver half a step more leaves room for its float
    error either way without admitting a spend that is over (checked exactly after).
    """
    step = _price_step(rules)
    reachable: int = rules.budget[0] // step * step
    spend_now = row_sums(rules.current * rules.price)[0]
    unit: int = 10**rules.scale
    return (2 * (reachable - spend_now) + step) / (2 * unit)
