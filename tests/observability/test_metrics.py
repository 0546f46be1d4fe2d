"""RunMetrics: series present from the start, values as recorded, finish semantics."""

import time

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from ordergen.observability.metrics import SOLVE_BUCKETS, RunMetrics


def test_every_status_and_side_is_exposed_at_zero_before_any_result() -> None:
    metrics = RunMetrics()
    for status in ("ok", "infeasible", "error", "empty"):
        assert (
            metrics.registry.get_sample_value("ordergen_portfolios_total", {"status": status}) == 0
        )
    for side in ("BUY", "SELL"):
        assert metrics.registry.get_sample_value("ordergen_orders_total", {"side": side}) == 0


def test_runs_own_registries_and_never_touch_the_global_one() -> None:
    first, second = RunMetrics(), RunMetrics()
    first.observe_portfolio("ok", 0.01)
    assert first.registry is not second.registry
    assert second.registry.get_sample_value("ordergen_portfolios_total", {"status": "ok"}) == 0
    assert REGISTRY.get_sample_value("ordergen_portfolios_total", {"status": "ok"}) is None


def test_a_given_registry_is_used() -> None:
    registry = CollectorRegistry()
    RunMetrics(registry).add_orders("SELL", 4)
    assert registry.get_sample_value("ordergen_orders_total", {"side": "SELL"}) == 4


def test_portfolios_orders_and_solve_times_add_up() -> None:
    metrics = RunMetrics()
    observed = [("ok", 2e-5), ("ok", 0.004), ("infeasible", 29.0), ("error", 0.0), ("ok", 45.0)]
    for status, seconds in observed:
        metrics.observe_portfolio(status, seconds)
    metrics.add_orders("BUY", 3)
    metrics.add_orders("BUY", 2)
    metrics.add_orders("SELL", 1)

    value = metrics.registry.get_sample_value
    assert value("ordergen_portfolios_total", {"status": "ok"}) == 3
    assert value("ordergen_portfolios_total", {"status": "infeasible"}) == 1
    assert value("ordergen_portfolios_total", {"status": "empty"}) == 0
    assert value("ordergen_orders_total", {"side": "BUY"}) == 5
    assert value("ordergen_orders_total", {"side": "SELL"}) == 1
    assert value("ordergen_solve_seconds_count") == len(observed)
    assert value("ordergen_solve_seconds_sum") == pytest.approx(sum(s for _, s in observed))
    for bound in SOLVE_BUCKETS:
        expected = sum(1 for _, s in observed if s <= bound)
        assert value("ordergen_solve_seconds_bucket", {"le": str(bound)}) == expected


def test_solve_buckets_span_ten_microseconds_to_thirty_seconds() -> None:
    assert min(SOLVE_BUCKETS) == 1e-5 and max(SOLVE_BUCKETS) == 30.0
    assert list(SOLVE_BUCKETS) == sorted(set(SOLVE_BUCKETS))


def test_input_load_time_accumulates_per_source() -> None:
    metrics = RunMetrics()
    metrics.observe_input_load("pricing", 0.25)
    metrics.observe_input_load("pricing", 0.5)
    metrics.observe_input_load("mongo", 1.5)
    value = metrics.registry.get_sample_value
    assert value("ordergen_input_load_seconds", {"source": "pricing"}) == 0.75
    assert value("ordergen_input_load_seconds", {"source": "mongo"}) == 1.5


def test_run_info_labels() -> None:
    metrics = RunMetrics()
    metrics.set_run_info(run_id="r-7", model="GROWTH", method="auto", version="1.2.3")
    labels = {"run_id": "r-7", "model": "GROWTH", "method": "auto", "version": "1.2.3"}
    assert metrics.registry.get_sample_value("ordergen_run_info", labels) == 1


def test_outcome_metrics_appear_only_once_the_run_finishes() -> None:
    metrics = RunMetrics()
    value = metrics.registry.get_sample_value
    assert value("ordergen_run_succeeded") is None
    assert value("ordergen_run_duration_seconds") is None
    before = time.time()
    metrics.finish_run(duration_seconds=12.5, succeeded=True)
    after = time.time()
    assert value("ordergen_run_succeeded") == 1
    assert value("ordergen_run_duration_seconds") == 12.5
    last_success = value("ordergen_last_success_timestamp_seconds")
    assert last_success is not None and before <= last_success <= after


def test_a_failed_run_has_no_last_success_time() -> None:
    metrics = RunMetrics()
    metrics.finish_run(duration_seconds=3.0, succeeded=False)
    value = metrics.registry.get_sample_value
    assert value("ordergen_run_succeeded") == 0
    assert value("ordergen_run_duration_seconds") == 3.0
    assert value("ordergen_last_success_timestamp_seconds") is None


def test_finishing_again_overwrites_without_duplicate_registration() -> None:
    metrics = RunMetrics()
    metrics.finish_run(duration_seconds=1.0, succeeded=True)
    metrics.finish_run(duration_seconds=2.0, succeeded=False)
    metrics.finish_run(duration_seconds=3.0, succeeded=True)
    value = metrics.registry.get_sample_value
    assert value("ordergen_run_succeeded") == 1
    assert value("ordergen_run_duration_seconds") == 3.0


def test_within_bands_portfolios_are_counted_once_they_occur() -> None:
    metrics = RunMetrics()
    assert (
        metrics.registry.get_sample_value("ordergen_portfolios_total", {"status": "within-bands"})
        is None
    )  # a run without policies exposes exactly the series it did
    metrics.observe_portfolio("within-bands", 1e-5)
    metrics.observe_portfolio("within-bands", 1e-5)
    assert (
        metrics.registry.get_sample_value("ordergen_portfolios_total", {"status": "within-bands"})
        == 2
    )
