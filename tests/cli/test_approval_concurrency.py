"""Review before send under concurrency: `ordergen runs ...` in separate processes
against the test server and the fake order service.

Each test ends with every approved order posted exactly once (in-doubt ones aside),
nothing unapproved or rejected posted, and the audit trail telling what happened.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.demo import scheduled_run
from ordergen.domain.approval import ApprovalRule
from ordergen.domain.model import validate_model
from ordergen.errors import ExitCode
from ordergen.io.inputs_out import write_inputs
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.orders import orders_for_run
from ordergen.store.schema import AUDIT
from tests.cli.test_rebalance_mongo import input_flags
from tests.cli.test_run_ownership import finish_all
from tests.services.fake_globeco import ORDERS as ORDER_ROUTE
from tests.services.fake_globeco import FakeGlobeCo, Fault

# Separate processes, as tests/cli/test_run_ownership.py: about 45 s together.
pytestmark = pytest.mark.slow
runner = CliRunner()
PORTFOLIOS = 160  # about 1,300 orders: two posts of at most 1,000


@pytest.fixture
def proposed(
    mongo_env: Settings,
    mongo_db: Db,
    globeco: FakeGlobeCo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, ...]:
    """A run `c1` proposed under `required`, and the flags that re-run it."""
    monkeypatch.setenv("ORDER_SERVICE_URL", globeco.url)  # for the commands run in-process
    monkeypatch.setenv("SERVICE_RETRIES", "0")
    data = scheduled_run(seed=11, portfolios=PORTFOLIOS, securities=10)
    _, positions, prices = write_inputs(tmp_path, data.model, data.summaries, data.prices)
    name = ModelRepository(mongo_db).create(validate_model(data.model)).name
    ModelRepository(mongo_db).set_approval(name, ApprovalRule.REQUIRED, expected_version=1)
    flags = ("--jobs", "1", *input_flags(positions, prices, name), "--run-id", "c1")
    result = runner.invoke(app, ["rebalance", *flags])
    assert result.exit_code in (ExitCode.OK, ExitCode.PARTIAL), result.output
    return flags


def started(settings: Settings, globeco: FakeGlobeCo, *args: str) -> subprocess.Popen[str]:
    """`ordergen ARGS` in a process of its own."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "DATABASE_NAME": settings.database_name,
        "ORDER_SERVICE_URL": globeco.url,
        "SERVICE_RETRIES": "0",
        "LOG_LEVEL": "WARNING",
        "ORDERGEN_USER": "ops",
        "RUN_LEASE_SECONDS": "10",
    }
    return subprocess.Popen([sys.executable, "-m", "ordergen", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def run(*args: str) -> int:
    return runner.invoke(app, list(args)).exit_code


def posted(globeco: FakeGlobeCo) -> Counter[tuple[str, str]]:
    return Counter((order["portfolioId"], order["securityId"]) for order in globeco.accepted)


def keys(
    db: Db, approval: str | None = None, submission: str | None = None
) -> set[tuple[str, str]]:
    return {
        (order["portfolioId"], order["securityId"])
        for order in orders_for_run(db, "c1")
        if approval in (None, order["approval"]["state"])
        and submission in (None, order["submission"]["state"])
    }


def portfolios(db: Db) -> list[str]:
    return sorted({order["portfolioId"] for order in orders_for_run(db, "c1")})


def audit(db: Db, action: str) -> list[dict[str, object]]:
    return list(db[AUDIT].find({"runId": "c1", "action": action}).sort("at", 1))


def wait_until(condition: object) -> None:
    deadline = time.monotonic() + 60
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def slow_service(globeco: FakeGlobeCo, seconds: float = 0.6, posts: int = 6) -> None:
    globeco.fault(ORDER_ROUTE, Fault(delay=seconds, process_first=True), times=posts)


def assert_sent_once(db: Db, globeco: FakeGlobeCo) -> None:
    """Every accepted order posted exactly once; nothing unapproved or rejected posted."""
    sent = posted(globeco)
    assert max(sent.values(), default=1) == 1
    assert set(sent) == keys(db, "approved", "accepted") | keys(db, "approved", "submitting")
    assert not set(sent) & (keys(db, "proposed") | keys(db, "rejected"))


def test_two_sends_at_once_post_each_order_once(
    proposed: tuple[str, ...], mongo_settings: Settings, mongo_db: Db, globeco: FakeGlobeCo
) -> None:
    assert run("runs", "approve", "c1", "--by", "alice") == ExitCode.OK
    slow_service(globeco)
    codes = finish_all([started(mongo_settings, globeco, "runs", "send", "c1") for _ in range(2)])
    # A send that ends while the other is still posting reports those orders in doubt.
    assert set(codes) <= {ExitCode.OK, ExitCode.PARTIAL} and ExitCode.OK in codes
    assert run("runs", "send", "c1") == ExitCode.OK  # nothing left in doubt, nothing to post
    assert_sent_once(mongo_db, globeco)
    assert set(posted(globeco)) == keys(mongo_db)  # every order approved, every one sent
    sends = audit(mongo_db, "send")
    assert sum(entry["submission"]["submitted"] for entry in sends) == len(keys(mongo_db))  # type: ignore[index]


def test_approve_while_send_runs_and_overlapping_approvals_approve_once(
    proposed: tuple[str, ...], mongo_settings: Settings, mongo_db: Db, globeco: FakeGlobeCo
) -> None:
    ids = portfolios(mongo_db)
    rejected, first, overlap, last = ids[:5], ids[5:100], ids[100:200], ids[200:]
    reason = ("--reason", "withdrawn")
    assert run("runs", "reject", "c1", *[f"--portfolio={p}" for p in rejected], *reason) == 0
    assert run("runs", "approve", "c1", *[f"--portfolio={p}" for p in first]) == ExitCode.OK
    slow_service(globeco)
    sending = started(mongo_settings, globeco, "runs", "send", "c1")
    wait_until(lambda: globeco.count(ORDER_ROUTE) > 0)
    # Two approvals of overlapping sets at once, while the send is posting.
    approvals = [
        started(mongo_settings, globeco, "runs", "approve", "c1", "--by", by,
                *[f"--portfolio={p}" for p in portfolios_named])
        for by, portfolios_named in (("alice", [*first, *overlap]), ("carol", [*overlap, *last]))
    ]  # fmt: skip
    assert finish_all([sending, *approvals]) == [ExitCode.OK] * 3
    assert run("runs", "send", "c1") == ExitCode.OK  # what was approved after the first send
    assert_sent_once(mongo_db, globeco)
    approved = {key for key in keys(mongo_db) if key[0] not in rejected}
    assert set(posted(globeco)) == approved == keys(mongo_db, "approved")
    # The approvals' counts add up: no order approved twice.
    counted = sum(entry["orders"] for entry in audit(mongo_db, "approve"))  # type: ignore[misc]
    assert counted == len(approved)
    assert len(audit(mongo_db, "reject")) == 1 and len(audit(mongo_db, "send")) == 2


def test_send_while_the_run_id_is_rerun_never_posts_twice(
    proposed: tuple[str, ...], mongo_settings: Settings, mongo_db: Db, globeco: FakeGlobeCo
) -> None:
    assert run("runs", "approve", "c1", "--by", "alice") == ExitCode.OK
    slow_service(globeco, seconds=1.0, posts=1)
    sending = started(mongo_settings, globeco, "runs", "send", "c1")
    wait_until(lambda: globeco.count(ORDER_ROUTE) > 0)
    rerun = started(mongo_settings, globeco, "rebalance", *proposed)
    send_code, rerun_code = finish_all([sending, rerun])
    assert send_code == ExitCode.OK and rerun_code in (ExitCode.OK, ExitCode.PARTIAL)
    assert_sent_once(mongo_db, globeco)
    # The re-run proposed again what was not sent: it goes only once approved again.
    assert keys(mongo_db, "proposed") == keys(mongo_db) - set(posted(globeco))
    assert run("runs", "send", "c1") == ExitCode.OK and len(posted(globeco)) < len(keys(mongo_db))
    assert run("runs", "approve", "c1", "--by", "dave") == ExitCode.OK
    assert run("runs", "send", "c1") == ExitCode.OK
    assert_sent_once(mongo_db, globeco)
    assert set(posted(globeco)) == keys(mongo_db)
    actions = [
        entry["action"]
        for entry in mongo_db[AUDIT].find({"runId": "c1"}).sort("at", 1)
        if entry["action"] != "send-started"
    ]
    # The first send and the re-run's proposal overlap: either may be recorded first.
    assert actions[:2] == ["propose", "approve"] and actions[-3:] == ["send", "approve", "send"]
    assert sorted(actions[2:4]) == ["propose", "send"]


def test_a_send_killed_mid_post_then_sent_again_leaves_that_post_in_doubt(
    proposed: tuple[str, ...], mongo_settings: Settings, mongo_db: Db, globeco: FakeGlobeCo
) -> None:
    assert run("runs", "approve", "c1", "--by", "alice") == ExitCode.OK
    slow_service(globeco, seconds=3.0, posts=1)  # the first post is created, then hangs
    killed = started(mongo_settings, globeco, "runs", "send", "c1")
    wait_until(lambda: len(globeco.accepted) > 0)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    in_flight = set(posted(globeco))
    assert run("runs", "send", "c1") == ExitCode.PARTIAL  # the killed post is in doubt
    assert_sent_once(mongo_db, globeco)
    assert keys(mongo_db, "approved", "submitting") == in_flight
    assert set(posted(globeco)) == keys(mongo_db)
    # Both sends started on record; only the second finished: the killed one never did.
    starts, sends = audit(mongo_db, "send-started"), audit(mongo_db, "send")
    assert len(starts) == 2 and len(sends) == 1
    assert sends[0]["attempt"] == starts[1]["attempt"] != starts[0]["attempt"]
    assert sends[0]["submission"]["inDoubt"] == len(in_flight)  # type: ignore[index]
