"""Security service: the id -> ticker map, in one bulk call per run."""

from collections.abc import Mapping
from typing import Any

from ordergen.errors import ServiceError, shown_value
from ordergen.services.client import RejectedError, ServiceClient

SERVICE = "security"
PAGE_LIMIT = 1000  # the v2 API's largest page


def _add_tickers(tickers: dict[str, str], items: Any, where: str) -> None:
    if not isinstance(items, list):
        raise ServiceError(SERVICE, f"{where}: malformed answer: expected a list of securities")
    for index, item in enumerate(items):
        security_id = item.get("securityId") if isinstance(item, Mapping) else None
        ticker = item.get("ticker") if isinstance(item, Mapping) else None
        if not isinstance(security_id, str) or not isinstance(ticker, str) or not ticker:
            raise ServiceError(
                SERVICE,
                f"{where}: malformed security [{index}]: {shown_value(item)} "
                "needs a securityId and a ticker, both text",
            )
        tickers[security_id] = ticker


def _paged_tickers(client: ServiceClient) -> dict[str, str]:
    """Every ticker from the paged v2 API, for a service without the v1 bulk list."""
    tickers: dict[str, str] = {}
    offset = 0
    while True:
        where = f"GET /api/v2/securities offset {offset}"
        body = client.get("/api/v2/securities", params={"limit": PAGE_LIMIT, "offset": offset}).body
        page = body.get("securities") if isinstance(body, Mapping) else None
        _add_tickers(tickers, page, where)
        pagination = body.get("pagination") if isinstance(body, Mapping) else None
        has_next = pagination.get("hasNext") if isinstance(pagination, Mapping) else None
        # An empty page ends it too, so a wrong hasNext cannot loop forever.
        if has_next is not True or not page:
            return tickers
        offset += len(page)


def fetch_tickers(client: ServiceClient) -> dict[str, str]:
    """Ticker by security id for every security the service knows.

    One `GET /api/v1/securities`; if the service refuses it (4xx), the paged
    `GET /api/v2/securities` instead, 1000 per page.

    Raises
    ------
    ServiceError
        The service failed or answered something malformed.
    """
    try:
        answer = client.get("/api/v1/securities")
    except RejectedError:
        return _paged_tickers(client)
    tickers: dict[str, str] = {}
    _add_tickers(tickers, answer.body, "GET /api/v1/securities")
    return tickers
