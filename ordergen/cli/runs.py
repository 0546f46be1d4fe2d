"""`ordergen runs`: rebalance runs recorded in MongoDB, their per-portfolio results and orders.

Read-only. A run can hold 10,000 portfolios, so `runs show` lists only the first
`--limit` of them (by portfolio id) next to the run's counts by status; one
portfolio's drifts and orders are shown with `--portfolio`.
"""

import json
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any

import typer

from ordergen.cli.app import app
from ordergen.cli.output import fields_table, print_json, print_tables, say, table
from ordergen.domain.values import parse_globeco_id
from ordergen.errors import NotFoundError
from ordergen.settings import load_settings

if TYPE_CHECKING:
    from ordergen.store.connection import Document

runs_app = typer.Typer(
    name="runs",
    help="Rebalance runs recorded in MongoDB: status, per-portfolio results, orders.",
    no_args_is_help=True,
)
app.add_typer(runs_app, name="runs")

# The per-portfolio fields listed for many portfolios; drifts are left to --portfolio.
SUMMARY_FIELDS = ("portfolioId", "status", "worstDriftBefore", "worstDriftAfter", "message")


def _counts(by_status: Mapping[str, int] | None) -> str:
    """`ok 9, infeasible 1` from a byStatus mapping; `-` before the run has settled."""
    if not by_status:
        return "-"
    return ", ".join(f"{status} {count}" for status, count in by_status.items())


def _services(failed: Mapping[str, str] | None) -> str:
    """`pricing: timed out; ...` from the run's failedServices, `-` if none failed."""
    if not failed:
        return "-"
    return "; ".join(f"{service}: {reason}" for service, reason in failed.items())


def portfolio_summary(result: "Document") -> dict[str, Any]:
    """One portfolio's result without its drifts and order details, and its order count."""
    return {
        **{name: result.get(name) for name in SUMMARY_FIELDS},
        "orders": len(result.get("orders", [])),
    }


@runs_app.command("list")
def list_runs(
    model: str | None = typer.Option(None, "--model", help="Only runs of this model (name)."),
    limit: int = typer.Option(20, "--limit", min=1, help="At most this many runs."),
    as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON on stdout."),
) -> None:
    """List runs, latest first: status, method, counts, start and end."""
    # Imported here, as in `show`: only these commands load pymongo (start-up time).
    from ordergen.store.connection import open_database
    from ordergen.store.runs import RunRepository

    with open_database(load_settings()) as db:
        runs = RunRepository(db).list(model, limit)
    if as_json:
        print_json(runs)
        return
    columns = ("run", "model", "status", "method", "portfolios", "by status", "orders")
    rows = [
        (
            run["runId"],
            run.get("model"),
            run.get("status"),
            run.get("method"),
            run.get("portfolios"),
            _counts(run.get("byStatus")),
            run.get("orders"),
            run.get("startedAt"),
            run.get("endedAt"),
        )
        for run in runs
    ]
    print_tables(table(f"{len(rows)} run(s)", (*columns, "started", "ended"), rows))


@runs_app.command("show")
def show(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="The run id."),
    portfolio: str | None = typer.Option(
        None, "--portfolio", help="Show this portfolio's drifts and orders."
    ),
    limit: int = typer.Option(
        20, "--limit", min=0, help="Without --portfolio: list this many portfolios."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON on stdout."),
) -> None:
    """Show a run: status, counts, digest, shards; its first portfolios or one portfolio."""
    from ordergen.store.connection import open_database
    from ordergen.store.orders import orders_for_run
    from ordergen.store.runs import RunRepository

    portfolio_id = None if portfolio is None else parse_globeco_id(portfolio, "--portfolio")
    with open_database(load_settings()) as db:
        runs = RunRepository(db)
        run = runs.get(run_id)
        if "approval" in run:
            from ordergen.store.approvals import approval_counts

            run["approval"]["orders"] = approval_counts(db, run_id)
        if portfolio_id is None:
            # islice stops reading the cursor after `limit` documents.
            first = [portfolio_summary(r) for r in islice(runs.portfolio_results(run_id), limit)]
            _show_run(run, first, as_json)
            return
        result = next(iter(runs.portfolio_results(run_id, portfolio_id)), None)
        if result is None:
            raise NotFoundError(f"portfolio {portfolio_id!r} is not in run {run_id!r}")
        orders = list(orders_for_run(db, run_id, portfolio_id))
    _show_portfolio(run, result, orders, as_json)


def _show_run(run: "Document", portfolios: list[dict[str, Any]], as_json: bool) -> None:
    total = run.get("portfolios")
    if as_json:
        print_json({"run": run, "portfolios": portfolios})
        return
    print_tables(
        _run_table(run),
        _shards_table(run),
        table(
            f"first {len(portfolios)} of {total if total is not None else '?'} portfolio(s)",
            ("portfolio", "status", "worst drift before", "worst drift after", "message", "orders"),
            [[item[name] for name in (*SUMMARY_FIELDS, "orders")] for item in portfolios],
        ),
    )
    if total is not None and total > len(portfolios):
        say(f"{total - len(portfolios)} more: --limit N lists more, --portfolio ID shows one")


def _run_table(run: "Document") -> Any:
    return fields_table(
        f"run {run['runId']}",
        [
            ("model", run.get("model")),
            ("status", run.get("status")),
            ("method", run.get("method")),
            ("input digest", run.get("inputDigest")),
            ("started", run.get("startedAt")),
            ("ended", run.get("endedAt")),
            ("portfolios", run.get("portfolios")),
            ("by status", _counts(run.get("byStatus"))),
            ("orders", run.get("orders")),
            ("shards", run.get("shardCount")),
            *([("model policy", _compact(run["policy"]))] if "policy" in run else []),
            *([("approval", _approval(run["approval"]))] if "approval" in run else []),
            ("failed services", _services(run.get("failedServices"))),
        ],
    )


def _shards_table(run: "Document") -> Any:
    # A sharded run settles its counts only when the last shard ends; until then
    # each shard's own entry is what there is to show.
    shards: Mapping[str, Document] = run.get("shards", {})
    rows: Iterable[Iterable[Any]] = [
        (
            f"{index}/{run.get('shardCount')}",
            entry.get("status"),
            entry.get("portfolios"),
            _counts(entry.get("summary", {}).get("byStatus")),
            entry.get("startedAt"),
            entry.get("endedAt"),
        )
        for index, entry in sorted(shards.items(), key=lambda item: int(item[0]))
    ]
    columns = ("shard", "status", "portfolios", "by status", "started", "ended")
    return table("shards", columns, rows)


def _approval(approval: "Document") -> str:
    """`four-eyes, proposed by X at T: awaiting approval (proposed 9, approved 3)`."""
    counts = approval.get("orders") or {}
    waiting = counts.get("proposed", 0)
    state = "awaiting approval" if waiting or not counts else "decided"
    tally = ", ".join(f"{name} {count}" for name, count in counts.items()) or "no orders"
    return (
        f"{approval.get('rule')}, proposed by {approval.get('proposedBy')} at "
        f"{approval.get('proposedAt')}: {state} ({tally})"
    )


def _compact(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _policy_rows(audit: "Document | None") -> list[tuple[str, object]]:
    """What a portfolio that ran under a policy says about it; nothing for one that did not."""
    if audit is None:
        return []
    overrides = audit.get("overrides") or {}
    rows: list[tuple[str, object]] = [
        (
            "policy overrides",
            ", ".join(f"{name}={_compact(value)}" for name, value in overrides.items()) or "-",
        )
    ]
    for label, name in (
        ("cash need", "cashNeed"),
        ("cash reserve", "cashReserve"),
        ("cash floor", "cashFloor"),
    ):
        if name in audit:
            rows.append((label, audit[name]))
    return rows


def _show_portfolio(
    run: "Document", result: "Document", orders: "list[Document]", as_json: bool
) -> None:
    if as_json:
        print_json({"run": run, "portfolio": result, "orders": orders})
        return
    details = fields_table(
        f"run {run['runId']}",
        [
            ("model", run.get("model")),
            ("run status", run.get("status")),
            ("portfolio", result.get("portfolioId")),
            ("status", result.get("status")),
            ("market value", result.get("marketValue")),
            ("cash after", result.get("cashAfter")),
            ("objective", result.get("objective")),
            ("worst drift before", result.get("worstDriftBefore")),
            ("worst drift after", result.get("worstDriftAfter")),
            ("solver", result.get("solver")),
            ("message", result.get("message")),
            *_policy_rows(result.get("policy")),
        ],
    )
    drifts = table(
        "drifts",
        ("security", "target", "low", "high", "held", "adjusted", "price", "actual", "drift"),
        [
            [
                drift.get(name)
                for name in (
                    "securityId",
                    "target",
                    "lowDrift",
                    "highDrift",
                    "originalQuantity",
                    "adjustedQuantity",
                    "price",
                    "actual",
                    "actualDrift",
                )
            ]
            for drift in result.get("drifts", [])
        ],
    )
    order_rows = [
        (
            order.get("side"),
            order.get("quantity"),
            order.get("securityId"),
            order.get("price"),
            order.get("submission", {}).get("state"),
        )
        for order in orders
    ]
    order_table = table(
        f"{len(order_rows)} order(s)",
        ("side", "quantity", "security", "price", "submission"),
        order_rows,
    )
    print_tables(details, drifts, order_table)
