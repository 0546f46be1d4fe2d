"""`ordergen runs approve|reject|send|orders|resolve|history`: review before send.

A run that needs approval (its model's `approval` rule, or `rebalance --propose`)
stores its orders as proposed. These commands approve or reject them, post the
approved ones, list them, record what the order service says of an order left in
doubt, and print the run's audit trail.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from ordergen.cli.output import print_json, print_tables, say, table
from ordergen.cli.runs import runs_app
from ordergen.domain.values import parse_globeco_id
from ordergen.errors import ExitCode
from ordergen.settings import Settings, load_settings

if TYPE_CHECKING:
    from ordergen.run.approval import Decision
    from ordergen.store.connection import Db

RUN_ARGUMENT = typer.Argument(..., metavar="RUN_ID", help="The run id.")
BY_OPTION = typer.Option(
    None,
    "--by",
    help="Who acts (default ORDERGEN_USER, else JOB_NAME, else the OS user; the database "
    "user under authentication).",
)
JSON_DONE_OPTION = typer.Option(False, "--json", help="Print what was done as JSON.")
PORTFOLIOS_OPTION = typer.Option(
    None, "--portfolio", help="Only this portfolio; repeatable (default: all of the run's)."
)


def _portfolio_ids(values: Sequence[str] | None) -> list[str] | None:
    return [parse_globeco_id(value, "--portfolio") for value in values] if values else None


def _acting(db: "Db", settings: Settings, by: str | None) -> str:
    from ordergen.store.identity import acting_user

    return acting_user(db, by, settings.ordergen_user, settings.job_name)


def _open(settings: Settings) -> Any:
    from ordergen.store.connection import open_database

    return open_database(settings)


@runs_app.command("approve")
def approve(
    run_id: str = RUN_ARGUMENT,
    portfolio: list[str] | None = PORTFOLIOS_OPTION,
    by: str | None = BY_OPTION,
    as_json: bool = JSON_DONE_OPTION,
) -> None:
    """Approve a proposed run's orders (its ok portfolios, all or those named)."""
    from ordergen.run.approval import approve_run

    _decide(run_id, portfolio, by, as_json, "approved", approve_run)


@runs_app.command("reject")
def reject(
    run_id: str = RUN_ARGUMENT,
    reason: str = typer.Option(..., "--reason", help="Why: recorded in the audit trail."),
    portfolio: list[str] | None = PORTFOLIOS_OPTION,
    by: str | None = BY_OPTION,
    as_json: bool = JSON_DONE_OPTION,
) -> None:
    """Reject a proposed run's unsent orders (all, or those of the portfolios named)."""
    from ordergen.run.approval import reject_run

    def reject_with_reason(
        db: "Db", settings: Settings, run_id: str, ids: list[str] | None, by: str
    ) -> "Decision":
        return reject_run(db, settings, run_id, ids, by, reason)

    _decide(run_id, portfolio, by, as_json, "rejected", reject_with_reason)


def _decide(
    run_id: str,
    portfolio: list[str] | None,
    by: str | None,
    as_json: bool,
    verb: str,
    act: "Callable[[Db, Settings, str, list[str] | None, str], Decision]",
) -> None:
    """Run `act` as the acting user on the portfolios named, then say what it did."""
    ids = _portfolio_ids(portfolio)
    settings = load_settings()
    with _open(settings) as db:
        decision = act(db, settings, run_id, ids, _acting(db, settings, by))
    if as_json:
        print_json({"runId": run_id, verb: decision.orders, "by": decision.by})
    else:
        say(f"run {run_id!r}: {decision.orders} order(s) {verb} by {decision.by}")


@runs_app.command("send")
def send(
    run_id: str = RUN_ARGUMENT,
    by: str | None = BY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the submission as JSON."),
) -> None:
    """Post a run's approved orders not yet sent to the order service, at most once each.

    Orders left in doubt (posted, answer lost) are never posted again: resolve them
    first (`runs resolve`). A run whose positions came from the accounting service has
    them read again: a portfolio whose holdings or cash changed since the proposal is
    marked stale and not sent. Exits 3 when some orders were rejected, failed, are in
    doubt, or were not sent for changed or unreadable positions.
    """
    from ordergen.run.approval import send_run

    settings = load_settings()
    with _open(settings) as db:
        outcome = send_run(db, settings, run_id, _acting(db, settings, by))
    report = outcome.submission
    document = report.document()
    if outcome.changed:
        document["stalePortfolios"] = outcome.changed
    if outcome.unreadable:
        document["unreadablePortfolios"] = outcome.unreadable
    if as_json:
        print_json({"runId": run_id, **document})
    else:
        held = ", ".join(f"{reason} {count}" for reason, count in document.get("held", {}).items())
        say(
            f"run {run_id!r}: {report.submitted} order(s) posted, {report.accepted} accepted, "
            f"{report.rejected} rejected, {report.failed} failed, {report.in_doubt} in doubt, "
            f"{report.already_accepted} sent before; not approved: {held or 'none'}"
        )
        for message in report.messages:
            say(f"  {message}")
        if outcome.changed:
            say(f"  not sent, positions changed since the proposal: {', '.join(outcome.changed)}")
        if outcome.unreadable:
            say(f"  not sent, positions could not be read: {', '.join(outcome.unreadable)}")
    raise typer.Exit(int(ExitCode.OK if outcome.complete else ExitCode.PARTIAL))


@runs_app.command("orders")
def orders(
    run_id: str = RUN_ARGUMENT,
    state: str | None = typer.Option(
        None,
        "--state",
        help="Only orders in this approval state (proposed, approved, rejected) or "
        "submission state (pending, submitting = in doubt, accepted, rejected, failed).",
    ),
    portfolio: str | None = typer.Option(None, "--portfolio", help="Only this portfolio."),
    as_json: bool = typer.Option(False, "--json", help="Print the orders as JSON."),
) -> None:
    """List a run's orders with their approval and submission states."""
    from ordergen.store.orders import orders_for_run
    from ordergen.store.runs import RunRepository
    from ordergen.store.submissions import approval_of, state_of

    portfolio_id = None if portfolio is None else parse_globeco_id(portfolio, "--portfolio")
    settings = load_settings()
    with _open(settings) as db:
        RunRepository(db).get(run_id)
        found = [
            order
            for order in orders_for_run(db, run_id, portfolio_id)
            if state is None or state in (approval_of(order), state_of(order))
        ]
    if as_json:
        print_json(found)
        return
    columns = ("order", "side", "quantity", "security", "approval", "submission", "order id")
    rows = [
        (
            order["_id"],
            order.get("side"),
            order.get("quantity"),
            order.get("securityId"),
            approval_of(order) or "-",
            state_of(order),
            order.get("submission", {}).get("orderId"),
        )
        for order in found
    ]
    print_tables(table(f"{len(rows)} order(s)", columns, rows))


@runs_app.command("resolve")
def resolve(
    run_id: str = RUN_ARGUMENT,
    order: str = typer.Option(
        ..., "--order", help="The order in doubt (its key in `runs orders`)."
    ),
    created: int | None = typer.Option(
        None, "--created", help="The order service has it, under this order id: accepted."
    ),
    not_created: bool = typer.Option(
        False, "--not-created", help="The order service does not have it: the next send posts it."
    ),
    by: str | None = BY_OPTION,
) -> None:
    """Record what the order service says of an order left in doubt."""
    from ordergen.errors import InputError
    from ordergen.run.approval import resolve_in_doubt

    if (created is None) == (not not_created):
        raise InputError(
            "--created", created, "give exactly one of --created ORDER_ID or --not-created"
        )
    settings = load_settings()
    with _open(settings) as db:
        state = resolve_in_doubt(db, settings, run_id, order, created, _acting(db, settings, by))
    say(f"order {order!r} of run {run_id!r} is now {state}")


@runs_app.command("history")
def history(
    run_id: str = RUN_ARGUMENT,
    as_json: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
) -> None:
    """Print a run's audit trail: every proposal, approval, rejection, send, resolution."""
    from ordergen.store.audit import history as audit_history
    from ordergen.store.runs import RunRepository

    settings = load_settings()
    with _open(settings) as db:
        RunRepository(db).get(run_id)
        entries = list(audit_history(db, run_id))
    if as_json:
        print_json(entries)
        return
    rows = [
        (
            entry["at"],
            entry["action"],
            entry["by"],
            "all" if entry.get("portfolios") is None else ", ".join(entry["portfolios"]),
            _details(entry),
        )
        for entry in entries
    ]
    columns = ("at", "action", "by", "portfolios", "details")
    print_tables(table(f"{len(rows)} entry(ies) for run {run_id}", columns, rows))


def _details(entry: dict[str, Any]) -> str:
    shown = {"at", "action", "by", "portfolios", "runId"}
    parts = []
    for name, value in entry.items():
        if name in shown:
            continue
        if isinstance(value, dict):
            parts.append(f"{name}: " + ", ".join(f"{k}={v}" for k, v in value.items() if v))
        else:
            parts.append(f"{name}: {value}")
    return "; ".join(parts)
