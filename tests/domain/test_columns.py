"""The columnar results against the Decimal implementation they replaced, digit for digit.

Market values, worst drifts, weights, actual drifts, cash after, objective and
turnover must have the same value and be written with the same places as the
per-security Decimal arithmetic (tests/domain/decimal_reference.py), and every
portfolio's text in the orders file must be the bytes `json.dumps` makes of its
document.
"""

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ordergen.domain.columns import RebalancedColumns, ResultChunk
from ordergen.domain.fixed_point import exact_array, to_units
from ordergen.domain.holdings import Holdings
from ordergen.domain.holdings_columns import MONEY_SCALE, HoldingsColumns
from ordergen.domain.model import Position
from ordergen.domain.model_columns import ModelColumns
from ordergen.domain.results import PortfolioResult
from ordergen.domain.summary import RunSummary
from ordergen.io.orders_json import portfolio_document
from ordergen.io.portfolio_text import PortfolioTexts
from tests.domain import decimal_reference as reference
from tests.factories import gid

MODEL_IDS = [gid(f"M{index}") for index in range(5)]
OUTSIDE_IDS = [gid("A1"), gid("N1"), gid("Z1")]  # sort before, between and after the model's


def decimals(
    units: st.SearchStrategy[int], places: st.SearchStrategy[int]
) -> st.SearchStrategy[Decimal]:
    """Decimals written with `places` places (negative: an exponent, "1E+1")."""
    return st.builds(lambda unit, place: Decimal(unit).scaleb(-place), units, places)


targets = st.builds(
    lambda steps, zeros, short: (
        Decimal(5 * steps * 10**zeros).scaleb(-3 - zeros).normalize()
        if short
        else Decimal(5 * steps * 10**zeros).scaleb(-3 - zeros)
    ),
    st.integers(1, 190),
    st.integers(0, 3),
    st.booleans(),
)
drifts = st.integers(0, 8).flatmap(
    lambda place: decimals(st.integers(0, 10**place), st.just(place))
)
prices = decimals(st.integers(1, 10**6), st.integers(-1, 4)) | decimals(
    st.integers(10**5, 10**17), st.just(8)
)
cash = decimals(st.integers(-(10**6), 10**13), st.integers(-2, 8)) | st.sampled_from(
    [Decimal("-0"), Decimal("-0.00"), Decimal("0E+2"), Decimal("1E+3")]
)
quantities = st.integers(-(10**3), 10**5) | st.just(0)


@st.composite
def chunks(draw: st.DrawFn) -> tuple[list[Position], dict[str, Decimal], list[Holdings]]:
    size = draw(st.integers(0, len(MODEL_IDS)))  # a model may have no positions left
    positions = [
        Position(security_id, draw(targets), draw(drifts), draw(drifts))
        for security_id in MODEL_IDS[:size]
    ]
    price_of = {security_id: draw(prices) for security_id in MODEL_IDS[:size] + OUTSIDE_IDS}
    portfolios = []
    for index in range(draw(st.integers(1, 4))):
        held = draw(
            st.dictionaries(st.sampled_from(MODEL_IDS[:size] + OUTSIDE_IDS), quantities, max_size=6)
        )
        portfolios.append(Holdings(gid(f"P{index}"), draw(cash), held))
    return positions, price_of, portfolios


def columns_of(
    positions: Sequence[Position], prices: Mapping[str, Decimal], portfolios: Sequence[Holdings]
) -> tuple[ModelColumns, HoldingsColumns]:
    """The model's columns and the portfolios' holdings columns against them."""
    model = ModelColumns.of(
        [p.security_id for p in positions],
        [p.target for p in positions],
        [prices[p.security_id] for p in positions],
    )
    held = HoldingsColumns.of(
        [item.cash for item in portfolios],
        [item.quantities for item in portfolios],
        model.security_ids,
        prices,
    )
    return model, held


def columnar(
    positions: Sequence[Position],
    prices: dict[str, Decimal],
    portfolios: Sequence[Holdings],
    adjusted: Sequence[Sequence[int]],
) -> ResultChunk:
    """Every portfolio rebalanced to `adjusted`, as the batch builds an `ok` chunk."""
    model, held = columns_of(positions, prices, portfolios)
    rows = list(range(len(portfolios)))
    values = held.market_values(rows, model)
    units = [to_units(value, MONEY_SCALE) for value in values]
    market_values = exact_array(units, max(map(abs, units)))
    before = held.worst_drifts(rows, market_values, model)
    columns = RebalancedColumns.of(
        positions,
        model,
        held,
        rows,
        np.array(adjusted, dtype=np.int64).reshape(len(rows), len(positions)),
        market_values,
    )
    results = tuple(
        columns.completed(
            row,
            PortfolioResult(
                item.portfolio_id,
                "ok",
                market_value=values[row],
                solver="fast",
                seconds=0.0,
                worst_drift_before=before[row],
            ),
        )
        for row, item in enumerate(portfolios)
    )
    return ResultChunk(results, columns)


def text(result: PortfolioResult) -> str:
    return json.dumps(portfolio_document(result), separators=(",", ":"))


def assert_same(chunk: ResultChunk, expected: Sequence[PortfolioResult]) -> None:
    """Same documents, same file bytes, same summary as the Decimal results."""
    assert [portfolio_document(r) for r in chunk.results] == [
        portfolio_document(r) for r in expected
    ]
    assert list(PortfolioTexts()(chunk)) == [text(r) for r in expected]
    ours, theirs = RunSummary(), RunSummary()
    for mine, reference_result in zip(chunk.results, expected, strict=True):
        ours.add(mine)
        theirs.add(reference_result)
        assert (mine.buy_orders, mine.sell_orders) == (
            reference_result.buy_orders,
            reference_result.sell_orders,
        )
    assert ours.document() == theirs.document()


@settings(max_examples=300, deadline=None)
@given(chunks(), st.data())
def test_rebalanced_columns_match_the_decimal_results(
    case: tuple[list[Position], dict[str, Decimal], list[Holdings]], data: st.DataObject
) -> None:
    positions, price_of, portfolios = case
    values = [reference.market_value(item, price_of) for item in portfolios]
    assume(all(value >= 0 for value in values))  # a portfolio is rebalanced only then
    adjusted = [
        data.draw(st.lists(st.integers(0, 10**6), min_size=len(positions), max_size=len(positions)))
        for _ in portfolios
    ]
    chunk = columnar(positions, price_of, portfolios, adjusted)
    expected = [
        reference.rebalanced_result(
            item, value, positions, price_of, units, solver="fast", seconds=0.0
        )
        for item, value, units in zip(portfolios, values, adjusted, strict=True)
    ]
    assert_same(chunk, expected)


@settings(max_examples=300, deadline=None)
@given(chunks())
def test_market_values_and_worst_drifts_match_decimal(
    case: tuple[list[Position], dict[str, Decimal], list[Holdings]],
) -> None:
    positions, price_of, portfolios = case
    model, held = columns_of(positions, price_of, portfolios)
    rows = list(range(len(portfolios)))
    values = held.market_values(rows, model)
    expected = [reference.market_value(item, price_of) for item in portfolios]
    assert [str(value) for value in values] == [str(value) for value in expected]  # -0.000 too
    units = [to_units(value, MONEY_SCALE) for value in values]
    drifts = held.worst_drifts(rows, exact_array(units, max(map(abs, units))), model)
    targets = {p.security_id: p.target for p in positions}
    assert [str(drift) for drift in drifts] == [
        str(reference.worst_drift(item.quantities, targets, price_of, value))
        for item, value in zip(portfolios, expected, strict=True)
    ]


def test_a_portfolio_worth_zero_sells_everything_with_plain_zero_weights() -> None:
    positions = [Position(gid("S"), Decimal("0.60"), Decimal("0.05"), Decimal("0.05"))]
    price_of = {gid("S"): Decimal("100"), gid("X"): Decimal("2.5")}
    holding = Holdings(gid("P"), Decimal("-1025.0"), {gid("S"): 10, gid("X"): 10})
    chunk = columnar(positions, price_of, [holding], [[0]])
    expected = reference.rebalanced_result(
        holding, Decimal("0.000"), positions, price_of, [0], solver="fast", seconds=0.0
    )
    assert_same(chunk, [expected])
    assert '"actual":"0","actualDrift":"1.0000"' in text(chunk.results[0])


def test_a_portfolio_that_trades_nothing_keeps_its_cash_as_written() -> None:
    positions = [Position(gid("S"), Decimal("0.5"), Decimal("0.5"), Decimal("0.5"))]
    price_of = {gid("S"): Decimal("1E+1")}
    for written in ("1E+3", "-0.00", "100.500"):
        holding = Holdings(gid("P"), Decimal(written), {gid("S"): 5})
        value = reference.market_value(holding, price_of)
        chunk = columnar(positions, price_of, [holding], [[5]])
        expected = reference.rebalanced_result(
            holding, value, positions, price_of, [5], solver="fast", seconds=0.0
        )
        assert_same(chunk, [expected])
        assert chunk.results[0].cash_after is holding.cash


def test_orders_and_drifts_are_built_only_when_read() -> None:
    positions = [Position(gid("S"), Decimal("0.60"), Decimal("0.05"), Decimal("0.05"))]
    price_of = {gid("S"): Decimal("100"), gid("X"): Decimal("20")}
    holding = Holdings(gid("P"), Decimal("9000"), {gid("S"): 100, gid("X"): -50})
    (result,) = columnar(positions, price_of, [holding], [[120]]).results
    assert (len(result.orders), result.buy_orders, result.sell_orders) == (2, 2, 0)
    assert len(result.drifts) == 2
    assert [(o.security_id, o.side, o.quantity) for o in result.orders] == [
        (gid("S"), "BUY", 20),
        (gid("X"), "BUY", 50),
    ]
    assert result.orders == tuple(result.orders) and hash(result.orders) == hash(
        tuple(result.orders)
    )
