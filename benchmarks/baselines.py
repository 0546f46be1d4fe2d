"""The two baselines ordergen is measured against, run as their users would run them.

- `original_method`: the replaced service's approach, given each security's target,
  band and price and the portfolio's market value: a continuous relaxation in CVXPY,
  rebuilt for every portfolio (as the service did), then rounded to whole shares. It
  reports CVXPY's status, "optimal" included, even when the rounded answer leaves a
  band or overspends, or when no whole-share answer exists.
- `pyportfolioopt_lp`: PyPortfolioOpt's `DiscreteAllocation.lp_portfolio`, the closest
  public whole-share allocator, given the target weights, the prices and the market
  value. It is never told the bands and claims no optimality with respect to them.

Both are imported here, at module load, outside every timer.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import pandas as pd
from pypfopt.discrete_allocation import DiscreteAllocation


@dataclass(frozen=True)
class BaselineAnswer:
    """`status` as the method reports it; `units` in the order of the securities given."""

    status: str
    units: tuple[int, ...] | None


def original_method(
    targets: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    prices: np.ndarray,
    market_value: float,
) -> BaselineAnswer:
    """Continuous relaxation rebuilt per portfolio, then rounding (the defect replaced)."""
    units = cp.Variable(len(targets))
    value = cp.multiply(prices, units)
    problem = cp.Problem(
        cp.Minimize(cp.sum(cp.abs(market_value * targets - value))),
        [
            units >= 0,
            value >= market_value * (targets - lows),
            value <= market_value * (targets + highs),
            cp.sum(value) <= market_value,
        ],
    )
    try:
        problem.solve()
    except cp.SolverError:
        return BaselineAnswer("solver_error", None)
    if units.value is None:
        return BaselineAnswer(str(problem.status), None)
    return BaselineAnswer(str(problem.status), tuple(np.rint(units.value).astype(int).tolist()))


def pyportfolioopt_lp(
    security_ids: Sequence[str], targets: np.ndarray, prices: np.ndarray, market_value: float
) -> BaselineAnswer:
    """PyPortfolioOpt's whole-share LP allocation of the target weights."""
    weights = dict(zip(security_ids, targets.tolist(), strict=True))
    allocator = DiscreteAllocation(
        weights, pd.Series(prices, index=list(security_ids)), total_portfolio_value=market_value
    )
    try:
        allocation, _ = allocator.lp_portfolio(solver="HIGHS")
    except Exception as exc:  # a failure of the peer is counted, not fatal to the benchmark
        return BaselineAnswer(f"failed: {type(exc).__name__}", None)
    return BaselineAnswer("allocated", tuple(int(allocation.get(sid, 0)) for sid in security_ids))
