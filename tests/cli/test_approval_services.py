"""A proposed services run: `runs send` reads the positions again and sends only the
portfolios whose holdings and cash are as proposed, against the fake GlobeCo suite."""

import json

import pytest
from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.domain.approval import ApprovalRule
from ordergen.domain.model import InvestmentModel
from ordergen.errors import ExitCode
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.models import ModelRepository
from ordergen.store.orders import orders_for_run
from tests.cli.test_rebalance_services import invoke, point_at, stored_suite  # noqa: F401
from tests.factories import gid
from tests.services.fake_globeco import FakeGlobeCo

runner = CliRunner()


def test_a_portfolio_whose_positions_changed_since_the_proposal_is_not_sent(
    globeco: FakeGlobeCo,
    stored_suite: InvestmentModel,  # noqa: F811
    mongo_env: Settings,
    mongo_db: Db,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_at(monkeypatch, globeco.url)
    monkeypatch.setenv("ORDERGEN_USER", "bob")
    ModelRepository(mongo_db).set_approval(
        stored_suite.name, ApprovalRule.REQUIRED, expected_version=stored_suite.version
    )
    proposed = invoke("--model", stored_suite.name, "--sink", "order-service", "--run-id", "s1",
                      "--json")  # fmt: skip
    assert proposed.exit_code == ExitCode.OK, proposed.output
    assert json.loads(proposed.stdout)["approval"]["positionsChecked"] is True
    assert globeco.accepted == []
    assert runner.invoke(app, ["runs", "approve", "s1", "--by", "alice"]).exit_code == 0
    changed, unchanged = gid("P1"), gid("P3")
    globeco.portfolio(changed, "90000.01", **{gid("A"): 10, gid("X"): 5})  # a cent more cash

    sent = runner.invoke(app, ["runs", "send", "s1", "--json"])
    assert sent.exit_code == ExitCode.PARTIAL, sent.output
    document = json.loads(sent.stdout)
    assert document["stalePortfolios"] == [changed]
    orders = list(orders_for_run(mongo_db, "s1"))
    stale = [o for o in orders if o["portfolioId"] == changed]
    assert stale and {o["approval"]["state"] for o in stale} == {"stale"}
    assert {o["portfolioId"] for o in globeco.accepted} == {unchanged}
    assert document["accepted"] == len(globeco.accepted) == len(orders) - len(stale)
    # Sending again posts nothing more: a stale order never goes.
    again = runner.invoke(app, ["runs", "send", "s1", "--json"])
    assert again.exit_code == ExitCode.OK and json.loads(again.stdout)["held"] == {
        "stale": len(stale)
    }
    history = json.loads(runner.invoke(app, ["runs", "history", "s1", "--json"]).stdout)
    assert [entry["action"] for entry in history] == [
        "propose", "approve", "stale", "send-started", "send", "send-started", "send",
    ]  # fmt: skip
    assert history[2]["portfolios"] == [changed]
