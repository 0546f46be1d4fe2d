"""`ordergen db init/check` against a real server, and an unreachable one."""

import json
import socket
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ordergen.cli.main import app
from ordergen.errors import ExitCode
from ordergen.settings import Settings
from ordergen.store.schema import INDEXES

runner = CliRunner()


def ordergen(*args: str) -> Result:
    return runner.invoke(app, list(args))


def as_json(*args: str) -> Any:
    outcome = ordergen(*args, "--json")
    assert outcome.exit_code == ExitCode.OK, outcome.output
    return json.loads(outcome.stdout)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


WANTED = {
    name: sorted(index.document["name"] for index in indexes)
    for name, indexes in INDEXES.items()
    if indexes
}


def test_init_creates_every_index_and_is_idempotent(mongo_env: Settings) -> None:
    first = as_json("db", "init")
    assert first["database"] == mongo_env.database_name
    assert {name: sorted(names) for name, names in first["indexes"].items()} == WANTED
    assert as_json("db", "init") == first
    table = ordergen("db", "init")
    assert table.exit_code == ExitCode.OK
    assert all(name in table.stdout for names in WANTED.values() for name in names)


def test_check_reports_missing_indexes_until_init(mongo_env: Settings) -> None:
    before = as_json("db", "check")
    assert before["database"] == mongo_env.database_name
    assert before["server"]["version"]
    assert not before["indexesOk"]
    assert before["collections"]["orders"]["missingIndexes"] == WANTED["orders"]
    human = ordergen("db", "check")
    assert human.exit_code == ExitCode.OK
    assert "ordergen db init" in human.stderr

    ordergen("db", "init")
    after = as_json("db", "check")
    assert after["indexesOk"]
    assert all(not entry["missingIndexes"] for entry in after["collections"].values())
    assert after["collections"]["models"]["exists"]
    assert "ordergen db init" not in ordergen("db", "check").stderr


@pytest.mark.parametrize("command", [("db", "check"), ("db", "init"), ("models", "list")])
def test_an_unreachable_server_exits_4_with_one_line_and_no_password(
    monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"mongodb://ops:s3cret-pw@127.0.0.1:{closed_port()}/")
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "0.5")
    outcome = ordergen(*command)
    assert outcome.exit_code == ExitCode.DATABASE
    message = outcome.stderr.strip()
    assert message.startswith("error: cannot reach MongoDB at mongodb://ops:***@127.0.0.1")
    assert "\n" not in message
    assert "s3cret-pw" not in outcome.output
    assert outcome.stdout == ""


def test_help() -> None:
    outcome = ordergen("db", "--help")
    assert outcome.exit_code == ExitCode.OK
    assert "init" in outcome.stdout and "check" in outcome.stdout
