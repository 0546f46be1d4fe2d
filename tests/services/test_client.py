"""ServiceClient against a real local server: retries, Retry-After, 4xx, timeouts, breaker."""

import time

import pytest

from ordergen.errors import ServiceError
from ordergen.services.breaker import BreakerOpenError
from ordergen.services.client import OutcomeUnknownError, RejectedError, ServiceClient
from tests.services.fake_globeco import PRICES, SUMMARY, FakeGlobeCo, Fault, closed_port_url
from tests.services.helpers import Sleeps, fast_options, service_settings

PRICES_PATH = "/api/v1/prices"


def client(url: str, sleeps: Sleeps, **overrides: object) -> ServiceClient:
    settings = service_settings(url)
    return ServiceClient("pricing", url, fast_options(settings, sleeps, **overrides))


def test_5xx_is_retried_with_growing_backoff_then_succeeds(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    globeco.fault(PRICES, Fault(status=500, body="boom"), times=2)
    with client(globeco.url, sleeps, backoff_base=0.01, backoff_max=1.0) as pricing:
        assert pricing.get(PRICES_PATH).status == 200
    assert globeco.count(PRICES) == 3
    # Exponential with jitter: about 0.01 then 0.02, each plus up to 0.01.
    assert len(sleeps) == 2
    assert 0.01 <= sleeps[0] <= 0.02 and 0.02 <= sleeps[1] <= 0.03


def test_gives_up_after_the_configured_retries_naming_service_and_cause(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    globeco.fault(PRICES, Fault(status=502, body="bad gateway"), times=10)
    with client(globeco.url, sleeps) as pricing, pytest.raises(ServiceError) as caught:
        pricing.get(PRICES_PATH)
    assert globeco.count(PRICES) == 3  # 1 + service_retries (2)
    message = str(caught.value)
    assert message.startswith("pricing: GET /api/v1/prices: HTTP 502: bad gateway")
    assert message.endswith("(gave up after 3 attempts)") and "\n" not in message


def test_503_retry_after_is_honoured_and_capped(globeco: FakeGlobeCo, sleeps: Sleeps) -> None:
    busy = Fault(status=503, body="overloaded", headers={"Retry-After": "7"})
    globeco.fault(PRICES, busy)
    with client(globeco.url, sleeps, retry_after_max=30) as pricing:
        pricing.get(PRICES_PATH)
    globeco.fault(PRICES, busy)
    with client(globeco.url, sleeps, retry_after_max=2) as pricing:
        pricing.get(PRICES_PATH)
    assert sleeps == [7.0, 2.0]


def test_4xx_is_not_retried_and_is_no_breaker_failure(globeco: FakeGlobeCo, sleeps: Sleeps) -> None:
    with client(globeco.url, sleeps, breaker_failures=1) as pricing:
        for _ in range(3):
            with pytest.raises(RejectedError) as caught:
                pricing.get("/api/v1/nowhere")
            assert caught.value.status == 404
        assert pricing.breaker.state == "closed"
    assert globeco.count("unknown") == 3 and sleeps == []


def test_a_slow_answer_times_out_and_is_retried(globeco: FakeGlobeCo, sleeps: Sleeps) -> None:
    globeco.fault(PRICES, Fault(delay=1.5))  # timeout is 1 s
    with client(globeco.url, sleeps) as pricing:
        assert pricing.get(PRICES_PATH).status == 200
    assert globeco.count(PRICES) == 2


def test_connection_refused_names_the_service(sleeps: Sleeps) -> None:
    with client(closed_port_url(), sleeps) as pricing, pytest.raises(ServiceError) as caught:
        pricing.get(PRICES_PATH)
    assert "pricing: GET /api/v1/prices: ConnectError" in str(caught.value)
    assert len(sleeps) == 2


def test_malformed_json_is_an_error_naming_the_service(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    globeco.fault(PRICES, Fault(status=200, body="{not json"))
    with client(globeco.url, sleeps) as pricing, pytest.raises(ServiceError) as caught:
        pricing.get(PRICES_PATH)
    assert str(caught.value).startswith("pricing: GET /api/v1/prices: malformed JSON")


def test_breaker_opens_fails_fast_then_half_opens_and_closes(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    globeco.fault(PRICES, Fault(status=500, body="flap"), times=2)
    # The reset is long enough that no pause of a loaded machine half-opens it early.
    with client(globeco.url, sleeps, retries=0, breaker_failures=2, breaker_reset=1.0) as pricing:
        for _ in range(2):
            with pytest.raises(ServiceError):
                pricing.get(PRICES_PATH)
        assert pricing.breaker.state == "open"
        with pytest.raises(BreakerOpenError) as caught:
            pricing.get(PRICES_PATH)
        assert globeco.count(PRICES) == 2  # failed fast: no request made
        assert str(caught.value).startswith("pricing: circuit breaker open after 2 consecutive")
        assert "HTTP 500: flap" in str(caught.value)
        time.sleep(1.05)
        assert pricing.get(PRICES_PATH).status == 200  # the trial call
        assert pricing.breaker.state == "closed"
    assert globeco.count(PRICES) == 3


def test_a_trial_call_that_fails_reopens_the_breaker(globeco: FakeGlobeCo, sleeps: Sleeps) -> None:
    globeco.fault(PRICES, Fault(status=500), times=2)
    with client(globeco.url, sleeps, retries=0, breaker_failures=1, breaker_reset=1.0) as pricing:
        with pytest.raises(ServiceError):
            pricing.get(PRICES_PATH)
        time.sleep(1.05)
        with pytest.raises(ServiceError):
            pricing.get(PRICES_PATH)
        assert pricing.breaker.state == "open"
        with pytest.raises(BreakerOpenError):
            pricing.get(PRICES_PATH)
    assert globeco.count(PRICES) == 2


def test_non_idempotent_requests_are_not_repeated_after_a_lost_answer(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    globeco.fault(PRICES, Fault(delay=1.5))
    with client(globeco.url, sleeps) as pricing, pytest.raises(OutcomeUnknownError) as caught:
        pricing.request("GET", PRICES_PATH, idempotent=False)
    assert "ReadTimeout" in str(caught.value) and "outcome unknown" in str(caught.value)
    globeco.fault(PRICES, Fault(status=500))
    with client(globeco.url, sleeps) as pricing, pytest.raises(OutcomeUnknownError):
        pricing.request("GET", PRICES_PATH, idempotent=False)
    assert globeco.count(PRICES) == 2 and sleeps == []


def test_non_idempotent_requests_are_retried_when_surely_not_processed(
    globeco: FakeGlobeCo, sleeps: Sleeps
) -> None:
    globeco.fault(PRICES, Fault(status=503, headers={"Retry-After": "1"}))
    with client(globeco.url, sleeps) as pricing:
        assert pricing.request("GET", PRICES_PATH, idempotent=False).status == 200
    assert sleeps == [1.0]


def test_breaker_counts_a_call_once_not_each_attempt(globeco: FakeGlobeCo, sleeps: Sleeps) -> None:
    globeco.fault(SUMMARY, Fault(status=500), times=3)
    with client(globeco.url, sleeps, retries=2, breaker_failures=2) as pricing:
        with pytest.raises(ServiceError):
            pricing.get("/api/v1/portfolios/P/summary")
        assert pricing.breaker.state == "closed"
