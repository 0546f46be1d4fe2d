"""The exact MILP for portfolios whose cash floor binds: CVXPY + HiGHS, built once.

The problem is parameterised (DPP) by the per-portfolio data, so CVXPY
canonicalises it once per security count and each portfolio only swaps
parameter values. Infeasibility has already been ruled out by the screening
(u = lo is feasible), so any non-optimal status or solver exception is an error
for that portfolio, never orders.
"""

import functools
import math
import os
import sys
import time
from collections.abc import Sequence
from decimal import Decimal

import cvxpy as cp
import highspy
import numpy as np

from ordergen.optimize.exact import spend_exceeds
from ordergen.optimize.problem import FloatArray, IntArray, Solution, Status

SOLVER_NAME = "milp"
# HiGHS stops at a 1e-4 relative gap by default; exactness needs the true optimum.
HIGHS_OPTIONS = {
    "output_flag": False,
    "mip_rel_gap": 0.0,
    "mip_abs_gap": 1e-7,
    "threads": 1,
    "random_seed": 0,
}


@functools.cache
def divert_highs_banner() -> None:
    """HiGHS prints a banner to stdout on its first construction in a process.

    stdout carries `--json` output and stderr the user's table and logs, so construct
    it once with fd 1 pointing at the null device.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


class MilpSolver:
    """A reusable parameterised MILP for models with `size` securities."""

    def __init__(self, size: int, time_limit: float) -> None:
        divert_highs_banner()
        self.size = size
        self.time_limit = time_limit
        self._units = cp.Variable(size, integer=True)
        self._error = cp.Variable(size)
        self._ideal = cp.Parameter(size)  # MV * t_i, the value each holding aims at
        self._price = cp.Parameter(size, nonneg=True)
        self._lower = cp.Parameter(size)
        self._upper = cp.Parameter(size)
        self._budget = cp.Parameter()
        # Secant of |ideal - u*p| through the two whole counts around ideal/p: valid at every
        # whole u (the term is convex), it makes each term's LP relaxation its convex hull.
        self._secant_intercept = cp.Parameter(size)
        self._secant_slope = cp.Parameter(size)
        spend = cp.multiply(self._price, self._units)
        self._problem = cp.Problem(
            cp.Minimize(cp.sum(self._error)),
            [
                self._error >= self._ideal - spend,
                self._error >= spend - self._ideal,
                self._error
                >= self._secant_intercept + cp.multiply(self._secant_slope, self._units),
                self._units >= self._lower,
                self._units <= self._upper,
                self._price @ self._units <= self._budget,
            ],
        )

    def solve(
        self,
        ideal: FloatArray,
        prices: Sequence[Decimal],
        lower: IntArray,
        upper: IntArray,
        market_value: Decimal,
        deadline: float = math.inf,
    ) -> Solution:
        """The optimal whole-share quantities, or an `error` solution saying why not.

        The solve runs no longer than the time limit, nor past `deadline`
        (`time.perf_counter()` seconds).
        """
        started = time.perf_counter()
        limit = min(self.time_limit, deadline - started)
        if limit <= 0:
            return self._error_solution(
                f"solver stopped: the time limit ({self.time_limit:g}s) passed", started
            )
        price = np.array([float(p) for p in prices], dtype=np.float64)
        below = np.floor(ideal / price)
        self._ideal.value = ideal
        self._price.value = price
        self._lower.value = lower.astype(np.float64)
        self._upper.value = upper.astype(np.float64)
        self._budget.value = float(market_value)
        self._secant_slope.value = (2 * below + 1) * price - 2 * ideal
        self._secant_intercept.value = ideal - below * price - self._secant_slope.value * below
        try:
            # No warm start: the answer must not depend on which portfolio this process
            # solved before (chunking differs run to run), or ties would break differently.
            self._problem.solve(
                solver=cp.HIGHS, warm_start=False, time_limit=limit, **HIGHS_OPTIONS
            )
        except cp.SolverError as exc:
            return self._error_solution(f"solver failed: {exc}", started)
        if self._problem.status != cp.OPTIMAL or self._units.value is None:
            return self._error_solution(
                f"solver stopped with status {self._problem.status!r} "
                f"(time limit {self.time_limit:g}s)",
                started,
            )
        units = np.rint(self._units.value).astype(np.int64)
        # Whole numbers within HiGHS's integrality tolerance; re-check the rules exactly.
        if (units < lower).any() or (units > upper).any():
            return self._error_solution("solver answer left a band", started)
        if spend_exceeds(units[None, :], prices, [market_value])[0]:
            return self._error_solution("solver answer overspent cash", started)
        return Solution(Status.OK, units, "", time.perf_counter() - started, SOLVER_NAME)

    def _error_solution(self, message: str, started: float) -> Solution:
        return Solution(Status.ERROR, None, message, time.perf_counter() - started, SOLVER_NAME)
