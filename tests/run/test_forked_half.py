"""An orders-file run on two processes: the same file, summary, logs and metrics as on
one, and nothing left behind when either process fails."""

import os
import pickle
import signal
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest

import ordergen.run.forked_half as forked_half_module
from ordergen.demo import DESK_POLICY, generate
from ordergen.domain.results import PortfolioResult, counted_values, from_counted_values
from ordergen.io.inputs_out import write_inputs
from ordergen.observability.run import RunObserver
from ordergen.run.engine import RunOptions, rebalance
from ordergen.run.execute import RunReport, run_to_file
from ordergen.run.forked_half import split_point
from ordergen.run.inputs import RunInputs, load_file_inputs

CHUNK = 7  # small chunks: a few dozen portfolios are worth a second process


# (seed, the model's policy, the statuses its portfolios end in): with the desk policy,
# some portfolios also go to the MILP.
CASES = [
    (2, None, {"empty", "infeasible", "ok"}),
    (31, DESK_POLICY, {"ok", "within-bands"}),
]


@pytest.fixture(scope="module", params=CASES, ids=["no-policy", "desk-policy"])
def case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[RunInputs, set[str]]:
    seed, policy, statuses = request.param
    data = generate(seed=seed, portfolios=61, securities=8)
    model = data.model if policy is None else {**data.model, "policy": policy}
    directory = tmp_path_factory.mktemp("inputs")
    files = write_inputs(directory, model, data.summaries, data.prices)
    return load_file_inputs(*files, "auto", None), statuses


@pytest.fixture
def inputs(case: tuple[RunInputs, set[str]]) -> RunInputs:
    return case[0]


class Seen:
    """What the observer saw: each result in order, and the metrics at the end."""

    def __init__(self) -> None:
        self.results: list[tuple[str, str, int, int, str, str]] = []
        self.metrics = ""


def run(
    inputs: RunInputs, output: Path, jobs: int, then: Callable[[int], None] = lambda _: None
) -> tuple[RunReport, Seen]:
    """Run to `output`; `then(n)` is called after the observer saw the n-th result."""
    seen = Seen()
    with RunObserver(per_portfolio_lines=False) as observer:
        observe = observer.on_result

        def on_result(result: PortfolioResult) -> None:
            seen.results.append(
                (
                    result.portfolio_id,
                    result.status,
                    result.buy_orders,
                    result.sell_orders,
                    str(result.worst_drift_after),
                    result.message,
                )
            )
            observe(result)
            then(len(seen.results))

        observer.on_result = on_result  # type: ignore[method-assign]
        options = RunOptions(jobs=jobs, chunk_size=CHUNK)
        report = run_to_file(inputs, output, "run-1", options, observer)
        seen.metrics = "\n".join(
            line
            for line in generate_latest(observer.metrics.registry).decode().splitlines()
            if line.startswith(("ordergen_portfolios_total", "ordergen_orders_total"))
        )
    return report, seen


def test_two_processes_write_the_one_process_file_byte_for_byte(
    case: tuple[RunInputs, set[str]], tmp_path: Path
) -> None:
    inputs, statuses = case
    assert split_point(len(inputs.holdings), RunOptions(jobs=2, chunk_size=CHUNK)) is not None
    one, seen_one = run(inputs, tmp_path / "one.json", jobs=1)
    two, seen_two = run(inputs, tmp_path / "two.json", jobs=2)
    assert (tmp_path / "two.json").read_bytes() == (tmp_path / "one.json").read_bytes()
    assert two.summary == one.summary
    assert seen_two.results == seen_one.results  # the same results, in portfolio order
    assert seen_two.metrics == seen_one.metrics
    assert {status for _, status, *_ in seen_one.results} == statuses
    assert sorted(os.listdir(tmp_path)) == ["one.json", "two.json"]  # no temporary files


def failing_child(monkeypatch: pytest.MonkeyPatch, fail: Callable[[], None]) -> None:
    """Make the forked process (which solves through its module's `rebalance_chunks`)
    call `fail` instead; this process solves through the engine as usual."""

    def rebalance_chunks(*_: Any, **__: Any) -> Iterator[Any]:
        fail()
        yield from ()

    monkeypatch.setattr(forked_half_module, "rebalance_chunks", rebalance_chunks)


def disk_full() -> None:
    raise OSError(28, "No space left on device")


def killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize(
    ("fail", "expected"),
    [(disk_full, OSError), (killed, ChildProcessError)],
    ids=["raises", "dies"],
)
def test_a_failed_second_process_fails_the_run_and_writes_nothing(
    inputs: RunInputs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fail: Callable[[], None],
    expected: type[BaseException],
) -> None:
    failing_child(monkeypatch, fail)
    with pytest.raises(expected) as raised:
        run(inputs, tmp_path / "orders.json", jobs=2)
    if isinstance(raised.value, OSError) and expected is OSError:
        assert raised.value.errno == 28
    assert os.listdir(tmp_path) == []


def test_a_failure_here_ends_the_second_process(
    inputs: RunInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked: list[int] = []
    fork = os.fork

    def recorded_fork() -> int:
        process = fork()
        forked.append(process)
        return process

    monkeypatch.setattr(os, "fork", recorded_fork)
    failing_child(monkeypatch, signal.pause)  # the second half never ends

    def fail(seen: int) -> None:
        raise RuntimeError(f"stopped after {seen} portfolio")

    with pytest.raises(RuntimeError, match="stopped after 1 portfolio"):
        run(inputs, tmp_path / "orders.json", jobs=2, then=fail)
    (process,) = forked
    with pytest.raises(ChildProcessError):  # reaped: no such child any more
        os.waitpid(process, os.WNOHANG)
    assert os.listdir(tmp_path) == []


def test_split_point_needs_two_jobs_and_two_chunks_of_portfolios() -> None:
    options = RunOptions(jobs=2, chunk_size=10)
    assert split_point(20, options) == 10
    assert split_point(41, options) == 20
    assert split_point(19, options) is None
    assert split_point(100, replace(options, jobs=1)) is None


def test_counted_values_keep_a_results_counts_but_not_its_orders(inputs: RunInputs) -> None:
    results = rebalance(inputs.model, inputs.holdings, inputs.prices, overrides=inputs.overrides)
    traded = [result for result in results if result.buy_orders and result.sell_orders]
    assert traded
    for result in traded:
        counted = from_counted_values(pickle.loads(pickle.dumps(counted_values(result))))
        assert (counted.buy_orders, counted.sell_orders) == (result.buy_orders, result.sell_orders)
        assert (len(counted.orders), len(counted.drifts)) == (
            len(result.orders),
            len(result.drifts),
        )
        assert replace(counted, orders=(), drifts=()) == replace(result, orders=(), drifts=())
        with pytest.raises(LookupError):
            counted.orders[0]
