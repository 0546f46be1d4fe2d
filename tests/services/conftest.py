"""Fixtures for the service tests: a fake GlobeCo suite and a recording sleep."""

from collections.abc import Iterator

import pytest

from tests.services.fake_globeco import FakeGlobeCo, serve
from tests.services.helpers import Sleeps


@pytest.fixture
def globeco() -> Iterator[FakeGlobeCo]:
    """A fake GlobeCo suite on 127.0.0.1, stopped after the test."""
    yield from serve()


@pytest.fixture
def sleeps() -> Sleeps:
    """Waits asked for by retries (none actually happen)."""
    return Sleeps()
