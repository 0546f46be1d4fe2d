"""Real servers for the tests: MongoDB (SecantusDB once per session, or a real server)
and a fake GlobeCo service suite on loopback.

Set `ORDERGEN_TEST_MONGODB_URI` to test against a real mongod instead of SecantusDB.
Each test gets its own throwaway database, dropped afterwards.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from ordergen.settings import Settings
from ordergen.store.connection import Db, connect
from tests.mongo_server import mongo_server
from tests.services.fake_globeco import FakeGlobeCo, serve


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test server's URI: `ORDERGEN_TEST_MONGODB_URI`, else a SecantusDB on loopback."""
    storage: Path = tmp_path_factory.mktemp("secantusdb")
    with mongo_server(os.environ.get("ORDERGEN_TEST_MONGODB_URI"), storage) as uri:
        yield uri


@pytest.fixture
def mongo_settings(mongo_uri: str) -> Iterator[Settings]:
    """Settings pointing at a fresh database of the test server, dropped after the test."""
    name = f"ordergen-test-{uuid.uuid4().hex[:8]}"
    yield Settings(database_url=mongo_uri, database_name=name, database_timeout_seconds=5)
    with MongoClient(mongo_uri, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)


@pytest.fixture
def mongo_env(mongo_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The same database in DATABASE_URL/DATABASE_NAME, for commands run via CliRunner."""
    monkeypatch.setenv("DATABASE_URL", mongo_settings.database_url)
    monkeypatch.setenv("DATABASE_NAME", mongo_settings.database_name)
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", str(mongo_settings.database_timeout_seconds))
    return mongo_settings


@pytest.fixture
def mongo_db(mongo_settings: Settings) -> Iterator[Db]:
    """The test's database, connected the way the commands connect."""
    db = connect(mongo_settings)
    yield db
    db.client.close()


@pytest.fixture
def globeco() -> Iterator[FakeGlobeCo]:
    """A fake GlobeCo suite on 127.0.0.1, stopped after the test."""
    yield from serve()
