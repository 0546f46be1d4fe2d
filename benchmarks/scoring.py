"""The correctness columns: each method's answers measured against the independent reference.

Every answer is re-scored exactly (`benchmarks.reference.score`): band-breaking,
overspending and other broken rules are facts about the answer alone; a wrong verdict,
a worse answer and a false "optimal" compare it with the reference's exact optimum.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

from joblib import Parallel, delayed

from benchmarks.reference import (
    NO_POLICY,
    Answer,
    Problem,
    Score,
    floor_binds,
    problems,
    score,
    solve,
)
from ordergen.demo import DemoData


@dataclass(frozen=True)
class Claim:
    """What a method answered for one portfolio.

    `verdict` is the status it reports (`ok`, `infeasible`, `within-bands`, `error`), or
    None for a method that reports none. `optimal` says whether it claims optimality:
    None for a method that makes no such claim, so its false "optimal" column reads n/a.
    """

    verdict: str | None
    units: tuple[int, ...] | None
    optimal: bool | None


@dataclass
class Tally:
    """Counts over a sample; `false_optimal` is None (n/a) for methods that claim nothing."""

    sample: int = 0
    infeasible: int = 0
    """Portfolios of the sample that the reference finds infeasible."""
    binding: int = 0
    """Portfolios whose optimum the cash floor changes, by the reference."""
    band_breaking: int = 0
    overspending: int = 0
    rule_breaking: int = 0
    """Answers breaking a direction, restriction or minimum-trade rule."""
    wrong_verdict: int = 0
    worse: int = 0
    """Answers that keep every rule but rank worse than the reference's optimum
    (objective, then traded value under a policy)."""
    false_optimal: int | None = 0
    no_answer: int = 0
    reference_failures: int = 0
    """Portfolios where the reference found no answer, or one worse than a method's answer
    that keeps every rule: they are left out of the comparisons."""

    def add(self, problem: Problem, reference: Answer, binds: bool, claim: Claim) -> None:
        self.sample += 1
        self.infeasible += reference.status == "infeasible"
        self.binding += binds
        if claim.optimal is None:
            self.false_optimal = None
        if claim.units is None:
            self.no_answer += claim.verdict is None or claim.verdict == "error"
        found = None if claim.units is None else score(problem, claim.units)
        if found is not None:
            self.band_breaking += found.outside_band > 0
            self.overspending += found.overspent
            self.rule_breaking += found.other_rules_broken > 0
        if reference.status not in ("ok", "infeasible", "within-bands"):
            self.reference_failures += 1
            return
        worse = False
        # Only an answer that keeps every rule is ranked: one that breaks a rule is
        # counted in its own columns, and may "beat" the optimum by breaking it.
        if found is not None and not found.breaks_a_rule and reference.score is not None:
            ours, best = _ranked(problem, found), _ranked(problem, reference.score)
            if ours < best:
                self.reference_failures += 1
                return
            worse = ours > best
        self.worse += worse
        wrong = claim.verdict is not None and claim.verdict != reference.status
        self.wrong_verdict += wrong
        if claim.optimal and self.false_optimal is not None:
            breaks = found is None or found.breaks_a_rule
            self.false_optimal += breaks or worse or reference.status != "ok"

    def merged(self, other: "Tally") -> "Tally":
        values = {}
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            values[item.name] = None if mine is None or theirs is None else mine + theirs
        return Tally(**values)


def _ranked(problem: Problem, found: Score) -> tuple[Fraction, ...]:
    """How answers compare: by objective, and under a policy then by traded value."""
    return (found.objective,) if problem.rules == NO_POLICY else found.rank


def in_problem_order(problem: Problem, quantities: Mapping[str, int]) -> tuple[int, ...]:
    """Whole shares by security id, in the problem's order (absent ids hold 0)."""
    return tuple(quantities.get(sid, 0) for sid in problem.security_ids)


def after_orders(problem: Problem, orders: Sequence[tuple[str, str, int]]) -> tuple[int, ...]:
    """The holdings a portfolio ends with: its current shares plus (security, side,
    quantity) orders."""
    units = dict(zip(problem.security_ids, problem.current, strict=True))
    for security_id, side, quantity in orders:
        if security_id not in units:
            raise ValueError(f"an order for {security_id}, which the portfolio can not trade")
        units[security_id] += quantity if side == "BUY" else -quantity
    return in_problem_order(problem, units)


@dataclass(frozen=True)
class Referenced:
    """One portfolio of a sample with the reference's answer."""

    portfolio_id: str
    problem: Problem
    answer: Answer
    binds: bool


def referenced(
    data: DemoData,
    policy: Mapping[str, Any] | None = None,
    withdrawal: Fraction = Fraction(0),
    jobs: int = 2,
) -> dict[str, Referenced]:
    """The reference's answer for each portfolio of `data` with balances, by id."""
    found = list(problems(data.model, data.summaries, data.prices, policy, withdrawal))
    answers = Parallel(n_jobs=jobs)(delayed(_reference)(problem) for _, problem in found)
    return {
        pid: Referenced(pid, problem, answer, binds)
        for (pid, problem), (answer, binds) in zip(found, answers, strict=True)
    }


def _reference(problem: Problem) -> tuple[Answer, bool]:
    answer = solve(problem)
    return answer, answer.status == "ok" and floor_binds(problem, answer)


def tally(sample: Mapping[str, Referenced], claims: Mapping[str, Claim]) -> Tally:
    """The counts of `claims` (by portfolio id) over every portfolio of `sample`."""
    counts = Tally()
    for pid, item in sample.items():
        counts.add(item.problem, item.answer, item.binds, claims[pid])
    return counts
