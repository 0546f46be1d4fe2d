"""Service answers that break the contract fail only the portfolios that depend on them.

A summary missing a required field, or with a value of the wrong type or out of
range, makes that portfolio an `error` naming the portfolio-accounting service and
the field (never cash 0 or nothing held); a bad close does the same for the
portfolios holding that security, naming the pricing service. The other
portfolios load and rebalance as if nothing had happened. Checked by examples and
by fuzzing against the real local fake GlobeCo server.
"""

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordergen.domain.model import InvestmentModel
from ordergen.run.engine import rebalance
from ordergen.services.inputs import ServiceInputs, load_service_inputs
from tests.factories import gid, make_model
from tests.raw_json import RAW, dumps
from tests.services.fake_globeco import SUMMARY, FakeGlobeCo
from tests.services.helpers import Sleeps, fast_options, service_settings

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Prefix of a string that `dumps` writes as a bare JSON token (1e400, NaN, ...)."""
P1, P2, P3 = gid("P1"), gid("P2"), gid("P3")
GOOD = {P1: ("10000", {gid("A"): 40, gid("B"): 30}), P3: ("20000.50", {gid("B"): 12})}
"""The portfolios no fault touches: cash and quantities."""
CLOSES = {"TA": "100", "TB": "50.25", "TX": "20"}


def price_item(ticker: str, close: Any) -> str:
    return dumps({"id": f"price-{ticker}", "ticker": ticker, "date": "2026-11-24", "close": close})


def p2_summary() -> dict[str, Any]:
    """P2 holds A and X; X is in no model, so only P2 needs its price."""
    return {
        "portfolioId": P2,
        "cashBalance": "3000",
        "securityCount": 2,
        "securities": [
            {"securityId": gid("A"), "netQuantity": "10.00", "quantityLong": "10.00"},
            {"securityId": gid("X"), "netQuantity": "5", "quantityShort": "0"},
        ],
    }


def setup(globeco: FakeGlobeCo) -> InvestmentModel:
    """A fresh suite: P1 and P3 untouched, P2 as `p2_summary`, fixed closes for every ticker."""
    globeco.summaries.clear()
    globeco.requests.clear()
    globeco.summary_texts.clear()
    globeco.price_texts.clear()
    globeco.bulk_omits = set()
    globeco.tickers = {gid(s): f"T{s}" for s in ("A", "B", "X")}
    globeco.priced = set(CLOSES)
    for ticker, close in CLOSES.items():
        globeco.price_texts[ticker] = price_item(ticker, close)
    for pid, (cash, held) in GOOD.items():
        globeco.portfolio(pid, cash, **held)
    globeco.summaries[P2] = p2_summary()
    return make_model(
        [("A", "0.40", "0.05", "0.05"), ("B", "0.30", "0.05", "0.05")],
        portfolios=("P1", "P2", "P3"),
    )


def load(globeco: FakeGlobeCo, model: InvestmentModel) -> ServiceInputs:
    settings_ = service_settings(globeco.url)
    options = fast_options(settings_, Sleeps(), retries=0)
    return load_service_inputs(settings_, model, model.portfolios, options=options)


def assert_only_p2_failed(
    model: InvestmentModel, inputs: ServiceInputs, service: str, *named: str
) -> str:
    """P2 is an `error` whose message starts with `service` and names each of `named`;
    P1 and P3 hold what the service said and rebalance to `ok`."""
    by_id = {item.portfolio_id: item for item in inputs.holdings}
    error = by_id[P2].load_error
    assert error is not None and error.startswith(f"{service}: "), error
    for text in named:
        assert text in error, (text, error)
    assert "None" not in error and "Decimal(" not in error, error
    for pid, (cash, held) in GOOD.items():
        assert by_id[pid].load_error is None
        assert (by_id[pid].cash, dict(by_id[pid].quantities)) == (Decimal(cash), held)
    statuses = {
        r.portfolio_id: (r.status, r.message)
        for r in rebalance(model, inputs.holdings, inputs.prices)
    }
    assert statuses[P2] == ("error", error)
    assert statuses[P1][0] == statuses[P3][0] == "ok", statuses
    assert inputs.prices[gid("A")] == Decimal("100") and inputs.prices[gid("B")] == Decimal("50.25")
    return error


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda s: s.pop("cashBalance"), "summary.cashBalance is missing"),
        (lambda s: s.pop("securities"), "summary.securities is missing"),
        (lambda s: s.pop("portfolioId"), "summary.portfolioId is missing"),
        (lambda s: s["securities"][1].pop("netQuantity"), "summary.securities[1].netQuantity is"),
        (lambda s: s["securities"][0].pop("securityId"), "summary.securities[0].securityId is"),
        (lambda s: s.update(cashBalance=None), "summary.cashBalance is null"),
        (lambda s: s.update(cashBalance="1e400"), 'summary.cashBalance: "1e400" is out of range'),
        (lambda s: s.update(cashBalance=RAW + "1e400"), "summary.cashBalance: 1E+400 is out of"),
        (lambda s: s.update(cashBalance=RAW + "NaN"), "summary.cashBalance: NaN is not a finite"),
        (lambda s: s.update(securities={}), "summary.securities must be a list"),
        (lambda s: s.update(portfolioId=P1), f'summary.portfolioId: "{P1}" is not the portfolio'),
        (
            lambda s: s["securities"][0].update(netQuantity="1e16"),
            'summary.securities[0].netQuantity: "1e16" is out of range',
        ),
        (
            lambda s: s["securities"][0].update(netQuantity="2.5"),
            'summary.securities[0].netQuantity: "2.5" is not a whole number',
        ),
    ],
)
def test_a_summary_breaking_the_contract_fails_only_its_portfolio(
    globeco: FakeGlobeCo, change: Any, named: str
) -> None:
    model = setup(globeco)
    summary = p2_summary()
    change(summary)
    globeco.summaries.pop(P2)
    globeco.summary_texts[P2] = dumps(summary)
    inputs = load(globeco, model)
    error = assert_only_p2_failed(model, inputs, "portfolio-accounting", named)
    assert error.startswith(f"portfolio-accounting: GET /api/v1/portfolios/{P2}/summary: ")
    assert inputs.failed_services == {"portfolio-accounting": error}
    assert [s["portfolioId"] for s in inputs.summaries] == [P1, P3]  # the snapshot omits P2


@pytest.mark.parametrize(
    ("close", "named"),
    [
        ("1e400", 'close: "1e400" is out of range: a price must be between 0.001 and 1e9'),
        (RAW + "1e400", "close: 1E+400 is out of range"),
        ("1e-400", 'close: "1e-400" is out of range'),
        (RAW + "1e-400", "close: 1E-400 is out of range"),
        (RAW + "NaN", "close: NaN is not a finite number"),
        ("0", 'close: "0" is not positive'),
        (None, "close is null"),
        ([], "close: [] is not a number"),
    ],
)
@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "single"])
def test_a_bad_close_fails_only_the_portfolios_holding_it(
    globeco: FakeGlobeCo, close: Any, named: str, bulk: bool
) -> None:
    model = setup(globeco)
    globeco.price_texts["TX"] = price_item("TX", close)
    if not bulk:
        globeco.bulk_omits = {"TX"}
    inputs = load(globeco, model)
    path = "/api/v1/prices" if bulk else "/api/v1/price/TX"
    assert_only_p2_failed(model, inputs, "pricing", f"GET {path}: malformed price for TX", named)
    assert gid("X") not in inputs.prices


def test_a_price_item_without_a_close_is_named(globeco: FakeGlobeCo) -> None:
    model = setup(globeco)
    globeco.price_texts["TX"] = dumps({"ticker": "TX", "date": "2026-11-24", "open": "20"})
    assert_only_p2_failed(model, load(globeco, model), "pricing", "close is missing")


def test_a_holding_worth_more_than_the_limit_fails_only_its_portfolio(
    globeco: FakeGlobeCo,
) -> None:
    model = setup(globeco)
    summary = p2_summary()
    summary["securities"][1]["netQuantity"] = "1000000000000000"  # valid alone; x 20 is not
    globeco.summaries[P2] = summary
    inputs = load(globeco, model)
    error = assert_only_p2_failed(
        model,
        inputs,
        "portfolio-accounting and pricing",
        f"portfolio {P2} has a holding of 1000000000000000 shares of {gid('X')} at 20",
        "the value of a holding must be between -1e12 and 1e12",
    )
    assert "portfolio-accounting" not in inputs.failed_services, error


# Fuzzing: which field of P2's answer breaks, and how.
TOKENS = ["1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity", "1e16", "1" * 400]
bad_number = st.one_of(
    st.sampled_from(["1e400", "-1e400", "1e13", "NaN", "Infinity", "abc", "", "1,5", "0x1"]),
    st.sampled_from(TOKENS).map(lambda token: RAW + token),
    st.sampled_from([None, True, False, [], {}, [1], {"value": 1}]),
)
bad_quantity = st.one_of(
    bad_number,
    st.sampled_from(["1.5", "-0.5", "1e-400", "1e16", RAW + "0.5", RAW + "1e-400"]),
    st.integers(min_value=10**15 + 1, max_value=10**30),
    st.decimals(min_value=-100, max_value=100, places=2)
    .filter(lambda d: d != d.to_integral_value())
    .map(str),
)
bad_cash = st.one_of(
    bad_number,
    st.sampled_from(["1000000000000.01", "-1e12.5", "0.000000001"]),
    st.decimals(min_value=Decimal("1e12") + 1, max_value=Decimal("1e30"), places=2).map(str),
)
bad_id = st.one_of(
    st.sampled_from([None, 5, True, [], {}, "", "short", "x" * 25, "0123456789abcdef0123456-"]),
    st.text(max_size=30).filter(lambda s: len(s) != 24 and "None" not in s),
)
FIELDS: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {
    # field named in the error -> (how to set it on a summary, the bad values)
    "cashBalance": (lambda s, v: s.__setitem__("cashBalance", v), bad_cash),
    "portfolioId": (lambda s, v: s.__setitem__("portfolioId", v), bad_id),
    "securities": (
        lambda s, v: s.__setitem__("securities", v),
        st.sampled_from([None, "x", 5, {}, {"securityId": gid("A")}, [None], [5], ["x"]]),
    ),
    "securities[0].netQuantity": (
        lambda s, v: s["securities"][0].__setitem__("netQuantity", v),
        bad_quantity,
    ),
    "securities[1].securityId": (
        lambda s, v: s["securities"][1].__setitem__("securityId", v),
        bad_id,
    ),
}
MISSING = {
    "cashBalance": lambda s: s.pop("cashBalance"),
    "securities": lambda s: s.pop("securities"),
    "portfolioId": lambda s: s.pop("portfolioId"),
    "securities[0].netQuantity": lambda s: s["securities"][0].pop("netQuantity"),
    "securities[1].securityId": lambda s: s["securities"][1].pop("securityId"),
}


@st.composite
def broken_summary(draw: st.DrawFn) -> tuple[str, str]:
    """P2's summary as JSON text with one field missing or bad, and that field's name."""
    summary = p2_summary()
    field = draw(st.sampled_from(sorted(FIELDS)))
    if draw(st.booleans()):
        MISSING[field](summary)
    else:
        setter, values = FIELDS[field]
        setter(summary, draw(values))
    if draw(st.booleans()):  # an extra, unknown field does not hide the broken one
        summary.setdefault("zzExtra", draw(st.integers()))
    return dumps(summary), field


@FUZZ
@given(broken=broken_summary())
def test_fuzzed_summaries_fail_only_their_portfolio(
    globeco: FakeGlobeCo, broken: tuple[str, str]
) -> None:
    text, field = broken
    model = setup(globeco)
    globeco.summaries.pop(P2)
    globeco.summary_texts[P2] = text
    inputs = load(globeco, model)
    # Fields are checked in a fixed order, so an unknown field may be named first.
    error = assert_only_p2_failed(model, inputs, "portfolio-accounting")
    assert f"summary.{field}" in error or "summary.zzExtra is not a field" in error, error


bad_close = st.one_of(
    bad_number,
    st.sampled_from(["0", "-1", "0.0009", "1000000000.01", "1.000000001", RAW + "0", RAW + "-5"]),
    st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("0.00099"), places=5).map(str),
    st.decimals(min_value=Decimal("1e9") + 1, max_value=Decimal("1e40"), places=0).map(str),
)


@FUZZ
@given(close=bad_close, bulk=st.booleans(), missing=st.booleans())
def test_fuzzed_closes_fail_only_the_portfolios_holding_the_security(
    globeco: FakeGlobeCo, close: Any, bulk: bool, missing: bool
) -> None:
    model = setup(globeco)
    item = json.loads(price_item("TX", "1"))
    if missing:
        del item["close"]
    else:
        item["close"] = close
    globeco.price_texts["TX"] = dumps(item)
    if not bulk:
        globeco.bulk_omits = {"TX"}
    inputs = load(globeco, model)
    assert_only_p2_failed(model, inputs, "pricing", "malformed price for TX: close")


@FUZZ
@given(body=st.one_of(st.text(max_size=40), st.sampled_from(["", "null", "[]", "5", '"x"', "{"])))
def test_fuzzed_summary_bodies_fail_only_their_portfolio(globeco: FakeGlobeCo, body: str) -> None:
    model = setup(globeco)
    globeco.summaries.pop(P2)
    globeco.summary_texts[P2] = body
    inputs = load(globeco, model)
    assert_only_p2_failed(model, inputs, "portfolio-accounting", f"/portfolios/{P2}/summary")
    assert globeco.count(SUMMARY) == 3
