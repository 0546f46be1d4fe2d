"""An exact solver for the portfolios whose cash floor binds (docs/policies.md).

Every rule but the cash floor acts on one security, so the problem is a separable
knapsack with one row: each security's cost (its term J_i, then its traded value T_i)
is a function of its own whole share count, piecewise linear between a few knots,
and the holdings may cost at most the cash floor. Measured from each security's own
best choice ("top"), the securities must together save at least the overspend.

The objective is lexicographic, so it is solved in two stages, each proved exactly
on Python integers:

1. the least total term J* (`cost_stage`): a Lagrangian relaxation of the budget
   (one multiplier, `relaxation`) bounds J and fixes most securities; a dynamic
   programme over the rest, on Pareto fronts of (saving, J), finds J* exactly;
2. the least traded value T* among holdings with J <= J* (`traded_stage`): a
   depth-first branch and bound over the securities still free, bounded below by
   the relaxation of T and the exact J fronts, stopping as soon as a holding meets
   the bound.

Either stage gives up after a fixed amount of work (counted, so the outcome never
depends on the machine's speed), and the caller falls back to HiGHS.
"""

from ordergen.optimize.policies.knapsack.effort import Effort, GiveUp, TimeUp
from ordergen.optimize.policies.knapsack.solve import knapsack_answer, solve_knapsack

__all__ = ["Effort", "GiveUp", "TimeUp", "knapsack_answer", "solve_knapsack"]
