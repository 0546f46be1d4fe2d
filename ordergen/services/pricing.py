"""Pricing service: each needed ticker's close, fetched once per run.

The service samples a new random price on every request, so a ticker asked twice
would get two prices: one bulk call, then single calls only for what it lacked.
"""

from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ordergen.domain.values import parse_price
from ordergen.errors import InputError, ServiceError
from ordergen.services.client import ServiceClient, status_in

SERVICE = "pricing"


@dataclass
class PriceLookup:
    """Closes by ticker; the tickers the service has no price for; the failed ones."""

    closes: dict[str, Decimal] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    """Ticker -> "no price for ticker X"."""
    failures: dict[str, str] = field(default_factory=dict)
    """Ticker -> the pricing failure (outage, malformed answer) that left it unpriced."""

    @property
    def failure(self) -> str | None:
        """The first failure, if any."""
        return next(iter(self.failures.values()), None)


def _take(lookup: PriceLookup, ticker: str, item: Any, where: str) -> None:
    """The item's close as the ticker's price; a missing or bad close is its failure."""
    try:
        if not isinstance(item, Mapping):
            raise InputError("price", item, "is not an object with a close")
        if "close" not in item:
            raise InputError("close", None, "is missing")
        lookup.closes[ticker] = parse_price(item["close"], "close")
    except InputError as exc:
        lookup.failures[ticker] = str(
            ServiceError(SERVICE, f"{where}: malformed price for {ticker}: {exc}")
        )


def _latest(items: Any, wanted: Collection[str]) -> dict[str, Mapping[str, Any]]:
    """The newest bulk entry (by ISO `date`) for each wanted ticker."""
    if not isinstance(items, list):
        raise ServiceError(SERVICE, "GET /api/v1/prices: malformed answer: expected a list")
    latest: dict[str, Mapping[str, Any]] = {}
    for item in items:
        ticker = item.get("ticker") if isinstance(item, Mapping) else None
        # A ticker of the wrong type (a list is not even hashable) matches nothing wanted.
        if not isinstance(ticker, str) or ticker not in wanted:
            continue
        if ticker not in latest or str(item.get("date", "")) > str(latest[ticker].get("date", "")):
            latest[ticker] = item
    return latest


def _single(client: ServiceClient, lookup: PriceLookup, ticker: str) -> None:
    path = f"/api/v1/price/{quote(ticker, safe='')}"
    try:
        answer = client.get(path, accept=status_in(200, 404))
    except ServiceError as exc:
        lookup.failures[ticker] = str(exc)
        return
    if answer.status == 404:
        lookup.missing[ticker] = f"no price for ticker {ticker}"
        return
    _take(lookup, ticker, answer.body, f"GET {path}")


def fetch_closes(client: ServiceClient, tickers: Collection[str]) -> PriceLookup:
    """The close of each ticker: one bulk `GET /api/v1/prices`, then singles for the rest.

    Parameters
    ----------
    client
        The run's pricing client.
    tickers
        The tickers to price (each is requested at most once).

    Returns
    -------
    PriceLookup
        A close for each ticker priced; for the others, why not ("no price for
        ticker X", or the failure). A failed bulk call fails every ticker: asking
        each one separately would only hammer a service already failing.
    """
    wanted = set(tickers)
    lookup = PriceLookup()
    if not wanted:
        return lookup
    try:
        latest = _latest(client.get("/api/v1/prices").body, wanted)
    except ServiceError as exc:
        lookup.failures = dict.fromkeys(sorted(wanted), str(exc))
        return lookup
    for ticker, item in latest.items():
        _take(lookup, ticker, item, "GET /api/v1/prices")
    missing = sorted(wanted - set(latest))
    with ThreadPoolExecutor(client.parallel, thread_name_prefix=SERVICE) as pool:
        # Each call writes its own ticker's entries, so the dicts need no lock.
        list(pool.map(lambda ticker: _single(client, lookup, ticker), missing))
    return lookup
