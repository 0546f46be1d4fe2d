"""The portfolios of a chunk that run under a policy (docs/policies.md): solved and reported.

Their securities are the model's and every security one of them holds outside it
(target 0): under a policy such a holding may stay held, so it is a column like any
other. Weights are fractions of MV' = MV - cashNeed. The orders, drifts, cash after
and turnover are computed by the same exact columns as the base problem's.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ordergen.domain.columns import RebalancedColumns, completed_results
from ordergen.domain.fixed_point import exact_array, places, to_units
from ordergen.domain.holdings import Holdings
from ordergen.domain.holdings_columns import MONEY_SCALE, HoldingsColumns
from ordergen.domain.model import InvestmentModel
from ordergen.domain.model_columns import ModelColumns
from ordergen.domain.policy import Policy
from ordergen.domain.results import PolicyAudit, PortfolioResult
from ordergen.optimize.policies import (
    PolicySolution,
    PolicyStatus,
    PolicyTerms,
    PortfolioCase,
    solve_policy_cases,
)
from ordergen.optimize.problem import Method, ModelTerms


@dataclass(frozen=True)
class PolicyRow:
    """One portfolio of a chunk (at `row`) to solve under `policy`."""

    row: int
    policy: Policy
    cash_need: Decimal
    audit: PolicyAudit
    """Which policy it runs under; completed with the reserve and floor once solved."""


def _plain(value: Decimal) -> Decimal:
    """`value` without the trailing zeros of the solver's common scale ("75000.00" -> 75000)."""
    return value.normalize() if value else Decimal(0)


def _audit(row: PolicyRow, solution: PolicySolution) -> PolicyAudit:
    if solution.cash_floor is None:
        return PolicyAudit(row.audit.overrides, row.cash_need)
    reserve = solution.market_value_after_need - solution.cash_floor
    return PolicyAudit(
        row.audit.overrides, row.cash_need, _plain(reserve), _plain(solution.cash_floor)
    )


def solve_policy_rows(
    model: InvestmentModel,
    terms: ModelTerms,
    chunk: Sequence[Holdings],
    outside_prices: Mapping[str, Decimal],
    rows: Sequence[PolicyRow],
    market_values: Sequence[Decimal],
    *,
    method: Method,
    jobs: int,
    time_limit: float,
) -> tuple[dict[int, PortfolioResult], RebalancedColumns | None]:
    """The result of each of `rows` (valued at `market_values`), by its row in `chunk`, and
    the rebalanced ones' columns.

    `outside_prices` prices every security the rows hold outside the model; `method`,
    `jobs` and `time_limit` are the run's solve options.
    """
    policy_terms = PolicyTerms.build(terms, outside_prices)
    columns = ModelColumns.of(policy_terms.security_ids, policy_terms.targets, policy_terms.prices)
    prices = dict(zip(policy_terms.security_ids, policy_terms.prices, strict=True))
    held = HoldingsColumns.of(
        [chunk[item.row].cash for item in rows],
        [chunk[item.row].quantities for item in rows],
        columns.security_ids,
        prices,
    )
    cases = [
        PortfolioCase(value, held.quantities[index], item.policy, item.cash_need)
        for index, (item, value) in enumerate(zip(rows, market_values, strict=True))
    ]
    solutions = solve_policy_cases(
        policy_terms,
        cases,
        method=method,
        jobs=jobs,
        time_limit=time_limit,
    )
    # MV' has the places of MV (3) or of the cash need, whichever is finer.
    scale = max([MONEY_SCALE, *(places(item.cash_need) for item in rows)])
    bases = [to_units(solution.market_value_after_need, scale) for solution in solutions]
    weight_bases = exact_array(bases, max(map(abs, bases)))
    before = held.worst_drifts(range(len(rows)), weight_bases, columns, scale)
    done = [index for index, solution in enumerate(solutions) if solution.status is PolicyStatus.OK]
    rebalanced = None
    if done:
        rebalanced = RebalancedColumns.of(
            model.positions,
            columns,
            held,
            done,
            np.stack([_quantities(solutions[index]) for index in done]),
            weight_bases[done],
            market_value_scale=scale,
            objectives=[_objective(solutions[index]) for index in done],
            chunk_rows=[rows[index].row for index in done],
        )
    plain = [
        PortfolioResult(
            chunk[item.row].portfolio_id,
            solution.status.value,
            market_value=value,
            message=solution.message,
            solver=solution.solver.value,
            seconds=solution.seconds,
            worst_drift_before=before[index],
            policy=_audit(item, solution),
        )
        for index, (item, value, solution) in enumerate(
            zip(rows, market_values, solutions, strict=True)
        )
    ]
    results = dict(
        zip((item.row for item in rows), completed_results(plain, rebalanced), strict=True)
    )
    return results, rebalanced


def _quantities(solution: PolicySolution) -> np.ndarray:
    if solution.quantities is None:
        raise ValueError("an ok solution always has quantities")
    return solution.quantities


def _objective(solution: PolicySolution) -> Decimal:
    if solution.objective is None:
        raise ValueError("an ok solution always has an objective")
    return _plain(solution.objective)
