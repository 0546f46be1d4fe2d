"""Entry point: imports every command module so each registers itself on `app`."""

import signal
from types import FrameType
from typing import NoReturn

# Imported for their side effect: each module registers its commands on `app`.
from ordergen.cli import (  # noqa: F401
    db,
    demo,
    model_policy,
    models,
    portfolios,
    rebalance,
    runs,
)
from ordergen.cli.app import app


def _stop(signum: int, frame: FrameType | None) -> NoReturn:
    # Kubernetes stops a pod with SIGTERM. Unwinding (instead of dying at once) lets a
    # MongoDB run record its failed attempt and removes a half-written orders file.
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point (`ordergen`)."""
    signal.signal(signal.SIGTERM, _stop)
    app()
