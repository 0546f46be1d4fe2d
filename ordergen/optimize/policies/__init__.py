"""Rebalancing under policies (docs/policies.md): pure maths over Decimals and numpy arrays.

For each portfolio: the trigger and infeasibility are decided exactly before any
solving (`screen`), each security's own best whole number is found among a few
candidates and certified when the choices meet the cash floor (`fastpath`), and
only the rest go to a MILP compiled once per size (`milp`). Every comparison is
made on scaled integers (`units`, `rules`); floats live only inside the solver,
whose answers are checked exactly.

Entry point: `solve_policy_batch(PolicyTerms.build(model_terms, held_prices), cases)`.
"""

from ordergen.optimize.policies.problem import (
    PolicySolution,
    PolicyStatus,
    PolicyTerms,
    PortfolioCase,
    SolvedBy,
)
from ordergen.optimize.policies.solve import solve_policy_batch, solve_policy_cases

__all__ = [
    "PolicySolution",
    "PolicyStatus",
    "PolicyTerms",
    "PortfolioCase",
    "SolvedBy",
    "solve_policy_batch",
    "solve_policy_cases",
]
