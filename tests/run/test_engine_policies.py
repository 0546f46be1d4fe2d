"""The engine under policies: P1-P6 end to end, every reported number against a Decimal
reading of docs/policies.md, and portfolios without a policy left exactly as they were."""

import json
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ordergen.domain.holdings import Holdings
from ordergen.domain.model import InvestmentModel, validate_model
from ordergen.domain.policy import PolicyOverride, parse_policy_override
from ordergen.domain.results import BUY, PortfolioResult
from ordergen.domain.summary import WITHIN_BANDS, RunSummary
from ordergen.io.orders_json import portfolio_document
from ordergen.io.portfolio_text import PortfolioTexts
from ordergen.optimize.policies import PolicyStatus, solve_policy_batch
from ordergen.optimize.problem import Method
from ordergen.run.engine import RunOptions, rebalance, rebalance_chunks
from tests.factories import gid, holdings, model_doc, prices
from tests.optimize.test_policies import Instance, policy_instances

METHODS = [Method.AUTO, Method.MILP]
WEIGHT = Decimal("0.0001")
R1_POSITIONS = [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")]
R1_PRICES = prices(S="100", B="100")


def model_with(
    policy: dict[str, Any] | None, positions: list[tuple[str, str, str, str]] = R1_POSITIONS
) -> InvestmentModel:
    document = model_doc(positions, ["P", "Q", "R"])
    if policy is not None:
        document["policy"] = policy
    return validate_model(document)


def run_one(
    model: InvestmentModel,
    portfolio: Holdings,
    price_of: Mapping[str, Decimal],
    method: Method,
    override: dict[str, Any] | None = None,
) -> PortfolioResult:
    overrides = (
        {} if override is None else {portfolio.portfolio_id: parse_policy_override(override)}
    )
    (result,) = rebalance(
        model, [portfolio], price_of, RunOptions(method=method), overrides=overrides
    )
    return result


def assert_file_text_is_the_documents(
    model: InvestmentModel,
    portfolios: Sequence[Holdings],
    price_of: Mapping[str, Decimal],
    overrides: Mapping[str, PolicyOverride],
) -> None:
    """The orders file's bulk text is exactly `json.dumps` of each result's document."""
    options = RunOptions(chunk_size=2)  # chunks that mix every kind of row
    for chunk in rebalance_chunks(model, portfolios, price_of, options, overrides=overrides):
        expected = [
            json.dumps(portfolio_document(result), separators=(",", ":"))
            for result in chunk.results
        ]
        assert list(PortfolioTexts()(chunk)) == expected


def order_map(result: PortfolioResult) -> dict[str, int]:
    return {
        order.security_id: order.quantity if order.side == BUY else -order.quantity
        for order in result.orders
    }


@pytest.mark.parametrize("method", METHODS)
def test_p1_runs_to_the_nearer_band_edges(method: Method) -> None:
    result = run_one(
        model_with({"innerBand": 1}), holdings("P", "5000", S=500, B=400), R1_PRICES, method
    )
    assert result.status == "ok"
    assert order_map(result) == {gid("S"): 23, gid("B"): -87}
    assert result.objective == 0
    assert result.cash_after == Decimal(5000) - 2300 + 8700
    assert result.policy is not None and result.policy.overrides == {}


@pytest.mark.parametrize("method", METHODS)
def test_p2_within_bands_is_a_success_with_no_orders(method: Method) -> None:
    model = model_with({"innerBand": 1, "trigger": "outside-bands"})
    result = run_one(model, holdings("P", "10000", S=560, B=290), R1_PRICES, method)
    assert result.status == WITHIN_BANDS
    assert result.orders == () and result.drifts == ()
    assert "within bands" in result.message
    # |560*100 - 0.6*95000| / 95000 = 1000 / 95000, rounded to 4 places
    assert result.worst_drift_before == Decimal("0.0105")
    summary = RunSummary()
    summary.add(result)
    assert summary.by_status[WITHIN_BANDS] == 1
    assert summary.failed == 0


@pytest.mark.parametrize("method", METHODS)
def test_p3_minimum_trade(method: Method) -> None:
    model = model_with({"minTrade": {"amount": 10000}})
    result = run_one(model, holdings("P", "5000", S=500, B=400), R1_PRICES, method)
    assert order_map(result) == {gid("S"): 100, gid("B"): -115}
    assert result.objective == 3000


@pytest.mark.parametrize("method", METHODS)
def test_p4_a_restricted_security_outside_the_model_stays_held_and_is_reported(
    method: Method,
) -> None:
    model = model_with(
        {"restrictions": {gid("X"): "no-sell"}}, positions=[("S", "0.60", "0.05", "0.05")]
    )
    result = run_one(model, holdings("P", "9000", S=100, X=50), prices(S="100", X="20"), method)
    assert order_map(result) == {gid("S"): 20}
    assert result.objective == 1000
    outside = result.drifts[-1]
    assert (outside.security_id, outside.original_quantity, outside.adjusted_quantity) == (
        gid("X"),
        50,
        50,
    )
    assert outside.actual == Decimal("0.0500") and outside.actual_drift is None
    assert len(result.drifts) == 2


@pytest.mark.parametrize("method", METHODS)
def test_p5_buy_only_without_cash_sends_nothing(method: Method) -> None:
    result = run_one(
        model_with({"mode": "buy-only"}), holdings("P", "0", S=500, B=400), R1_PRICES, method
    )
    assert result.status == "ok" and result.orders == ()


@pytest.mark.parametrize("method", METHODS)
def test_p6_cash_need_from_an_override_weights_of_what_remains(method: Method) -> None:
    result = run_one(
        model_with(None),
        holdings("P", "5000", S=500, B=400),
        R1_PRICES,
        method,
        override={"mode": "sell-only", "cashNeed": "20000"},
    )
    assert order_map(result) == {gid("S"): -50, gid("B"): -175}
    assert result.cash_after == Decimal(27500)
    assert [drift.actual for drift in result.drifts] == [Decimal("0.6"), Decimal("0.3")]
    assert result.worst_drift_after == 0
    assert result.policy is not None
    assert result.policy.document() == {
        "overrides": {"mode": "sell-only"},
        "cashNeed": "20000",
        "cashFloor": "75000",
    }


def test_a_cash_need_beyond_the_market_value_is_infeasible_and_says_so() -> None:
    result = run_one(
        model_with(None),
        holdings("P", "5000", S=500, B=400),
        R1_PRICES,
        Method.AUTO,
        override={"cashNeed": "100000"},
    )
    assert result.status == "infeasible"
    assert "cash need" in result.message
    assert result.policy is not None and result.policy.cash_floor is None


def test_portfolios_without_an_override_are_exactly_as_without_any() -> None:
    model = model_with(None)
    portfolios = [
        holdings("P", "5000", S=500, B=400),
        holdings("Q", "700", S=3, B=9, X=4),
        holdings("R", "12000.5", S=40, B=100),
    ]
    price_of = {**R1_PRICES, **prices(X="7.25")}
    plain = list(rebalance(model, portfolios, price_of))
    overrides: dict[str, PolicyOverride] = {gid("Q"): parse_policy_override({"innerBand": "0.5"})}
    mixed = list(rebalance(model, portfolios, price_of, overrides=overrides))
    assert portfolio_document(mixed[0]) == portfolio_document(plain[0])
    assert portfolio_document(mixed[2]) == portfolio_document(plain[2])
    assert mixed[1].policy is not None and plain[1].policy is None
    assert portfolio_document(mixed[1])["policy"]["overrides"] == {"innerBand": "0.5"}


# --- every number against a Decimal reading, on random instances ---------------------


def _weight(value: Decimal, base: Decimal) -> Decimal:
    return (value / base).quantize(WEIGHT, rounding=ROUND_HALF_UP)


def engine_inputs(instance: Instance) -> tuple[InvestmentModel, Holdings, dict[str, Decimal]]:
    terms = instance.terms
    model = validate_model(
        {
            "name": "m",
            "positions": [
                {"securityId": sid, "target": str(t), "lowDrift": str(low), "highDrift": str(high)}
                for sid, t, low, high in zip(
                    terms.model.security_ids,
                    terms.model.targets,
                    terms.model.low_drifts,
                    terms.model.high_drifts,
                    strict=True,
                )
            ],
            "portfolios": [gid("P")],
            "policy": instance.policy.document(),
        }
    )
    held = sum(
        (units * price for units, price in zip(instance.current, terms.prices, strict=True)),
        Decimal(0),
    )
    portfolio = Holdings(
        gid("P"),
        instance.market_value - held,
        dict(zip(terms.security_ids, instance.current, strict=True)),
    )
    return model, portfolio, dict(zip(terms.security_ids, terms.prices, strict=True))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(policy_instances())
def test_every_reported_number_follows_the_policy_solution(instance: Instance) -> None:
    model, portfolio, price_of = engine_inputs(instance)
    override = {"cashNeed": str(instance.cash_need)} if instance.cash_need else None
    result = run_one(model, portfolio, price_of, Method.AUTO, override)
    overrides = (
        {} if override is None else {portfolio.portfolio_id: parse_policy_override(override)}
    )
    assert_file_text_is_the_documents(model, [portfolio], price_of, overrides)
    (solution,) = solve_policy_batch(instance.terms, [instance.case()])
    assert result.status == solution.status.value
    if instance.policy.is_default and not instance.cash_need:
        assert result.policy is None  # no policy anywhere: the base problem, reported as before
    else:
        assert result.policy is not None and result.policy.cash_need == instance.cash_need
        assert result.policy.cash_floor == solution.cash_floor
    base = instance.market_value - instance.cash_need
    if solution.status is not PolicyStatus.OK:
        assert result.orders == () and result.message == solution.message
        return
    assert solution.quantities is not None
    after = dict(zip(instance.terms.security_ids, solution.quantities.tolist(), strict=True))
    assert order_map(result) == {
        sid: after[sid] - before
        for sid, before in zip(instance.terms.security_ids, instance.current, strict=True)
        if after[sid] != before
    }
    assert result.objective == solution.objective
    traded = sum(
        (abs(after[sid] - portfolio.quantities[sid]) * price_of[sid] for sid in after), Decimal(0)
    )
    assert result.turnover == traded == solution.traded_value
    spent = sum(
        ((after[sid] - portfolio.quantities[sid]) * price_of[sid] for sid in after), Decimal(0)
    )
    assert result.cash_after == portfolio.cash - spent
    targets = dict(zip(instance.terms.security_ids, instance.terms.targets, strict=True))
    listed = [sid for sid in after if targets[sid] or portfolio.quantities[sid]]
    assert [drift.security_id for drift in result.drifts] == listed
    for drift in result.drifts:
        sid = drift.security_id
        assert drift.adjusted_quantity == after[sid]
        if base > 0:
            assert drift.actual == _weight(after[sid] * price_of[sid], base)
        if targets[sid]:
            expected = (1 - drift.actual / targets[sid]).quantize(WEIGHT, rounding=ROUND_HALF_UP)
            assert drift.actual_drift == expected
        else:
            assert drift.actual_drift is None
    if base > 0:
        worst = max(abs(after[sid] * price_of[sid] - targets[sid] * base) for sid in listed)
        assert result.worst_drift_after == _weight(worst, base)


def test_each_portfolio_reports_only_the_outside_securities_it_held() -> None:
    model = model_with(
        {"restrictions": {gid("X"): "hold", gid("Y"): "no-sell"}},
        positions=[("S", "0.60", "0.05", "0.05")],
    )
    portfolios = [
        holdings("P", "9000", S=100, X=50),
        holdings("Q", "9000", S=100, Y=5),
        holdings("R", "9000", S=100),
    ]
    price_of = prices(S="100", X="20", Y="200")
    results = list(rebalance(model, portfolios, price_of))
    assert [[d.security_id for d in r.drifts] for r in results] == [
        [gid("S"), gid("X")],
        [gid("S"), gid("Y")],
        [gid("S")],
    ]
    assert [r.drifts[-1].adjusted_quantity for r in results] == [50, 5, 114]
    assert all(gid("X") not in order_map(r) and gid("Y") not in order_map(r) for r in results)
    assert_file_text_is_the_documents(model, portfolios, price_of, {})


def test_the_file_text_of_mixed_chunks_is_the_documents() -> None:
    model = model_with(None)
    portfolios = [
        holdings("P", "5000", S=500, B=400),
        holdings("Q", "10000", S=560, B=290, X=3),
        holdings("R", "0"),
        holdings("P", "700.25", S=3, B=9, Y=-4),
        holdings("Q", "10000", S=560, B=290),
    ]
    overrides = {
        gid("P"): parse_policy_override({"innerBand": "1", "cashNeed": "10.5"}),
        gid("Q"): parse_policy_override(
            {"trigger": "outside-bands", "restrictions": {gid("X"): "hold"}}
        ),
    }
    price_of = {**R1_PRICES, **prices(X="7.25", Y="0.5")}
    assert_file_text_is_the_documents(model, portfolios, price_of, overrides)
    assert_file_text_is_the_documents(model, portfolios, price_of, {})
