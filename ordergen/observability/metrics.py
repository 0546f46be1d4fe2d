"""Prometheus metrics for one run.

MILPs are solved in joblib worker processes, and a large files run's second half
in a forked process, but every result is returned to the run's own process, and
only it calls these methods. The metrics therefore live there alone: nothing is
counted twice, and no multiprocess collector is needed.

Each run owns its `CollectorRegistry` rather than the global default one, so
repeated runs in one process (tests, the demo) never share or clash on state.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from ordergen.domain.results import BUY, SELL
from ordergen.optimize.problem import Status

# Log-spaced from 10 µs (fast-path portfolios) to 30 s (the MILP time limit).
SOLVE_BUCKETS = (
    1e-5,
    3e-5,
    1e-4,
    3e-4,
    1e-3,
    3e-3,
    0.01,
    0.03,
    0.1,
    0.3,
    1.0,
    3.0,
    10.0,
    30.0,
)


class RunMetrics:
    """Prometheus metrics for one run, on its own CollectorRegistry (never the global one).

    Parameters
    ----------
    registry
        Where to register the metrics; a fresh registry when None.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._run = Info("ordergen_run", "The run being executed.", registry=self.registry)
        self._portfolios = Counter(
            "ordergen_portfolios_total",
            "Portfolios rebalanced, by outcome.",
            ["status"],
            registry=self.registry,
        )
        self._solve_seconds = Histogram(
            "ordergen_solve_seconds",
            "Seconds to rebalance one portfolio.",
            buckets=SOLVE_BUCKETS,
            registry=self.registry,
        )
        self._orders = Counter(
            "ordergen_orders_total", "Orders generated, by side.", ["side"], registry=self.registry
        )
        self._input_load = Gauge(
            "ordergen_input_load_seconds",
            "Seconds spent loading inputs in this run, by source.",
            ["source"],
            registry=self.registry,
        )
        # Created unregistered: they describe a finished run, so they appear
        # only once it finishes (see finish_run).
        self._duration = Gauge("ordergen_run_duration_seconds", "Run wall time.", registry=None)
        self._succeeded = Gauge(
            "ordergen_run_succeeded", "1 if the run succeeded, else 0.", registry=None
        )
        self._last_success = Gauge(
            "ordergen_last_success_timestamp_seconds",
            "Unix time at which the run succeeded.",
            registry=None,
        )
        self._shown: set[Gauge] = set()
        # Dashboards and rate() see every series from the first scrape. The labelled
        # series are kept: looking one up by label costs more than counting in it.
        self._portfolios_by_status = {
            status.value: self._portfolios.labels(status=status.value) for status in Status
        }
        self._orders_by_side = {side: self._orders.labels(side=side) for side in (BUY, SELL)}

    def set_run_info(self, *, run_id: str, model: str, method: str, version: str) -> None:
        """Describe the run as labels of the `ordergen_run_info` series."""
        self._run.info({"run_id": run_id, "model": model, "method": method, "version": version})

    def observe_portfolio(self, status: str, solve_seconds: float) -> None:
        """Count one portfolio's outcome and record how long it took to solve."""
        series = self._portfolios_by_status.get(status)
        if series is None:  # a status of a run's own (within-bands)
            series = self._portfolios_by_status[status] = self._portfolios.labels(status=status)
        series.inc()
        self._solve_seconds.observe(solve_seconds)

    def add_orders(self, side: str, count: int) -> None:
        """Count `count` orders on `side` (BUY or SELL)."""
        self._orders_by_side[side].inc(count)

    def observe_input_load(self, source: str, seconds: float) -> None:
        """Add `seconds` to the time spent loading inputs from `source` (e.g. mongo, pricing)."""
        self._input_load.labels(source=source).inc(seconds)

    def finish_run(self, *, duration_seconds: float, succeeded: bool) -> None:
        """Record the run's outcome.

        The last-success timestamp is registered only when the run succeeded,
        so a failed run pushed with `push_run_metrics` leaves the previous
        success time in the Pushgateway instead of overwriting it.
        """
        self._duration.set(duration_seconds)
        self._succeeded.set(1 if succeeded else 0)
        self._show(self._duration)
        self._show(self._succeeded)
        if succeeded:
            self._last_success.set_to_current_time()
            self._show(self._last_success)

    def _show(self, gauge: Gauge) -> None:
        """Register `gauge` on the run's registry the first time it has a value."""
        if gauge not in self._shown:
            self.registry.register(gauge)
            self._shown.add(gauge)
