"""Counts of approvals, rejections and sends: a log line each, and Prometheus counters
pushed to the Pushgateway (when one is configured) under the `ordergen-approvals` job.
"""

from prometheus_client import CollectorRegistry, Counter

from ordergen.observability.logs import get_logger
from ordergen.observability.push import push_run_metrics

_log = get_logger(__name__)
JOB = "ordergen-approvals"


class DecisionMetrics:
    """One command's decisions: orders approved, rejected, sent (by outcome), resolved."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._orders = Counter(
            "ordergen_approval_orders_total",
            "Orders approved, rejected, sent or resolved, by action.",
            ["action"],
            registry=self.registry,
        )
        self._sent = Counter(
            "ordergen_sent_orders_total",
            "Orders posted by `runs send`, by outcome.",
            ["outcome"],
            registry=self.registry,
        )

    def count(self, action: str, run_id: str, by: str, orders: int, **details: object) -> None:
        """Count `orders` under `action` and log one line saying so."""
        self._orders.labels(action=action).inc(orders)
        _log.info(f"run_{action}", run_id=run_id, by=by, orders=orders, **details)

    def count_sent(self, outcomes: dict[str, int]) -> None:
        for outcome, orders in outcomes.items():
            self._sent.labels(outcome=outcome).inc(orders)

    def push(self, url: str | None, model: str) -> None:
        """Push to the Pushgateway at `url`, if there is one (best effort)."""
        if url:
            push_run_metrics(url, self.registry, job=JOB, grouping_key={"model": model})
