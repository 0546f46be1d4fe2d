"""Approvals, rejections and sends are counted: Prometheus counters and one log line each."""

import pytest

from ordergen.observability.decisions import DecisionMetrics
from ordergen.observability.logs import configure_logging


def test_decisions_are_counted_and_logged(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    metrics = DecisionMetrics()
    metrics.count("approve", "r1", "alice", 12)
    metrics.count("approve", "r1", "carol", 3)
    metrics.count("reject", "r1", "bob", 2, reason="cash call")
    metrics.count_sent({"accepted": 14, "rejected": 1, "failed": 0})
    value = metrics.registry.get_sample_value
    assert value("ordergen_approval_orders_total", {"action": "approve"}) == 15
    assert value("ordergen_approval_orders_total", {"action": "reject"}) == 2
    assert value("ordergen_sent_orders_total", {"outcome": "accepted"}) == 14
    assert value("ordergen_sent_orders_total", {"outcome": "rejected"}) == 1
    lines = capsys.readouterr().err.splitlines()
    assert sum('"event": "run_approve"' in line for line in lines) == 2
    assert any('"reason": "cash call"' in line and '"by": "bob"' in line for line in lines)
