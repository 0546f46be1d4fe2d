"""Health probes and Prometheus metrics over HTTP while a batch command runs.

A `ThreadingHTTPServer` in a daemon thread answers:

- ``GET /health/live``: 200 while the heartbeat is fresh, 503 once it is stale
  (the run is wedged and should be restarted);
- ``GET /health/ready``: 200 when `ready_check()` returns True, else 503;
- ``GET /metrics``: the Prometheus text exposition of the run's registry;
- anything else: 404.

Everything is computed when probed, in the server's threads: the solver only
beats the heartbeat and updates metrics, which it does anyway.
"""

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

_JSON = "application/json"
# How often the server thread checks for stop(): bounds how long stop() waits.
_POLL_SECONDS = 0.1
# A client that connects and then stays silent is dropped after this long, so
# it cannot hold up stop(), which waits for requests in flight.
_REQUEST_TIMEOUT_SECONDS = 5.0


class Heartbeat:
    """Thread-safe monotonic timestamp of the last sign of progress.

    It starts beating when created, so a run is live until it has been silent
    for the probe's staleness threshold.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = time.monotonic()

    def beat(self) -> None:
        """Record progress now."""
        now = time.monotonic()
        with self._lock:
            self._last = now

    def seconds_since_beat(self) -> float:
        """Seconds since the last beat, on the monotonic clock."""
        with self._lock:
            last = self._last
        return time.monotonic() - last


@dataclass(frozen=True)
class _Response:
    status: int
    content_type: str
    body: bytes


def _json(status: int, document: Mapping[str, Any]) -> _Response:
    return _Response(status, _JSON, json.dumps(document).encode())


_NOT_FOUND = _json(404, {"status": "not found"})


def _handler_class(routes: Mapping[str, Callable[[], _Response]]) -> type[BaseHTTPRequestHandler]:
    """A request handler serving `routes` (path -> response) to GET requests."""

    class _Handler(BaseHTTPRequestHandler):
        timeout = _REQUEST_TIMEOUT_SECONDS

        def do_GET(self) -> None:
            route = routes.get(urlsplit(self.path).path)
            response = route() if route is not None else _NOT_FOUND
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Say nothing: probes every few seconds would drown the run's own log."""

    return _Handler


class _JoiningHTTPServer(ThreadingHTTPServer):
    """Joins its request threads on close (the base class leaves them as daemons).

    A scrape in flight when the run ends then gets its whole answer instead of
    a connection cut between headers and body as the process exits.
    """

    daemon_threads = False


class ProbeServer:
    """The probe and metrics HTTP server for one run.

    Parameters
    ----------
    port
        TCP port to listen on; 0 binds a free one (see `port`).
    registry
        The run's metrics, served at /metrics.
    heartbeat
        Beaten by the run on progress; /health/live fails once it is stale.
    ready_check
        Called on each /health/ready request, in the server thread; an
        exception counts as not ready.
    stale_after_seconds
        Silence after which the run counts as wedged.
    host
        Address to bind.
    """

    def __init__(
        self,
        *,
        port: int,
        registry: CollectorRegistry,
        heartbeat: Heartbeat,
        ready_check: Callable[[], bool],
        stale_after_seconds: float = 300.0,
        host: str = "0.0.0.0",
    ) -> None:
        self._address = (host, port)
        self._registry = registry
        self._heartbeat = heartbeat
        self._ready_check = ready_check
        self._stale_after = stale_after_seconds
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The port actually bound; raises RuntimeError before `start`."""
        if self._port is None:
            raise RuntimeError("the probe server has not been started")
        return self._port

    def start(self) -> None:
        """Bind the socket and serve in a daemon thread; OSError if the port is taken."""
        if self._server is not None:
            raise RuntimeError("the probe server is already running")
        routes = {
            "/health/live": self._live,
            "/health/ready": self._ready,
            "/metrics": self._metrics,
        }
        server = _JoiningHTTPServer(self._address, _handler_class(routes))
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name="ordergen-probe",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, finish the requests in flight and close the socket.

        Does nothing if not running.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _live(self) -> _Response:
        silent = self._heartbeat.seconds_since_beat()
        body = {"secondsSinceHeartbeat": round(silent, 3)}
        if silent < self._stale_after:
            return _json(200, {"status": "alive", **body})
        return _json(503, {"status": "stale", **body})

    def _ready(self) -> _Response:
        try:
            ready = self._ready_check()
        except Exception as exc:  # any failure of the check means "not ready", never a crash
            return _json(503, {"status": "not ready", "reason": type(exc).__name__})
        return _json(200, {"status": "ready"}) if ready else _json(503, {"status": "not ready"})

    def _metrics(self) -> _Response:
        return _Response(200, CONTENT_TYPE_LATEST, generate_latest(self._registry))
