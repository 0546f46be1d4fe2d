"""Rows for the base problem (no policy): ordergen's methods and the two baselines.

Speed is measured on the large model; correctness on the scored sample, each part
(its own model) against the reference's answers for it.
"""

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import numpy as np

from benchmarks.baselines import BaselineAnswer, original_method, pyportfolioopt_lp
from benchmarks.end_to_end import compiled_environment, ordergen_command, timed
from benchmarks.instances import Instances
from benchmarks.latency import Latencies
from benchmarks.scoring import Claim, Referenced, Tally, after_orders, in_problem_order, tally
from ordergen.optimize.problem import Method, Solution, Status
from ordergen.optimize.solve import solve_batch
from ordergen.run.engine import RunOptions, rebalance

SOLVE_STAGE_REPEATS = 3
"""The solve stage is timed this many times and the fastest kept: other processes on
the machine only ever slow a run down."""


@dataclass(frozen=True)
class Part:
    """One part of the scored sample: its instances and the reference's answers."""

    instances: Instances
    reference: Mapping[str, Referenced]


def first(part: Part, count: int) -> Part:
    """The first `count` portfolios of `part`, with their reference answers."""
    inst = part.instances
    kept = inst.portfolio_ids[:count]
    return Part(
        replace(inst, portfolio_ids=kept, holdings=inst.holdings[:count],
                market_values=inst.market_values[:count]),
        {pid: part.reference[pid] for pid in kept},
    )  # fmt: skip


@dataclass(frozen=True)
class Row:
    """A method's figures: throughput where it was measured in bulk, per-portfolio
    latencies where each portfolio was solved on its own, and its correctness tally."""

    tally: Tally
    per_second: float | None = None
    latencies: Latencies | None = None
    paths: dict[str, str] | None = None
    """Of a one-at-a-time row, which path decided each portfolio, by id."""
    seconds: dict[str, float] | None = None
    """Of a one-at-a-time row, each portfolio's seconds, by id."""


def fastest_seconds(work: Callable[[], object], repeats: int = SOLVE_STAGE_REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def _claims_of_solutions(part: Part, solutions: list[Solution]) -> dict[str, Claim]:
    claims = {}
    ids = part.instances.terms.security_ids
    for pid, solution in zip(part.instances.portfolio_ids, solutions, strict=True):
        problem = part.reference[pid].problem
        units = None
        if solution.quantities is not None:
            units = in_problem_order(
                problem, dict(zip(ids, solution.quantities.tolist(), strict=True))
            )
        claims[pid] = Claim(str(solution.status), units, solution.status is Status.OK)
    return claims


def auto_solve_stage(large: Instances, parts: list[Part]) -> Row:
    """`solve_batch --method auto`: throughput on the large model, answers on the sample.

    The solve stage answers for the model's securities; a security held outside the
    model is sold to zero by the engine, so its answer counts as 0 shares here.
    """
    seconds = fastest_seconds(
        lambda: solve_batch(large.terms, large.market_values, method=Method.AUTO, jobs=1)
    )
    counts = Tally()
    for part in parts:
        solutions = solve_batch(part.instances.terms, part.instances.market_values, jobs=1)
        counts = counts.merged(tally(part.reference, _claims_of_solutions(part, solutions)))
    return Row(counts, per_second=len(large.market_values) / seconds)


def _claims_of_orders(
    part: Part, answers: Mapping[str, tuple[str, list[tuple[str, str, int]]]]
) -> dict[str, Claim]:
    """Claims from (status, orders) by portfolio id, as the engine or an orders file gives them."""
    claims = {}
    for pid, (status, orders) in answers.items():
        problem = part.reference[pid].problem
        units = after_orders(problem, orders) if status in ("ok", "within-bands") else None
        claims[pid] = Claim(status, units, status == "ok")
    return claims


def engine(large: Instances, parts: list[Part]) -> Row:
    """The engine in-process: market values, solve and result columns (exact)."""
    options = RunOptions(jobs=1)
    seconds = fastest_seconds(
        lambda: list(rebalance(large.model, large.holdings, large.prices, options))
    )
    counts = Tally()
    for part in parts:
        inst = part.instances
        answers = {
            result.portfolio_id: (
                result.status,
                [(o.security_id, o.side, o.quantity) for o in result.orders],
            )
            for result in rebalance(inst.model, inst.holdings, inst.prices, options)
            if result.portfolio_id in part.reference
        }
        counts = counts.merged(tally(part.reference, _claims_of_orders(part, answers)))
    return Row(counts, per_second=len(large.market_values) / seconds)


def orders_file(parts: list[Part], directory: Path) -> Row:
    """`ordergen rebalance` as a user runs it, each part's files in, its orders file read back."""
    counts = Tally()
    for number, part in enumerate(parts):
        output = directory / f"orders-{number}.json"
        run = timed(ordergen_command(part.instances.files, output), compiled_environment({}))
        if run.exit_code not in (0, 3):
            raise RuntimeError(f"ordergen rebalance exited {run.exit_code} on the sample")
        document = json.loads(output.read_text())
        answers = {
            item["portfolioId"]: (
                item["status"],
                [(o["securityId"], o["side"], o["quantity"]) for o in item.get("orders", [])],
            )
            for item in document["portfolios"]
            if item["portfolioId"] in part.reference
        }
        counts = counts.merged(tally(part.reference, _claims_of_orders(part, answers)))
    return Row(counts)


def one_at_a_time(parts: list[Part], method: Method) -> Row:
    """Each sampled portfolio solved on its own with `method`, timed wall-clock."""
    counts, seconds, paths = Tally(), {}, {}
    for part in parts:
        inst = part.instances
        solutions = []
        for pid, value in zip(inst.portfolio_ids, inst.market_values, strict=True):
            started = time.perf_counter()
            (solution,) = solve_batch(inst.terms, [value], method=method, jobs=1)
            seconds[pid] = time.perf_counter() - started
            paths[pid] = f"{solution.solver}: {solution.status}"
            solutions.append(solution)
        counts = counts.merged(tally(part.reference, _claims_of_solutions(part, solutions)))
    latencies = Latencies(tuple(seconds.values()))
    return Row(counts, latencies.per_second, latencies, paths, seconds)


def baseline(parts: list[Part], name: str) -> Row:
    """A baseline on every sampled portfolio, timed per call (imports are outside)."""
    counts, seconds = Tally(), []
    for part in parts:
        terms = part.instances.terms
        columns = [
            terms.floats(values)
            for values in (terms.targets, terms.low_drifts, terms.high_drifts, terms.prices)
        ]
        targets, lows, highs, prices = columns
        claims = {}
        for pid, value in zip(
            part.instances.portfolio_ids, part.instances.market_values, strict=True
        ):
            started = time.perf_counter()
            answer = _baseline_answer(name, terms.security_ids, targets, lows, highs, prices, value)
            seconds.append(time.perf_counter() - started)
            problem = part.reference[pid].problem
            units = (
                None
                if answer.units is None
                else in_problem_order(
                    problem, dict(zip(terms.security_ids, answer.units, strict=True))
                )
            )
            claims[pid] = _baseline_claim(name, answer, units)
        counts = counts.merged(tally(part.reference, claims))
    return Row(counts, latencies=Latencies(tuple(seconds)))


ORIGINAL, PYPORTFOLIOOPT = "original", "pyportfolioopt"


def _baseline_answer(
    name: str,
    ids: tuple[str, ...],
    targets: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    prices: np.ndarray,
    value: Decimal,
) -> BaselineAnswer:
    if name == ORIGINAL:
        return original_method(targets, lows, highs, prices, float(value))
    return pyportfolioopt_lp(ids, targets, prices, float(value))


def _baseline_claim(name: str, answer: BaselineAnswer, units: tuple[int, ...] | None) -> Claim:
    """The original reports CVXPY's status: "optimal" is its claim of an optimum, and an
    "infeasible" relaxation its verdict of infeasibility. PyPortfolioOpt reports no
    verdict and claims nothing about the bands it is never told."""
    if name == ORIGINAL:
        optimal = answer.status == "optimal"
        verdict = "ok" if optimal else "infeasible" if answer.status == "infeasible" else None
        return Claim(verdict, units, optimal)
    return Claim(None, units, None)
