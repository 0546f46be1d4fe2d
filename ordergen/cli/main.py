"""Entry point: imports every command module so each registers itself on `app`."""

from ordergen.cli import db, demo, models, rebalance, runs  # noqa: F401  (registration side effects)
from ordergen.cli.app import app


def main() -> None:
    """Console-script entry point (`ordergen`)."""
    app()
