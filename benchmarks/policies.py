"""Benchmark rows for rebalancing policies (docs/policies.md), on run.py's instances.

- The solve stage under the demo's desk policy: portfolios/s of `solve_policy_batch`
  with `--method auto`, and which path decided each portfolio.
- The MILP where the cash floor binds: the same policy with a withdrawal, so that the
  per-security choices of most portfolios spend more than the floor allows and the
  MILP, with its minimum-trade and per-order binaries, must decide them.

Every answer is checked exactly against its bands and its cash floor.
"""

import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.baselines import violations
from ordergen.demo import DESK_POLICY
from ordergen.domain.policy import parse_policy
from ordergen.optimize.policies import (
    PolicySolution,
    PolicyStatus,
    PolicyTerms,
    PortfolioCase,
    SolvedBy,
    solve_policy_batch,
)
from ordergen.optimize.problem import Method

if TYPE_CHECKING:
    from benchmarks.run import Instances

DESK = parse_policy(DESK_POLICY)
WITHDRAWAL = Decimal("0.1")
"""Cash need as a share of market value in the floor-binding cases. The bands follow
MV' = MV - cashNeed while the holdings do not, so a 10% withdrawal leaves most
portfolios' per-security choices above the cash floor (a 1% reserve alone binds in
about 0.3% of portfolios)."""
BATCH_REPEATS = 3
"""The solve stage is timed this many times and the fastest kept: other processes on
the machine only ever slow a run down. The first run also compiles the MILP."""
CENT = Decimal("0.01")

PATHS = {
    (SolvedBy.SCREEN, PolicyStatus.WITHIN_BANDS): "screen: within bands",
    (SolvedBy.SCREEN, PolicyStatus.INFEASIBLE): "screen: infeasible",
    (SolvedBy.FAST, PolicyStatus.OK): "fast path: certified",
    (SolvedBy.MILP, PolicyStatus.OK): "milp",
    (SolvedBy.MILP, PolicyStatus.ERROR): "milp: error",
}


@dataclass(frozen=True)
class Checked:
    """Exact checks of the answers with quantities: bands are enforced for every security
    (the desk policy trades in full mode with no restrictions) and the cash floor."""

    answers: int = 0
    band_breaking: int = 0
    overspending: int = 0
    rule_breaking: int = 0

    @classmethod
    def of(cls, terms: PolicyTerms, solutions: Sequence[PolicySolution]) -> "Checked":
        answers = band_breaking = overspending = rule_breaking = 0
        for solution in solutions:
            if solution.quantities is None or solution.cash_floor is None:
                continue
            outside, overspent = violations(
                solution.quantities,
                terms.targets,
                terms.low_drifts,
                terms.high_drifts,
                terms.prices,
                solution.market_value_after_need,
                cash_floor=solution.cash_floor,
            )
            answers += 1
            band_breaking += outside > 0
            overspending += overspent
            rule_breaking += outside > 0 or overspent
        return cls(answers, band_breaking, overspending, rule_breaking)


@dataclass(frozen=True)
class BatchFigures:
    """The solve stage under the desk policy."""

    portfolios: int
    per_second: float
    first_per_second: float
    decided_by: dict[str, int]
    milp_median_ms: float
    milp_share_of_time: float
    """Of the last run's time, the part its MILP portfolios took."""
    checked: Checked


@dataclass(frozen=True)
class FloorBindingFigures:
    """Portfolios of the sample whose per-security choices broke the cash floor."""

    sample: int
    latencies: list[float]
    left_under_floor: list[Decimal]
    errors: int
    checked: Checked

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p90_ms(self) -> float:
        return 1000 * float(np.percentile(self.latencies, 90)) if self.latencies else float("nan")

    @property
    def per_second(self) -> float:
        return len(self.latencies) / sum(self.latencies) if self.latencies else 0.0


def policy_cases(
    inst: "Instances", withdrawal: Decimal = Decimal(0)
) -> tuple[PolicyTerms, list[PortfolioCase]]:
    """Every instance under the desk policy, with a cash need of `withdrawal` x MV."""
    held_prices = {
        sid: inst.prices[sid]
        for holdings in inst.holdings
        for sid, units in holdings.quantities.items()
        if units
    }
    terms = PolicyTerms.build(inst.terms, held_prices)
    cases = [
        PortfolioCase(
            value,
            terms.quantities(holdings.quantities),
            DESK,
            (value * withdrawal).quantize(CENT),
        )
        for holdings, value in zip(inst.holdings, inst.market_values, strict=True)
    ]
    return terms, cases


def bench_policy_batch(inst: "Instances") -> BatchFigures:
    terms, cases = policy_cases(inst)
    runs = []
    for _ in range(BATCH_REPEATS):
        started = time.perf_counter()
        solutions = solve_policy_batch(terms, cases, method=Method.AUTO, jobs=1)
        runs.append(time.perf_counter() - started)
    milp_seconds = [s.seconds for s in solutions if s.solver is SolvedBy.MILP]
    return BatchFigures(
        portfolios=len(cases),
        per_second=len(cases) / min(runs),
        first_per_second=len(cases) / runs[0],
        decided_by=dict(Counter(PATHS[s.solver, s.status] for s in solutions)),
        milp_median_ms=1000 * statistics.median(milp_seconds) if milp_seconds else float("nan"),
        milp_share_of_time=sum(milp_seconds) / runs[-1],
        checked=Checked.of(terms, solutions),
    )


def bench_floor_binding(inst: "Instances", sample: list[int]) -> FloorBindingFigures:
    """Each sampled portfolio with the withdrawal, solved on its own (`auto`), timed wall-clock.

    `auto` sends a portfolio to the MILP exactly when its per-security choices spend more
    than the cash floor, so the MILP rows are those where the floor binds; how close their
    answers come to it is reported beside them.
    """
    terms, cases = policy_cases(inst, WITHDRAWAL)
    latencies, left, errors, answered = [], [], 0, []
    for row in sample:
        started = time.perf_counter()
        (solution,) = solve_policy_batch(terms, [cases[row]], method=Method.AUTO, jobs=1)
        seconds = time.perf_counter() - started
        if solution.solver is not SolvedBy.MILP:
            continue
        latencies.append(seconds)
        if solution.quantities is None or solution.cash_floor is None:
            errors += 1
            continue
        units = solution.quantities.tolist()
        spend = sum((u * p for u, p in zip(units, terms.prices, strict=True)), Decimal(0))
        left.append(solution.cash_floor - spend)
        answered.append(solution)
    checked = Checked.of(terms, answered)
    return FloorBindingFigures(len(sample), latencies, left, errors, checked)


def table_rows(batch: BatchFigures, binding: FloorBindingFigures) -> list[tuple[object, ...]]:
    """Rows of run.py's table: method, portfolios/s, band-breaking, overspending,
    false 'optimal', worse objective than exact (these are the exact answers), sample."""
    return [
        (
            f"ordergen auto, desk policy (solve stage, fastest of {BATCH_REPEATS})",
            f"{batch.per_second:,.0f}",
            batch.checked.band_breaking,
            batch.checked.overspending,
            batch.checked.rule_breaking,
            "exact",
            batch.portfolios,
        ),
        (
            f"ordergen auto, desk policy + {WITHDRAWAL:.0%} withdrawal, cash floor binding: MILP "
            f"(median {binding.median_ms:.1f} ms, p90 {binding.p90_ms:.1f} ms)",
            f"{binding.per_second:,.0f}",
            binding.checked.band_breaking,
            binding.checked.overspending,
            binding.checked.rule_breaking,
            "exact",
            len(binding.latencies),
        ),
    ]


def notes(
    batch: BatchFigures, binding: FloorBindingFigures, baselines: dict[str, float]
) -> list[str]:
    """What decided the portfolios, the ratios over `baselines` (name: portfolios/s) and
    how tightly the floor binds."""
    shares = ", ".join(
        f"{path} {batch.decided_by[path]} ({batch.decided_by[path] / batch.portfolios:.1%})"
        for path in PATHS.values()
        if path in batch.decided_by
    )
    ratios = ", ".join(
        f"{name} {batch.per_second / rate:,.0f}x" for name, rate in baselines.items()
    )
    left = (
        f"they spend to within ${statistics.median(binding.left_under_floor):,.2f} (median), "
        f"${max(binding.left_under_floor):,.2f} (max) of the floor"
        if binding.left_under_floor
        else "none was answered"
    )
    return [
        f"desk policy, decided by: {shares}; its MILP portfolios took "
        f"{batch.milp_median_ms:.1f} ms (median), {batch.milp_share_of_time:.0%} of the stage's "
        f"time; first run (MILP compiled) {batch.first_per_second:,.0f} portfolios/s.",
        f"ratios (desk policy solve stage over): {ratios}",
        f"cash floor binding: {len(binding.latencies)} of {binding.sample} sampled portfolios "
        f"went to the MILP, {binding.errors} in error; {left}.",
    ]
