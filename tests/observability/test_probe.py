"""ProbeServer over real HTTP on 127.0.0.1: probes, metrics scraped during a run, lifecycle."""

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from ordergen.observability.metrics import SOLVE_BUCKETS, RunMetrics
from ordergen.observability.probe import Heartbeat, ProbeServer

# Bypass any proxy from the environment: the server is local.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_DEADLINE_SECONDS = 20.0

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def get(port: int, path: str) -> tuple[int, str, str]:
    """Status, content type and body of GET `path`."""
    try:
        with _OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def scrape(port: int) -> Samples:
    status, content_type, body = get(port, "/metrics")
    assert status == 200 and content_type == CONTENT_TYPE_LATEST
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def eventually(probe: Callable[[], bool]) -> bool:
    """Whether `probe` holds within a generous deadline, polling."""
    deadline = time.monotonic() + _DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.02)
    return False


def serve(
    registry: CollectorRegistry | None = None,
    heartbeat: Heartbeat | None = None,
    ready_check: Callable[[], bool] = lambda: True,
    stale_after_seconds: float = 300.0,
) -> ProbeServer:
    return ProbeServer(
        port=0,
        registry=registry or CollectorRegistry(),
        heartbeat=heartbeat or Heartbeat(),
        ready_check=ready_check,
        stale_after_seconds=stale_after_seconds,
        host="127.0.0.1",
    )


@pytest.fixture
def server() -> Iterator[ProbeServer]:
    with serve() as running:
        yield running


class SimulatedRun:
    """Records portfolios and orders as a run would, tallying what it recorded."""

    STATUSES = ("ok", "ok", "ok", "infeasible", "error")

    def __init__(self, metrics: RunMetrics, heartbeat: Heartbeat) -> None:
        self.metrics, self.heartbeat = metrics, heartbeat
        self.statuses: Counter[str] = Counter()
        self.orders: Counter[str] = Counter()
        self.solve_seconds: list[float] = []

    def step(self, i: int) -> None:
        status, seconds = self.STATUSES[i % len(self.STATUSES)], 10.0 ** (i % 7 - 5)
        self.metrics.observe_portfolio(status, seconds)
        self.metrics.add_orders("BUY", i % 3)
        self.metrics.add_orders("SELL", 1)
        self.statuses[status] += 1
        self.orders.update({"BUY": i % 3, "SELL": 1})
        self.solve_seconds.append(seconds)
        self.heartbeat.beat()

    def expected(self) -> Samples:
        """The samples the metrics should show for what was recorded so far."""
        samples: Samples = {
            ("ordergen_portfolios_total", (("status", s),)): float(self.statuses[s])
            for s in ("ok", "infeasible", "error", "empty")
        }
        samples |= {
            ("ordergen_orders_total", (("side", side),)): float(self.orders[side])
            for side in ("BUY", "SELL")
        }
        samples |= {
            ("ordergen_solve_seconds_bucket", (("le", str(bound)),)): float(
                sum(1 for s in self.solve_seconds if s <= bound)
            )
            for bound in SOLVE_BUCKETS
        }
        samples[("ordergen_solve_seconds_count", ())] = float(len(self.solve_seconds))
        return samples


def assert_shows(scraped: Samples, expected: Samples) -> None:
    assert {key: scraped.get(key) for key in expected} == expected


def test_metrics_scraped_while_a_run_records_them_match_what_it_recorded() -> None:
    metrics, heartbeat = RunMetrics(), Heartbeat()
    run = SimulatedRun(metrics, heartbeat)
    halfway, checked = threading.Event(), threading.Event()
    steps = 20_000

    def work() -> None:
        for i in range(steps):
            if i == steps // 2:
                halfway.set()
                checked.wait(timeout=_DEADLINE_SECONDS)
            run.step(i)

    worker = threading.Thread(target=work)
    with serve(metrics.registry, heartbeat) as server:
        worker.start()
        try:
            assert halfway.wait(timeout=_DEADLINE_SECONDS)
            # The run is paused here, so what it recorded so far is exactly what is served.
            assert_shows(scrape(server.port), run.expected())
            status, _, body = get(server.port, "/health/live")
            assert status == 200 and json.loads(body)["status"] == "alive"
        finally:
            checked.set()
        # Scrapes that race the run's updates still parse and never run ahead of it.
        previous = 0.0
        while worker.is_alive():
            count = scrape(server.port)[("ordergen_solve_seconds_count", ())]
            assert previous <= count <= steps
            previous = count
        worker.join()
        assert_shows(scrape(server.port), run.expected())


def test_live_turns_503_once_the_heartbeat_is_stale_and_200_after_a_beat() -> None:
    heartbeat = Heartbeat()
    with serve(heartbeat=heartbeat, stale_after_seconds=0.2) as server:
        assert eventually(lambda: get(server.port, "/health/live")[0] == 503)
        _, content_type, body = get(server.port, "/health/live")
        document = json.loads(body)
        assert content_type == "application/json"
        assert document["status"] == "stale" and document["secondsSinceHeartbeat"] >= 0.2

        def beat_then_live() -> bool:
            heartbeat.beat()
            return get(server.port, "/health/live")[0] == 200

        assert eventually(beat_then_live)


def test_heartbeat_measures_silence_since_the_last_beat() -> None:
    heartbeat = Heartbeat()
    created = time.monotonic()
    assert eventually(lambda: time.monotonic() - created > 0.05)
    assert heartbeat.seconds_since_beat() > 0.05
    before_beat = time.monotonic()
    heartbeat.beat()
    assert heartbeat.seconds_since_beat() <= time.monotonic() - before_beat


def raises() -> bool:
    raise ConnectionError("mongo unreachable")


@pytest.mark.parametrize(
    ("check", "status", "document"),
    [
        (lambda: True, 200, {"status": "ready"}),
        (lambda: False, 503, {"status": "not ready"}),
        (raises, 503, {"status": "not ready", "reason": "ConnectionError"}),
    ],
)
def test_ready_reflects_the_check(
    check: Callable[[], bool], status: int, document: dict[str, str]
) -> None:
    with serve(ready_check=check) as server:
        got_status, content_type, body = get(server.port, "/health/ready")
    assert (got_status, content_type, json.loads(body)) == (status, "application/json", document)


def test_the_ready_check_runs_only_when_probed_and_off_the_calling_thread() -> None:
    calls: list[threading.Thread] = []
    ready = [False]

    def check() -> bool:
        calls.append(threading.current_thread())
        return ready[0]

    with serve(ready_check=check) as server:
        get(server.port, "/metrics")
        get(server.port, "/health/live")
        assert calls == []
        assert get(server.port, "/health/ready")[0] == 503
        ready[0] = True
        assert get(server.port, "/health/ready")[0] == 200
    assert len(calls) == 2 and threading.main_thread() not in calls


@pytest.mark.parametrize("path", ["/", "/health", "/health/live/extra", "/metricsx"])
def test_unknown_paths_are_404(server: ProbeServer, path: str) -> None:
    assert get(server.port, path)[0] == 404


def test_a_query_string_does_not_change_the_route(server: ProbeServer) -> None:
    assert get(server.port, "/metrics?name[]=ordergen_run_info")[0] == 200


def test_port_zero_binds_a_real_port() -> None:
    probe = serve()
    with pytest.raises(RuntimeError):
        _ = probe.port
    with probe:
        assert probe.port > 0
        assert get(probe.port, "/health/live")[0] == 200


def test_stop_closes_the_socket_and_is_idempotent() -> None:
    probe = serve()
    probe.stop()  # before start: nothing to do
    probe.start()
    port = probe.port
    with pytest.raises(RuntimeError):
        probe.start()
    probe.stop()
    probe.stop()
    with pytest.raises(urllib.error.URLError):
        get(port, "/health/live")


def test_stop_lets_a_request_in_flight_finish_its_answer() -> None:
    # A scrape that arrives as the run ends must get its whole body, not a
    # connection cut between headers and body when the process exits.
    entered, release = threading.Event(), threading.Event()
    events: list[str] = []

    def slow_check() -> bool:
        entered.set()
        release.wait(_DEADLINE_SECONDS)
        events.append("answered")
        return True

    answers: list[tuple[int, str, str]] = []
    probe = serve(ready_check=slow_check)
    probe.start()
    client = threading.Thread(target=lambda: answers.append(get(probe.port, "/health/ready")))
    client.start()
    assert entered.wait(_DEADLINE_SECONDS)
    # Released only after stop() has had ample time to return if it did not wait.
    threading.Timer(0.5, release.set).start()
    probe.stop()
    events.append("stopped")
    client.join(_DEADLINE_SECONDS)
    assert events == ["answered", "stopped"]
    assert answers == [(200, "application/json", json.dumps({"status": "ready"}))]
