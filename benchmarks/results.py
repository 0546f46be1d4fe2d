"""The benchmark's results: one JSON document, rendered as Markdown, written to the repository.

Every figure in `benchmarks/results/latest.md` is printed here from the run that
measured it; the documentation includes that file, and README's headline block is
rewritten from it (a test holds the two equal).
"""

import datetime
import json
import math
import os
import platform
import re
import subprocess
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.base_rows import ORIGINAL, PYPORTFOLIOOPT, Row
from benchmarks.latency import Latencies
from benchmarks.policies import WITHDRAWAL, PolicyRow

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
HEADLINE_START, HEADLINE_END = "<!-- benchmark-headline -->", "<!-- /benchmark-headline -->"

WITHDRAWN = WITHDRAWAL.numerator * 100 // WITHDRAWAL.denominator
LABELS = {
    "auto": "ordergen auto, solve stage",
    "engine": "ordergen auto, engine (market values, solve, result columns)",
    "orders_file": "ordergen rebalance, files in, orders file read back",
    "milp": "ordergen milp, one portfolio at a time",
    "auto_floor_binding": "ordergen auto, floor-binding part, one portfolio at a time",
    "milp_floor_binding": "ordergen milp, floor-binding part, one portfolio at a time",
    ORIGINAL: "original service (relax + round); given targets, bands, prices, MV",
    PYPORTFOLIOOPT: "PyPortfolioOpt lp_portfolio; given targets, prices, MV (no bands)",
    "desk": "ordergen auto, desk policy, solve stage",
    "withdrawal_auto": f"ordergen auto, desk policy + {WITHDRAWN}% withdrawal, one at a time",
    "withdrawal_milp": f"ordergen milp, desk policy + {WITHDRAWN}% withdrawal, one at a time",
    "exhaustive_auto": "ordergen auto under six policies, small instances",
    "exhaustive_milp": "ordergen milp under six policies, small instances",
}
ORDERGEN_ROWS = (
    "auto", "engine", "orders_file", "milp", "auto_floor_binding", "milp_floor_binding",
    "desk", "withdrawal_auto", "withdrawal_milp", "exhaustive_auto", "exhaustive_milp",
)  # fmt: skip
ERROR_COLUMNS = (
    "band_breaking", "overspending", "rule_breaking", "wrong_verdict", "worse", "false_optimal",
    "no_answer",
)  # fmt: skip
TARGETS = {
    "end_to_end_vs_original": (15.0, "at least"),
    "solve_stage_vs_original": (100.0, "at least"),
    "solve_stage_vs_pyportfolioopt": (1000.0, "at least"),
    "desk_policy_vs_original": (20.0, "at least"),
    "milp_p50_over_original_p50": (3.0, "at most"),
    "end_to_end_peak_mib_all_processes": (600.0, "at most"),
    "ordergen_errors_against_reference": (0.0, "at most"),
    "reference_disagreements_with_exhaustive": (0.0, "at most"),
    "reference_failures_on_the_sample": (0.0, "at most"),
    "floor_binding_policy_portfolios": (300.0, "at least"),
    "floor_binding_policy_auto_p99_ms": (100.0, "at most"),
    "floor_binding_policy_auto_max_ms": (500.0, "at most"),
    "floor_binding_base_auto_p99_ms": (100.0, "at most"),
    "floor_binding_base_auto_max_ms": (500.0, "at most"),
    "floor_binding_highs_fallback_percent": (1.0, "at most"),
    "report_mb_of_the_large_run": (5.0, "at most"),
    "report_first_view_seconds": (3.0, "at most"),
}


def machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    memory_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )  # fmt: skip
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(memory_kib / 1024**2, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def commit() -> dict[str, Any]:
    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain")),
    }


def _row(key: str, row: Row, decided_by: Mapping[str, int] | None = None) -> dict[str, Any]:
    if decided_by is None and row.paths is not None:
        decided_by = Counter(row.paths.values())
    return {
        "key": key,
        "label": LABELS[key],
        "per_second": row.per_second,
        "latencies": None if row.latencies is None else row.latencies.summary(),
        "decided_by": None if decided_by is None else dict(sorted(decided_by.items())),
        "tally": asdict(row.tally),
    }


FLOOR_PATHS = ("knapsack: ok", "milp: ok", "knapsack: error", "milp: error")
"""The paths of portfolios whose per-security choices broke the cash floor."""


def _floor_binding(auto: Row, milp: Row) -> dict[str, Any]:
    """The portfolios `auto` could not certify per security (the cash floor binds): its
    latencies there beside the MILP's on the same portfolios, and who decided them."""
    assert auto.paths is not None and auto.seconds is not None and milp.seconds is not None
    ids = [pid for pid, way in auto.paths.items() if way in FLOOR_PATHS]
    decided = Counter(auto.paths[pid].split(":")[0] for pid in ids)
    return {
        "portfolios": len(ids),
        "knapsack": decided["knapsack"],
        "highs_fallbacks": decided["milp"],
        "errors": sum(auto.paths[pid].endswith("error") for pid in ids),
        "auto": Latencies(tuple(auto.seconds[pid] for pid in ids)).summary(),
        "milp": Latencies(tuple(milp.seconds[pid] for pid in ids)).summary(),
    }


def document(arguments: Mapping[str, Any], figures: Mapping[str, Any]) -> dict[str, Any]:
    """Everything measured, the ratios and the targets, as one JSON-able document."""
    rows: dict[str, dict[str, Any]] = {key: _row(key, row) for key, row in figures["rows"].items()}
    policy_rows: Mapping[str, PolicyRow] = figures["policy_rows"]
    for key, policy_row in policy_rows.items():
        rows[key] = _row(key, policy_row.row, policy_row.decided_by)
    floor = {
        "base": _floor_binding(figures["rows"]["auto_floor_binding"],
                               figures["rows"]["milp_floor_binding"]),
        "policy": _floor_binding(policy_rows["withdrawal_auto"].row,
                                 policy_rows["withdrawal_milp"].row),
    }  # fmt: skip
    small = figures["exhaustive"]
    rows["exhaustive_auto"] = _row("exhaustive_auto", Row(small.auto))
    rows["exhaustive_milp"] = _row("exhaustive_milp", Row(small.milp))

    original = rows[ORIGINAL]["latencies"]
    e2e = _end_to_end(figures["end_to_end"])
    report = figures["report"]
    headline_e2e = e2e["ordergen"][0]
    ratios = {
        "end_to_end_vs_original": headline_e2e["per_second"] / e2e["original"]["per_second"],
        "solve_stage_vs_original": rows["auto"]["per_second"] / original["per_second"],
        "solve_stage_vs_pyportfolioopt": rows["auto"]["per_second"]
        / rows[PYPORTFOLIOOPT]["latencies"]["per_second"],
        "desk_policy_vs_original": rows["desk"]["per_second"] / original["per_second"],
        "milp_p50_over_original_p50": rows["milp"]["latencies"]["p50_ms"] / original["p50_ms"],
    }
    errors = sum(
        rows[key]["tally"][column] or 0 for key in ORDERGEN_ROWS for column in ERROR_COLUMNS
    )
    measured = {
        **ratios,
        "end_to_end_peak_mib_all_processes": max(run["peak_rss_mib"] for run in e2e["ordergen"]),
        "ordergen_errors_against_reference": float(errors),
        "reference_disagreements_with_exhaustive": float(small.portfolios - small.reference_agrees),
        "reference_failures_on_the_sample": float(
            sum(rows[key]["tally"]["reference_failures"] for key in ORDERGEN_ROWS)
        ),
        "floor_binding_policy_portfolios": float(floor["policy"]["portfolios"]),
        "floor_binding_policy_auto_p99_ms": floor["policy"]["auto"]["p99_ms"],
        "floor_binding_policy_auto_max_ms": floor["policy"]["auto"]["max_ms"],
        "floor_binding_base_auto_p99_ms": floor["base"]["auto"]["p99_ms"],
        "floor_binding_base_auto_max_ms": floor["base"]["auto"]["max_ms"],
        "floor_binding_highs_fallback_percent": 100
        * sum(f["highs_fallbacks"] for f in floor.values())
        / max(1, sum(f["portfolios"] for f in floor.values())),
        "report_mb_of_the_large_run": report.size_bytes / 1e6,
        "report_first_view_seconds": report.first_view_seconds,
    }
    targets = [
        {
            "name": name,
            "measured": measured[name],
            "target": bound,
            "kind": kind,
            "passed": measured[name] >= bound if kind == "at least" else measured[name] <= bound,
        }
        for name, (bound, kind) in TARGETS.items()
    ]
    instances = figures["instances"]
    scored = rows["auto"]["tally"]["sample"]
    headline = (
        f"End to end (files in, orders file out, {headline_e2e['portfolios']:,} portfolios x "
        f"{instances['securities']} securities) `ordergen rebalance` ran "
        f"{ratios['end_to_end_vs_original']:,.0f}x as fast as the original method; its solve "
        f"stage alone {ratios['solve_stage_vs_original']:,.0f}x. Scored against an "
        f"independent exact reference on samples of up to {scored:,} portfolios per row (and "
        f"{small.portfolios} "
        f"small ones against an exhaustive search), ordergen's answers had {errors} errors."
    )
    return {
        "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **figures["commit"],
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in arguments.items()},
        "instances": instances,
        "rows": rows,
        "exhaustive": {"portfolios": small.portfolios, "reference_agrees": small.reference_agrees},
        "end_to_end": e2e,
        "floor_binding": floor,
        "report": asdict(report),
        "approval": {
            **asdict(figures["approval"]),
            "cpu_seconds_per_100k": figures["approval"].cpu_seconds_per_100k,
        },
        "ratios": ratios,
        "targets": targets,
        "headline": headline,
    }


def _end_to_end(e2e: Mapping[str, Any]) -> dict[str, Any]:
    runs = []
    for label, run in e2e["ordergen"].items():
        timed, memory = run["timed"], run["memory"]
        summary = json.loads(timed.stdout)
        runs.append({
            "label": label,
            "portfolios": summary["portfolios"],
            "seconds": timed.seconds,
            "per_second": summary["portfolios"] / timed.seconds,
            "exit_code": timed.exit_code,
            "peak_rss_mib": memory.rss_mib,
            "peak_pss_mib": memory.pss_mib,
            "processes": memory.processes,
        })  # fmt: skip
    original = e2e["original"]
    portfolios = runs[0]["portfolios"]
    return {
        "repeats": e2e["repeats"],
        "ordergen": runs,
        "original": {
            "seconds": original.seconds,
            "per_second": portfolios / original.seconds,
            "exit_code": original.exit_code,
        },
    }


def _cell(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def markdown(doc: Mapping[str, Any]) -> str:
    """The results as Markdown: machine and commit, headline, targets, then every table."""
    m, rows = doc["machine"], doc["rows"]
    state = " (with uncommitted changes)" if doc["uncommitted_changes"] else ""
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `python -m benchmarks.run` on {doc['date']}, commit "
        f"`{doc['commit'][:12]}`{state}: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, Python {m['python']}. Instances: "
        f"{doc['instances']['portfolios']:,} portfolios with balances x "
        f"{doc['instances']['securities']} securities (seed {doc['instances']['seed']}). "
        "This machine's speed varies up to 2x between days: the targets are ratios against "
        "the baselines run beside ordergen in this run; absolute times are information.",
        "",
        doc["headline"],
        "",
        "## Targets",
        "",
    ]
    lines += _table(
        ["target", "measured", "bound", "result"],
        [[t["name"], t["measured"], f"{t['kind']} {t['target']:g}",
          "PASS" if t["passed"] else "FAIL"] for t in doc["targets"]],
    )  # fmt: skip
    lines += [
        "",
        "## Correctness against the independent reference",
        "",
        "Each row's answers are re-scored exactly (Fractions) and compared with the "
        "reference: `scipy.optimize.milp` on the integer program as the policy page states "
        "it, sharing no code with ordergen. The sample has two parts: portfolios drawn at "
        "random from the large model, and a model built so that the cash floor binds. "
        "'infeasible' and 'floor binds' count the sample's portfolios as the reference "
        "finds them. 'worse than reference' ranks only answers that keep every rule. "
        "'n/a': the method claims no optimality. 'reference failures': portfolios the "
        "reference could not answer, or answered worse than a rule-abiding answer (left "
        "out of the comparison).",
        "",
    ]
    columns = ["sample", "infeasible", "binding", *ERROR_COLUMNS, "reference_failures"]
    lines += _table(
        ["method", "sample", "infeasible", "floor binds", "band-breaking", "overspending",
         "other rules broken", "wrong verdict", "worse than reference", "false \"optimal\"",
         "no answer", "reference failures"],
        [[row["label"], *(row["tally"][c] for c in columns)] for row in rows.values()],
    )  # fmt: skip
    lines += [
        "",
        f"The reference MILP agreed with an exhaustive search on "
        f"{doc['exhaustive']['reference_agrees']} of {doc['exhaustive']['portfolios']} "
        "small portfolios (three securities, six policies).",
        "",
        "## Speed",
        "",
        "Bulk rows: the large model, fastest of 3 in-process runs. One-at-a-time rows: each "
        "sampled portfolio solved on its own, wall-clock per call (imports and one-time "
        "set-up outside the timers of every method alike).",
        "",
    ]
    original = rows[ORIGINAL]["latencies"]["per_second"]
    table = []
    for row in rows.values():
        latencies = row["latencies"] or {}
        rate = row["per_second"] or latencies.get("per_second")
        if not rate:
            continue
        table.append([
            row["label"], rate, rate / original, latencies.get("count"),
            latencies.get("p50_ms"), latencies.get("p90_ms"), latencies.get("p99_ms"),
            latencies.get("max_ms"),
        ])  # fmt: skip
    lines += _table(
        ["method", "portfolios/s", "vs original", "timed one at a time", "p50 ms", "p90 ms",
         "p99 ms", "max ms"],
        table,
    )  # fmt: skip
    lines += ["", "Which path decided each portfolio (solver: status):", ""]
    for row in rows.values():
        decided = row.get("decided_by")
        if decided:
            total = sum(decided.values())
            shares = ", ".join(f"{way} {n:,} ({n / total:.1%})" for way, n in decided.items())
            lines.append(f"- {row['label']}: {shares}.")
    lines += [
        "",
        "## Where the cash floor binds",
        "",
        "The portfolios whose per-security choices break the cash floor, so that `auto` "
        "cannot certify them one security at a time: `auto` decides them with its exact "
        "knapsack solver, HiGHS deciding where the knapsack's bounded effort does not "
        "settle one; beside it, `--method milp` (HiGHS) on the same portfolios, in the "
        "same run. Base problem: the floor-binding model. Policy: the desk policy with the "
        "withdrawal, on the whole sample.",
        "",
    ]
    floor_rows = []
    for name, floor in doc["floor_binding"].items():
        for method in ("auto", "milp"):
            found = floor[method]
            floor_rows.append([
                f"{name}: {'auto' if method == 'auto' else 'milp (HiGHS)'}", floor["portfolios"],
                found["p50_ms"], found["p90_ms"], found["p99_ms"], found["max_ms"],
                floor["knapsack"] if method == "auto" else None,
                floor["highs_fallbacks"] if method == "auto" else None,
                floor["errors"] if method == "auto" else None,
            ])  # fmt: skip
    lines += _table(
        ["sample: method", "portfolios", "p50 ms", "p90 ms", "p99 ms", "max ms",
         "decided by the knapsack", "HiGHS fallbacks", "errors (time limit)"],
        floor_rows,
    )  # fmt: skip
    e2e = doc["end_to_end"]
    lines += [
        "",
        "## End to end",
        "",
        "`ordergen rebalance --model-file --positions --prices --output --json` and the "
        "original method as a program (`benchmarks/original_service.py`), each a "
        "subprocess with the large model's three files in and an orders file out, timed "
        f"the same way (ordergen: fastest of {e2e['repeats']}, with compiled bytecode as "
        "an installed ordergen has; the original: one run). Memory: a separate run, "
        "/proc sampled every 5 ms for the process and every process it starts, summed.",
        "",
    ]
    lines += _table(
        ["run", "portfolios", "wall s", "portfolios/s", "vs original",
         "peak MiB (RSS, all processes)", "peak MiB (PSS)", "processes", "exit"],
        [[run["label"], run["portfolios"], run["seconds"], run["per_second"],
          run["per_second"] / e2e["original"]["per_second"], run["peak_rss_mib"],
          run["peak_pss_mib"], run["processes"], run["exit_code"]] for run in e2e["ordergen"]]
        + [["original method", e2e["ordergen"][0]["portfolios"], e2e["original"]["seconds"],
            e2e["original"]["per_second"], 1.0, None, None, 1, e2e["original"]["exit_code"]]],
    )  # fmt: skip
    report = doc["report"]
    lines += [
        "",
        "## Run report",
        "",
        f"`ordergen report --orders` on the end-to-end orders file: {report['size_bytes']:,} "
        f"bytes, written in {report['build_seconds']:.1f} s; its first view (every chart and "
        f"the table's first page) drawn {report['first_view_seconds']:.2f} s after navigation "
        "started, in headless Chromium on this machine.",
    ]
    approval = doc["approval"]
    lines += [
        "",
        "## Review before send",
        "",
        f"A proposed run of {approval['portfolios']:,} portfolios ({approval['orders']:,} "
        "orders) in SecantusDB, approved with `ordergen runs approve` and sent with "
        "`ordergen runs send` to the local fake order service, each command a process of "
        f"its own: ordergen's CPU (user + system of those processes) was "
        f"{approval['approve_cpu_seconds']:.2f} s to approve and "
        f"{approval['send_cpu_seconds']:.2f} s to send, "
        f"{approval['cpu_seconds_per_100k']:.2f} s per 100,000 orders, start-up included.",
    ]
    return "\n".join(lines) + "\n"


def write(directory: Path, doc: Mapping[str, Any], text: str) -> None:
    """latest.json and latest.md in `directory`, and README's headline block."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "latest.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    (directory / "latest.md").write_text(text)
    if README.exists():
        README.write_text(with_headline(README.read_text(), doc["headline"]))


def with_headline(readme: str, headline: str) -> str:
    """README with its headline block holding `headline` (unchanged without the block)."""
    pattern = re.compile(re.escape(HEADLINE_START) + ".*?" + re.escape(HEADLINE_END), re.S)
    return pattern.sub(lambda _: f"{HEADLINE_START}\n{headline}\n{HEADLINE_END}", readme)


def documented_headline(readme: str) -> str | None:
    found = re.search(
        re.escape(HEADLINE_START) + r"\n(.*?)\n" + re.escape(HEADLINE_END), readme, re.S
    )
    return None if found is None else found.group(1)
