"""The benchmark's policy rows are produced, and the answers they time pass its exact checks
(speed is measured by `python -m benchmarks.run`, never asserted here)."""

from pathlib import Path

from benchmarks import policies
from benchmarks.run import build


def test_policy_rows_time_answers_that_keep_bands_and_the_cash_floor(tmp_path: Path) -> None:
    inst = build(tmp_path, portfolios=60, securities=12, seed=3)
    batch = policies.bench_policy_batch(inst)
    assert batch.portfolios == len(inst.holdings)
    assert sum(batch.decided_by.values()) == batch.portfolios
    assert batch.checked.answers > 0
    assert (batch.checked.band_breaking, batch.checked.overspending) == (0, 0)

    binding = policies.bench_floor_binding(inst, list(range(len(inst.holdings))))
    assert binding.latencies, "a 10% withdrawal makes the cash floor bind somewhere"
    assert binding.errors == 0
    assert all(left >= 0 for left in binding.left_under_floor)
    assert (binding.checked.band_breaking, binding.checked.overspending) == (0, 0)

    rows = policies.table_rows(batch, binding)
    assert [len(row) for row in rows] == [7, 7]
