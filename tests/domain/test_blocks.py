"""Block orders: exact sums per security and side, allocations, crossings never netted."""

import random

import pytest

from ordergen.domain.blocks import OrderLine, build_blocks
from ordergen.domain.results import BUY, SELL


def test_blocks_sum_their_allocations_and_crossings_are_reported_not_netted() -> None:
    book = build_blocks(
        [
            OrderLine("P2", "S", BUY, 7),
            OrderLine("P1", "S", BUY, 3),
            OrderLine("P3", "S", SELL, 4),
            OrderLine("P1", "T", SELL, 2),
        ]
    )
    assert [(b.security_id, b.side, b.quantity) for b in book.blocks] == [
        ("S", BUY, 10),
        ("S", SELL, 4),
        ("T", SELL, 2),
    ]
    assert [(a.portfolio_id, a.quantity) for a in book.blocks[0].allocations] == [
        ("P1", 3),
        ("P2", 7),
    ]
    assert [c.document() for c in book.crossings] == [
        {"securityId": "S", "bought": 10, "sold": 4, "crossable": 4}
    ]
    assert book.orders == 4


def test_random_orders_keep_every_share_whatever_their_order() -> None:
    rng = random.Random(17)
    lines = [
        OrderLine(f"P{rng.randrange(30)}", f"S{rng.randrange(8)}", rng.choice((BUY, SELL)),
                  rng.randrange(1, 10**12))
        for _ in range(2000)
    ]  # fmt: skip
    book = build_blocks(lines)
    shuffled = list(lines)
    rng.shuffle(shuffled)
    assert build_blocks(shuffled) == book
    for side in (BUY, SELL):
        expected: dict[str, int] = {}
        for line in lines:
            if line.side == side:
                expected[line.security_id] = expected.get(line.security_id, 0) + line.quantity
        assert {b.security_id: b.quantity for b in book.blocks if b.side == side} == expected
    assert sum(b.quantity for b in book.blocks) == sum(line.quantity for line in lines)


@pytest.mark.parametrize(
    "line",
    [OrderLine("P", "S", "HOLD", 1), OrderLine("P", "S", BUY, 0), OrderLine("P", "S", BUY, True)],
)
def test_an_order_no_run_could_make_is_refused(line: OrderLine) -> None:
    with pytest.raises(ValueError, match="order"):
        build_blocks([line])
