"""RunObserver and the probe endpoint of a real `ordergen demo` process, scraped mid-run."""

import json
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ordergen.domain.results import BUY, SELL, Order, PortfolioResult
from ordergen.domain.summary import RunSummary
from ordergen.observability.logs import configure_logging
from ordergen.observability.run import RunObserver
from tests.factories import gid
from tests.observability.test_probe import get, scrape


def result(label: str, status: str, *sides: str) -> PortfolioResult:
    orders = tuple(Order(gid(f"S{i}"), side, 1, Decimal(10)) for i, side in enumerate(sides))
    return PortfolioResult(gid(label), status, orders=orders, seconds=0.002)


def test_results_are_counted_and_logged_one_line_each(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    summary = RunSummary()
    with RunObserver(probe_port=0) as observer:
        assert observer.probe_port
        observer.start(run_id="r-7", model="growth", method="auto", portfolios=3)
        for item in (
            result("P", "ok", BUY, SELL, BUY),
            result("Q", "infeasible"),
            result("R", "ok", SELL),
        ):
            summary.add(item)
            observer.on_result(item)
        observer.on_chunk(3)
        samples = scrape(observer.probe_port)
        observer.finish(summary, 1.5, succeeded=False)
    assert samples[("ordergen_portfolios_total", (("status", "ok"),))] == 2
    assert samples[("ordergen_portfolios_total", (("status", "infeasible"),))] == 1
    assert samples[("ordergen_orders_total", (("side", "BUY"),))] == 2
    assert samples[("ordergen_orders_total", (("side", "SELL"),))] == 2
    assert samples[("ordergen_solve_seconds_count", ())] == 3
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    per_portfolio = [line for line in lines if line["event"] == "portfolio_rebalanced"]
    assert [line["portfolio_id"] for line in per_portfolio] == [gid("P"), gid("Q"), gid("R")]
    assert all(line["run_id"] == "r-7" and "timestamp" in line for line in lines[1:])
    finished = [line for line in lines if line["event"] == "run_finished"]
    assert len(finished) == 1
    assert finished[0]["byStatus"]["infeasible"] == 1 and finished[0]["succeeded"] is False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
def test_a_real_run_serves_probes_and_metrics_while_it_runs(tmp_path: Path) -> None:
    port = free_port()
    # Logs go to a file: a pipe nobody reads while the run goes on would fill and block it.
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "ordergen", "demo", "--dir", str(tmp_path / "demo"),
             "--portfolios", "20000", "--jobs", "1", "--probe-port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )  # fmt: skip
    scrapes: list[dict[str, float]] = []
    live = ready = 0
    deadline = time.monotonic() + 300
    try:
        while process.poll() is None and time.monotonic() < deadline:
            try:
                status, _, body = get(port, "/metrics")
                live, _, _ = get(port, "/health/live")
                ready, _, _ = get(port, "/health/ready")
            except OSError:  # not listening yet, or just stopped
                time.sleep(0.05)
                continue
            if process.poll() is None and status == 200:
                scrapes.append(
                    {
                        f"{sample.name}{sorted(sample.labels.items())}": sample.value
                        for family in text_string_to_metric_families(body)
                        for sample in family.samples
                    }
                )
            time.sleep(0.1)
    finally:
        process.communicate(timeout=300)
    assert process.returncode == 0, log.read_text()[-2000:]
    assert scrapes, "the endpoint was never scraped while the run went on"
    assert (live, ready) == (200, 200)
    last = scrapes[-1]
    info = [key for key in last if key.startswith("ordergen_run_info")]
    assert len(info) == 1 and "'model', 'demo-30'" in info[0]
    done = [
        sum(v for k, v in scrape.items() if k.startswith("ordergen_portfolios_total["))
        for scrape in scrapes
    ]
    assert done == sorted(done)  # counters only grow during the run
    assert done[-1] <= 20000
