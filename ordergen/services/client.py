"""`ServiceClient`: one GlobeCo service's HTTP client with timeouts, retries and a breaker."""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from ordergen.errors import ServiceError
from ordergen.observability.logs import get_logger
from ordergen.services.breaker import Breaker, BreakerOpenError, reason
from ordergen.services.options import ServiceOptions

_log = get_logger(__name__)

Accept = Callable[[httpx.Response], bool]
SNIPPET = 200


class RejectedError(ServiceError):
    """The service answered with a client error (4xx) the caller does not handle.

    Never retried, and not a breaker failure: the service is up, the request is wrong.
    """

    def __init__(self, service: str, message: str, status: int) -> None:
        self.status = status
        super().__init__(service, message)


class OutcomeUnknownError(ServiceError):
    """A request that must not be repeated may or may not have been processed."""


class TransientError(ServiceError):
    """A failure worth retrying: no connection, a timeout, a 5xx (503 may say when)."""

    def __init__(self, service: str, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(service, message)


@dataclass(frozen=True)
class Answer:
    """A response the caller accepted: its status, JSON body (2xx only) and text."""

    status: int
    body: Any
    text: str


def status_in(*statuses: int) -> Accept:
    """An `Accept` for responses with one of `statuses`."""
    return lambda response: response.status_code in statuses


def one_line(text: str, limit: int = SNIPPET) -> str:
    """`text` on one line, cut to `limit` characters: bodies and errors go into messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else f"{flat[:limit]}..."


def _describe(exc: httpx.TransportError) -> str:
    detail = one_line(str(exc))
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class ServiceClient:
    """One service's shared `httpx.Client` for a run, safe to use from many threads.

    Each call is made with the service timeout and retried with exponential backoff
    and jitter on connection errors, timeouts and 5xx answers (a 503's `Retry-After`
    is honoured, capped at `retry_after_max`); other 4xx answers are not retried. A
    call that still fails counts once towards the service's circuit breaker, and
    while the breaker is open every call fails fast with `BreakerOpenError`.

    Requests marked `idempotent=False` (posting orders) are retried only when they
    surely never reached the service: no connection, or a 503. A lost answer or
    another 5xx raises `OutcomeUnknownError`, because a repeat might duplicate them.
    """

    def __init__(self, name: str, base_url: str, options: ServiceOptions) -> None:
        self.name = name
        self._options = options
        self._http = httpx.Client(
            base_url=base_url,
            timeout=options.timeout,
            limits=httpx.Limits(
                max_connections=options.parallel, max_keepalive_connections=options.parallel
            ),
        )
        self.breaker = Breaker(name, options.breaker_failures, options.breaker_reset)
        # base, 2*base, 4*base ... capped, each plus up to `base` of jitter, so many
        # clients that failed together do not retry in lockstep.
        self._backoff = wait_exponential(
            multiplier=options.backoff_base, max=options.backoff_max
        ) + wait_random(0, options.backoff_base)

    @property
    def parallel(self) -> int:
        """How many requests to this service may run at once."""
        return self._options.parallel

    def __enter__(self) -> "ServiceClient":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def get(
        self, path: str, *, params: Mapping[str, Any] | None = None, accept: Accept | None = None
    ) -> Answer:
        """GET `path`; by default only a 200 is an answer. Raises `ServiceError` otherwise."""
        return self.request("GET", path, params=params, accept=accept)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        payload: Any = None,
        accept: Accept | None = None,
        idempotent: bool = True,
    ) -> Answer:
        """Make one call, with retries, through the breaker.

        Parameters
        ----------
        method, path
            The request, `path` relative to the service's base URL.
        params, payload
            Query parameters and a JSON body.
        accept
            Which responses are answers for the caller (default: status 200). A 2xx
            answer must be JSON; others are returned with `body=None`.
        idempotent
            False for requests that must not be repeated once they may have arrived.

        Returns
        -------
        Answer
            The accepted response.

        Raises
        ------
        ServiceError
            `BreakerOpenError`, `RejectedError` (4xx), `OutcomeUnknownError`, or a
            plain `ServiceError` naming the cause after the retries ran out.
        """
        self.breaker.check()
        retrying = Retrying(
            stop=stop_after_attempt(self._options.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            sleep=self._options.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            answer = retrying(
                self._attempt, method, path, params, payload, accept or status_in(200), idempotent
            )
        except BreakerOpenError:
            raise  # opened by other calls meanwhile: this call was never made
        except RejectedError:
            self.breaker.record(None)
            raise
        except TransientError as exc:
            attempts = self._options.retries + 1
            error = ServiceError(self.name, f"{reason(exc)} (gave up after {attempts} attempts)")
            self.breaker.record(error)
            raise error from exc
        except ServiceError as exc:
            self.breaker.record(exc)
            raise
        self.breaker.record(None)
        return answer

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        payload: Any,
        accept: Accept,
        idempotent: bool,
    ) -> Answer:
        # Checked before every attempt, so retries stop as soon as the breaker opens.
        self.breaker.check()
        where = f"{method} {path}"
        try:
            response = self._http.request(method, path, params=params, json=payload)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(self.name, f"{where}: {_describe(exc)}") from exc
        except httpx.TransportError as exc:
            if not idempotent:
                raise OutcomeUnknownError(
                    self.name, f"{where}: {_describe(exc)}; outcome unknown"
                ) from exc
            raise TransientError(self.name, f"{where}: {_describe(exc)}") from exc
        status = response.status_code
        if accept(response):
            return Answer(status, self._json(response, where), response.text)
        body = one_line(response.text)
        problem = f"{where}: HTTP {status}: {body}" if body else f"{where}: HTTP {status}"
        if status == 503:
            raise TransientError(self.name, problem, _retry_after(response))
        if status >= 500:
            if not idempotent:
                raise OutcomeUnknownError(self.name, f"{problem}; outcome unknown")
            raise TransientError(self.name, problem)
        raise RejectedError(self.name, problem, status)

    def _json(self, response: httpx.Response, where: str) -> Any:
        """The parsed body of a 2xx answer (floats as Decimal); None for other answers."""
        if not response.is_success:
            return None
        try:
            return json.loads(response.text, parse_float=Decimal)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge ints, deep nesting
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ServiceError(self.name, f"{where}: malformed JSON: {first_line}") from None

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            return min(error.retry_after, self._options.retry_after_max)
        return float(self._backoff(state))

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        _log.warning(
            "service call failed, retrying",
            service=self.name,
            attempt=state.attempt_number,
            wait=round(wait, 3),
            error=str(error),
        )
