"""Benchmark: ordergen against the original method and PyPortfolioOpt, scored exactly.

    python -m benchmarks.run            # full run; writes benchmarks/results/latest.{md,json}
    python -m benchmarks.run --quick    # a smaller smoke run; prints, writes nothing

Every figure is measured in this run, every method on the same instances, and every
answer is scored against an independent exact reference (`benchmarks.reference`).
Targets are ratios against the baselines run beside ordergen in the same run.
"""

import argparse
import gc
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import approval_send, base_rows, policies, report_size, results
from benchmarks.base_rows import ORIGINAL, PYPORTFOLIOOPT, Part
from benchmarks.end_to_end import (
    compiled_environment,
    fastest,
    ordergen_command,
    original_command,
    peak_memory,
    timed,
)
from benchmarks.exhaustive_check import check
from benchmarks.instances import build, drawn, floor_binding, load
from benchmarks.scoring import referenced
from ordergen.demo import DESK_POLICY
from ordergen.optimize.problem import Method

# End-to-end runs: the settings each row's runs get. A Job's stderr is not a terminal, so
# INFO gives a JSON line per portfolio. JOBS=1 keeps the run in one process (the default
# uses every core: a second process solves the second half of the portfolios).
E2E_SETTINGS = {
    "default: a JSON log line per portfolio": {"LOG_LEVEL": "INFO"},
    "LOG_LEVEL=WARNING": {"LOG_LEVEL": "WARNING"},
    "a JSON log line per portfolio, JOBS=1": {"LOG_LEVEL": "INFO", "JOBS": "1"},
}
E2E_ORDERS = "orders-e2e.json"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--portfolios", type=int, default=10_000)
    parser.add_argument("--securities", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--drawn-sample", type=int, default=800, help="enough for 300 floor-binding under a policy"
    )
    parser.add_argument("--baseline-drawn-sample", type=int, default=300)
    parser.add_argument("--floor-sample", type=int, default=300)
    parser.add_argument("--baseline-floor-sample", type=int, default=150)
    parser.add_argument("--exhaustive-per-policy", type=int, default=60)
    parser.add_argument("--approval-portfolios", type=int, default=1000)
    parser.add_argument("--e2e-repeats", type=int, default=3, help="end-to-end runs per row")
    parser.add_argument("--quick", action="store_true", help="1,000 portfolios, small samples")
    parser.add_argument(
        "--results", type=Path, default=None, help="folder for latest.md and latest.json"
    )
    args = parser.parse_args()
    if args.quick:
        args.portfolios, args.drawn_sample, args.floor_sample = 1000, 60, 30
        args.baseline_drawn_sample, args.baseline_floor_sample = 60, 30
        args.exhaustive_per_policy, args.e2e_repeats, args.approval_portfolios = 15, 1, 100
    elif args.results is None:
        args.results = results.RESULTS

    with tempfile.TemporaryDirectory(prefix="ordergen-bench-") as temp:
        figures = measure(args, Path(temp))
    # Rendered from the document as its JSON file holds it, so the file renders the same.
    document = json.loads(json.dumps(results.document(vars(args), figures), default=str))
    markdown = results.markdown(document)
    print(markdown)
    if args.results is not None:
        results.write(args.results, document, markdown)
        print(f"results written to {args.results}/", file=sys.stderr)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    code = results.commit()  # the code measured: the tree as the run starts
    large = build(directory / "large", args.portfolios, args.securities, args.seed)
    # As a run does once its inputs are read (ordergen/run/stream.py): the instances are
    # long-lived, and full collections walking them would pause random portfolios.
    gc.freeze()
    say(f"{len(large.market_values)} portfolios with balances x {large.terms.size} securities")
    sample = {
        "drawn": load(directory / "drawn", drawn(large, args.drawn_sample, args.seed)),
        "floor-binding": load(directory / "floor", floor_binding(args.floor_sample, args.seed)),
    }

    say("reference: the base problem")
    base = [Part(inst, referenced(inst.data)) for inst in sample.values()]
    say("reference: the desk policy")
    desk = [Part(inst, referenced(inst.data, DESK_POLICY)) for inst in sample.values()]
    say("reference: the desk policy with a withdrawal")
    withdrawal = [
        Part(inst, referenced(inst.data, DESK_POLICY, policies.WITHDRAWAL))
        for inst in sample.values()
    ]
    floor_part = [base[1]]

    say("solve stage and engine")
    rows: dict[str, Any] = {
        "auto": base_rows.auto_solve_stage(large, base),
        "engine": base_rows.engine(large, base),
        "orders_file": base_rows.orders_file(base, directory),
    }
    say("one portfolio at a time")
    rows["milp"] = base_rows.one_at_a_time(base, Method.MILP)
    rows["auto_floor_binding"] = base_rows.one_at_a_time(floor_part, Method.AUTO)
    rows["milp_floor_binding"] = base_rows.one_at_a_time(floor_part, Method.MILP)
    say("baselines")
    # PyPortfolioOpt takes seconds on some floor-binding portfolios: the baselines get the
    # first `--baseline-drawn-sample` and `--baseline-floor-sample` portfolios of each part.
    baseline_parts = [
        base_rows.first(base[0], args.baseline_drawn_sample),
        base_rows.first(base[1], args.baseline_floor_sample),
    ]
    rows[ORIGINAL] = base_rows.baseline(baseline_parts, ORIGINAL)
    rows[PYPORTFOLIOOPT] = base_rows.baseline(baseline_parts, PYPORTFOLIOOPT)
    say("policies")
    policy_rows = {
        "desk": policies.desk_solve_stage(large, desk),
        "withdrawal_auto": policies.withdrawal_one_at_a_time(withdrawal, Method.AUTO),
        "withdrawal_milp": policies.withdrawal_one_at_a_time(withdrawal, Method.MILP),
    }
    say("exhaustive check on small instances")
    small = check(directory / "small", args.exhaustive_per_policy, args.seed)
    say("end to end")
    e2e = end_to_end(large, directory, args.e2e_repeats)
    say("the run report of the end-to-end orders file")
    report = report_size.measure(directory / E2E_ORDERS, directory / "report.html")
    say(f"approve and send a proposed run of {args.approval_portfolios:,} portfolios")
    approval = approval_send.measure_approval_send(args.approval_portfolios, args.securities)
    return {
        "commit": code,
        "instances": {
            "portfolios": len(large.market_values),
            "securities": large.terms.size,
            "seed": args.seed,
        },
        "rows": rows,
        "policy_rows": policy_rows,
        "exhaustive": small,
        "end_to_end": e2e,
        "report": report,
        "approval": approval,
    }


def end_to_end(large: Any, directory: Path, repeats: int) -> dict[str, Any]:
    """Both sides timed the same way: a subprocess, the three files in, an orders file out.

    An untimed first run of each ordergen setting writes the compiled bytecode an
    installed ordergen has. The original method runs once: it takes a minute, so one
    run's noise is small beside it.
    """
    runs: dict[str, Any] = {}
    output = directory / E2E_ORDERS
    for label, settings in E2E_SETTINGS.items():
        environment = compiled_environment(settings)
        command = ordergen_command(large.files, output)
        timed(command, environment)
        best = fastest(command, environment, repeats)
        memory = peak_memory(command, environment)
        runs[label] = {"timed": best, "memory": memory}
    original_output = directory / "orders-original.json"
    original = timed(original_command(large.files, original_output), compiled_environment({}))
    return {"ordergen": runs, "original": original, "repeats": repeats}


if __name__ == "__main__":
    main()
