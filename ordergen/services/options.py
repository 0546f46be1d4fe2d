"""How the service clients behave: timeouts, retries, backoff and circuit breakers."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ordergen.settings import Settings

# The order service refuses bigger batches with 413 (contract).
ORDER_BATCH_LIMIT = 1000


@dataclass(frozen=True)
class ServiceOptions:
    """Resilience settings shared by every GlobeCo client of a run.

    Derived from `Settings` by `from_settings`; the backoff fields and `sleep` exist
    so tests can make retries instant and observe the waits chosen.
    """

    timeout: float
    """Seconds allowed per request (connect, read, write and pool each)."""
    retries: int
    """Retries after the first attempt, on transient failures only."""
    parallel: int
    """Concurrent requests per service."""
    breaker_failures: int
    """Consecutive failed calls (after their retries) that open a service's breaker."""
    breaker_reset: float
    """Seconds an open breaker fails fast before it lets a trial call through."""
    backoff_base: float = 0.25
    """First retry waits about this long; each later one doubles, plus jitter."""
    backoff_max: float = 8.0
    retry_after_max: float = 30.0
    """Cap on a 503's `Retry-After`, so one overloaded answer cannot stall the run."""
    order_batch_size: int = ORDER_BATCH_LIMIT
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> "ServiceOptions":
        """The options `settings` describe, with `overrides` for fields not in settings.

        Parameters
        ----------
        settings
            `service_timeout_seconds`, `service_retries`, `max_parallel_rebalances`,
            `breaker_failure_threshold` and `breaker_reset_seconds` are used.
        **overrides
            Any field of `ServiceOptions`, for example `backoff_base=0.001` in tests.
        """
        options = cls(
            timeout=settings.service_timeout_seconds,
            retries=settings.service_retries,
            parallel=settings.max_parallel_rebalances,
            breaker_failures=settings.breaker_failure_threshold,
            breaker_reset=settings.breaker_reset_seconds,
        )
        options = replace(options, **overrides)
        if not 1 <= options.order_batch_size <= ORDER_BATCH_LIMIT:
            raise ValueError(
                f"order_batch_size must be in [1, {ORDER_BATCH_LIMIT}], "
                f"not {options.order_batch_size}"
            )
        return options
