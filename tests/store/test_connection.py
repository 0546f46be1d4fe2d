"""Connecting, failing fast on an unreachable server, and creating/checking indexes."""

import socket
import time

import pytest

from ordergen.errors import ConfigurationError, DatabaseError
from ordergen.settings import Settings
from ordergen.store.connection import Db, check, connect, database_errors, init_indexes
from ordergen.store.schema import INDEXES, MODELS


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connect_pings_the_server_and_opens_the_configured_database(
    mongo_settings: Settings,
) -> None:
    db = connect(mongo_settings)
    try:
        assert db.name == mongo_settings.database_name
        assert db.command("ping")["ok"] == 1
    finally:
        db.client.close()


def test_an_unreachable_server_fails_within_the_timeout_naming_the_redacted_url() -> None:
    url = f"mongodb://ops:s3cret-pw@127.0.0.1:{closed_port()}/"
    settings = Settings(database_url=url, database_timeout_seconds=1)
    started = time.monotonic()
    with pytest.raises(DatabaseError) as caught:
        connect(settings)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert elapsed < 10  # generous: the timeout is 1 s
    assert "s3cret-pw" not in message
    assert "mongodb://ops:***@127.0.0.1" in message
    assert "\n" not in message
    assert "Topology" not in message


def test_a_malformed_url_is_a_configuration_error_without_the_password() -> None:
    settings = Settings(database_url="http://ops:s3cret-pw@127.0.0.1:1/")
    with pytest.raises(ConfigurationError) as caught:
        connect(settings)
    assert "DATABASE_URL" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


def test_pymongo_errors_in_later_operations_become_database_errors(
    mongo_settings: Settings,
) -> None:
    db = connect(mongo_settings)
    db.client.close()
    with pytest.raises(DatabaseError, match="MongoDB operation failed"), database_errors():
        db[MODELS].find_one({})


def test_init_indexes_is_idempotent_and_check_reports_them(mongo_db: Db) -> None:
    before = check(mongo_db)
    assert not before["indexesOk"]
    assert "name_unique" in before["collections"][MODELS]["missingIndexes"]
    first = init_indexes(mongo_db)
    second = init_indexes(mongo_db)
    assert first == second
    after = check(mongo_db)
    assert after["indexesOk"]
    assert after["database"] == mongo_db.name
    assert after["server"]["version"]
    for name, wanted in INDEXES.items():
        present = {index["name"]: index for index in mongo_db[name].list_indexes()}
        for index in wanted:
            assert index.document["name"] in present
