"""A per-service circuit breaker that many threads can pass through at once."""

import contextlib
from datetime import UTC, datetime, timedelta

import pybreaker

from ordergen.errors import ServiceError


class BreakerOpenError(ServiceError):
    """The service's breaker is open: the call was not made."""


def reason(error: ServiceError) -> str:
    """The error's message without the service name in front."""
    return str(error).removeprefix(f"{error.service}: ")


def _replay(error: ServiceError | None) -> None:
    """Re-raise a call's recorded failure inside pybreaker, so its state machine sees it."""
    if error is not None:
        raise error


class Breaker:
    """pybreaker's closed/open/half-open state machine around one service's calls.

    `pybreaker.CircuitBreaker.call` runs the guarded function while holding its lock,
    which would serialise every request to the service. So the request runs outside:
    `check` fails fast while the breaker is open, and `record` replays the request's
    outcome through pybreaker, which counts consecutive failures, opens after
    `failures` of them, and after `reset` seconds lets trial calls through (half-open);
    one success closes it again, one failure re-opens it.
    """

    def __init__(self, service: str, failures: int, reset: float) -> None:
        self._service = service
        self._reset = timedelta(seconds=reset)
        self._storage = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=failures,
            reset_timeout=reset,
            state_storage=self._storage,
            throw_new_error_on_trip=False,  # keep the real cause, not a generic "tripped"
            name=service,
        )
        self._last_failure = ""

    @property
    def state(self) -> str:
        """`closed`, `open` or `half-open`."""
        return str(self._breaker.current_state)

    @property
    def failing_fast(self) -> bool:
        """True while the breaker is open and not yet due for a trial call."""
        if self._storage.state != pybreaker.STATE_OPEN:
            return False
        opened_at = self._storage.opened_at
        return opened_at is not None and datetime.now(UTC) < opened_at + self._reset

    def check(self) -> None:
        """Raise `BreakerOpenError` if the breaker is failing fast."""
        if self.failing_fast:
            raise BreakerOpenError(
                self._service,
                f"circuit breaker open after {self._breaker.fail_max} consecutive failures "
                f"(last: {self._last_failure}); not called",
            )

    def record(self, error: ServiceError | None) -> None:
        """Count a finished call: `None` for a success, else the error it ended with."""
        if error is not None:
            self._last_failure = reason(error)
        # pybreaker re-raises the replayed error, or refuses while another thread's
        # failure has just re-opened it; either way the outcome has been counted.
        with contextlib.suppress(ServiceError, pybreaker.CircuitBreakerError):
            self._breaker.call(_replay, error)
