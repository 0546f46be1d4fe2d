"""The documentation lists what the code has: every orders-file field, every setting with
its default, every policy field, a runbook entry for every exit code."""

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import ordergen.cli.main  # noqa: F401  (registers every command on the app)
from ordergen.cli.app import app
from ordergen.domain.policy import CASH_NEED, POLICY_FIELDS, CashReserve, MinTrade, TradeCost
from ordergen.errors import ExitCode
from ordergen.optimize.problem import Status
from ordergen.settings import DEFAULT_SECRETS_DIR, Settings
from tests.factories import gid, model_doc

DOCS = Path(__file__).resolve().parents[2] / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def table_row(text: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is `first_cell` (in backticks)."""
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == f"`{first_cell}`":
            return cells
    raise AssertionError(f"no table row for `{first_cell}`")


def field_names(document: dict[str, Any]) -> set[str]:
    """Every field name of an orders file: the header, each portfolio, its orders, drifts
    and policy audit, and the summary (not the policy's own fields nor the statuses)."""
    names = set(document) | set(document["summary"])
    for portfolio in document["portfolios"]:
        names |= set(portfolio) | set(portfolio.get("policy", {}))
        for item in (*portfolio["orders"], *portfolio["drifts"]):
            names |= set(item)
    return names


def orders_file_under_a_policy(tmp_path: Path) -> dict[str, Any]:
    """R1 with a cash reserve, one portfolio with a cash need: every field appears."""
    model = model_doc(
        [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")], ["P", "Q", "R"]
    )
    model["policy"] = {"cashReserve": {"fraction": "0.01"}}
    held = [
        {"securityId": gid("S"), "netQuantity": 500},
        {"securityId": gid("B"), "netQuantity": 400},
    ]
    summaries = [
        {"portfolioId": gid("P"), "cashBalance": "5000", "securities": held},
        {"portfolioId": gid("Q"), "cashBalance": "5000", "securities": held},
        {"portfolioId": gid("X"), "cashBalance": "1", "securities": []},
    ]
    files = {
        "model.json": model,
        "positions.json": summaries,
        "prices.json": {gid("S"): "100", gid("B"): "100"},
        "overrides.json": {gid("Q"): {"mode": "sell-only", "cashNeed": "20000"}},
    }
    for name, content in files.items():
        (tmp_path / name).write_text(json.dumps(content), encoding="utf-8")
    output = tmp_path / "orders.json"
    result = CliRunner().invoke(
        app,
        [
            "rebalance",
            "--model-file",
            str(tmp_path / "model.json"),
            "--positions",
            str(tmp_path / "positions.json"),
            "--prices",
            str(tmp_path / "prices.json"),
            "--portfolio-policies",
            str(tmp_path / "overrides.json"),
            "--output",
            str(output),
            "--jobs",
            "1",
        ],
    )
    assert result.exit_code == ExitCode.OK, result.output
    document: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return document


def test_every_field_of_the_orders_file_is_documented(tmp_path: Path) -> None:
    document = orders_file_under_a_policy(tmp_path)
    found = field_names(document)
    for audit in ("overrides", "cashNeed", "cashReserve", "cashFloor"):
        assert audit in found, f"the example no longer produces policy.{audit}"
    concepts = page("concepts.md")
    undocumented = sorted(key for key in found if not re.search(rf"[`.]{key}(\[\])?`", concepts))
    assert undocumented == []


def test_every_status_is_documented() -> None:
    concepts = page("concepts.md")
    for status in [*(status.value for status in Status), "within-bands"]:
        table_row(concepts, status)


def _default_text(value: object) -> str:
    if value is None:
        return "not set"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def test_every_setting_is_documented_with_its_default() -> None:
    configuration = page("configuration.md")
    for name, field in Settings.model_fields.items():
        cells = table_row(configuration, name.upper())
        assert cells[1].startswith(_default_text(field.default)), (name, cells[1])
    assert table_row(configuration, "ORDERGEN_SECRETS_DIR")[1] == f"`{DEFAULT_SECRETS_DIR}`"


def test_every_policy_field_is_defined() -> None:
    policies = page("policies.md")
    objects: dict[str, CashReserve | MinTrade | TradeCost] = {
        "cashReserve": CashReserve(),
        "minTrade": MinTrade(),
        "tradeCost": TradeCost(),
    }
    for field in (*POLICY_FIELDS, CASH_NEED):
        cells = table_row(policies, field)
        for sub_field in objects[field].document() if field in objects else ():
            assert sub_field in cells[1], (field, sub_field)


def test_every_exit_code_has_a_runbook_entry() -> None:
    operations = page("operations.md")
    for code in [*(int(code) for code in ExitCode), 143]:
        assert re.search(rf"^### Exit {code}\b", operations, re.MULTILINE), code
