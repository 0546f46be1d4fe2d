"""Reading `--portfolio-policies FILE` (JSON, YAML); one-line errors name file, portfolio, field."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ordergen.domain.policy import MinTrade, Mode, PolicyOverride, Restriction, Trigger
from ordergen.errors import ExitCode, InputError
from ordergen.io.policy_files import read_portfolio_policies
from tests.factories import gid

P, Q = gid("P"), gid("Q")
EXPECTED = {
    P: PolicyOverride(
        mode=Mode.SELL_ONLY,
        min_trade=MinTrade(amount=Decimal("100.5"), shares=3),
        restrictions=((gid("X"), Restriction.HOLD),),
        cash_need=Decimal(2500),
    ),
    Q: PolicyOverride(trigger=Trigger.OUTSIDE_BANDS, inner_band=Decimal("0.25")),
}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_json_and_yaml_read_the_same(tmp_path: Path) -> None:
    document = {
        P: {
            "mode": "sell-only",
            "minTrade": {"amount": 100.5, "shares": 3},
            "restrictions": {gid("X"): "hold"},
            "cashNeed": "2500",
        },
        Q: {"trigger": "outside-bands", "innerBand": "0.25"},
    }
    from_json = read_portfolio_policies(write(tmp_path / "p.json", json.dumps(document)))
    yaml_text = (
        f"{P}:\n  mode: sell-only\n  minTrade: {{amount: 100.5, shares: 3}}\n"
        f"  restrictions: {{{gid('X')}: hold}}\n  cashNeed: 2500\n"
        f"{Q}:\n  trigger: outside-bands\n  innerBand: 0.25\n"
    )
    from_yaml = read_portfolio_policies(write(tmp_path / "p.yaml", yaml_text))
    assert from_json == from_yaml == EXPECTED
    # Numbers keep their digits exactly (JSON and YAML floats become Decimal).
    min_trade = from_json[P].min_trade
    assert min_trade is not None and str(min_trade.amount) == "100.5"


def test_an_empty_object_is_no_overrides(tmp_path: Path) -> None:
    assert read_portfolio_policies(write(tmp_path / "p.json", "{}")) == {}


def error(tmp_path: Path, text: str, name: str = "p.json") -> InputError:
    path = write(tmp_path / name, text)
    with pytest.raises(InputError) as caught:
        read_portfolio_policies(path)
    assert caught.value.exit_code == ExitCode.INPUT
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("document", "field", "value"),
    [
        ({P: {"innerBand": "1.5"}}, f"{P}.innerBand", "1.5"),
        ({P: {"cashNeed": "-1"}}, f"{P}.cashNeed", "-1"),
        ({P: {"minTrade": {"shares": "2.5"}}}, f"{P}.minTrade.shares", "2.5"),
        ({P: {"mode": "sideways"}}, f"{P}.mode", "sideways"),
        ({P: {"restrictions": {"short": "hold"}}}, f"{P}.restrictions", "short"),
        ({P: {"colour": "red"}}, f"{P}.colour", "red"),
        ({P: ["mode"]}, P, ["mode"]),
        ({"short": {}}, "portfolio id", "short"),
    ],
)
def test_errors_name_the_file_the_portfolio_and_the_field(
    tmp_path: Path, document: object, field: str, value: object
) -> None:
    problem = error(tmp_path, json.dumps(document))
    assert problem.field == f"{tmp_path / 'p.json'}: {field}"
    assert problem.value == value


def test_errors_of_the_file_itself(tmp_path: Path) -> None:
    assert "not a list" in str(error(tmp_path, json.dumps([{P: {}}])))
    assert "is not valid JSON" in str(error(tmp_path, "{"))
    assert "appears twice" in str(error(tmp_path, f'{{"{P}": {{}}, "{P}": {{}}}}'))
    assert "is empty" in str(error(tmp_path, ""))
    assert "is not valid YAML" in str(error(tmp_path, f"{P}: [", name="p.yaml"))


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read"):
        read_portfolio_policies(tmp_path / "absent.json")
