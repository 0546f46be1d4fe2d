"""submit_run_orders: orders stored by MongoResultSink, posted to the fake order service."""

import uuid
from decimal import Decimal

from ordergen.domain.results import BUY, SELL, Order, PortfolioResult
from ordergen.services.order_service import SERVICE
from ordergen.services.submit import SubmissionReport, submit_run_orders
from ordergen.store.connection import Db
from ordergen.store.orders import MongoResultSink, order_id
from ordergen.store.schema import ORDERS
from ordergen.store.submissions import claim, scan_run_orders
from tests.factories import gid
from tests.services.fake_globeco import ORDERS as ORDERS_ROUTE
from tests.services.fake_globeco import FakeGlobeCo, Fault, closed_port_url
from tests.services.helpers import Sleeps, fast_options, service_settings

RUN = "run-1"


def result(portfolio: str, *orders: tuple[str, str, int]) -> PortfolioResult:
    return PortfolioResult(
        portfolio_id=gid(portfolio),
        status="ok",
        market_value=Decimal("1000.000"),
        orders=tuple(Order(gid(s), side, units, Decimal("12.50")) for s, side, units in orders),
    )


def store(db: Db, run_id: str = RUN) -> None:
    """P1: BUY 3 S, SELL 2 B; P2: SELL 1 S; P3: BUY 4 C (4 orders)."""
    sink = MongoResultSink(db, run_id, model_name="growth", attempt=uuid.uuid4().hex)
    for item in (
        result("P1", ("S", BUY, 3), ("B", SELL, 2)),
        result("P2", ("S", SELL, 1)),
        result("P3", ("C", BUY, 4)),
    ):
        sink.add(item)
    sink.close({})


def submit(db: Db, url: str, sleeps: Sleeps, **overrides: object) -> SubmissionReport:
    resend = bool(overrides.pop("resend_in_doubt", False))
    portfolios = overrides.pop("portfolio_ids", None)
    settings = service_settings(url)
    return submit_run_orders(
        db,
        settings,
        RUN,
        portfolio_ids=portfolios,  # type: ignore[arg-type]
        options=fast_options(settings, sleeps, **overrides),
        resend_in_doubt=resend,
    )


def states(db: Db) -> dict[str, str]:
    """Submission state by "<portfolio label><security label>", e.g. "P1S"."""
    return {
        f"{doc['portfolioId'][:2]}{doc['securityId'][0]}": doc["submission"]["state"]
        for doc in db[ORDERS].find({"runId": RUN})
    }


def counts(report: SubmissionReport) -> tuple[int, ...]:
    return (
        report.submitted,
        report.accepted,
        report.rejected,
        report.failed,
        report.in_doubt,
        report.already_accepted,
        report.unsent,
    )


def test_every_order_is_posted_as_the_contract_maps_it(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    report = submit(mongo_db, globeco.url, sleeps)
    assert counts(report) == (4, 4, 0, 0, 0, 0, 0)
    assert report.failed_service is None and report.messages == [] and report.unsubmitted == 0
    assert globeco.count(ORDERS_ROUTE) == 1  # one batch
    sent = {(o["portfolioId"], o["securityId"]): o for o in globeco.accepted}
    buy, sell = sent[(gid("P1"), gid("S"))], sent[(gid("P1"), gid("B"))]
    assert (buy["orderTypeId"], buy["quantity"], buy["limitPrice"]) == (1, 3, "12.50")
    assert (sell["orderTypeId"], sell["quantity"]) == (2, 2)
    assert (buy["statusId"], buy["blotterId"], buy["version"]) == (1, 1, 1)
    assert buy["orderTimestamp"].endswith("Z")
    stored = mongo_db[ORDERS].find_one({"_id": order_id(RUN, gid("P1"), gid("S"))})
    assert stored is not None
    assert stored["submission"]["state"] == "accepted"
    assert stored["submission"]["orderId"] == buy["id"]


def test_a_rerun_sends_only_what_was_not_accepted(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    globeco.reject = {gid("B"): "Security not found"}
    first = submit(mongo_db, globeco.url, sleeps)
    assert counts(first) == (4, 3, 1, 0, 0, 0, 0)
    assert first.messages == ["1 rejected: order-service: FAILURE: Security not found"]
    assert first.failed_service is None  # the service answered: it refused one order
    assert states(mongo_db) == {
        "P1S": "accepted",
        "P1B": "rejected",
        "P2S": "accepted",
        "P3C": "accepted",
    }
    globeco.reject = {}
    second = submit(mongo_db, globeco.url, sleeps)
    assert counts(second) == (1, 1, 0, 0, 0, 3, 0)
    assert [o["securityId"] for o in globeco.batches[-1]] == [gid("B")]
    third = submit(mongo_db, globeco.url, sleeps)
    assert counts(third) == (0, 0, 0, 0, 0, 4, 0)
    assert globeco.count(ORDERS_ROUTE) == 2  # nothing left to post
    assert len(globeco.accepted) == 4  # each order created exactly once


def test_a_413_splits_the_batch_in_halves(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    globeco.order_limit = 1
    report = submit(mongo_db, globeco.url, sleeps)
    assert counts(report)[:3] == (4, 4, 0)
    assert [len(batch) for batch in globeco.batches] == [4, 2, 1, 1, 2, 1, 1]
    assert len(globeco.accepted) == 4


def test_batches_hold_at_most_the_batch_size(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    report = submit(mongo_db, globeco.url, sleeps, order_batch_size=3)
    assert report.accepted == 4
    assert [len(batch) for batch in globeco.batches] == [3, 1]


def test_a_503_is_retried_after_its_retry_after(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    globeco.fault(ORDERS_ROUTE, Fault(status=503, body="busy", headers={"Retry-After": "2"}))
    report = submit(mongo_db, globeco.url, sleeps)
    assert report.accepted == 4 and sleeps == [2.0]
    assert len(globeco.accepted) == 4


def test_a_400_rejects_the_batch_with_the_service_message(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    body = '{"status": "FAILURE", "message": "Request validation failed"}'
    globeco.fault(ORDERS_ROUTE, Fault(status=400, body=body))
    report = submit(mongo_db, globeco.url, sleeps)
    assert counts(report)[:3] == (4, 0, 4)
    assert report.messages == ["4 rejected: order-service: HTTP 400: Request validation failed"]
    assert sleeps == []  # a 4xx is not retried


def test_a_down_service_fails_the_orders_and_a_later_run_sends_them(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    down = submit(mongo_db, closed_port_url(), sleeps)
    assert counts(down) == (4, 0, 0, 4, 0, 0, 0)
    assert down.failed_service == SERVICE and down.unsubmitted == 4
    assert "ConnectError" in down.messages[0] and down.messages[0].startswith("4 failed: ")
    assert set(states(mongo_db).values()) == {"failed"}
    again = submit(mongo_db, globeco.url, sleeps)
    assert counts(again) == (4, 4, 0, 0, 0, 0, 0)


def test_an_open_breaker_leaves_the_rest_for_the_next_submission(
    mongo_db: Db, sleeps: Sleeps
) -> None:
    store(mongo_db)
    report = submit(
        mongo_db, closed_port_url(), sleeps, order_batch_size=1, retries=0, breaker_failures=2
    )
    assert counts(report) == (2, 0, 0, 2, 0, 0, 2)
    assert report.failed_service == SERVICE
    assert report.messages[-1] == "2 unsent: order-service circuit breaker open"
    assert sorted(states(mongo_db).values()) == ["failed", "failed", "pending", "pending"]


def test_a_lost_answer_leaves_the_orders_in_doubt_and_they_are_not_resent(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    # The service creates the orders, but the answer comes after the 1 s timeout.
    globeco.fault(ORDERS_ROUTE, Fault(delay=1.5, process_first=True))
    lost = submit(mongo_db, globeco.url, sleeps)
    assert counts(lost) == (4, 0, 0, 0, 4, 0, 0)
    assert lost.failed_service == SERVICE and "outcome unknown" in lost.messages[0]
    assert len(globeco.accepted) == 4 and sleeps == []  # created once, never retried
    assert set(states(mongo_db).values()) == {"submitting"}
    rerun = submit(mongo_db, globeco.url, sleeps)
    assert counts(rerun) == (0, 0, 0, 0, 4, 0, 0)
    assert rerun.failed_service is None and "not re-sent" in rerun.messages[0]
    assert globeco.count(ORDERS_ROUTE) == 1 and len(globeco.accepted) == 4


def test_orders_claimed_before_a_crash_are_in_doubt_until_an_operator_resends(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    # A submitter marked P1's orders `submitting`, then died before recording answers.
    p1 = [o for o in scan_run_orders(mongo_db, RUN) if o["portfolioId"] == gid("P1")]
    assert len(claim(mongo_db, p1, "crashed")) == 2
    report = submit(mongo_db, globeco.url, sleeps)
    assert counts(report) == (2, 2, 0, 0, 2, 0, 0)
    assert {o["portfolioId"] for o in globeco.accepted} == {gid("P2"), gid("P3")}
    resent = submit(mongo_db, globeco.url, sleeps, resend_in_doubt=True)
    assert counts(resent) == (2, 2, 0, 0, 0, 2, 0)
    assert set(states(mongo_db).values()) == {"accepted"}


def test_only_the_shards_portfolios_are_sent_and_other_runs_are_untouched(
    mongo_db: Db, globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    store(mongo_db)
    store(mongo_db, f"{RUN}:other")  # its order ids start with this run's prefix
    report = submit(mongo_db, globeco.url, sleeps, portfolio_ids=[gid("P2"), gid("P3")])
    assert counts(report)[:2] == (2, 2)
    assert {o["portfolioId"] for o in globeco.accepted} == {gid("P2"), gid("P3")}
    assert states(mongo_db)["P1S"] == "pending"
    other = mongo_db[ORDERS].count_documents(
        {"runId": f"{RUN}:other", "submission.state": "pending"}
    )
    assert other == 4
