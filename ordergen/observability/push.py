"""Push a finished run's metrics to a Prometheus Pushgateway, best effort."""

from prometheus_client import CollectorRegistry, pushadd_to_gateway

from ordergen.observability.logs import get_logger

_log = get_logger(__name__)


def push_run_metrics(
    url: str,
    registry: CollectorRegistry,
    *,
    job: str,
    grouping_key: dict[str, str],
    timeout_seconds: float = 5.0,
) -> bool:
    """Push `registry` to the Pushgateway at `url`; False (and a warning) if that fails.

    It POSTs (pushadd), which replaces only the metric names pushed. A failed
    run has no ``ordergen_last_success_timestamp_seconds`` in its registry, so
    the previous success time in the same group survives it.

    Parameters
    ----------
    url
        The Pushgateway, ``host:port`` or ``http(s)://host:port``.
    registry
        The run's metrics.
    job
        The ``job`` label of the pushed group.
    grouping_key
        Further labels identifying the group (e.g. the model). A per-run value
        such as the run id would leave one stale group behind per run.
    timeout_seconds
        Give up on a slow Pushgateway after this long.

    Returns
    -------
    bool
        True if the Pushgateway accepted the metrics.
    """
    try:
        pushadd_to_gateway(
            url, job=job, registry=registry, grouping_key=grouping_key, timeout=timeout_seconds
        )
    # Any failure, even an unexpected one: the run has already finished, and
    # losing its metrics must not turn it into a failure.
    except Exception as exc:
        _log.warning("metrics_push_failed", url=url, job=job, error=f"{type(exc).__name__}: {exc}")
        return False
    return True
