"""load_service_inputs and write_snapshot against the fake GlobeCo suite."""

import time
from decimal import Decimal
from pathlib import Path

from ordergen.domain.model import InvestmentModel
from ordergen.io.orders_json import portfolio_document
from ordergen.run.engine import rebalance
from ordergen.run.inputs import load_file_inputs
from ordergen.services.inputs import ServiceInputs, load_service_inputs, write_snapshot
from tests.factories import gid, make_model
from tests.services.fake_globeco import (
    PRICE,
    PRICES,
    SECURITIES,
    SECURITIES_V2,
    SUMMARY,
    FakeGlobeCo,
    Fault,
    closed_port_url,
)
from tests.services.helpers import Sleeps, fast_options, service_settings

SOURCES = {"portfolio-accounting", "security", "pricing"}


def suite(globeco: FakeGlobeCo) -> InvestmentModel:
    """Model A 0.40, B 0.30, C 0.20; P1 holds A and X (not modelled), P2 has no balances,
    P3 holds B. The bulk price list lacks C; Y is known but irrelevant."""
    globeco.tickers = {gid(s): f"T{s}" for s in ("A", "B", "C", "X", "Y")}
    globeco.priced = {"TA", "TB", "TC", "TX", "TY"}
    globeco.bulk_omits = {"TC"}
    globeco.portfolio(gid("P1"), "1000.50", **{gid("A"): 10, gid("X"): 5})
    globeco.summaries[gid("P2")] = None
    globeco.portfolio(gid("P3"), "-20", **{gid("B"): 7})
    return make_model(
        [("A", "0.40", "0.05", "0.05"), ("B", "0.30", "0.05", "0.05"), ("C", "0.20", "0", "0.1")],
        portfolios=("P1", "P2", "P3"),
    )


def load(
    url: str,
    model: InvestmentModel,
    sleeps: Sleeps,
    *,
    known: dict[str, Decimal] | None = None,
    **overrides: object,
) -> ServiceInputs:
    settings = service_settings(url)
    options = fast_options(settings, sleeps, **overrides)
    return load_service_inputs(
        settings, model, model.portfolios, known_prices=known, options=options
    )


def test_one_request_per_portfolio_one_bulk_call_each_and_every_price_fetched_once(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    model = suite(globeco)
    inputs = load(globeco.url, model, sleeps)
    assert [globeco.count(r) for r in (SUMMARY, SECURITIES, PRICES, PRICE)] == [3, 1, 1, 1]
    assert "GET /api/v1/price/TC" in globeco.paths  # only the one the bulk answer lacked
    assert globeco.count(SECURITIES_V2) == 0
    # Every close was served once (the bulk list, or TC's single call) and that one is used.
    assert all(len(closes) == 1 for closes in globeco.served.values())
    assert inputs.prices == {
        gid(s): Decimal(globeco.served[f"T{s}"][0]) for s in ("A", "B", "C", "X")
    }
    assert inputs.tickers == {gid(s): f"T{s}" for s in ("A", "B", "C", "X")}
    p1, p2, p3 = inputs.holdings
    assert (p1.portfolio_id, p1.cash, dict(p1.quantities)) == (
        gid("P1"),
        Decimal("1000.50"),
        {gid("A"): 10, gid("X"): 5},
    )
    assert (p2.portfolio_id, p2.has_record, p2.load_error) == (gid("P2"), False, None)
    assert (p3.cash, dict(p3.quantities), p3.load_error) == (Decimal(-20), {gid("B"): 7}, None)
    assert inputs.unpriced == {} and inputs.failed_services == {}
    assert set(inputs.load_seconds) == SOURCES
    assert [s["portfolioId"] for s in inputs.summaries] == [gid("P1"), gid("P3")]


def test_unpriced_securities_are_named_with_the_reason_and_left_out_of_prices(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    model = suite(globeco)
    del globeco.tickers[gid("X")]  # held, no ticker
    globeco.priced.discard("TC")  # modelled, no price anywhere
    inputs = load(globeco.url, model, sleeps)
    assert inputs.unpriced == {gid("C"): "no price for ticker TC", gid("X"): "no ticker"}
    assert gid("C") not in inputs.prices and gid("X") not in inputs.prices
    assert all(h.load_error is None for h in inputs.holdings)  # the batch names the security
    assert inputs.failed_services == {}
    assert globeco.count(PRICE) == 1  # TC asked once, 404


def test_known_prices_are_reused_and_not_fetched_again(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    model = suite(globeco)
    known = {gid("A"): Decimal("11"), gid("C"): Decimal("33"), gid("Z"): Decimal(1)}
    inputs = load(globeco.url, model, sleeps, known=known)
    assert inputs.prices[gid("A")] == Decimal(11) and inputs.prices[gid("C")] == Decimal(33)
    assert gid("Z") not in inputs.prices  # not needed by this run's portfolios
    assert inputs.prices[gid("B")] == Decimal(globeco.served["TB"][0])
    assert globeco.count(PRICE) == 0  # TC was known, so no single call for it
    everything = {sid: Decimal(1) for sid in (gid("A"), gid("B"), gid("C"), gid("X"))}
    globeco.requests.clear()
    again = load(globeco.url, model, sleeps, known=everything)
    assert again.prices == everything
    assert globeco.count(SECURITIES) == globeco.count(PRICES) == 0


def test_v2_securities_are_paged_when_the_v1_list_is_refused(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    model = suite(globeco)
    globeco.v1_securities = False
    globeco.v2_page_size = 2
    inputs = load(globeco.url, model, sleeps)
    assert globeco.count(SECURITIES) == 1 and globeco.count(SECURITIES_V2) == 3  # 5 ids, 2/page
    assert inputs.tickers[gid("X")] == "TX" and inputs.unpriced == {}


def test_accounting_down_fails_each_portfolio_naming_the_service(sleeps: Sleeps) -> None:
    model = make_model([("A", "0.5", "0", "0")], portfolios=("P1", "P2"))
    inputs = load(closed_port_url(), model, sleeps)
    assert [h.portfolio_id for h in inputs.holdings] == [gid("P1"), gid("P2")]
    for item in inputs.holdings:
        assert item.load_error is not None
        assert item.load_error.startswith("portfolio-accounting: ")
        assert "ConnectError" in item.load_error and item.cash == 0 and not item.quantities
    assert inputs.failed_services["portfolio-accounting"].startswith("portfolio-accounting: ")
    assert inputs.summaries == []


def test_an_open_breaker_fails_the_remaining_portfolios_fast(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    model = suite(globeco)
    globeco.fault(SUMMARY, Fault(status=500, body="database is down"), times=100)
    inputs = load(globeco.url, model, sleeps, parallel=1, retries=1, breaker_failures=2)
    assert globeco.count(SUMMARY) == 4  # two portfolios, two attempts each; then fail fast
    errors = [h.load_error or "" for h in inputs.holdings]
    assert all(e.startswith("portfolio-accounting: ") for e in errors)
    assert "HTTP 500: database is down (gave up after 2 attempts)" in errors[0]
    assert "circuit breaker open after 2 consecutive failures" in errors[2]


def test_no_balances_found_is_an_empty_portfolio_not_an_outage(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    model = suite(globeco)
    for pid in model.portfolios:
        globeco.summaries[pid] = None
    inputs = load(globeco.url, model, sleeps, breaker_failures=1)
    assert [(h.has_record, h.load_error) for h in inputs.holdings] == [(False, None)] * 3
    assert globeco.count(SUMMARY) == 3 and sleeps == []  # not retried, breaker never opened
    assert inputs.failed_services == {} and inputs.summaries == []


def test_malformed_or_slow_summaries_fail_only_their_portfolio(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    model = suite(globeco)
    globeco.summaries[gid("P3")] = {"portfolioId": gid("P3"), "cashBalance": "1", "bogus": 1}
    globeco.fault(SUMMARY, Fault(status=200, body="{not json"))
    globeco.fault(SUMMARY, Fault(delay=1.5), times=2)  # past the 1 s timeout, twice
    inputs = load(globeco.url, model, sleeps, parallel=1, retries=1)
    p1, p2, p3 = (h.load_error or "" for h in inputs.holdings)
    assert p1.startswith("portfolio-accounting: GET ") and "malformed JSON" in p1
    assert "ReadTimeout" in p2 and "(gave up after 2 attempts)" in p2
    assert "malformed summary" in p3 and "bogus" in p3
    assert inputs.failed_services["portfolio-accounting"] == p1


def test_a_pricing_outage_fails_the_portfolios_needing_it_naming_the_service(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    model = suite(globeco)
    globeco.fault(PRICES, Fault(status=503, body="maintenance"), times=3)
    inputs = load(globeco.url, model, sleeps)
    assert inputs.prices == {}
    failure = inputs.failed_services["pricing"]
    assert failure.startswith("pricing: GET /api/v1/prices: HTTP 503: maintenance")
    assert set(inputs.unpriced) == {gid(s) for s in ("A", "B", "C", "X")}
    assert [h.load_error for h in inputs.holdings] == [failure] * 3
    assert globeco.count(PRICE) == 0  # no single calls into a failing service


def test_a_close_that_is_not_a_positive_price_fails_the_portfolios_needing_it(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    model = suite(globeco)  # TC is priced by a single call
    globeco.fault(PRICE, Fault(status=200, body='{"ticker": "TC", "close": "0"}'))
    inputs = load(globeco.url, model, sleeps)
    reason = inputs.unpriced[gid("C")]
    assert reason.startswith("pricing: GET /api/v1/price/TC: malformed price for TC")
    assert 'close: "0" is not positive' in reason
    assert gid("C") not in inputs.prices and gid("A") in inputs.prices
    assert inputs.failed_services["pricing"] == reason
    assert [h.load_error for h in inputs.holdings] == [reason] * 3  # C is in the model


def test_a_security_service_outage_is_named_too(globeco: FakeGlobeCo, sleeps: Sleeps) -> None:
    model = suite(globeco)
    globeco.fault(SECURITIES, Fault(status=500), times=3)
    inputs = load(globeco.url, model, sleeps)
    assert inputs.failed_services["security"].startswith("security: GET /api/v1/securities")
    assert all((h.load_error or "").startswith("security: ") for h in inputs.holdings)
    assert globeco.count(PRICES) == 0


def test_the_snapshot_replays_the_run_exactly(
    globeco: FakeGlobeCo, sleeps: Sleeps, tmp_path: Path
) -> None:
    model = suite(globeco)
    inputs = load(globeco.url, model, sleeps)
    model_file, positions, prices = write_snapshot(tmp_path / "snap", model, inputs)
    replay = load_file_inputs(model_file, positions, prices, "auto", None)
    assert replay.model == model
    assert replay.prices == inputs.prices
    assert replay.holdings == inputs.holdings
    replayed = rebalance(replay.model, replay.holdings, replay.prices)
    original = rebalance(model, inputs.holdings, inputs.prices)
    assert [portfolio_document(r) for r in replayed] == [portfolio_document(r) for r in original]


def test_throughput_of_1000_portfolios(globeco: FakeGlobeCo, sleeps: Sleeps) -> None:
    ids = [f"{index:024d}" for index in range(1000)]
    for index, pid in enumerate(ids):
        globeco.portfolio(pid, "5000", **{gid("A"): index % 50})
    globeco.tickers = {gid("A"): "TA"}
    globeco.priced = {"TA"}
    model = make_model([("A", "0.5", "0.1", "0.1")], portfolios=("P",))
    settings = service_settings(globeco.url, max_parallel_rebalances=16)
    started = time.perf_counter()
    inputs = load_service_inputs(
        settings, model, ids, options=fast_options(settings, sleeps, timeout=5)
    )
    seconds = time.perf_counter() - started
    assert all(h.load_error is None for h in inputs.holdings)
    assert globeco.count(SUMMARY) == 1000
    print(f"\nportfolio-accounting: {len(ids) / seconds:,.0f} portfolios/s ({seconds:.2f} s)")
