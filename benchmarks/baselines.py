"""The two baselines ordergen is measured against, on the same problems.

- `original_method`: the replaced service's approach: a continuous relaxation in
  CVXPY, rebuilt for every portfolio, then rounded to whole shares. The rounded
  answer can leave bands or overspend, and it reported "optimal" even when the
  integer problem was infeasible.
- `pyportfolioopt_lp`: PyPortfolioOpt's `DiscreteAllocation.lp_portfolio`, the
  closest public whole-share allocator (it knows targets and cash, not bands).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import cvxpy as cp
import numpy as np


@dataclass(frozen=True)
class BaselineAnswer:
    status: str
    quantities: np.ndarray | None


def original_method(
    targets: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    prices: np.ndarray,
    market_value: float,
) -> BaselineAnswer:
    """Continuous relaxation rebuilt per portfolio, then rounding (the seed's defect)."""
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
    return BaselineAnswer(str(problem.status), np.rint(units.value).astype(np.int64))


def pyportfolioopt_lp(
    security_ids: Sequence[str], targets: np.ndarray, prices: np.ndarray, market_value: float
) -> BaselineAnswer:
    """PyPortfolioOpt's whole-share LP allocation of the target weights."""
    import pandas as pd
    from pypfopt.discrete_allocation import DiscreteAllocation

    weights = dict(zip(security_ids, targets.tolist(), strict=True))
    allocator = DiscreteAllocation(
        weights, pd.Series(prices, index=list(security_ids)), total_portfolio_value=market_value
    )
    try:
        allocation, _ = allocator.lp_portfolio(solver="HIGHS")
    except Exception as exc:  # any failure of the peer is counted, not fatal to the benchmark
        return BaselineAnswer(f"failed: {type(exc).__name__}", None)
    units = np.array([allocation.get(sid, 0) for sid in security_ids], dtype=np.int64)
    return BaselineAnswer("optimal", units)


def violations(
    units: np.ndarray,
    targets: Sequence[Decimal],
    lows: Sequence[Decimal],
    highs: Sequence[Decimal],
    prices: Sequence[Decimal],
    market_value: Decimal,
    cash_floor: Decimal | None = None,
) -> tuple[int, bool]:
    """(number of securities outside their band, whether the holdings cost more than
    `cash_floor`, by default the market value: cash below zero), exactly."""
    outside = 0
    spend = Decimal(0)
    for u, t, low, high, p in zip(units.tolist(), targets, lows, highs, prices, strict=True):
        value = int(u) * p
        spend += value
        if u < 0 or not market_value * (t - low) <= value <= market_value * (t + high):
            outside += 1
    return outside, spend > (market_value if cash_floor is None else cash_floor)


def objective(
    units: np.ndarray, targets: Sequence[Decimal], prices: Sequence[Decimal], market_value: Decimal
) -> Decimal:
    return sum(
        (
            abs(market_value * t - int(u) * p)
            for u, t, p in zip(units.tolist(), targets, prices, strict=True)
        ),
        Decimal(0),
    )
