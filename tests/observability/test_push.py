"""Pushing to a Pushgateway: a real local HTTP server stands in for it."""

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from structlog.testing import capture_logs

from ordergen.observability.metrics import RunMetrics
from ordergen.observability.push import push_run_metrics


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str


class FakeGateway:
    """Records every request and answers with `status`."""

    def __init__(self, status: int) -> None:
        self.requests: list[Request] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                gateway.requests.append(Request(self.command, self.path, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_PUT(self) -> None:
                self._record()

            def do_POST(self) -> None:
                self._record()

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    fake = FakeGateway(200)
    yield fake
    fake.close()


def finished_run() -> RunMetrics:
    metrics = RunMetrics()
    metrics.set_run_info(run_id="r-1", model="GROWTH", method="auto", version="0.1.0")
    metrics.observe_portfolio("ok", 0.002)
    metrics.add_orders("BUY", 2)
    metrics.finish_run(duration_seconds=4.0, succeeded=True)
    return metrics


def test_push_sends_the_registry_to_the_job_and_group(gateway: FakeGateway) -> None:
    pushed = push_run_metrics(
        gateway.url, finished_run().registry, job="ordergen", grouping_key={"model": "GROWTH"}
    )
    assert pushed is True
    (request,) = gateway.requests
    assert request.method == "POST"
    assert request.path == "/metrics/job/ordergen/model/GROWTH"
    for name in (
        "ordergen_portfolios_total",
        "ordergen_solve_seconds_bucket",
        "ordergen_orders_total",
        "ordergen_run_succeeded",
        "ordergen_last_success_timestamp_seconds",
    ):
        assert name in request.body


def test_a_failed_run_pushes_no_last_success_time(gateway: FakeGateway) -> None:
    metrics = RunMetrics()
    metrics.finish_run(duration_seconds=1.0, succeeded=False)
    assert push_run_metrics(gateway.url, metrics.registry, job="ordergen", grouping_key={})
    (request,) = gateway.requests
    assert "ordergen_run_succeeded 0.0" in request.body
    assert "ordergen_last_success_timestamp_seconds" not in request.body


def test_a_closed_port_returns_false_without_raising() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on `port` any more.
    with capture_logs() as logs:
        pushed = push_run_metrics(
            f"127.0.0.1:{port}", finished_run().registry, job="ordergen", grouping_key={}
        )
    assert pushed is False
    (warning,) = logs
    assert warning["log_level"] == "warning" and warning["event"] == "metrics_push_failed"
    assert warning["url"] == f"127.0.0.1:{port}" and "URLError" in warning["error"]


def test_a_gateway_error_returns_false() -> None:
    failing = FakeGateway(500)
    try:
        pushed = push_run_metrics(
            failing.url, finished_run().registry, job="ordergen", grouping_key={"model": "M"}
        )
    finally:
        failing.close()
    assert pushed is False and len(failing.requests) == 1
