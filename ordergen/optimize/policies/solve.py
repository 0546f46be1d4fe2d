"""Solving a batch of portfolios of one model under their policies.

Per chunk of portfolios: the exact rules, the screening (trigger, infeasibility),
each security's own best choice (certified when it meets the cash floor), then
for the other rows the exact knapsack solver (`knapsack`), and the MILP (HiGHS)
where the knapsack's bounded effort does not settle a portfolio; with `Method.MILP`,
the MILP for every screened row. A
portfolio with the default policy and no cash need is the base problem exactly,
so `solve_policy_batch` sends it to the existing solver: its answer does not
change by a byte.
"""

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ordergen.optimize.policies.fastpath import best_per_security
from ordergen.optimize.policies.knapsack import knapsack_answer
from ordergen.optimize.policies.problem import (
    PolicySolution,
    PolicyStatus,
    PolicyTerms,
    PortfolioCase,
    RowAnswer,
    SolvedBy,
)
from ordergen.optimize.policies.rows import row_columns, row_problem
from ordergen.optimize.policies.rules import ExactRules, build_rules
from ordergen.optimize.policies.screen import SOLVE, WITHIN_BANDS, Screening, screen
from ordergen.optimize.policies.units import row_sums, unscaled
from ordergen.optimize.problem import Method, Solution, Status
from ordergen.optimize.solve import in_parts
from ordergen.optimize.solve import solve_batch as solve_without_policy

if TYPE_CHECKING:
    from ordergen.optimize.policies.milp import PolicyMilp

CHUNK_ROWS = 1000
"""Portfolios per vectorised chunk: enough to amortise numpy, few enough to stay in cache."""

_solvers: dict[tuple[int, float], "PolicyMilp"] = {}


def _milp(size: int, time_limit: float) -> "PolicyMilp":
    """One compiled problem per security count and time limit, per process.

    CVXPY is imported only here: most batches are certified without it.
    """
    from ordergen.optimize.policies.milp import PolicyMilp

    key = (size, time_limit)
    if key not in _solvers:
        _solvers[key] = PolicyMilp(size, time_limit)
    return _solvers[key]


def _solve_rows(problems: list[ExactRules], method: Method, time_limit: float) -> list[RowAnswer]:
    """Each row's exact answer: with `Method.AUTO` the knapsack's, HiGHS's where the
    knapsack gives up (`knapsack.effort`); with `Method.MILP` HiGHS's. Each portfolio
    gets `time_limit` seconds in all."""
    answers = []
    for problem in problems:
        started = time.perf_counter()
        deadline = started + time_limit
        answer = None
        if method is Method.AUTO:
            answer = knapsack_answer(problem, traded_counts=True, deadline=deadline)
        if answer is None:
            answer = _highs_answer(problem, time_limit, deadline, started)
        answers.append(answer)
    return answers


def _highs_answer(
    problem: ExactRules, time_limit: float, deadline: float, started: float
) -> RowAnswer:
    try:
        return _milp(problem.price.shape[0], time_limit).solve(problem, deadline)
    except Exception as exc:  # any solver failure is this portfolio's error, not the batch's
        message = f"solver failed: {type(exc).__name__}: {exc}"
        return RowAnswer(None, 0, 0, message, time.perf_counter() - started)


def _run_exact(
    problems: list[ExactRules], method: Method, jobs: int, time_limit: float
) -> list[RowAnswer]:
    return in_parts(
        _solve_rows, len(problems), jobs, lambda part: (problems[part], method, time_limit)
    )


def _solution(
    rules: ExactRules,
    row: int,
    status: PolicyStatus,
    solver: SolvedBy,
    seconds: float,
    *,
    message: str = "",
    units: np.ndarray | None = None,
    objective: int = 0,
    traded: int = 0,
) -> PolicySolution:
    scale = rules.scale
    after_need = rules.market_after_need[row]
    solved = units is not None
    return PolicySolution(
        status=status,
        quantities=units,
        objective=unscaled(objective, scale) if solved else None,
        traded_value=unscaled(traded, scale) if solved else None,
        message=message,
        solver=solver,
        seconds=seconds,
        market_value_after_need=unscaled(after_need, scale),
        cash_floor=None if after_need < 0 else unscaled(rules.budget[row], scale),
    )


def _screened(rules: ExactRules, screening: Screening, row: int, seconds: float) -> PolicySolution:
    within = screening.verdict[row] == WITHIN_BANDS
    status = PolicyStatus.WITHIN_BANDS if within else PolicyStatus.INFEASIBLE
    return _solution(rules, row, status, SolvedBy.SCREEN, seconds, message=screening.messages[row])


def _solve_chunk(
    terms: PolicyTerms,
    cases: Sequence[PortfolioCase],
    method: Method,
    jobs: int,
    time_limit: float,
) -> list[PolicySolution]:
    started = time.perf_counter()
    rules = build_rules(terms, cases)
    screening = screen(rules, terms, cases)
    solve_rows = np.nonzero(screening.verdict == SOLVE)[0].tolist()
    choice = best_per_security(rules.select(solve_rows)) if solve_rows else None
    # The vectorised work is shared: each portfolio is charged an equal part of it.
    seconds = (time.perf_counter() - started) / max(len(cases), 1)

    solutions: list[PolicySolution | None] = [
        None if verdict == SOLVE else _screened(rules, screening, row, seconds)
        for row, verdict in enumerate(screening.verdict.tolist())
    ]
    milp_problems: dict[int, ExactRules] = {}
    if choice is not None:
        objectives, traded = row_sums(choice.term), row_sums(choice.traded)
        for index, row in enumerate(solve_rows):
            if method is Method.AUTO and choice.certified[index]:
                solutions[row] = _solution(
                    rules,
                    row,
                    PolicyStatus.OK,
                    SolvedBy.FAST,
                    seconds,
                    units=np.asarray(choice.units[index], dtype=np.int64),
                    objective=objectives[index],
                    traded=traded[index],
                )
            else:
                least = screening.least[row]
                milp_problems[row] = row_problem(rules, row, least, choice.units[index])

    # Only now is CVXPY imported, and only if some portfolio needs HiGHS.
    problems = list(milp_problems.values())
    answers = _run_exact(problems, method, jobs, time_limit) if problems else []
    for row, answer in zip(milp_problems, answers, strict=True):
        if answer.units is None:
            solutions[row] = _solution(
                rules,
                row,
                PolicyStatus.ERROR,
                answer.solver,
                answer.seconds,
                message=answer.message,
            )
            continue
        units = np.zeros(terms.size, dtype=np.int64)
        units[row_columns(rules, row)] = answer.units
        solutions[row] = _solution(
            rules,
            row,
            PolicyStatus.OK,
            answer.solver,
            answer.seconds,
            units=units,
            objective=answer.objective,
            traded=answer.traded,
        )
    return [solution for solution in solutions if solution is not None]


def solve_policy_cases(
    terms: PolicyTerms,
    cases: Sequence[PortfolioCase],
    *,
    method: Method = Method.AUTO,
    jobs: int = 1,
    time_limit: float = 30.0,
    chunk_rows: int = CHUNK_ROWS,
) -> list[PolicySolution]:
    """The policy problem of every case, default policies included; one solution each."""
    solutions: list[PolicySolution] = []
    for start in range(0, len(cases), chunk_rows):
        chunk = cases[start : start + chunk_rows]
        solutions += _solve_chunk(terms, chunk, method, jobs, time_limit)
    return solutions


def _is_base_problem(case: PortfolioCase) -> bool:
    return case.policy.is_default and case.cash_need == 0


def solve_policy_batch(
    terms: PolicyTerms,
    cases: Sequence[PortfolioCase],
    *,
    method: Method = Method.AUTO,
    jobs: int = 1,
    time_limit: float = 30.0,
) -> list[PolicySolution]:
    """One `PolicySolution` per case, in order. Never raises for a single portfolio.

    Cases with the default policy and no cash need are the base problem, so they go to
    the existing solver (`ordergen.optimize.solve.solve_batch`) and their answers are
    exactly today's; the others get the policy maths (`solve_policy_cases`).
    """
    base = [row for row, case in enumerate(cases) if _is_base_problem(case)]
    policy = [row for row, case in enumerate(cases) if not _is_base_problem(case)]
    solutions: dict[int, PolicySolution] = {}
    if policy:
        answers = solve_policy_cases(
            terms, [cases[row] for row in policy], method=method, jobs=jobs, time_limit=time_limit
        )
        solutions.update(zip(policy, answers, strict=True))
    if base:
        base_cases = [cases[row] for row in base]
        existing = solve_without_policy(
            terms.model,
            [case.market_value for case in base_cases],
            method=method,
            jobs=jobs,
            time_limit=time_limit,
        )
        for start in range(0, len(base), CHUNK_ROWS):
            rules = build_rules(terms, base_cases[start : start + CHUNK_ROWS])
            answers = _from_existing(rules, terms, existing[start : start + CHUNK_ROWS])
            solutions.update(zip(base[start : start + CHUNK_ROWS], answers, strict=True))
    return [solutions[row] for row in range(len(cases))]


def _from_existing(
    rules: ExactRules, terms: PolicyTerms, existing: Sequence[Solution]
) -> list[PolicySolution]:
    """The existing solver's answers as policy solutions, objective and traded value exact.

    Held securities outside the model are sold to zero, as the base problem says.
    """
    units = np.zeros((len(existing), terms.size), dtype=np.int64)
    for row, answer in enumerate(existing):
        if answer.quantities is not None:
            units[row, : terms.model.size] = answer.quantities
    exact = units.astype(object) if rules.dtype is object else units
    term, traded = rules.evaluate(exact)
    objectives, traded_values = row_sums(term), row_sums(traded)
    solutions = []
    for row, answer in enumerate(existing):
        solver = SolvedBy(answer.solver)
        if answer.status is Status.OK and answer.quantities is not None:
            solutions.append(
                _solution(
                    rules,
                    row,
                    PolicyStatus.OK,
                    solver,
                    answer.seconds,
                    units=units[row],
                    objective=objectives[row],
                    traded=traded_values[row],
                )
            )
            continue
        status = PolicyStatus(answer.status.value)
        if status is PolicyStatus.INFEASIBLE:
            solver = SolvedBy.SCREEN
        solutions.append(
            _solution(rules, row, status, solver, answer.seconds, message=answer.message)
        )
    return solutions
