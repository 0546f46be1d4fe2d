"""GlobeCo services: positions, tickers and prices in; orders out to the order service.

The only package that speaks HTTP (httpx stays out of the domain and the optimiser).
Every service gets one client per run with its own timeout, retries with exponential
backoff and jitter, and a circuit breaker (`client.ServiceClient`).
"""
