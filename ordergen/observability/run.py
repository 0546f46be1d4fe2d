"""What a long command shows while it runs: metrics, probes, heartbeat, logs, push.

`RunObserver` ties the pieces together for one run. The run calls `on_result` for
each portfolio and `on_chunk` after each solved chunk; everything the probe server
serves is computed in its own thread when it is asked.
"""

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from structlog.typing import FilteringBoundLogger

from ordergen import __version__
from ordergen.domain.results import BUY, SELL, PortfolioResult
from ordergen.domain.summary import RunSummary
from ordergen.domain.values import decimal_text
from ordergen.observability.logs import bind_run, get_logger
from ordergen.observability.metrics import RunMetrics
from ordergen.observability.probe import Heartbeat, ProbeServer
from ordergen.observability.push import push_run_metrics

_log = get_logger(__name__)


class RunObserver:
    """Metrics, logs and (optionally) the probe server of one run.

    Parameters
    ----------
    probe_port
        Serve /health/live, /health/ready and /metrics on this port while the run
        lasts; None serves nothing.
    ready_check
        Answers /health/ready: configuration loaded and MongoDB reachable.
    pushgateway_url
        Push the final figures here when the run ends (runs shorter than a scrape).
    per_portfolio_lines
        Log one line per portfolio at INFO (for log pipelines); otherwise at DEBUG,
        so a person at a terminal sees the progress bar and the summary table.
    """

    def __init__(
        self,
        *,
        probe_port: int | None = None,
        ready_check: Callable[[], bool] = lambda: True,
        pushgateway_url: str | None = None,
        per_portfolio_lines: bool = True,
    ) -> None:
        self.metrics = RunMetrics()
        self.heartbeat = Heartbeat()
        self._pushgateway_url = pushgateway_url
        self._probe = (
            None
            if probe_port is None
            else ProbeServer(
                port=probe_port,
                registry=self.metrics.registry,
                heartbeat=self.heartbeat,
                ready_check=ready_check,
            )
        )
        self._model = ""
        self._per_portfolio_lines = per_portfolio_lines
        self._portfolio_log = self._portfolio_logger()

    @property
    def probe_port(self) -> int | None:
        """The bound probe port (useful when 0 asked for a free one), or None."""
        return None if self._probe is None else self._probe.port

    def __enter__(self) -> Self:
        if self._probe is not None:
            self._probe.start()
            _log.info("probe_server_started", port=self._probe.port)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._probe is not None:
            self._probe.stop()

    def start(self, *, run_id: str, model: str, method: str, portfolios: int) -> None:
        """Name the run in every later log line and in `ordergen_run_info`."""
        bind_run(run_id)
        self._model = model
        self._portfolio_log = self._portfolio_logger(_log.bind())
        self.metrics.set_run_info(run_id=run_id, model=model, method=method, version=__version__)
        _log.info("run_started", model=model, method=method, portfolios=portfolios)

    def _portfolio_logger(self, log: FilteringBoundLogger = _log) -> Callable[..., Any]:
        """The method that logs a portfolio's line. Given the configured logger (bound
        when the run starts), it skips resolving the lazy one on each of the run's lines."""
        return log.info if self._per_portfolio_lines else log.debug

    def input_loaded(self, source: str, seconds: float) -> None:
        """Record time spent loading inputs from `source` (files, mongo, a service)."""
        self.metrics.observe_input_load(source, seconds)
        self.heartbeat.beat()

    def on_result(self, result: PortfolioResult) -> None:
        """Count one portfolio and log its summary line."""
        self.metrics.observe_portfolio(result.status, result.seconds)
        if result.buy_orders:
            self.metrics.add_orders(BUY, result.buy_orders)
        if result.sell_orders:
            self.metrics.add_orders(SELL, result.sell_orders)
        self._portfolio_log(
            "portfolio_rebalanced",
            portfolio_id=result.portfolio_id,
            status=result.status,
            orders=len(result.orders),
            solver=result.solver,
            worst_drift_before=decimal_text(result.worst_drift_before),
            worst_drift_after=decimal_text(result.worst_drift_after),
            message=result.message or None,
        )

    def on_chunk(self, count: int) -> None:
        """A chunk of `count` portfolios is solved: the run is making progress."""
        self.heartbeat.beat()

    def finish(self, summary: RunSummary, seconds: float, *, succeeded: bool) -> None:
        """Log the run's summary line, record its outcome and push it if configured."""
        self.metrics.finish_run(duration_seconds=seconds, succeeded=succeeded)
        _log.info(
            "run_finished",
            seconds=round(seconds, 3),
            succeeded=succeeded,
            **{key: value for key, value in summary.document().items() if not _is_list(value)},
        )
        if self._pushgateway_url:
            push_run_metrics(
                self._pushgateway_url,
                self.metrics.registry,
                job="ordergen",
                grouping_key={"model": self._model},
            )


def _is_list(value: object) -> bool:
    # Portfolio id lists can run to thousands of entries: the summary line keeps counts.
    return isinstance(value, list)
