"""Observability for a run: Prometheus metrics, health probes, structured logs, Pushgateway."""
