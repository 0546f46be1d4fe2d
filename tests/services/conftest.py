"""Fixtures for the service tests: a recording sleep (the fake suite is in tests/conftest.py)."""

import pytest

from tests.services.helpers import Sleeps


@pytest.fixture
def sleeps() -> Sleeps:
    """Waits asked for by retries (none actually happen)."""
    return Sleeps()
