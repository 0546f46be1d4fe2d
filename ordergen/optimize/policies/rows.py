"""One floor-binding portfolio's problem for the exact solvers, cut down to what matters."""

from dataclasses import replace

import numpy as np

from ordergen.optimize.policies.rules import ExactRules
from ordergen.optimize.policies.units import row_sums


def row_columns(rules: ExactRules, row: int) -> np.ndarray:
    """The model's securities and those the portfolio holds outside it.

    The others are 0 and stay 0 (never bought), so leaving them out makes the exact
    solvers' problem, and with it their answer, depend on this portfolio alone.
    """
    return np.nonzero(rules.in_model[row] | (rules.current[row] != 0))[0]


def row_problem(rules: ExactRules, row: int, least: np.ndarray, best: np.ndarray) -> ExactRules:
    """One row's rules for the exact solvers (the knapsack, the MILP), each security's top
    tightened without losing the optimum:

    - u_i <= min(A_i) + (floor - sum_j min(A_j)*p_j) / p_i, implied by the cash floor
      since every other security needs at least its minimum;
    - u_i <= best_i, the security's own best choice: above it, lowering u_i to best_i
      costs no more, trades no more and spends less, so a lexicographic optimum lies below.
    """
    columns = row_columns(rules, row)
    one = rules.select([row], columns)
    slack = rules.budget[row] - row_sums(least[None, :] * rules.price)[0]
    top = np.minimum(one.upper, least[columns][None, :] + slack // one.price)
    return replace(one, upper=np.minimum(top, best[columns][None, :]))
