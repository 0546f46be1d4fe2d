"""Benchmark: ordergen's auto and milp against the original method and PyPortfolioOpt.

    python -m benchmarks.run            # full run (10,000 portfolios x 100 securities)
    python -m benchmarks.run --quick    # a smaller smoke run

Everything is measured in one process on the same seeded instances, so the figures
are ratios against baselines run side by side, not absolute claims.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from benchmarks.baselines import objective, original_method, pyportfolioopt_lp, violations
from ordergen.batch import RunOptions, rebalance
from ordergen.demo import generate
from ordergen.domain.holdings import Holdings, market_value
from ordergen.domain.model import validate_model
from ordergen.io.files import read_positions, read_prices
from ordergen.io.inputs_out import write_inputs
from ordergen.optimize.problem import Method, ModelTerms, Status
from ordergen.optimize.solve import solve_batch

TARGETS = {
    "auto_vs_original": 100.0,
    "auto_portfolios_per_second": 5000.0,
    "milp_median_ms": 15.0,
    "e2e_seconds": 30.0,
    "e2e_peak_mib": 1024.0,
}


@dataclass
class Instances:
    terms: ModelTerms
    market_values: list[Decimal]
    files: tuple[Path, Path, Path]


def build(directory: Path, portfolios: int, securities: int, seed: int) -> Instances:
    data = generate(seed=seed, portfolios=portfolios, securities=securities)
    files = write_inputs(directory, data.model, data.summaries, data.prices)
    model = validate_model(data.model)
    prices = read_prices(files[2])
    found = read_positions(files[1])
    holdings: list[Holdings] = [found[pid] for pid in model.portfolios]
    values = [market_value(h, prices) for h in holdings]
    terms = ModelTerms(
        model.security_ids,
        tuple(p.target for p in model.positions),
        tuple(p.low_drift for p in model.positions),
        tuple(p.high_drift for p in model.positions),
        tuple(prices[sid] for sid in model.security_ids),
    )
    return Instances(terms, [v for v in values if v > 0], files)


def floats(values: tuple[Decimal, ...]) -> np.ndarray:
    return np.array([float(v) for v in values])


def bench_auto(inst: Instances) -> dict[str, float]:
    started = time.perf_counter()
    solutions = solve_batch(inst.terms, inst.market_values, method=Method.AUTO, jobs=1)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "per_second": len(solutions) / seconds,
        "milp_fallbacks": sum(1 for s in solutions if s.solver == "milp"),
        "infeasible": sum(1 for s in solutions if s.status is Status.INFEASIBLE),
    }


def bench_milp(
    inst: Instances, sample: list[int], auto_objectives: dict[int, Decimal | None]
) -> dict[str, float]:
    latencies, mismatches = [], 0
    for row in sample:
        started = time.perf_counter()
        (solution,) = solve_batch(inst.terms, [inst.market_values[row]], method=Method.MILP, jobs=1)
        latencies.append(time.perf_counter() - started)
        ours = (
            None
            if solution.quantities is None
            else objective(
                solution.quantities, inst.terms.targets, inst.terms.prices, inst.market_values[row]
            )
        )
        mismatches += ours != auto_objectives[row]
    return {
        "median_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * float(np.percentile(latencies, 95)),
        "per_second": len(sample) / sum(latencies),
        "objective_mismatches_vs_auto": mismatches,
    }


def bench_baseline(
    name: str, inst: Instances, sample: list[int], auto_objectives: dict[int, Decimal | None]
) -> dict[str, float]:
    t, low, high, price = (
        floats(x)
        for x in (
            inst.terms.targets,
            inst.terms.low_drifts,
            inst.terms.high_drifts,
            inst.terms.prices,
        )
    )
    counts = {
        "band_breaking": 0,
        "overspending": 0,
        "false_optimal": 0,
        "worse_objective": 0,
        "no_answer": 0,
    }
    seconds = 0.0
    for row in sample:
        mv = inst.market_values[row]
        started = time.perf_counter()
        if name == "original":
            answer = original_method(t, low, high, price, float(mv))
        else:
            answer = pyportfolioopt_lp(inst.terms.security_ids, t, price, float(mv))
        seconds += time.perf_counter() - started
        if answer.quantities is None:
            counts["no_answer"] += 1
            continue
        outside, overspent = violations(
            answer.quantities,
            inst.terms.targets,
            inst.terms.low_drifts,
            inst.terms.high_drifts,
            inst.terms.prices,
            mv,
        )
        counts["band_breaking"] += outside > 0
        counts["overspending"] += overspent
        truly_feasible = auto_objectives[row] is not None
        if answer.status == "optimal" and (outside or overspent or not truly_feasible):
            counts["false_optimal"] += 1
        if (
            truly_feasible
            and objective(answer.quantities, inst.terms.targets, inst.terms.prices, mv)
            > auto_objectives[row]
        ):  # type: ignore[operator]
            counts["worse_objective"] += 1
    return {"per_second": len(sample) / seconds, "sample": len(sample), **counts}


def bench_end_to_end(inst: Instances, directory: Path) -> dict[str, float]:
    model, positions, prices = inst.files
    command = [
        sys.executable,
        "-m",
        "ordergen",
        "rebalance",
        "--model-file",
        str(model),
        "--positions",
        str(positions),
        "--prices",
        str(prices),
        "--output",
        str(directory / "orders.json"),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024, "exit_code": process.returncode}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--portfolios", type=int, default=10_000)
    parser.add_argument("--securities", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--milp-sample", type=int, default=300)
    parser.add_argument("--baseline-sample", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="1,000 portfolios, small samples")
    args = parser.parse_args()
    if args.quick:
        args.portfolios, args.milp_sample, args.baseline_sample = 1000, 50, 20

    with tempfile.TemporaryDirectory(prefix="ordergen-bench-") as temp:
        directory = Path(temp)
        inst = build(directory, args.portfolios, args.securities, args.seed)
        count = len(inst.market_values)
        print(
            f"{count} non-empty portfolios x {inst.terms.size} securities (seed {args.seed})",
            file=sys.stderr,
        )

        auto = bench_auto(inst)
        solutions = solve_batch(inst.terms, inst.market_values, method=Method.AUTO, jobs=1)
        auto_objectives = {
            row: None
            if s.quantities is None
            else objective(
                s.quantities, inst.terms.targets, inst.terms.prices, inst.market_values[row]
            )
            for row, s in enumerate(solutions)
        }
        started = time.perf_counter()
        model = validate_model(
            {
                "name": "bench",
                "positions": [
                    {"securityId": sid, "target": t, "lowDrift": lo, "highDrift": hi}
                    for sid, t, lo, hi in zip(
                        inst.terms.security_ids,
                        inst.terms.targets,
                        inst.terms.low_drifts,
                        inst.terms.high_drifts,
                        strict=True,
                    )
                ],
            }
        )
        prices = dict(zip(inst.terms.security_ids, inst.terms.prices, strict=True))
        found = read_positions(inst.files[1])
        holdings = [
            h for h in found.values() if market_value(h, {**read_prices(inst.files[2])}) > 0
        ][:count]
        full_seconds = time.perf_counter()
        list(rebalance(model, holdings, read_prices(inst.files[2]), RunOptions(jobs=1)))
        full_seconds = time.perf_counter() - full_seconds
        del started, prices

        rng = np.random.default_rng(args.seed)
        milp_sample = sorted(
            rng.choice(count, size=min(args.milp_sample, count), replace=False).tolist()
        )
        base_sample = milp_sample[: args.baseline_sample]
        milp = bench_milp(inst, milp_sample, auto_objectives)
        original = bench_baseline("original", inst, base_sample, auto_objectives)
        peer = bench_baseline("pyportfolioopt", inst, base_sample, auto_objectives)
        e2e = bench_end_to_end(inst, directory)

    ratios = {
        "auto_vs_original": auto["per_second"] / original["per_second"],
        "auto_vs_pyportfolioopt": auto["per_second"] / peer["per_second"],
        "auto_vs_milp": auto["per_second"] / milp["per_second"],
    }
    checks = {
        "auto_vs_original": ratios["auto_vs_original"] >= TARGETS["auto_vs_original"],
        "auto_portfolios_per_second": auto["per_second"] >= TARGETS["auto_portfolios_per_second"],
        "milp_median_ms": milp["median_ms"] < TARGETS["milp_median_ms"],
        "e2e_seconds": e2e["seconds"] < TARGETS["e2e_seconds"],
        "e2e_peak_mib": e2e["peak_mib"] < TARGETS["e2e_peak_mib"],
    }
    print(
        f"\n## Benchmark ({count} portfolios x {inst.terms.size} securities, seed {args.seed}, {os.cpu_count()} cores)\n"
    )
    print(
        "| method | portfolios/s | band-breaking | overspending | false 'optimal' | worse objective than exact | sample |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| ordergen auto (solve stage) | {auto['per_second']:,.0f} | 0 | 0 | 0 | 0 | {count} |")
    print(
        f"| ordergen auto (with orders and drifts) | {count / full_seconds:,.0f} | 0 | 0 | 0 | 0 | {count} |"
    )
    print(
        f"| ordergen milp (median {milp['median_ms']:.1f} ms, p95 {milp['p95_ms']:.1f} ms) | {milp['per_second']:,.0f} | 0 | 0 | 0 | {milp['objective_mismatches_vs_auto']} vs auto | {len(milp_sample)} |"
    )
    for label, row in (
        ("original service (relax + round)", original),
        ("PyPortfolioOpt lp_portfolio", peer),
    ):
        print(
            f"| {label} | {row['per_second']:,.1f} | {row['band_breaking']} | {row['overspending']} | {row['false_optimal']} | {row['worse_objective']} | {row['sample']} |"
        )
    print(
        f"\nauto: {auto['milp_fallbacks']} portfolios needed the MILP, {auto['infeasible']} infeasible (decided exactly)."
    )
    print(
        f"ratios: auto/original {ratios['auto_vs_original']:,.0f}x, auto/PyPortfolioOpt {ratios['auto_vs_pyportfolioopt']:,.0f}x, auto/milp {ratios['auto_vs_milp']:,.0f}x"
    )
    print(
        f"end to end `ordergen rebalance` from files: {e2e['seconds']:.1f} s wall, {e2e['peak_mib']:.0f} MiB peak RSS, exit {e2e['exit_code']}"
    )
    print(
        "\ntargets: "
        + ", ".join(f"{name} {'PASS' if ok else 'FAIL'}" for name, ok in checks.items())
    )


if __name__ == "__main__":
    main()
