"""The reference cases R1-R9 of the shared domain document, through the batch engine."""

from decimal import Decimal

import pytest

from ordergen.domain.results import PortfolioResult
from ordergen.optimize.problem import Method
from ordergen.run.engine import RunOptions, rebalance
from tests.factories import gid, holdings, make_model, prices

METHODS = [Method.AUTO, Method.MILP]


def run_one(model_positions, held, price_map, method) -> PortfolioResult:  # type: ignore[no-untyped-def]
    model = make_model(model_positions)
    (result,) = rebalance(model, [held], price_map, RunOptions(method=method))
    return result


def orders_of(result: PortfolioResult) -> dict[str, tuple[str, int]]:
    return {order.security_id: (order.side, order.quantity) for order in result.orders}


def adjusted(result: PortfolioResult) -> dict[str, int]:
    return {drift.security_id: drift.adjusted_quantity for drift in result.drifts}


@pytest.mark.parametrize("method", METHODS)
def test_r1_exact_targets_reachable(method: Method) -> None:
    # MV 95000 = 50000 + 40000 held + 5000 cash.
    result = run_one(
        [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")],
        holdings("P", "5000", S=500, B=400),
        prices(S="100", B="100"),
        method,
    )
    assert result.status == "ok"
    assert result.market_value == Decimal("95000.000")
    assert adjusted(result) == {gid("S"): 570, gid("B"): 285}
    assert orders_of(result) == {gid("S"): ("BUY", 70), gid("B"): ("SELL", 115)}
    assert result.objective == 0


@pytest.mark.parametrize("method", METHODS)
def test_r2_asymmetric_drifts(method: Method) -> None:
    result = run_one(
        [("S", "0.60", "0.02", "0.03"), ("B", "0.30", "0.01", "0.02")],
        holdings("P", "0", S=800, B=200),
        prices(S="100", B="100"),
        method,
    )
    assert result.market_value == Decimal("100000.000")
    assert adjusted(result) == {gid("S"): 600, gid("B"): 300}
    assert orders_of(result) == {gid("S"): ("SELL", 200), gid("B"): ("BUY", 100)}


@pytest.mark.parametrize("method", METHODS)
def test_r3_no_whole_share_fits_a_band(method: Method) -> None:
    result = run_one(
        [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")],
        holdings("P", "10", S=1, B=1),
        prices(S="50", B="100"),
        method,
    )
    assert result.market_value == Decimal("160.000")
    assert result.status == "infeasible"
    assert result.orders == ()
    assert gid("B") in result.message


@pytest.mark.parametrize("method", METHODS)
def test_r4_narrow_band_on_expensive_share(method: Method) -> None:
    result = run_one(
        [("A", "0.95", "0.001", "0.001")], holdings("P", "50", A=1), prices(A="1000"), method
    )
    assert result.market_value == Decimal("1050.000")
    assert result.status == "infeasible"
    assert result.orders == ()
    assert gid("A") in result.message


@pytest.mark.parametrize("method", METHODS)
def test_r5_zero_drift_is_infeasible_and_one_percent_is_not(method: Method) -> None:
    strict = run_one(
        [("A", "0.50", "0", "0"), ("B", "0.45", "0", "0")],
        holdings("P", "1000"),
        prices(A="33", B="7"),
        method,
    )
    assert strict.status == "infeasible"
    relaxed = run_one(
        [("A", "0.50", "0.01", "0.01"), ("B", "0.45", "0.01", "0.01")],
        holdings("P", "1000"),
        prices(A="33", B="7"),
        method,
    )
    assert relaxed.status == "ok"
    assert adjusted(relaxed) == {gid("A"): 15, gid("B"): 64}
    assert relaxed.objective == 7


@pytest.mark.parametrize("method", METHODS)
def test_r6_both_bands_empty(method: Method) -> None:
    result = run_one(
        [("A", "0.50", "0.001", "0.001"), ("B", "0.40", "0.001", "0.001")],
        holdings("P", "95000"),
        prices(A="400", B="400"),
        method,
    )
    assert result.status == "infeasible"
    assert result.orders == ()


@pytest.mark.parametrize("method", METHODS)
def test_r7_three_awkward_prices(method: Method) -> None:
    result = run_one(
        [
            ("A", "0.30", "0.02", "0.02"),
            ("B", "0.30", "0.02", "0.02"),
            ("C", "0.30", "0.02", "0.02"),
        ],
        holdings("P", "10000"),
        prices(A="7", B="13", C="29"),
        method,
    )
    assert adjusted(result) == {gid("A"): 429, gid("B"): 231, gid("C"): 103}
    assert result.objective == 19


@pytest.mark.parametrize("method", METHODS)
def test_r9_security_outside_the_model_is_sold(method: Method) -> None:
    # MV 20000 = 10000 (S) + 1000 (X) + 9000 cash.
    result = run_one(
        [("S", "0.60", "0.05", "0.05")],
        holdings("P", "9000", S=100, X=50),
        prices(S="100", X="20"),
        method,
    )
    assert result.market_value == Decimal("20000.000")
    assert orders_of(result) == {gid("S"): ("BUY", 20), gid("X"): ("SELL", 50)}
    assert result.cash_after == Decimal("8000")
