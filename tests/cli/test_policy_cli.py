"""`ordergen models policy` and `ordergen portfolios policy` against a real server."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ordergen.errors import ExitCode
from ordergen.settings import Settings
from tests.cli.test_models_cli import POSITIONS, create, one_line_error, ordergen, stored, write
from tests.factories import gid, model_doc

POLICY = {
    "trigger": "outside-bands",
    "innerBand": "0.5",
    "minTrade": {"amount": "100", "fraction": "0", "shares": 5},
    "restrictions": {gid("X"): "no-sell"},
}
P = gid("P")


def model_with_policy(tmp_path: Path, name: str = "growth", suffix: str = "json") -> Path:
    document = {**model_doc(POSITIONS, ["P"], name=name), "policy": POLICY}
    path = tmp_path / f"{name}.{suffix}"
    path.write_text(yaml.safe_dump(document) if suffix == "yaml" else json.dumps(document))
    return path


def model_policy(name: str = "growth") -> dict[str, Any]:
    result = ordergen("models", "policy", "show", name, "--json")
    assert result.exit_code == ExitCode.OK, result.output
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def override(portfolio_id: str = P) -> dict[str, Any]:
    result = ordergen("portfolios", "policy", "show", portfolio_id, "--json")
    assert result.exit_code == ExitCode.OK, result.output
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


# --- a model's policy in files, the database, show and export --------------------------


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_file_to_store_to_show_and_export_and_back(
    mongo_env: Settings, tmp_path: Path, suffix: str
) -> None:
    created = ordergen(
        "models", "create", "--file", str(model_with_policy(tmp_path, suffix=suffix))
    )
    assert created.exit_code == ExitCode.OK, created.output
    assert stored("growth")["policy"] == POLICY
    assert model_policy() == {"model": "growth", "version": 1, "policy": POLICY}

    table = ordergen("models", "show", "growth").stdout
    assert "minTrade.shares" in table and "outside-bands" in table and gid("X") in table

    exported = ordergen("models", "export", "growth", "--format", suffix).stdout
    document = yaml.safe_load(exported)  # JSON is YAML too
    assert document["policy"] == POLICY
    again = tmp_path / f"again.{suffix}"
    again.write_text(exported)
    imported = ordergen("models", "import", str(again), "--json")
    assert json.loads(imported.stdout)["unchanged"] == ["growth"]
    updated = ordergen("models", "update", "growth", "--file", str(again), "--version", "1")
    assert updated.exit_code == ExitCode.OK, updated.output
    assert stored("growth")["policy"] == POLICY


def test_a_model_without_policy_shows_and_exports_as_today(
    mongo_env: Settings, tmp_path: Path
) -> None:
    create(tmp_path)
    assert list(stored("growth")) == ["id", "name", "positions", "portfolios", "version"]
    exported = json.loads(ordergen("models", "export", "growth").stdout)
    assert exported == model_doc(POSITIONS, ["P"], name="growth")
    assert "policy" not in ordergen("models", "show", "growth").stdout
    assert model_policy()["policy"] == {}
    shown = ordergen("models", "policy", "show", "growth")
    assert "has no policy" in shown.stdout and "default" in shown.stdout


def test_updating_from_a_file_without_policy_removes_it(
    mongo_env: Settings, tmp_path: Path
) -> None:
    ordergen("models", "create", "--file", str(model_with_policy(tmp_path)))
    plain = write(tmp_path / "plain.json", model_doc(POSITIONS, ["P"], name="growth"))
    assert (
        ordergen("models", "update", "growth", "--file", str(plain), "--version", "1").exit_code
        == 0
    )
    assert "policy" not in stored("growth")


# --- models policy set / show / clear ---------------------------------------------------


def test_set_changes_only_the_given_fields(mongo_env: Settings, tmp_path: Path) -> None:
    create(tmp_path)
    first = ordergen(
        "models", "policy", "set", "growth", "--min-trade-amount", "250.50",
        "--trigger", "outside-bands", "--restrict", f"{gid('X')}=hold", "--version", "1",
    )  # fmt: skip
    assert first.exit_code == ExitCode.OK, first.output
    assert "now version 2" in first.stdout
    second = ordergen(
        "models", "policy", "set", "growth", "--min-trade-shares", "10", "--mode", "buy-only",
        "--restrict", f"{gid('Y')}=no-buy", "--version", "2", "--json",
    )  # fmt: skip
    assert second.exit_code == ExitCode.OK, second.output
    expected = {
        "trigger": "outside-bands",
        "mode": "buy-only",
        "minTrade": {"amount": "250.50", "fraction": "0", "shares": 10},  # amount kept
        "restrictions": {gid("X"): "hold", gid("Y"): "no-buy"},
    }
    assert json.loads(second.stdout)["policy"] == expected
    assert model_policy() == {"model": "growth", "version": 3, "policy": expected}
    third = ordergen(
        "models", "policy", "set", "growth", "--unrestrict", gid("X"), "--cash-reserve-fraction",
        "0.02", "--per-order-cost", "4.95", "--cost-bps", "2", "--inner-band", "1",
        "--cash-reserve-amount", "500", "--min-trade-fraction", "0.001", "--version", "3",
    )  # fmt: skip
    assert third.exit_code == ExitCode.OK, third.output
    assert model_policy()["policy"] == {
        "trigger": "outside-bands",
        "innerBand": "1",
        "mode": "buy-only",
        "cashReserve": {"amount": "500", "fraction": "0.02"},
        "minTrade": {"amount": "250.50", "fraction": "0.001", "shares": 10},
        "tradeCost": {"perOrder": "4.95", "bps": "2"},
        "restrictions": {gid("Y"): "no-buy"},
    }
    table = ordergen("models", "policy", "show", "growth").stdout
    assert "version 4" in table and "cashReserve.fraction" in table and "0.02" in table


def test_clear_goes_back_to_no_policy(mongo_env: Settings, tmp_path: Path) -> None:
    ordergen("models", "create", "--file", str(model_with_policy(tmp_path)))
    cleared = ordergen("models", "policy", "clear", "growth", "--version", "1")
    assert cleared.exit_code == ExitCode.OK, cleared.output
    shown = stored("growth")
    assert "policy" not in shown and shown["version"] == 2
    assert json.loads(ordergen("models", "export", "growth").stdout) == model_doc(
        POSITIONS, ["P"], name="growth"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["set", "growth", "--mode", "sell-only", "--version", "1"],
        ["clear", "growth", "--version", "1"],
    ],
)
def test_a_stale_version_is_exit_5_and_changes_nothing(
    mongo_env: Settings, tmp_path: Path, command: list[str]
) -> None:
    create(tmp_path)
    ordergen("models", "policy", "set", "growth", "--inner-band", "0.5", "--version", "1")
    before = stored("growth")
    result = ordergen("models", "policy", *command)
    assert result.exit_code == ExitCode.CONFLICT
    assert "version 1 is stale, version 2 is current" in one_line_error(result)
    assert stored("growth") == before


BAD_FLAGS = {
    "inner band": (["--inner-band", "2"], 'policy.innerBand: "2" must be in [0, 1]'),
    "mode": (["--mode", "sideways"], 'policy.mode: "sideways" is not one of'),
    "trigger": (["--trigger", "never"], 'policy.trigger: "never" is not one of'),
    "fraction": (["--cash-reserve-fraction", "1"], 'policy.cashReserve.fraction: "1"'),
    "amount": (["--min-trade-amount", "-5"], 'policy.minTrade.amount: "-5" must be >= 0'),
    "shares": (["--min-trade-shares", "1.5"], 'policy.minTrade.shares: "1.5" is not a whole'),
    "cost": (["--cost-bps", "abc"], 'policy.tradeCost.bps: "abc" is not a decimal number'),
    "restrict shape": (
        ["--restrict", "nothing"],
        '--restrict: "nothing" is not of the form SECURITY_ID=',
    ),
    "restrict id": (["--restrict", "short=hold"], 'policy.restrictions: "short" is not a 24'),
    "restriction": (["--restrict", f"{gid('X')}=sell"], f'{gid("X")}: "sell" is not one of'),
    "twice": (["--restrict", f"{gid('X')}=hold", "--restrict", f"{gid('X')}=no-buy"], "twice"),
    "unrestrict absent": (["--unrestrict", gid("Z")], f'--unrestrict: "{gid("Z")}" has no'),
    "nothing": ([], "policy: nothing to set"),
}


@pytest.mark.parametrize("case", list(BAD_FLAGS))
def test_bad_values_are_exit_2_with_one_line_naming_field_and_value(
    mongo_env: Settings, tmp_path: Path, case: str
) -> None:
    create(tmp_path)
    before = stored("growth")
    flags, message = BAD_FLAGS[case]
    result = ordergen("models", "policy", "set", "growth", *flags, "--version", "1")
    assert result.exit_code == ExitCode.INPUT, result.output
    assert message in one_line_error(result)
    assert stored("growth") == before  # nothing written


def test_a_bad_policy_in_a_model_file_is_refused(mongo_env: Settings, tmp_path: Path) -> None:
    document = {**model_doc(POSITIONS, ["P"], name="growth"), "policy": {"cashNeed": "5"}}
    result = ordergen("models", "create", "--file", str(write(tmp_path / "m.json", document)))
    assert result.exit_code == ExitCode.INPUT
    assert 'policy.cashNeed: "5" is set per portfolio' in one_line_error(result)
    assert ordergen("models", "show", "growth").exit_code == ExitCode.INPUT  # not created


# --- portfolios policy set / show / clear -----------------------------------------------


@pytest.fixture
def p_modelled(mongo_env: Settings, tmp_path: Path) -> Settings:
    """P belongs to the stored model `growth`: overrides of P are allowed."""
    create(tmp_path)
    return mongo_env


def test_an_override_for_a_portfolio_of_no_model_is_refused(p_modelled: Settings) -> None:
    nobody = "0" * 24
    result = ordergen("portfolios", "policy", "set", nobody, "--cash-need", "5")
    assert result.exit_code == ExitCode.INPUT, result.output
    assert f"portfolio '{nobody}' is in no model" in one_line_error(result)
    assert override(nobody)["version"] == 0


def test_a_portfolio_override_is_created_changed_shown_and_cleared(p_modelled: Settings) -> None:
    assert override() == {"portfolioId": P, "version": 0, "policy": {}}
    assert "has no policy override" in ordergen("portfolios", "policy", "show", P).stdout

    created = ordergen(
        "portfolios", "policy", "set", P, "--cash-need", "2500", "--mode", "sell-only",
        "--min-trade-amount", "100", "--json",
    )  # fmt: skip
    assert created.exit_code == ExitCode.OK, created.output
    first = {
        "mode": "sell-only",
        "minTrade": {"amount": "100", "fraction": "0", "shares": 0},
        "cashNeed": "2500",
    }
    assert json.loads(created.stdout) == {"portfolioId": P, "version": 1, "policy": first}

    changed = ordergen(
        "portfolios", "policy", "set", P, "--min-trade-shares", "3", "--restrict",
        f"{gid('X')}=hold", "--version", "1",
    )  # fmt: skip
    assert changed.exit_code == ExitCode.OK, changed.output
    assert "now version 2" in changed.stdout
    assert override() == {
        "portfolioId": P,
        "version": 2,
        "policy": {
            **first,
            "minTrade": {"amount": "100", "fraction": "0", "shares": 3},
            "restrictions": {gid("X"): "hold"},
        },
    }
    table = ordergen("portfolios", "policy", "show", P).stdout
    assert "version 2" in table and "cashNeed" in table and "minTrade.shares" in table

    cleared = ordergen("portfolios", "policy", "clear", P, "--version", "2")
    assert cleared.exit_code == ExitCode.OK, cleared.output
    assert override()["version"] == 0


def test_portfolio_override_conflicts_are_exit_5_and_change_nothing(p_modelled: Settings) -> None:
    ordergen("portfolios", "policy", "set", P, "--cash-need", "1")
    ordergen("portfolios", "policy", "set", P, "--cash-need", "3", "--version", "1")
    before = override()
    for stale, message in (
        (["set", P, "--cash-need", "2"], "expected none"),  # "create": it exists already
        (["set", P, "--inner-band", "0.1", "--version", "1"], "version 1 is stale"),
        (["clear", P, "--version", "1"], "version 1 is stale"),
    ):
        result = ordergen("portfolios", "policy", *stale)
        assert result.exit_code == ExitCode.CONFLICT, result.output
        assert f"{message}, version 2 is current" in one_line_error(result)
    assert override() == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["set", "short", "--cash-need", "1"], 'portfolio: "short" is not a 24-character'),
        (["set", P, "--cash-need", "-1"], 'policy.cashNeed: "-1" must be >= 0'),
        (["set", P, "--inner-band", "x"], 'policy.innerBand: "x" is not a decimal number'),
        (["set", P, "--unrestrict", gid("X")], f'--unrestrict: "{gid("X")}" has no restriction'),
        (["set", P, "--cash-need", "1", "--version", "1"], "has no policy override"),
        (["clear", P, "--version", "1"], "has no policy override"),
        (["show", "short"], 'portfolio: "short"'),
    ],
)
def test_portfolio_override_errors_are_exit_2_and_write_nothing(
    p_modelled: Settings, arguments: list[str], message: str
) -> None:
    result = ordergen("portfolios", "policy", *arguments)
    assert result.exit_code == ExitCode.INPUT, result.output
    assert message in one_line_error(result)
    assert override()["version"] == 0
