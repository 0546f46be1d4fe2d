"""Review before send, through the CLI: a model's approval rule, `rebalance --propose`,
`runs approve|reject|send|orders|resolve|history`, four eyes, stale proposals and bad
input, against SecantusDB and the fake order service."""

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

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
from ordergen.store.schema import AUDIT, ORDERS
from tests.cli.test_rebalance_mongo import input_flags, store_demo
from tests.services.fake_globeco import ORDERS as ORDER_ROUTE
from tests.services.fake_globeco import FakeGlobeCo, Fault

runner = CliRunner()


def ordergen(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.fixture
def desk(
    mongo_env: Settings,
    mongo_db: Db,
    globeco: FakeGlobeCo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, Path, str]:
    """A stored four-eyes demo model (one portfolio infeasible), proposed by bob."""
    monkeypatch.setenv("ORDER_SERVICE_URL", globeco.url)
    monkeypatch.setenv("SERVICE_RETRIES", "0")
    monkeypatch.setenv("ORDERGEN_USER", "bob")
    monkeypatch.delenv("JOB_NAME", raising=False)
    # The scheduled run's data: one account too small (infeasible), one closed (empty).
    data = scheduled_run(seed=5, portfolios=12, securities=10)
    _, positions, prices = write_inputs(tmp_path, data.model, data.summaries, data.prices)
    name = ModelRepository(mongo_db).create(validate_model(data.model)).name
    ModelRepository(mongo_db).set_approval(name, ApprovalRule.FOUR_EYES, expected_version=1)
    return positions, prices, name


def propose(desk: tuple[Path, Path, str], run_id: str, *extra: str) -> Result:
    positions, prices, name = desk
    return ordergen("rebalance", "--jobs", "1", *input_flags(positions, prices, name),
                    "--run-id", run_id, *extra)  # fmt: skip


def sent_keys(globeco: FakeGlobeCo) -> Counter[tuple[str, str]]:
    return Counter((order["portfolioId"], order["securityId"]) for order in globeco.accepted)


def by_state(db: Db, run_id: str) -> Counter[tuple[str | None, str]]:
    return Counter(
        ((o.get("approval") or {}).get("state"), o["submission"]["state"])
        for o in orders_for_run(db, run_id)
    )


def statuses(db: Db, run_id: str) -> dict[str, str]:
    return {
        document["portfolioId"]: document["status"]
        for document in db["run_portfolios"].find({"runId": run_id})
    }


def test_a_four_eyes_run_is_proposed_approved_by_another_and_sent_once(
    desk: tuple[Path, Path, str], mongo_db: Db, globeco: FakeGlobeCo
) -> None:
    proposed = propose(desk, "r1", "--sink", "order-service", "--json")
    assert proposed.exit_code in (ExitCode.OK, ExitCode.PARTIAL), proposed.output
    summary = json.loads(proposed.stdout)
    assert summary["approval"]["state"] == "awaiting approval"
    assert summary["approval"]["proposedBy"] == "bob" and "submission" not in summary
    assert "awaiting approval" in proposed.stderr and "nothing posted" in proposed.stderr
    assert globeco.count(ORDER_ROUTE) == 0
    total = summary["orders"]
    assert total > 0 and by_state(mongo_db, "r1") == {("proposed", "pending"): total}
    show = ordergen("runs", "show", "r1")
    assert "awaiting approval" in show.stdout and f"proposed {total}" in show.stdout

    # Sending before approval posts nothing; the proposer cannot approve (four eyes).
    early = ordergen("runs", "send", "r1", "--json")
    assert early.exit_code == ExitCode.OK, early.output
    assert json.loads(early.stdout)["held"] == {"proposed": total}
    refused = ordergen("runs", "approve", "r1")
    assert refused.exit_code == ExitCode.REFUSED and "four eyes" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert by_state(mongo_db, "r1") == {("proposed", "pending"): total}

    approved = ordergen("runs", "approve", "r1", "--by", "alice")
    assert approved.exit_code == ExitCode.OK, approved.output
    assert f"{total} order(s) approved by alice" in approved.stdout
    sent = ordergen("runs", "send", "r1", "--json")
    assert sent.exit_code == ExitCode.OK, sent.output
    assert json.loads(sent.stdout)["accepted"] == total
    again = ordergen("runs", "send", "r1", "--json")
    assert json.loads(again.stdout)["alreadyAccepted"] == total
    expected = Counter((o["portfolioId"], o["securityId"]) for o in orders_for_run(mongo_db, "r1"))
    assert sent_keys(globeco) == expected and max(expected.values()) == 1
    assert by_state(mongo_db, "r1") == {("approved", "accepted"): total}

    history = ordergen("runs", "history", "r1", "--json")
    entries = json.loads(history.stdout)
    assert [(e["action"], e["by"]) for e in entries] == [
        ("propose", "bob"), ("send-started", "bob"), ("send", "bob"), ("approve", "alice"),
        ("send-started", "bob"), ("send", "bob"), ("send-started", "bob"), ("send", "bob"),
    ]  # fmt: skip
    assert entries[3]["orders"] == total and entries[5]["submission"]["accepted"] == total
    assert entries[4]["attempt"] == entries[5]["attempt"] != entries[7]["attempt"]


def test_rejected_portfolios_are_never_sent_and_the_rest_go(
    desk: tuple[Path, Path, str], mongo_db: Db, globeco: FakeGlobeCo
) -> None:
    assert propose(desk, "r2").exit_code in (ExitCode.OK, ExitCode.PARTIAL)
    traded = sorted({o["portfolioId"] for o in orders_for_run(mongo_db, "r2")})
    dropped, kept = traded[0], traded[1:]
    rejected = ordergen("runs", "reject", "r2", "--portfolio", dropped, "--reason", "cash call",
                        "--by", "carol")  # fmt: skip
    assert rejected.exit_code == ExitCode.OK, rejected.output
    # Approving everything afterwards does not bring the rejected portfolio back.
    assert ordergen("runs", "approve", "r2", "--by", "alice").exit_code == ExitCode.OK
    assert ordergen("runs", "send", "r2").exit_code == ExitCode.OK
    assert {portfolio for portfolio, _ in sent_keys(globeco)} == set(kept)
    listed = json.loads(ordergen("runs", "orders", "r2", "--state", "rejected", "--json").stdout)
    assert {o["portfolioId"] for o in listed} == {dropped}
    assert all(o["approval"]["reason"] == "cash call" for o in listed)


def test_a_stale_proposal_can_be_neither_approved_nor_sent(
    desk: tuple[Path, Path, str],
    mongo_db: Db,
    globeco: FakeGlobeCo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert propose(desk, "r3").exit_code in (ExitCode.OK, ExitCode.PARTIAL)
    assert ordergen("runs", "approve", "r3", "--by", "alice").exit_code == ExitCode.OK
    monkeypatch.setenv("PROPOSAL_MAX_AGE", "0.05")
    time.sleep(0.1)
    for command in (("approve", "r3", "--by", "dave"), ("send", "r3")):
        stale = ordergen("runs", *command)
        assert stale.exit_code == ExitCode.STALE, stale.output
        assert "PROPOSAL_MAX_AGE" in stale.stderr
    assert globeco.count(ORDER_ROUTE) == 0
    assert {approval for approval, _ in by_state(mongo_db, "r3")} == {"approved"}


def test_an_order_in_doubt_is_not_resent_until_resolved(
    desk: tuple[Path, Path, str],
    mongo_db: Db,
    globeco: FakeGlobeCo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVICE_TIMEOUT_SECONDS", "0.5")
    assert propose(desk, "r4").exit_code in (ExitCode.OK, ExitCode.PARTIAL)
    assert ordergen("runs", "approve", "r4", "--by", "alice").exit_code == ExitCode.OK
    globeco.fault(ORDER_ROUTE, Fault(delay=1.0, process_first=True))  # created, answer lost
    lost = ordergen("runs", "send", "r4", "--json")
    assert lost.exit_code == ExitCode.PARTIAL, lost.output
    in_doubt = json.loads(
        ordergen("runs", "orders", "r4", "--state", "submitting", "--json").stdout
    )
    assert len(in_doubt) == json.loads(lost.stdout)["inDoubt"] > 0
    posted = len(globeco.accepted)
    again = ordergen("runs", "send", "r4")
    assert again.exit_code == ExitCode.PARTIAL and len(globeco.accepted) == posted
    first, second = in_doubt[0]["_id"], in_doubt[1]["_id"] if len(in_doubt) > 1 else None
    created = ordergen("runs", "resolve", "r4", "--order", first, "--created", "4242")
    assert created.exit_code == ExitCode.OK and "accepted" in created.stdout
    twice = ordergen("runs", "resolve", "r4", "--order", first, "--not-created")
    assert twice.exit_code == ExitCode.INPUT and "not in doubt" in twice.stderr
    if second is not None:
        assert ordergen("runs", "resolve", "r4", "--order", second, "--not-created").exit_code == 0
        ordergen("runs", "send", "r4")
        assert len(globeco.accepted) == posted + 1
    stored = mongo_db[ORDERS].find_one({"_id": first})
    assert stored is not None and stored["submission"]["orderId"] == 4242
    actions = [e["action"] for e in mongo_db[AUDIT].find({"runId": "r4"}).sort("at", 1)]
    assert actions.count("resolve") == (2 if second else 1)


def test_bad_input_is_one_line_with_its_exit_code_and_changes_nothing(
    desk: tuple[Path, Path, str], mongo_db: Db, tmp_path: Path
) -> None:
    assert propose(desk, "r5").exit_code in (ExitCode.OK, ExitCode.PARTIAL)
    infeasible = next(p for p, status in statuses(mongo_db, "r5").items() if status == "infeasible")
    name = desk[2]
    # A run that needs no approval: the model's rule back to none, no --propose.
    ModelRepository(mongo_db).set_approval(name, ApprovalRule.NONE, expected_version=2)
    plain = propose(desk, "r6")
    assert plain.exit_code in (ExitCode.OK, ExitCode.PARTIAL), plain.output
    assert by_state(mongo_db, "r6").keys() == {(None, "pending")}
    before = list(mongo_db[ORDERS].find({"runId": "r5"}).sort("_id", 1))
    audit_before = mongo_db[AUDIT].count_documents({})
    cases = [
        (("runs", "approve", "nope", "--by", "alice"), "not found"),
        (("runs", "approve", "r5", "--by", "alice", "--portfolio", "0" * 24), "not in run"),
        (("runs", "approve", "r5", "--by", "alice", "--portfolio", infeasible), "infeasible"),
        (("runs", "approve", "r6", "--by", "alice"), "needs no approval"),
        (("runs", "send", "r6"), "needs no approval"),
        (("runs", "resolve", "r5", "--order", "r5:x:y", "--not-created"), "not in run"),
        (("runs", "reject", "r5", "--reason", " "), "must say why"),
        (("models", "create", "--name", "m", "--approval", "maybe"), "must be one of"),
        (("models", "approval", name, "maybe", "--version", "3"), "must be one of"),
    ]
    for args, text in cases:
        failed = ordergen(*args)
        assert failed.exit_code == ExitCode.INPUT, (args, failed.output)
        assert text in failed.stderr and len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    model_file = tmp_path / "maybe.json"
    model_file.write_text(json.dumps({"name": "m", "positions": [], "approval": "maybe"}))
    imported = ordergen("models", "import", str(model_file))
    assert imported.exit_code == ExitCode.INPUT and "approval" in imported.stderr
    assert list(mongo_db[ORDERS].find({"runId": "r5"}).sort("_id", 1)) == before
    assert mongo_db[AUDIT].count_documents({}) == audit_before


def test_the_approval_rule_is_kept_by_export_import_show_and_versioned(
    mongo_env: Settings, mongo_db: Db, tmp_path: Path
) -> None:
    positions, prices, name = store_demo(mongo_db, tmp_path, seed=3, portfolios=3)
    changed = ordergen("models", "approval", name, "required", "--version", "1")
    assert changed.exit_code == ExitCode.OK and "now version 2" in changed.stdout
    shown = json.loads(ordergen("models", "show", name, "--json").stdout)
    assert shown["approval"] == "required"
    assert "approval" in ordergen("models", "show", name).stdout
    exported = tmp_path / "exported.yaml"
    assert ordergen("models", "export", name, "--output", str(exported)).exit_code == 0
    assert "approval: required" in exported.read_text()
    back = ordergen("models", "approval", name, "none", "--version", "2")
    assert back.exit_code == ExitCode.OK
    stored = mongo_db["models"].find_one({"name": name})
    assert stored is not None and "approval" not in stored and stored["version"] == 3
    assert ordergen("models", "import", str(exported)).exit_code == ExitCode.OK
    assert json.loads(ordergen("models", "show", name, "--json").stdout)["approval"] == "required"
    # --propose asks for approval whatever the model says; a files run cannot propose.
    ordergen("models", "approval", name, "none", "--version", "4")
    proposed = ordergen("rebalance", "--jobs", "1", *input_flags(positions, prices, name),
                        "--run-id", "p1", "--propose", "--json")  # fmt: skip
    assert json.loads(proposed.stdout)["approval"]["rule"] == "required"
    to_file = ordergen("rebalance", *input_flags(positions, prices, name), "--propose",
                       "--output", str(tmp_path / "o.json"))  # fmt: skip
    assert to_file.exit_code == ExitCode.INPUT and "--propose" in to_file.stderr


def test_blocks_from_a_run_and_from_its_orders_file_add_up_exactly(
    desk: tuple[Path, Path, str], mongo_db: Db, tmp_path: Path
) -> None:
    positions, prices, _ = desk
    assert propose(desk, "r7").exit_code in (ExitCode.OK, ExitCode.PARTIAL)
    stored = list(orders_for_run(mongo_db, "r7"))
    nothing = json.loads(ordergen("runs", "blocks", "r7", "--format", "json").stdout)
    assert nothing == {"blocks": [], "crossings": []}  # nothing approved yet
    proposed = json.loads(
        ordergen("runs", "blocks", "r7", "--state", "proposed", "--format", "json").stdout
    )
    totals: Counter[tuple[str, str]] = Counter()
    for order in stored:
        totals[(order["securityId"], order["side"])] += order["quantity"]
    assert {(b["securityId"], b["side"]): b["quantity"] for b in proposed["blocks"]} == totals
    for block in proposed["blocks"]:
        assert block["quantity"] == sum(a["quantity"] for a in block["allocations"])
    csv_rows = ordergen("runs", "blocks", "r7", "--state", "all", "--format", "csv").stdout
    assert csv_rows.splitlines()[0] == "securityId,side,blockQuantity,portfolioId,quantity"
    assert len(csv_rows.splitlines()) == 1 + len(stored)
    # The same inputs to an orders file give the same blocks, without MongoDB.
    output = tmp_path / "orders.json"
    to_file = ordergen("rebalance", "--jobs", "1", "--model-file", str(tmp_path / "model.json"),
                       "--positions", str(positions), "--prices", str(prices),
                       "--output", str(output))  # fmt: skip
    assert to_file.exit_code in (ExitCode.OK, ExitCode.PARTIAL), to_file.output
    from_file = ordergen("runs", "blocks", "--orders", str(output), "--format", "json")
    assert json.loads(from_file.stdout) == proposed
    table = ordergen("runs", "blocks", "--orders", str(output)).stdout
    assert f"block(s) of {len(stored)} order(s)" in table and "never netted" in table
    both = ordergen("runs", "blocks", "r7", "--orders", str(output))
    assert both.exit_code == ExitCode.INPUT and "not both" in both.stderr


def test_a_scheduled_run_cannot_bypass_the_rule_and_its_job_proposes(
    desk: tuple[Path, Path, str],
    mongo_db: Db,
    globeco: FakeGlobeCo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    positions, prices, name = desk
    monkeypatch.setenv("JOB_NAME", "ordergen-core-growth-29123456")
    scheduled = ordergen("rebalance", "--jobs", "1", *input_flags(positions, prices, name),
                         "--sink", "order-service", "--json")  # fmt: skip
    assert scheduled.exit_code in (ExitCode.OK, ExitCode.PARTIAL), scheduled.output
    summary = json.loads(scheduled.stdout)
    assert summary["runId"] == "ordergen-core-growth-29123456"
    assert summary["approval"]["proposedBy"] == "ordergen-core-growth-29123456"
    assert globeco.count(ORDER_ROUTE) == 0
    # bob (ORDERGEN_USER) is not the proposer: under four eyes he may approve.
    monkeypatch.delenv("JOB_NAME")
    approved = ordergen("runs", "approve", "ordergen-core-growth-29123456")
    assert approved.exit_code == ExitCode.OK and "approved by bob" in approved.stdout
