"""Solving a batch of portfolios of one model: screening, fast path, then for the
portfolios whose cash floor binds the exact knapsack solver, and the MILP (HiGHS) where
the knapsack's bounded effort does not settle one (`--method milp`: the MILP for all),
in parallel."""

import math
import os
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from ordergen.optimize.milp import MilpSolver

from ordergen.optimize.fastpath import CERTIFIED, INFEASIBLE, screen
from ordergen.optimize.problem import FloatArray, IntArray, Method, ModelTerms, Solution, Status

FAST_SOLVER = "fast"
# Below this many MILPs, starting worker processes costs more than it saves.
MIN_MILPS_FOR_WORKERS = 16
CHUNKS_PER_WORKER = 4
_Answer = TypeVar("_Answer")

_solvers: dict[tuple[int, float], "MilpSolver"] = {}


def _milp_solver(size: int, time_limit: float) -> "MilpSolver":
    """One compiled problem per security count and time limit, per process.

    CVXPY is imported here, not at module load: it costs about a second and most
    runs are certified by the fast path without it.
    """
    from ordergen.optimize.milp import MilpSolver

    key = (size, time_limit)
    if key not in _solvers:
        _solvers[key] = MilpSolver(size, time_limit)
    return _solvers[key]


def _solve_milps(
    time_limit: float,
    method: Method,
    terms: ModelTerms,
    ideal: FloatArray,
    lower: IntArray,
    upper: IntArray,
    market_values: Sequence[Decimal],
) -> list[Solution]:
    """The exact solutions of floor-binding portfolios: the knapsack's first with
    `Method.AUTO` (the policy package's, imported only here), HiGHS's for the rest."""
    attempts: list[tuple[Solution | None, float]] = [(None, 0.0)] * len(market_values)
    if method is Method.AUTO:
        from ordergen.optimize.policies.base import knapsack_solutions

        attempts = knapsack_solutions(terms, market_values, time_limit)
    solutions = []
    for row, (decided, spent) in enumerate(attempts):
        if decided is not None:
            solutions.append(decided)
            continue
        # The knapsack's time counts against the portfolio's time limit.
        deadline = time.perf_counter() + time_limit - spent
        solver = _milp_solver(terms.size, time_limit)
        solutions.append(
            solver.solve(
                ideal[row], terms.prices, lower[row], upper[row], market_values[row], deadline
            )
        )
    return solutions


def in_parts(
    solve: Callable[..., list[_Answer]],
    count: int,
    jobs: int,
    arguments: Callable[[slice], tuple[Any, ...]],
) -> list[_Answer]:
    """`solve(*arguments(part))` over the parts of `count` problems, answers in order.

    In this process, or across `jobs` worker processes when there are enough MILPs to
    pay for starting them. joblib is imported only then: most runs never start one.
    """
    workers = resolve_jobs(jobs)
    if workers == 1 or count < MIN_MILPS_FOR_WORKERS:
        return solve(*arguments(slice(0, count)))
    from joblib import Parallel, delayed

    size = max(1, math.ceil(count / (workers * CHUNKS_PER_WORKER)))
    parts = Parallel(n_jobs=workers, backend="loky")(
        delayed(solve)(*arguments(slice(start, start + size))) for start in range(0, count, size)
    )
    return [answer for part in parts for answer in part]


def resolve_jobs(jobs: int) -> int:
    """Worker count: `jobs`, or every core when 0."""
    return jobs if jobs > 0 else max(1, len(os.sched_getaffinity(0)))


def solve_batch(
    terms: ModelTerms,
    market_values: Sequence[Decimal],
    *,
    method: Method = Method.AUTO,
    jobs: int = 1,
    time_limit: float = 30.0,
) -> list[Solution]:
    """One `Solution` per market value, in order. Never raises for a single portfolio."""
    started = time.perf_counter()
    screening = screen(terms, market_values)
    count = len(market_values)
    fast_seconds = (time.perf_counter() - started) / max(count, 1)
    solutions: list[Solution | None] = [None] * count
    milp_rows: list[int] = []
    for row in range(count):
        verdict = screening.verdict[row]
        if verdict == INFEASIBLE:
            solutions[row] = Solution(
                Status.INFEASIBLE, None, screening.messages[row], fast_seconds, FAST_SOLVER
            )
        elif verdict == CERTIFIED and method is Method.AUTO:
            solutions[row] = Solution(
                Status.OK, screening.nearest[row], "", fast_seconds, FAST_SOLVER
            )
        else:
            milp_rows.append(row)

    if milp_rows:
        targets = np.array([float(t) for t in terms.targets], dtype=np.float64)
        mv = np.array([float(market_values[row]) for row in milp_rows], dtype=np.float64)
        ideal = np.outer(mv, targets)
        lower = screening.lower[milp_rows]
        upper = screening.upper[milp_rows]
        milp_mvs = [market_values[row] for row in milp_rows]
        milp_solutions = in_parts(
            _solve_milps,
            len(milp_rows),
            jobs,
            lambda part: (
                time_limit,
                method,
                terms,
                ideal[part],
                lower[part],
                upper[part],
                milp_mvs[part],
            ),
        )
        for row, solution in zip(milp_rows, milp_solutions, strict=True):
            solutions[row] = solution
    return [solution for solution in solutions if solution is not None]
