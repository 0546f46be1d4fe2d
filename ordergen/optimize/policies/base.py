"""The base problem's floor-binding portfolios through the exact knapsack solver.

The base problem is the policy problem under no policy with nothing held (docs/policies.md):
the zone is the target, the bands are enforced, the budget is MV. Its objective has no
traded value, so the knapsack minimises the objective alone (`traded_counts=False`).
"""

import time
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from ordergen.optimize.policies.fastpath import best_per_security
from ordergen.optimize.policies.knapsack import knapsack_answer
from ordergen.optimize.policies.problem import PolicyTerms, PortfolioCase
from ordergen.optimize.policies.rows import row_problem
from ordergen.optimize.policies.rules import build_rules
from ordergen.optimize.policies.screen import least_allowed
from ordergen.optimize.problem import ModelTerms, Solution, Status

SOLVER_NAME = "knapsack"


def knapsack_solutions(
    terms: ModelTerms, market_values: Sequence[Decimal], time_limit: float
) -> list[tuple[Solution | None, float]]:
    """For each portfolio (feasible, its floor binding): the knapsack's solution, or None
    where HiGHS must decide; and the seconds it took. Each gets `time_limit` seconds."""
    started = time.perf_counter()
    policy_terms = PolicyTerms.build(terms, {})
    held = np.zeros(terms.size, dtype=np.int64)
    rules = build_rules(policy_terms, [PortfolioCase(value, held) for value in market_values])
    least = least_allowed(rules)
    best = best_per_security(rules).units
    shared = (time.perf_counter() - started) / max(len(market_values), 1)
    solutions: list[tuple[Solution | None, float]] = []
    for row in range(len(market_values)):
        began = time.perf_counter()
        problem = row_problem(rules, row, least[row], best[row])
        answer = knapsack_answer(problem, traded_counts=False, deadline=began + time_limit)
        seconds = shared + time.perf_counter() - began
        if answer is None:
            solutions.append((None, seconds))
        elif answer.units is None:
            error = Solution(Status.ERROR, None, answer.message, seconds, SOLVER_NAME)
            solutions.append((error, seconds))
        else:
            solutions.append((Solution(Status.OK, answer.units, "", seconds, SOLVER_NAME), seconds))
    return solutions
