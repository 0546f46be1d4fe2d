"""Settings and options for the service tests: short timeouts, retries that never wait."""

from ordergen.services.options import ServiceOptions
from ordergen.settings import Settings


class Sleeps(list[float]):
    """A `sleep` that records the waits asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def service_settings(url: str, **overrides: object) -> Settings:
    """Every service at `url`, a 1 s timeout, 2 retries, a breaker after 5 failures."""
    fields: dict[str, object] = {
        "portfolio_accounting_service_url": url,
        "security_service_url": url,
        "pricing_service_url": url,
        "order_service_url": url,
        "service_timeout_seconds": 1.0,
        "service_retries": 2,
        "breaker_failure_threshold": 5,
        "breaker_reset_seconds": 60,
        **overrides,
    }
    return Settings(**fields)  # type: ignore[arg-type]


def fast_options(settings: Settings, sleeps: Sleeps, **overrides: object) -> ServiceOptions:
    """`settings` as options whose retries record their waits instead of sleeping."""
    return ServiceOptions.from_settings(settings, sleep=sleeps, **overrides)
