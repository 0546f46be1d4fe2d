"""`ordergen runs blocks`: a run's orders as block orders, one per security and side.

From MongoDB (RUN_ID, the orders in the approval state asked for) or from an orders
file (`--orders FILE`, no database). The arithmetic is `ordergen.domain.blocks`.
"""

import csv
import sys
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from ordergen.cli.output import print_json, print_tables, table
from ordergen.cli.runs import runs_app
from ordergen.domain.blocks import BlockBook, OrderLine, build_blocks
from ordergen.errors import InputError
from ordergen.settings import load_settings


class BlockState(StrEnum):
    """Which of a run's orders make the blocks."""

    APPROVED = "approved"
    PROPOSED = "proposed"
    ALL = "all"


class BlockFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


CSV_COLUMNS = ("securityId", "side", "blockQuantity", "portfolioId", "quantity")


def _line(portfolio_id: str, order: Mapping[str, Any]) -> OrderLine:
    return OrderLine(portfolio_id, order["securityId"], order["side"], order["quantity"])


def _wanted(approval: str | None, state: BlockState) -> bool:
    """Whether an order in this approval state (None: its run needs none) is wanted.

    A rejected order is in no block; one needing no approval counts as approved."""
    if approval == "rejected":
        return False
    if state is BlockState.ALL:
        return True
    return (approval or "approved") == state.value


def _from_file(path: Path) -> Iterator[OrderLine]:
    from ordergen.io.orders_read import OrdersFile

    for portfolio in OrdersFile(path).portfolios():
        for order in portfolio.get("orders") or []:
            yield _line(portfolio["portfolioId"], order)


def _from_run(run_id: str, state: BlockState) -> list[OrderLine]:
    from ordergen.store.connection import open_database
    from ordergen.store.orders import orders_for_run
    from ordergen.store.runs import RunRepository
    from ordergen.store.submissions import approval_of

    with open_database(load_settings()) as db:
        RunRepository(db).get(run_id)
        return [
            _line(order["portfolioId"], order)
            for order in orders_for_run(db, run_id)
            if _wanted(approval_of(order), state)
        ]


@runs_app.command("blocks")
def blocks(
    run_id: str | None = typer.Argument(
        None, metavar="[RUN_ID]", help="The run id (or --orders FILE)."
    ),
    state: BlockState | None = typer.Option(
        None,
        "--state",
        help="approved (default; a run needing no approval counts as approved), proposed, "
        "or all but the rejected.",
    ),
    orders: Path | None = typer.Option(
        None, "--orders", help="An orders file instead of a run in MongoDB."
    ),
    output_format: BlockFormat = typer.Option(BlockFormat.TABLE, "--format", help="Output."),
) -> None:
    """Block orders per security and side, their allocations, and crossing opportunities.

    Each block's quantity is the exact sum of its portfolios' orders. A security bought
    in some portfolios and sold in others is listed as a crossing opportunity, for
    information only: blocks are never netted.
    """
    if (run_id is None) == (orders is None):
        raise InputError("RUN_ID", run_id, "give a run id or --orders FILE, not both or neither")
    if orders is not None:
        if state is not None:
            raise InputError("--state", state.value, "not with --orders: a file has no approvals")
        lines: Any = _from_file(orders)
    else:
        assert run_id is not None
        lines = _from_run(run_id, state or BlockState.APPROVED)
    try:
        book = build_blocks(lines)
    except ValueError as exc:
        raise InputError(str(orders or run_id), None, str(exc)) from None
    _print(book, output_format)


def _print(book: BlockBook, output_format: BlockFormat) -> None:
    if output_format is BlockFormat.JSON:
        print_json(book.document())
    elif output_format is BlockFormat.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for block in book.blocks:
            for allocation in block.allocations:
                writer.writerow(
                    (block.security_id, block.side, block.quantity, allocation.portfolio_id,
                     allocation.quantity)
                )  # fmt: skip
    else:
        print_tables(
            table(
                f"{len(book.blocks)} block(s) of {book.orders} order(s)",
                ("security", "side", "quantity", "portfolios"),
                [(b.security_id, b.side, b.quantity, len(b.allocations)) for b in book.blocks],
            ),
            table(
                f"{len(book.crossings)} crossing(s), never netted",
                ("security", "bought", "sold", "crossable"),
                [(c.security_id, c.bought, c.sold, c.crossable) for c in book.crossings],
            ),
        )
