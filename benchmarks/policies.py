"""Rows for rebalancing policies (docs/policies.md): the demo's desk policy, and the same
policy with a withdrawal so that the cash floor binds.

- The solve stage under the desk policy: portfolios/s of `solve_policy_batch` with
  `--method auto` on the large model, and which path decided each portfolio.
- The desk policy plus a withdrawal (`cashNeed`) of 10% of market value: each sampled
  portfolio solved on its own, timed wall-clock, with the portfolios sent to the MILP
  (their per-security choices spend more than the floor allows) timed apart.

Both are scored on the sample against the reference, which is given the same policy.
"""

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from benchmarks.base_rows import Part, Row, fastest_seconds
from benchmarks.instances import Instances
from benchmarks.latency import Latencies
from benchmarks.scoring import Claim, Tally, in_problem_order, tally
from ordergen.demo import DESK_POLICY
from ordergen.domain.policy import parse_policy
from ordergen.optimize.policies import (
    PolicySolution,
    PolicyStatus,
    PolicyTerms,
    PortfolioCase,
    solve_policy_batch,
)
from ordergen.optimize.problem import Method

DESK = parse_policy(DESK_POLICY)
WITHDRAWAL = Fraction(1, 10)
"""Cash need as a share of market value in the floor-binding rows. The bands follow
MV' = MV - cashNeed while the holdings do not, so a 10% withdrawal leaves most
portfolios' per-security choices above the cash floor."""
CENT = Decimal("0.01")


def path(solution: PolicySolution) -> str:
    """Which path decided a portfolio, and how: e.g. `fast: ok`, `screen: within-bands`."""
    return f"{solution.solver}: {solution.status}"


@dataclass(frozen=True)
class PolicyRow:
    row: Row
    decided_by: dict[str, int]


def policy_cases(
    inst: Instances, withdrawal: Fraction = Fraction(0)
) -> tuple[PolicyTerms, list[PortfolioCase]]:
    """Every portfolio of `inst` under the desk policy, with a cash need of `withdrawal` x MV."""
    held_prices = {
        sid: inst.prices[sid]
        for holdings in inst.holdings
        for sid, units in holdings.quantities.items()
        if units
    }
    terms = PolicyTerms.build(inst.terms, held_prices)
    share = Decimal(withdrawal.numerator) / Decimal(withdrawal.denominator)
    cases = [
        PortfolioCase(value, terms.quantities(holdings.quantities), DESK,
                      (value * share).quantize(CENT))
        for holdings, value in zip(inst.holdings, inst.market_values, strict=True)
    ]  # fmt: skip
    return terms, cases


def _claims(
    part: Part, terms: PolicyTerms, solutions: Sequence[PolicySolution]
) -> dict[str, Claim]:
    claims = {}
    for pid, solution in zip(part.instances.portfolio_ids, solutions, strict=True):
        problem = part.reference[pid].problem
        units = None
        if solution.quantities is not None:
            quantities = dict(zip(terms.security_ids, solution.quantities.tolist(), strict=True))
            units = in_problem_order(problem, quantities)
        elif solution.status is PolicyStatus.WITHIN_BANDS:
            units = problem.current
        claims[pid] = Claim(str(solution.status), units, solution.status is PolicyStatus.OK)
    return claims


def desk_solve_stage(large: Instances, parts: list[Part]) -> PolicyRow:
    """The desk policy's solve stage: throughput on the large model, answers on the sample."""
    terms, cases = policy_cases(large)
    solutions: list[PolicySolution] = []

    def solve_all() -> None:
        solutions[:] = solve_policy_batch(terms, cases, method=Method.AUTO, jobs=1)

    seconds = fastest_seconds(solve_all)
    decided_by = dict(Counter(path(s) for s in solutions))
    counts = Tally()
    for part in parts:
        part_terms, part_cases = policy_cases(part.instances)
        answers = solve_policy_batch(part_terms, part_cases, method=Method.AUTO, jobs=1)
        counts = counts.merged(tally(part.reference, _claims(part, part_terms, answers)))
    return PolicyRow(Row(counts, per_second=len(cases) / seconds), decided_by)


def withdrawal_one_at_a_time(parts: list[Part], method: Method) -> PolicyRow:
    """The desk policy plus the withdrawal, each sampled portfolio solved on its own."""
    counts, seconds, paths = Tally(), {}, {}
    for part in parts:
        terms, cases = policy_cases(part.instances, WITHDRAWAL)
        solutions = []
        for pid, case in zip(part.instances.portfolio_ids, cases, strict=True):
            started = time.perf_counter()
            (solution,) = solve_policy_batch(terms, [case], method=method, jobs=1)
            seconds[pid] = time.perf_counter() - started
            paths[pid] = path(solution)
            solutions.append(solution)
        counts = counts.merged(tally(part.reference, _claims(part, terms, solutions)))
    latencies = Latencies(tuple(seconds.values()))
    row = Row(counts, latencies.per_second, latencies, paths, seconds)
    return PolicyRow(row, dict(Counter(paths.values())))
