"""With the MongoDB sink, an input error writes nothing: no run, no results, no orders."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.errors import ExitCode
from ordergen.io.inputs_out import write_inputs
from ordergen.settings import Settings
from ordergen.store.connection import Db
from ordergen.store.schema import ORDERS, RUN_PORTFOLIOS, RUNS
from tests.factories import gid, model_doc

runner = CliRunner()

MODEL = model_doc([("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")], ["P"])


def summaries(**changes: Any) -> list[dict[str, Any]]:
    summary: dict[str, Any] = {
        "portfolioId": gid("P"),
        "cashBalance": "5000",
        "securities": [
            {"securityId": gid("S"), "netQuantity": "500"},
            {"securityId": gid("B"), "netQuantity": "400"},
        ],
    }
    for name, value in changes.items():
        if value is None:
            del summary[name]
        else:
            summary[name] = value
    return [summary]


def rebalance_into_mongo(folder: Path, positions: Any, prices: Any) -> Any:
    model_file, positions_file, prices_file = write_inputs(folder, MODEL, [], {})
    for path, content in ((positions_file, positions), (prices_file, prices)):
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return runner.invoke(
        app,
        [
            "rebalance",
            "--model-file",
            str(model_file),
            "--positions",
            str(positions_file),
            "--prices",
            str(prices_file),
            "--sink",
            "mongo",
            "--run-id",
            "bad-input",
            "--jobs",
            "1",
        ],
    )


GOOD_PRICES = {gid("S"): "100", gid("B"): "100"}


def nothing_written(db: Db) -> bool:
    return all(db[name].count_documents({}) == 0 for name in (RUNS, RUN_PORTFOLIOS, ORDERS))


@pytest.mark.parametrize(
    ("positions", "prices", "named"),
    [
        (summaries(cashBalance=None), GOOD_PRICES, "[0].cashBalance is missing"),
        (summaries(securities=None), GOOD_PRICES, "[0].securities is missing"),
        (summaries(cashBalance="1e400"), GOOD_PRICES, '[0].cashBalance: "1e400" is out of range'),
        (summaries(), {gid("S"): "1e400", gid("B"): "100"}, '"1e400" is out of range'),
        (summaries(), {gid("S"): "1e-400", gid("B"): "100"}, '"1e-400" is out of range'),
        ("", GOOD_PRICES, "positions.json is empty"),
    ],
)
def test_an_input_error_writes_nothing_to_mongodb(
    mongo_env: Settings,
    mongo_db: Db,
    tmp_path: Path,
    positions: Any,
    prices: Any,
    named: str,
) -> None:
    result = rebalance_into_mongo(tmp_path, positions, prices)
    assert result.exit_code == ExitCode.INPUT, result.output
    assert named in result.output and "Traceback" not in result.output
    assert nothing_written(mongo_db)
    # The same run with good inputs is recorded: the collections checked are the right ones.
    fixed = rebalance_into_mongo(tmp_path, summaries(), GOOD_PRICES)
    assert fixed.exit_code == ExitCode.OK, fixed.output
    assert mongo_db[RUNS].count_documents({"_id": "bad-input"}) == 1
    assert mongo_db[ORDERS].count_documents({}) == 2


def test_a_holding_worth_too_much_writes_nothing_to_mongodb(
    mongo_env: Settings, mongo_db: Db, tmp_path: Path
) -> None:
    held = [{"securityId": gid("S"), "netQuantity": "1000000000000000"}]
    result = rebalance_into_mongo(tmp_path, summaries(securities=held), GOOD_PRICES)
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "the value of a holding must be between -1e12 and 1e12" in result.output
    assert nothing_written(mongo_db)
