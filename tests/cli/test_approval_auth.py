"""Identity under authentication: against SecantusDB started with `--auth`, the acting
user is the database user, and `--by` or `ORDERGEN_USER` cannot claim another name."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient
from typer.testing import CliRunner, Result

from ordergen.cli.main import app
from ordergen.demo import scheduled_run
from ordergen.errors import ExitCode
from ordergen.io.inputs_out import write_inputs
from tests.cli.test_rebalance_mongo import input_flags

runner = CliRunner()
USERS = {"alice": "alice-secret", "bob": "bob-secret"}


@pytest.fixture(scope="module")
def auth_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """host:port of a SecantusDB requiring authentication, with USERS created first."""
    from secantus import SecantusDBServer

    storage = str(tmp_path_factory.mktemp("secantus-auth"))
    open_server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=storage)
    open_server.start()
    try:
        with MongoClient(str(open_server.uri)) as client:
            for user, password in USERS.items():
                roles = [{"role": "root", "db": "admin"}]
                client.admin.command("createUser", user, pwd=password, roles=roles)
    finally:
        open_server.stop()
    server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=storage, require_auth=True)
    server.start()
    try:
        parts = urlsplit(str(server.uri))
        yield f"{parts.hostname}:{parts.port}"
    finally:
        server.stop()


def as_user(monkeypatch: pytest.MonkeyPatch, address: str, database: str, user: str | None) -> None:
    login = "" if user is None else f"{user}:{USERS[user]}@"
    monkeypatch.setenv("DATABASE_URL", f"mongodb://{login}{address}/?authSource=admin")
    monkeypatch.setenv("DATABASE_NAME", database)
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "5")
    monkeypatch.delenv("ORDERGEN_USER", raising=False)
    monkeypatch.delenv("JOB_NAME", raising=False)


def ordergen(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_the_database_user_acts_and_no_other_name_is_accepted(
    auth_address: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = f"ordergen-auth-{uuid.uuid4().hex[:8]}"
    data = scheduled_run(seed=5, portfolios=6, securities=5)
    model, positions, prices = write_inputs(tmp_path, data.model, data.summaries, data.prices)
    as_user(monkeypatch, auth_address, database, "bob")
    name = data.model["name"]
    assert ordergen("models", "import", str(model)).exit_code == ExitCode.OK
    assert ordergen("models", "approval", name, "four-eyes", "--version", "1").exit_code == 0
    monkeypatch.setenv("ORDERGEN_USER", "alice")  # bob cannot propose as alice either
    claimed = ordergen("rebalance", "--jobs", "1", *input_flags(positions, prices, name),
                       "--run-id", "a1")  # fmt: skip
    assert claimed.exit_code == ExitCode.REFUSED and "'bob'" in claimed.stderr
    monkeypatch.delenv("ORDERGEN_USER")
    proposed = ordergen("rebalance", "--jobs", "1", *input_flags(positions, prices, name),
                        "--run-id", "a1", "--json")  # fmt: skip
    assert proposed.exit_code in (ExitCode.OK, ExitCode.PARTIAL), proposed.output
    assert json.loads(proposed.stdout)["approval"]["proposedBy"] == "bob"

    # bob may not approve his own run, under his name or another's.
    for extra, env in (((), None), (("--by", "alice"), None), ((), "alice")):
        if env is not None:
            monkeypatch.setenv("ORDERGEN_USER", env)
        refused = ordergen("runs", "approve", "a1", *extra)
        assert refused.exit_code == ExitCode.REFUSED, refused.output
        assert len(refused.stderr.strip().splitlines()) == 1
        monkeypatch.delenv("ORDERGEN_USER", raising=False)
    unauthenticated = urlsplit(f"mongodb://{auth_address}")
    as_user(monkeypatch, f"{unauthenticated.hostname}:{unauthenticated.port}", database, None)
    assert ordergen("runs", "approve", "a1", "--by", "alice").exit_code == ExitCode.DATABASE

    as_user(monkeypatch, auth_address, database, "alice")
    approved = ordergen("runs", "approve", "a1", "--by", "alice")
    assert approved.exit_code == ExitCode.OK, approved.output
    history = json.loads(ordergen("runs", "history", "a1", "--json").stdout)
    assert [(entry["action"], entry["by"]) for entry in history] == [
        ("propose", "bob"),
        ("approve", "alice"),
    ]
