"""`ordergen rebalance` under policies: the model's, a file's and stored overrides, the
within-bands status through every output, audit fields, run ids, and snapshot replays."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.domain.model import InvestmentModel
from ordergen.errors import ExitCode
from ordergen.io.inputs_out import write_inputs
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.runs import RunRepository
from ordergen.store.schema import RUN_PORTFOLIOS
from tests.cli.test_rebalance_cli import rebalance
from tests.cli.test_rebalance_services import (
    invoke,
    point_at,
    replay_snapshot,
    stored_orders,
    stored_suite,
)
from tests.factories import gid, model_doc
from tests.services.fake_globeco import FakeGlobeCo

runner = CliRunner()
P, Q, R = gid("P"), gid("Q"), gid("R")
WITHIN_BANDS_POLICY = {"trigger": "outside-bands", "innerBand": "1"}

__all__ = ["stored_suite"]  # a fixture the services test below uses


def r1_files(tmp_path: Path, policy: dict[str, Any] | None) -> tuple[Path, Path, Path]:
    """R1's model; P is outside its bands (P1), Q inside them (P2), R holds only cash."""
    model = model_doc(
        [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")], ["P", "Q", "R"]
    )
    if policy is not None:
        model["policy"] = policy

    def held(cash: str, s: int, b: int) -> dict[str, Any]:
        return {
            "cashBalance": cash,
            "securities": [
                {"securityId": gid("S"), "netQuantity": str(s)},
                {"securityId": gid("B"), "netQuantity": str(b)},
            ],
        }

    summaries = [
        {"portfolioId": P, **held("5000", 500, 400)},
        {"portfolioId": Q, **held("10000", 560, 290)},
        {"portfolioId": R, "cashBalance": "95000", "securities": []},
    ]
    return write_inputs(tmp_path, model, summaries, {gid("S"): "100", gid("B"): "100"})


def results_by_id(path: Path) -> dict[str, dict[str, Any]]:
    return {p["portfolioId"]: p for p in json.loads(path.read_text())["portfolios"]}


def orders_of(result: dict[str, Any]) -> dict[str, int]:
    return {
        o["securityId"]: o["quantity"] if o["side"] == "BUY" else -o["quantity"]
        for o in result["orders"]
    }


def test_a_model_policy_leaves_a_portfolio_inside_its_bands_and_says_so(tmp_path: Path) -> None:
    output = tmp_path / "orders.json"
    result = rebalance(*r1_files(tmp_path, WITHIN_BANDS_POLICY), output)
    assert result.exit_code == ExitCode.OK, result.output
    assert "portfolios within-bands" in result.stderr
    document = json.loads(output.read_text())
    assert document["policy"] == WITHIN_BANDS_POLICY
    assert document["summary"]["byStatus"] == {
        "ok": 2,
        "infeasible": 0,
        "error": 0,
        "empty": 0,
        "within-bands": 1,
    }
    found = results_by_id(output)
    assert found[Q]["status"] == "within-bands" and found[Q]["orders"] == []
    assert found[Q]["worstDriftBefore"] == "0.0105"
    assert orders_of(found[P]) == {gid("S"): 23, gid("B"): -87}  # P1
    assert found[P]["policy"] == {"overrides": {}, "cashFloor": "95000"}


def test_without_any_policy_nothing_says_within_bands(tmp_path: Path) -> None:
    output = tmp_path / "orders.json"
    result = rebalance(*r1_files(tmp_path, None), output, "--json")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["byStatus"] == {
        "ok": 3,
        "infeasible": 0,
        "error": 0,
        "empty": 0,
    }
    document = json.loads(output.read_text())
    assert "policy" not in document
    assert all("policy" not in p for p in document["portfolios"])


def test_a_policies_file_overrides_per_portfolio_and_makes_another_run(tmp_path: Path) -> None:
    files = r1_files(tmp_path, None)
    policies = tmp_path / "policies.yaml"
    policies.write_text(f'"{P}": {{mode: sell-only, cashNeed: "20000"}}\n')
    plain = rebalance(*files, tmp_path / "plain.json", "--json")
    given = rebalance(
        *files, tmp_path / "given.json", "--json", "--portfolio-policies", str(policies)
    )
    assert plain.exit_code == given.exit_code == ExitCode.OK, given.output
    assert json.loads(plain.stdout)["runId"] != json.loads(given.stdout)["runId"]
    found, before = results_by_id(tmp_path / "given.json"), results_by_id(tmp_path / "plain.json")
    assert orders_of(found[P]) == {gid("S"): -50, gid("B"): -175}  # P6
    assert found[P]["cashAfter"] == "27500"
    assert found[P]["policy"] == {
        "overrides": {"mode": "sell-only"},
        "cashNeed": "20000",
        "cashFloor": "75000",
    }
    assert found[Q] == before[Q] and found[R] == before[R]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (json.dumps({P: {"innerBand": "2"}}), f'{P}.innerBand: "2" must be in [0, 1]'),
        (json.dumps({P: {"cashNeed": "-1"}}), f"{P}.cashNeed"),
        (json.dumps({P: {"mood": "calm"}}), "mood"),
        (
            json.dumps({gid("Z"): {"mode": "sell-only"}}),
            f'"{gid("Z")}" is not a portfolio of model',
        ),
    ],
)
def test_a_bad_policies_file_exits_2_naming_it_and_writes_nothing(
    tmp_path: Path, content: str, expected: str
) -> None:
    policies = tmp_path / "policies.json"
    policies.write_text(content)
    output = tmp_path / "orders.json"
    result = rebalance(*r1_files(tmp_path, None), output, "--portfolio-policies", str(policies))
    assert result.exit_code == ExitCode.INPUT
    (line,) = result.stderr.strip().splitlines()
    assert str(policies) in line and expected in line
    assert not output.exists()


# --- MongoDB: stored overrides, precedence, within-bands in the run ------------------


def test_stored_overrides_the_file_winning_and_within_bands_in_the_run(
    mongo_env: Settings, mongo_db: Db, tmp_path: Path
) -> None:
    model, positions, prices = r1_files(tmp_path, WITHIN_BANDS_POLICY)
    assert runner.invoke(app, ["models", "create", "--file", str(model)]).exit_code == 0
    stored = runner.invoke(
        app, ["portfolios", "policy", "set", P, "--mode", "sell-only", "--cash-need", "1000"]
    )
    assert stored.exit_code == ExitCode.OK, stored.output
    policies = tmp_path / "policies.json"
    policies.write_text(json.dumps({P: {"cashNeed": "20000"}}))
    result = runner.invoke(
        app,
        ["rebalance", "--model", "m", "--positions", str(positions), "--prices", str(prices),
         "--portfolio-policies", str(policies), "--run-id", "policies", "--jobs", "1", "--json"],
    )  # fmt: skip
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["byStatus"]["within-bands"] == 1
    results = {r["portfolioId"]: r for r in mongo_db[RUN_PORTFOLIOS].find({"runId": "policies"})}
    # mode from the stored override, cashNeed from the file, the rest from the model
    assert results[P]["policy"]["overrides"] == {"mode": "sell-only"}
    assert results[P]["policy"]["cashNeed"] == "20000"
    assert {o["securityId"]: o["side"] for o in results[P]["orders"]} == {
        gid("S"): "SELL",
        gid("B"): "SELL",
    }
    assert results[Q]["status"] == "within-bands"
    run = RunRepository(mongo_db).get("policies")
    assert run["status"] == "completed"
    assert run["policy"] == WITHIN_BANDS_POLICY
    assert run["byStatus"]["within-bands"] == 1
    shown = runner.invoke(app, ["runs", "show", "policies"])
    assert shown.exit_code == ExitCode.OK and "within-bands 1" in shown.stdout
    assert "outside-bands" in shown.stdout
    one = runner.invoke(app, ["runs", "show", "policies", "--portfolio", P])
    assert one.exit_code == ExitCode.OK, one.output
    assert "mode=sell-only" in one.stdout and "20000" in one.stdout


def test_a_services_snapshot_keeps_the_overrides_and_replays_to_the_same_orders(
    globeco: FakeGlobeCo,
    stored_suite: InvestmentModel,
    mongo_db: Db,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    point_at(monkeypatch, globeco.url)
    portfolio = stored_suite.portfolios[0]
    stored = runner.invoke(
        app, ["portfolios", "policy", "set", portfolio, "--inner-band", "1", "--cash-need", "500"]
    )
    assert stored.exit_code == ExitCode.OK, stored.output
    snapshot = tmp_path / "snap"
    result = invoke("--model", stored_suite.name, "--snapshot", str(snapshot), "--run-id", "snap")
    assert result.exit_code == ExitCode.OK, result.output
    kept = json.loads((snapshot / "portfolio-policies.json").read_text())
    assert kept == {portfolio: {"innerBand": "1", "cashNeed": "500"}}
    replay = replay_snapshot(
        snapshot,
        tmp_path / "replay.json",
        "--portfolio-policies",
        str(snapshot / "portfolio-policies.json"),
    )
    assert replay.exit_code == ExitCode.OK, replay.output
    replayed = {
        (p["portfolioId"], o["securityId"]): (o["side"], o["quantity"])
        for p in json.loads((tmp_path / "replay.json").read_text())["portfolios"]
        for o in p["orders"]
    }
    assert replayed == {
        key: (side, qty) for key, (side, qty, _) in stored_orders(mongo_db, "snap").items()
    }
    assert results_by_id(tmp_path / "replay.json")[portfolio]["policy"]["cashNeed"] == "500"
