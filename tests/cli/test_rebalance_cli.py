"""`ordergen rebalance` from files: exit codes, atomic output, --json, determinism."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.demo import generate
from ordergen.errors import ExitCode
from ordergen.io.inputs_out import write_inputs
from tests.factories import gid, model_doc

runner = CliRunner()


@pytest.fixture
def demo_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    data = generate(seed=3, portfolios=60, securities=12)
    return write_inputs(tmp_path, data.model, data.summaries, data.prices)


def rebalance(model: Path, positions: Path, prices: Path, output: Path, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app,
        [
            "rebalance",
            "--model-file",
            str(model),
            "--positions",
            str(positions),
            "--prices",
            str(prices),
            "--output",
            str(output),
            "--jobs",
            "1",
            *extra,
        ],
    )


def small_case(tmp_path: Path, mv_cash: str) -> tuple[Path, Path, Path]:
    """R1's model; one more portfolio whose band cannot be met when mv_cash is tiny."""
    model = model_doc([("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")], ["P", "Q"])
    summaries = [
        {
            "portfolioId": gid("P"),
            "cashBalance": "5000",
            "securities": [
                {"securityId": gid("S"), "netQuantity": "500"},
                {"securityId": gid("B"), "netQuantity": "400"},
            ],
        },
        {"portfolioId": gid("Q"), "cashBalance": mv_cash, "securities": []},
    ]
    return write_inputs(tmp_path, model, summaries, {gid("S"): "100", gid("B"): "100"})


def test_all_ok_exits_zero_and_writes_orders(tmp_path: Path) -> None:
    files = small_case(tmp_path, "95000")
    output = tmp_path / "orders.json"
    result = rebalance(*files, output)
    assert result.exit_code == ExitCode.OK, result.output
    document = json.loads(output.read_text())
    by_id = {p["portfolioId"]: p for p in document["portfolios"]}
    assert by_id[gid("P")]["orders"] == [
        {"securityId": gid("S"), "side": "BUY", "quantity": 70, "price": "100"},
        {"securityId": gid("B"), "side": "SELL", "quantity": 115, "price": "100"},
    ]
    assert document["summary"]["byStatus"]["ok"] == 2


def test_infeasible_portfolio_gives_partial_exit_and_others_orders(tmp_path: Path) -> None:
    files = small_case(tmp_path, "150")  # Q: MV 150 cannot hold whole $100 shares in band
    output = tmp_path / "orders.json"
    result = rebalance(*files, output)
    assert result.exit_code == ExitCode.PARTIAL
    by_id = {p["portfolioId"]: p for p in json.loads(output.read_text())["portfolios"]}
    assert by_id[gid("Q")]["status"] == "infeasible" and by_id[gid("Q")]["orders"] == []
    assert gid("S") in by_id[gid("Q")]["message"] or gid("B") in by_id[gid("Q")]["message"]
    assert len(by_id[gid("P")]["orders"]) == 2


def test_bad_input_exits_2_names_field_and_writes_nothing(tmp_path: Path) -> None:
    model_file, positions, prices = small_case(tmp_path, "95000")
    prices.write_text(json.dumps({gid("S"): "100"}))  # B has no price
    output = tmp_path / "orders.json"
    output.write_text("previous run")
    result = rebalance(model_file, positions, prices, output)
    assert result.exit_code == ExitCode.INPUT
    assert gid("B") in result.output and "no price" in result.output
    assert output.read_text() == "previous run"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".orders")] == []


def test_json_summary_on_stdout_only(tmp_path: Path, demo_files: tuple[Path, Path, Path]) -> None:
    result = rebalance(*demo_files, tmp_path / "o.json", "--json")
    summary = json.loads(result.stdout)
    assert summary["portfolios"] == 60
    assert sum(summary["byStatus"].values()) == 60
    assert "run " in result.stderr  # the table went to stderr


def test_the_summary_names_the_first_ten_portfolios_needing_attention(tmp_path: Path) -> None:
    # 13 portfolios too small for a $100 share inside a band, among 20 that fit.
    pids = [f"{index:024x}" for index in range(33)]
    small = [*range(0, 31, 3), 31, 32]
    model = model_doc([("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")], [])
    model["portfolios"] = pids
    summaries = [
        {"portfolioId": pid, "cashBalance": "150" if i in small else "95000", "securities": []}
        for i, pid in enumerate(pids)
    ]
    files = write_inputs(tmp_path, model, summaries, {gid("S"): "100", gid("B"): "100"})
    result = rebalance(*files, tmp_path / "o.json", "--json")
    assert result.exit_code == ExitCode.PARTIAL
    heading = f"{len(small)} portfolios need attention:"
    listing = result.stderr.split(heading)[1]  # the log lines before it name every portfolio
    named = [pid for pid in pids if pid in listing]
    assert named == [pids[i] for i in small[:10]]  # the first ten, in order
    assert f"and {len(small) - 10} more" in listing
    assert "infeasible: no whole number of shares" in listing
    # The JSON summary on stdout is unchanged: counts, no list.
    assert "attention" not in result.stdout
    assert json.loads(result.stdout)["byStatus"]["infeasible"] == len(small)


def test_an_all_ok_run_names_no_portfolio(tmp_path: Path) -> None:
    result = rebalance(*small_case(tmp_path, "95000"), tmp_path / "o.json")
    assert result.exit_code == ExitCode.OK
    assert "attention" not in result.stderr


def test_same_input_gives_byte_identical_orders(
    tmp_path: Path, demo_files: tuple[Path, Path, Path]
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert rebalance(*demo_files, first).exit_code in (ExitCode.OK, ExitCode.PARTIAL)
    rebalance(*demo_files, second)
    assert first.read_bytes() == second.read_bytes()


def test_milp_and_auto_agree_on_every_objective(
    tmp_path: Path, demo_files: tuple[Path, Path, Path]
) -> None:
    rebalance(*demo_files, tmp_path / "auto.json")
    rebalance(*demo_files, tmp_path / "milp.json", "--method", "milp")
    auto = json.loads((tmp_path / "auto.json").read_text())["portfolios"]
    milp = json.loads((tmp_path / "milp.json").read_text())["portfolios"]
    assert [(p["status"], p["objective"]) for p in auto] == [
        (p["status"], p["objective"]) for p in milp
    ]
    assert {p["solver"] for p in milp if p["status"] == "ok"} == {"milp"}


def test_missing_and_unmodelled_portfolios_are_reported(tmp_path: Path) -> None:
    model_file, positions, prices = small_case(tmp_path, "95000")
    summaries = json.loads(positions.read_text())
    summaries[1]["portfolioId"] = gid("X")  # Q is missing, X is not in the model
    positions.write_text(json.dumps(summaries))
    output = tmp_path / "o.json"
    result = rebalance(model_file, positions, prices, output)
    assert result.exit_code == ExitCode.OK
    document = json.loads(output.read_text())
    assert document["summary"]["missingPortfolios"] == [gid("Q")]
    assert document["summary"]["unmodelledPortfolios"] == [gid("X")]
    by_id = {p["portfolioId"]: p for p in document["portfolios"]}
    assert (
        by_id[gid("Q")]["status"] == "empty" and "no positions record" in by_id[gid("Q")]["message"]
    )


def test_csv_inputs_give_the_same_orders_as_json(tmp_path: Path) -> None:
    model_file, positions, prices = small_case(tmp_path, "95000")
    (tmp_path / "pos.csv").write_text(
        "portfolio_id,security_id,quantity\n"
        f"{gid('P')},,5000\n{gid('P')},{gid('S')},500\n{gid('P')},{gid('B')},400\n{gid('Q')},,95000\n"
    )
    (tmp_path / "px.csv").write_text(f"security_id,price\n{gid('S')},100\n{gid('B')},100\n")
    rebalance(model_file, positions, prices, tmp_path / "a.json")
    rebalance(model_file, tmp_path / "pos.csv", tmp_path / "px.csv", tmp_path / "b.json")
    portfolios = [
        json.loads((tmp_path / n).read_text())["portfolios"] for n in ("a.json", "b.json")
    ]
    assert portfolios[0] == portfolios[1]


def test_shards_partition_the_portfolios(
    tmp_path: Path, demo_files: tuple[Path, Path, Path]
) -> None:
    seen: list[str] = []
    for index in range(3):
        output = tmp_path / f"shard{index}.json"
        rebalance(*demo_files, output, "--shard", f"{index}/3")
        seen += [p["portfolioId"] for p in json.loads(output.read_text())["portfolios"]]
    model = json.loads(demo_files[0].read_text())
    assert sorted(seen) == sorted(model["portfolios"])


def test_bad_shard_is_an_input_error(tmp_path: Path, demo_files: tuple[Path, Path, Path]) -> None:
    result = rebalance(*demo_files, tmp_path / "o.json", "--shard", "3/3")
    assert result.exit_code == ExitCode.INPUT and "shard" in result.output
