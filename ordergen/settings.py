"""Run-time configuration from the environment, a `.env` file and a secrets directory.

Names follow the original service (`DATABASE_URL`, `OPTIMIZATION_TIMEOUT`, ...) so
existing ConfigMaps keep working. `DATABASE_URL` may come from a Kubernetes secret
volume mounted at `ORDERGEN_SECRETS_DIR` (one file per setting, named like the variable).
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ordergen.errors import ConfigurationError

DEFAULT_SECRETS_DIR = "/var/run/secrets/ordergen"


class Settings(BaseSettings):
    """All settings; each field reads the upper-case environment variable of its name."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    database_url: str = "mongodb://localhost:27017"
    database_name: str = "order-generation"
    database_timeout_seconds: float = Field(3.0, gt=0)
    """Server selection and connect timeout: how long an unreachable MongoDB takes to fail."""
    run_lease_seconds: float = Field(30.0, ge=2, le=3600)
    """How long a run shard's writer owns it without a heartbeat: the longest a killed
    writer can hold up a re-run. Heartbeats come every third of it."""

    log_level: str = Field(
        "INFO", pattern="(?i)^(CRITICAL|FATAL|ERROR|WARNING|WARN|INFO|DEBUG|NOTSET)$"
    )
    log_format: str = Field("auto", pattern="^(auto|json|console)$")

    optimization_timeout: float = Field(30.0, gt=0)
    """Per-portfolio MILP time limit, seconds."""
    jobs: int = Field(0, ge=0)
    """Worker processes for the solve; 0 means all cores."""

    max_parallel_rebalances: int = Field(16, ge=1)
    """Concurrent requests per GlobeCo service."""
    service_timeout_seconds: float = Field(10.0, gt=0)
    service_retries: int = Field(3, ge=0)
    breaker_failure_threshold: int = Field(5, ge=1)
    breaker_reset_seconds: float = Field(60.0, gt=0)
    portfolio_accounting_service_url: str = "http://globeco-portfolio-accounting-service:8087"
    pricing_service_url: str = "http://globeco-pricing-service:8083"
    portfolio_service_url: str = "http://globeco-portfolio-service:8000"
    security_service_url: str = "http://globeco-security-service:8000"
    order_service_url: str = "http://globeco-order-service:8081"

    probe_port: int | None = Field(None, ge=1, le=65535)
    pushgateway_url: str | None = None
    job_name: str | None = None
    """Kubernetes Job name (downward API); a run id is derived from it when none is given."""

    ordergen_user: str | None = None
    """Who acts (approves, rejects, sends) when `--by` is not given; the OS user otherwise."""
    proposal_max_age: float = Field(86400.0, gt=0)
    """Seconds a run's proposal may be approved and sent for; an older one must be re-run."""


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation failures into one-line configuration errors."""
    secrets_dir = Path(os.environ.get("ORDERGEN_SECRETS_DIR", DEFAULT_SECRETS_DIR))
    try:
        if secrets_dir.is_dir():
            return Settings(_secrets_dir=secrets_dir, **overrides)
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]).upper()
        raise ConfigurationError(
            f"setting {field}={first.get('input')!r}: {first['msg']}"
        ) from None


def redact_url(url: str) -> str:
    """The URL with any password replaced by `***`, safe to log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}" if parts.username else f"***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
