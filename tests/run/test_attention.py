"""The portfolios needing attention are the same whether one process or two solve a run."""

from pathlib import Path

from ordergen.domain.summary import RunSummary
from ordergen.io.inputs_out import write_inputs
from ordergen.observability.run import RunObserver
from ordergen.run.engine import RunOptions
from ordergen.run.execute import run_to_file
from ordergen.run.forked_half import split_point
from ordergen.run.inputs import RunInputs, load_file_inputs
from tests.factories import gid, model_doc

PORTFOLIOS = 40
TOO_SMALL = [3, 5, *range(22, 34)]  # 2 in the first half, 12 in the second
CHUNK = 5


def ids() -> list[str]:
    return [f"{index:024x}" for index in range(PORTFOLIOS)]


def inputs(directory: Path) -> RunInputs:
    """R1's model; the portfolios at `TOO_SMALL` have $150, too little for a $100 share
    inside a band, the others $95,000."""
    model = model_doc([("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")], [])
    model["portfolios"] = ids()
    summaries = [
        {"portfolioId": pid, "cashBalance": "150" if i in TOO_SMALL else "95000", "securities": []}
        for i, pid in enumerate(ids())
    ]
    files = write_inputs(directory, model, summaries, {gid("S"): "100", gid("B"): "100"})
    return load_file_inputs(*files, "auto", None)


def summary(run: RunInputs, output: Path, jobs: int) -> RunSummary:
    with RunObserver(per_portfolio_lines=False) as observer:
        options = RunOptions(jobs=jobs, chunk_size=CHUNK)
        return run_to_file(run, output, "run-1", options, observer).summary


def test_two_processes_list_the_one_process_portfolios(tmp_path: Path) -> None:
    run = inputs(tmp_path)
    assert split_point(PORTFOLIOS, RunOptions(jobs=2, chunk_size=CHUNK)) == 20
    one = summary(run, tmp_path / "one.json", jobs=1)
    two = summary(run, tmp_path / "two.json", jobs=2)
    assert two.attention == one.attention
    # The first ten in portfolio order, across the split; the other four only counted.
    assert [item.portfolio_id for item in one.attention] == [ids()[i] for i in TOO_SMALL[:10]]
    assert {item.status for item in one.attention} == {"infeasible"}
    assert all("no whole number of shares" in item.reason for item in one.attention)
    assert one.failed == two.failed == 14
