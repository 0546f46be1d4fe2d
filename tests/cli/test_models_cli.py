"""`ordergen models` against a real server: CRUD, validation, versions, import, export."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from ordergen.cli.main import app
from ordergen.errors import ExitCode
from ordergen.io.files import read_model
from ordergen.settings import Settings
from tests.factories import gid, model_doc

runner = CliRunner()
POSITIONS = [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")]


def ordergen(*args: str) -> Result:
    return runner.invoke(app, list(args))


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def create(tmp_path: Path, name: str = "growth", portfolios: tuple[str, ...] = ("P",)) -> None:
    file = write(tmp_path / f"{name}.json", model_doc(POSITIONS, list(portfolios), name=name))
    result = ordergen("models", "create", "--file", str(file))
    assert result.exit_code == ExitCode.OK, result.output


def stored(name: str) -> dict[str, Any]:
    result = ordergen("models", "show", name, "--format", "json")
    assert result.exit_code == ExitCode.OK, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def one_line_error(result: Result) -> str:
    """The error output, checked to be exactly one line."""
    message = result.stderr.strip()
    assert message.startswith("error:"), result.output
    assert "\n" not in message
    return message


def test_create_from_a_file_then_show_list_and_delete(mongo_env: Settings, tmp_path: Path) -> None:
    create(tmp_path)
    shown = stored("growth")
    assert shown["version"] == 1
    assert shown["positions"][0] == {
        "securityId": gid("S"),
        "target": "0.60",
        "lowDrift": "0.05",
        "highDrift": "0.05",
    }
    assert shown["portfolios"] == [gid("P")]
    assert stored(shown["id"]) == shown  # by id as well as by name

    table = ordergen("models", "show", "growth")
    assert table.exit_code == ExitCode.OK
    assert gid("S") in table.stdout and "0.60" in table.stdout and "0.90" in table.stdout

    listed = ordergen("models", "list", "--json")
    assert [(m["name"], m["positions"], m["targetSum"]) for m in json.loads(listed.stdout)] == [
        ("growth", 2, "0.90")
    ]
    assert "growth" in ordergen("models", "list").stdout

    assert ordergen("models", "delete", "growth", "--version", "1").exit_code == ExitCode.OK
    missing = ordergen("models", "show", "growth")
    assert missing.exit_code == ExitCode.INPUT
    assert "not found" in one_line_error(missing)


def test_create_from_flags(mongo_env: Settings) -> None:
    result = ordergen(
        "models",
        "create",
        "--name",
        "flags",
        "--position",
        f"{gid('S')}:0.5:0.05:0.1",
        "--position",
        f"{gid('B')}:0.25",
        "--portfolio",
        gid("P"),
        "--json",
    )
    assert result.exit_code == ExitCode.OK, result.output
    created = json.loads(result.stdout)
    assert created["version"] == 1
    assert created["positions"] == [
        {"securityId": gid("S"), "target": "0.5", "lowDrift": "0.05", "highDrift": "0.1"},
        {"securityId": gid("B"), "target": "0.25", "lowDrift": "0", "highDrift": "0"},
    ]
    assert stored("flags") == created


def test_yaml_show(mongo_env: Settings, tmp_path: Path) -> None:
    create(tmp_path)
    shown = yaml.safe_load(ordergen("models", "show", "growth", "--format", "yaml").stdout)
    assert shown == stored("growth")


def test_a_taken_name_is_refused(mongo_env: Settings, tmp_path: Path) -> None:
    create(tmp_path)
    again = ordergen("models", "create", "--file", str(tmp_path / "growth.json"))
    assert again.exit_code == ExitCode.INPUT
    assert 'name: "growth"' in one_line_error(again)


def with_position(index: int, **changes: str) -> dict[str, Any]:
    document = model_doc(POSITIONS, ["P"], name="growth")
    document["positions"][index].update(changes)
    return document


MANY = model_doc([(f"S{i:03}", "0.005", "0", "0") for i in range(101)], ["P"], name="growth")
BAD_MODELS = {
    "target step": (with_position(0, target="0.123"), 'positions[0].target: "0.123"'),
    "target sum": (with_position(1, target="0.40"), "sum 1.00"),
    "too many positions": (MANY, "101 positions"),
    "duplicate security": (with_position(1, securityId=gid("S")), "duplicate security"),
    "drift range": (with_position(0, lowDrift="1.5"), 'positions[0].lowDrift: "1.5"'),
    "bad security id": (with_position(0, securityId="not-an-id"), '"not-an-id"'),
    "bad portfolio id": (
        {**model_doc(POSITIONS, [], name="growth"), "portfolios": ["x"]},
        'portfolios[0]: "x"',
    ),
    "unknown field": ({**model_doc(POSITIONS, ["P"], name="growth"), "colour": "red"}, "colour"),
}


@pytest.mark.parametrize("case", list(BAD_MODELS))
def test_an_invalid_model_is_refused_and_nothing_changes(
    mongo_env: Settings, tmp_path: Path, case: str
) -> None:
    document, expected = BAD_MODELS[case]
    bad = write(tmp_path / "bad.json", document)

    created = ordergen("models", "create", "--file", str(bad))
    assert created.exit_code == ExitCode.INPUT
    assert expected in one_line_error(created)
    assert json.loads(ordergen("models", "list", "--json").stdout) == []

    create(tmp_path)
    before = stored("growth")
    updated = ordergen("models", "update", "growth", "--file", str(bad), "--version", "1")
    assert updated.exit_code == ExitCode.INPUT
    assert expected in one_line_error(updated)
    assert stored("growth") == before


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (f"{gid('S')}", "--position: "),
        (f"{gid('S')}:0.5:0:0:0", "--position: "),
        (f"{gid('S')}:0.501", 'positions[0].target: "0.501"'),
        (f"{gid('S')}:abc", 'positions[0].target: "abc"'),
    ],
)
def test_bad_position_flags_are_refused(mongo_env: Settings, flag: str, expected: str) -> None:
    result = ordergen("models", "create", "--name", "flags", "--position", flag)
    assert result.exit_code == ExitCode.INPUT
    assert expected in one_line_error(result)
    assert json.loads(ordergen("models", "list", "--json").stdout) == []


def test_file_and_flags_together_are_refused(mongo_env: Settings, tmp_path: Path) -> None:
    file = write(tmp_path / "m.json", model_doc(POSITIONS, ["P"]))
    result = ordergen("models", "create", "--file", str(file), "--name", "x")
    assert result.exit_code == ExitCode.INPUT
    assert "--file" in one_line_error(result)


def test_update_names_the_version_read_and_a_stale_one_exits_5(
    mongo_env: Settings, tmp_path: Path
) -> None:
    create(tmp_path)
    changed = model_doc([("S", "0.50", "0.05", "0.05")], ["P", "Q"], name="growth")
    file = write(tmp_path / "changed.json", changed)
    first = ordergen("models", "update", "growth", "--file", str(file), "--version", "1", "--json")
    assert first.exit_code == ExitCode.OK, first.output
    assert json.loads(first.stdout)["version"] == 2

    # A second writer who also read version 1 loses, and is told which version won.
    other = write(tmp_path / "other.json", model_doc(POSITIONS, [], name="growth"))
    stale = ordergen("models", "update", "growth", "--file", str(other), "--version", "1")
    assert stale.exit_code == ExitCode.CONFLICT
    message = one_line_error(stale)
    assert "version 1 is stale" in message and "version 2 is current" in message
    after = stored("growth")
    assert after["version"] == 2
    assert after["portfolios"] == [gid("P"), gid("Q")]

    stale_delete = ordergen("models", "delete", "growth", "--version", "1")
    assert stale_delete.exit_code == ExitCode.CONFLICT
    assert stored("growth")["version"] == 2


def test_import_creates_then_is_idempotent_then_updates(
    mongo_env: Settings, tmp_path: Path
) -> None:
    first = write(tmp_path / "a.json", model_doc(POSITIONS, ["P"], name="a"))
    second = tmp_path / "b.yaml"
    second.write_text(yaml.safe_dump(model_doc(POSITIONS, ["Q"], name="b")))
    result = ordergen("models", "import", str(first), str(second), "--json")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout) == {"created": ["a", "b"], "updated": [], "unchanged": []}

    again = ordergen("models", "import", str(first), str(second), "--json")
    assert json.loads(again.stdout) == {"created": [], "updated": [], "unchanged": ["a", "b"]}
    assert (stored("a")["version"], stored("b")["version"]) == (1, 1)

    write(first, model_doc(POSITIONS, ["P", "Q"], name="a"))
    human = ordergen("models", "import", str(first), str(second))
    assert human.exit_code == ExitCode.OK
    assert "1 updated" in human.stdout and "1 unchanged" in human.stdout
    assert (stored("a")["version"], stored("b")["version"]) == (2, 1)


def test_import_with_one_bad_file_writes_nothing(mongo_env: Settings, tmp_path: Path) -> None:
    good = write(tmp_path / "a.json", model_doc(POSITIONS, ["P"], name="a"))
    bad = write(tmp_path / "b.json", with_position(0, target="0.97"))
    result = ordergen("models", "import", str(good), str(bad))
    assert result.exit_code == ExitCode.INPUT
    assert "b.json" in one_line_error(result)
    assert json.loads(ordergen("models", "list", "--json").stdout) == []


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_export_reads_back_with_create_and_the_rebalance_reader(
    mongo_env: Settings, tmp_path: Path, suffix: str
) -> None:
    create(tmp_path, portfolios=("P", "Q"))
    original = stored("growth")
    exported = tmp_path / f"export{suffix}"
    result = ordergen("models", "export", "growth", "--output", str(exported))
    assert result.exit_code == ExitCode.OK, result.output
    assert set(read_model(exported).security_ids) == {gid("S"), gid("B")}  # --model-file

    assert ordergen("models", "delete", "growth").exit_code == ExitCode.OK
    assert ordergen("models", "create", "--file", str(exported)).exit_code == ExitCode.OK
    recreated = stored("growth")
    assert {k: v for k, v in recreated.items() if k != "id"} == {
        k: v for k, v in original.items() if k != "id"
    }


def test_export_to_stdout_and_a_format_the_file_name_contradicts(
    mongo_env: Settings, tmp_path: Path
) -> None:
    create(tmp_path)
    printed = ordergen("models", "export", "growth", "--format", "yaml")
    assert yaml.safe_load(printed.stdout) == model_doc(POSITIONS, ["P"], name="growth")
    wrong = ordergen(
        "models", "export", "growth", "--format", "yaml", "--output", str(tmp_path / "m.json")
    )
    assert wrong.exit_code == ExitCode.INPUT
    assert "--output: " in one_line_error(wrong)
    assert not (tmp_path / "m.json").exists()


def test_positions_add_update_remove(mongo_env: Settings, tmp_path: Path) -> None:
    create(tmp_path)
    added = ordergen(
        "models", "positions", "add", "growth", "--security", gid("C"), "--target", "0.05",
        "--high-drift", "0.01", "--version", "1",
    )  # fmt: skip
    assert added.exit_code == ExitCode.OK, added.output
    assert "version 2" in added.stdout
    assert stored("growth")["positions"][2] == {
        "securityId": gid("C"),
        "target": "0.05",
        "lowDrift": "0",
        "highDrift": "0.01",
    }
    updated = ordergen(
        "models", "positions", "update", "growth", "--security", gid("S"), "--low-drift", "0.1",
        "--version", "2",
    )  # fmt: skip
    assert updated.exit_code == ExitCode.OK, updated.output
    assert stored("growth")["positions"][0]["lowDrift"] == "0.1"
    assert stored("growth")["positions"][0]["target"] == "0.60"
    # A target of 0 removes the position.
    zero = ordergen(
        "models", "positions", "update", "growth", "--security", gid("C"), "--target", "0",
        "--version", "3",
    )  # fmt: skip
    assert zero.exit_code == ExitCode.OK, zero.output
    removed = ordergen(
        "models", "positions", "remove", "growth", "--security", gid("B"), "--version", "4"
    )
    assert removed.exit_code == ExitCode.OK, removed.output
    final = stored("growth")
    assert ([p["securityId"] for p in final["positions"]], final["version"]) == ([gid("S")], 5)


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (("add", "--security", "S" * 24, "--target", "0.10"), ExitCode.INPUT, "sum 1.00"),
        (("add", "--security", gid("S"), "--target", "0.01"), ExitCode.INPUT, "already"),
        (("add", "--security", "bad", "--target", "0.01"), ExitCode.INPUT, '--security: "bad"'),
        (("add", "--security", "S" * 24, "--target", "x"), ExitCode.INPUT, '--target: "x"'),
        (("update", "--security", "C" * 24, "--target", "0.01"), ExitCode.INPUT, "not in model"),
        (("update", "--security", gid("S")), ExitCode.INPUT, "nothing to update"),
        (("update", "--security", gid("S"), "--high-drift", "2"), ExitCode.INPUT, "highDrift"),
        (("remove", "--security", "C" * 24), ExitCode.INPUT, "not in model"),
    ],
)
def test_bad_position_changes_change_nothing(
    mongo_env: Settings, tmp_path: Path, args: tuple[str, ...], code: ExitCode, expected: str
) -> None:
    create(tmp_path)
    before = stored("growth")
    action, *options = args
    result = ordergen("models", "positions", action, "growth", *options, "--version", "1")
    assert result.exit_code == code
    assert expected in one_line_error(result)
    assert stored("growth") == before


def test_position_change_with_a_stale_version_exits_5(mongo_env: Settings, tmp_path: Path) -> None:
    create(tmp_path)
    args = ("models", "positions", "update", "growth", "--security", gid("S"), "--target")
    assert ordergen(*args, "0.55", "--version", "1").exit_code == ExitCode.OK
    stale = ordergen(*args, "0.50", "--version", "1")
    assert stale.exit_code == ExitCode.CONFLICT
    assert "version 2 is current" in one_line_error(stale)
    assert stored("growth")["positions"][0]["target"] == "0.55"


def test_portfolios_add_and_remove(mongo_env: Settings, tmp_path: Path) -> None:
    create(tmp_path)
    added = ordergen("models", "portfolios", "add", "growth", gid("Q"), gid("R"), "--version", "1")
    assert added.exit_code == ExitCode.OK, added.output
    assert stored("growth")["portfolios"] == [gid("P"), gid("Q"), gid("R")]
    removed = ordergen("models", "portfolios", "remove", "growth", gid("P"), "--version", "2")
    assert removed.exit_code == ExitCode.OK, removed.output
    assert stored("growth")["portfolios"] == [gid("Q"), gid("R")]

    before = stored("growth")
    for args, expected in [
        (("add", "growth", gid("Q"), "--version", "3"), "duplicate portfolio"),
        (("add", "growth", "short", "--version", "3"), 'portfolio: "short"'),
        (("remove", "growth", gid("P"), "--version", "3"), "not in model"),
    ]:
        result = ordergen("models", "portfolios", *args)
        assert result.exit_code == ExitCode.INPUT
        assert expected in one_line_error(result)
    stale = ordergen("models", "portfolios", "add", "growth", gid("S"), "--version", "2")
    assert stale.exit_code == ExitCode.CONFLICT
    assert stored("growth") == before


def test_every_group_has_help() -> None:
    for group in (("models",), ("models", "positions"), ("models", "portfolios")):
        result = ordergen(*group, "--help")
        assert result.exit_code == ExitCode.OK
        assert "Usage" in result.stdout
