"""Block orders: a run's orders gathered per security and side, for execution.

A block's quantity is exactly the sum of its allocations, one per portfolio. Where a
security is bought in some portfolios and sold in others, the shares that could be
crossed between them are reported, for information only: the blocks are never netted,
since crossing between accounts needs compliance approval.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ordergen.domain.results import BUY, SELL

SIDES = (BUY, SELL)


@dataclass(frozen=True)
class OrderLine:
    """One order as the blocks need it."""

    portfolio_id: str
    security_id: str
    side: str
    quantity: int


@dataclass(frozen=True)
class Allocation:
    """One portfolio's share of a block."""

    portfolio_id: str
    quantity: int


@dataclass(frozen=True)
class Block:
    """Every order of the run for one security and side."""

    security_id: str
    side: str
    allocations: tuple[Allocation, ...]

    @property
    def quantity(self) -> int:
        return sum(allocation.quantity for allocation in self.allocations)

    def document(self) -> dict[str, Any]:
        return {
            "securityId": self.security_id,
            "side": self.side,
            "quantity": self.quantity,
            "allocations": [
                {"portfolioId": a.portfolio_id, "quantity": a.quantity} for a in self.allocations
            ],
        }


@dataclass(frozen=True)
class Crossing:
    """A security bought in some portfolios and sold in others (never netted)."""

    security_id: str
    bought: int
    sold: int

    @property
    def crossable(self) -> int:
        """Shares that could change hands between the accounts instead of the market."""
        return min(self.bought, self.sold)

    def document(self) -> dict[str, Any]:
        return {
            "securityId": self.security_id,
            "bought": self.bought,
            "sold": self.sold,
            "crossable": self.crossable,
        }


@dataclass(frozen=True)
class BlockBook:
    """The blocks by security then side (buy first), and the crossing opportunities."""

    blocks: tuple[Block, ...]
    crossings: tuple[Crossing, ...]

    @property
    def orders(self) -> int:
        return sum(len(block.allocations) for block in self.blocks)

    def document(self) -> dict[str, Any]:
        return {
            "blocks": [block.document() for block in self.blocks],
            "crossings": [crossing.document() for crossing in self.crossings],
        }


def build_blocks(orders: Iterable[OrderLine]) -> BlockBook:
    """One block per security and side; a portfolio's orders of one block are summed.

    A side other than BUY or SELL, or a quantity that is not a positive integer, is a
    `ValueError`: such an order cannot come from a run.
    """
    quantities: defaultdict[tuple[str, str], defaultdict[str, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for order in orders:
        if order.side not in SIDES:
            raise ValueError(f"order side must be BUY or SELL, not {order.side!r}")
        if isinstance(order.quantity, bool) or not isinstance(order.quantity, int):
            raise ValueError(f"order quantity must be an integer, not {order.quantity!r}")
        if order.quantity <= 0:
            raise ValueError(f"order quantity must be positive, not {order.quantity}")
        quantities[(order.security_id, order.side)][order.portfolio_id] += order.quantity
    blocks = tuple(
        Block(
            security_id,
            side,
            tuple(Allocation(pid, quantity) for pid, quantity in sorted(by_portfolio.items())),
        )
        for (security_id, side), by_portfolio in sorted(
            quantities.items(), key=lambda item: (item[0][0], SIDES.index(item[0][1]))
        )
    )
    totals = {(block.security_id, block.side): block.quantity for block in blocks}
    crossings = tuple(
        Crossing(security_id, totals[(security_id, BUY)], totals[(security_id, SELL)])
        for security_id in sorted({security_id for security_id, _ in totals})
        if (security_id, BUY) in totals and (security_id, SELL) in totals
    )
    return BlockBook(blocks, crossings)
