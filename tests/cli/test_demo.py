"""End to end: the README's main command, as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

from ordergen.demo import CLOSED_ACCOUNT, SMALL_ACCOUNT


def test_demo_writes_inputs_and_orders_and_prints_a_summary(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ordergen", "demo", "--dir", str(tmp_path / "demo"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["portfolios"] == 300
    # Without a policy every account is traded back to target but the two built not to be.
    assert summary["byStatus"] == {"ok": 298, "infeasible": 1, "error": 0, "empty": 1}
    assert "worst drift before" in completed.stderr
    orders = json.loads((tmp_path / "demo" / "orders.json").read_text())
    assert len(orders["portfolios"]) == 300
    assert sum(len(p["orders"]) for p in orders["portfolios"]) == summary["orders"]
    # And the run's report, which it names (tests/report/test_report_browser.py opens it).
    assert "report written to" in completed.stderr
    for name in ("report.html", "report-desk-policy.html"):
        assert (tmp_path / "demo" / name).stat().st_size > 500_000  # the charts' runtime inline
    for name in ("model.json", "positions.json", "prices.json"):
        assert (tmp_path / "demo" / name).is_file()
    # Beside it, the same portfolios under the desk policy, in its own files.
    assert "desk policy" in completed.stderr and "portfolios traded" in completed.stderr
    desk = json.loads((tmp_path / "demo" / "orders-desk-policy.json").read_text())
    assert (desk["policy"]["trigger"], desk["policy"]["innerBand"]) == ("outside-bands", "0.875")
    assert 0 < desk["summary"]["orders"] < summary["orders"]
    # A scheduled run's story: most portfolios are still within their bands and left alone.
    assert desk["summary"]["byStatus"]["within-bands"] > 200
    model = json.loads((tmp_path / "demo" / "model.json").read_text())
    statuses = {p["portfolioId"]: p["status"] for p in desk["portfolios"]}
    assert statuses[model["portfolios"][SMALL_ACCOUNT]] == "infeasible"
    assert statuses[model["portfolios"][CLOSED_ACCOUNT]] == "empty"
    # Each table is followed by the portfolios needing attention, with their reasons.
    small_account = model["portfolios"][SMALL_ACCOUNT]
    for heading in ("1 portfolio needs attention:", "needs attention under the desk policy:"):
        listing = completed.stderr.split(heading)[1]
        assert listing.split()[:2] == [small_account, "infeasible:"]
    # The JSON summary is the contract it was: counts, not the list.
    assert set(summary) == {
        *("runId", "model", "output", "seconds", "portfolios", "byStatus", "orders"),
        *("buyOrders", "sellOrders", "turnover", "worstDriftBefore", "worstDriftAfter"),
        *("missingPortfolios", "unmodelledPortfolios", "failedServices", "peakMemoryMiB"),
    }
    assert all("policy" in p for p in desk["portfolios"])
    assert "HiGHS" not in completed.stderr + completed.stdout
