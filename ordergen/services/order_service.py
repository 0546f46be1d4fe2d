"""The order service over HTTP: orders mapped to its payload, posted, answers read item by item.

No database here: callers pass order documents in and get an `Outcome` per order back.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ordergen.domain.results import BUY, SELL
from ordergen.errors import ServiceError
from ordergen.services.client import (
    Answer,
    OutcomeUnknownError,
    RejectedError,
    ServiceClient,
    one_line,
    status_in,
)
from ordergen.store.orders import ACCEPTED, FAILED, REJECTED, SUBMITTING
from ordergen.store.submissions import Outcome

SERVICE = "order-service"
ORDERS_PATH = "/api/v1/orders"
ORDER_TYPES = {BUY: 1, SELL: 2}
STATUS_NEW = 1
BLOTTER = 1


def order_payload(order: Mapping[str, Any]) -> dict[str, Any]:
    """An order document (as `MongoResultSink` stores it) in the order service's shape.

    `limitPrice` is the decimal string the price was stored as (GlobeCo decimals
    travel as strings, so no digit is lost); `orderTimestamp` is when the order was
    generated, so a re-sent order carries the same time.
    """
    created: datetime = order["createdAt"]
    if created.tzinfo is None:  # stored as UTC; a client without tz_aware reads naive
        created = created.replace(tzinfo=UTC)
    return {
        "blotterId": BLOTTER,
        "statusId": STATUS_NEW,
        "portfolioId": order["portfolioId"],
        "orderTypeId": ORDER_TYPES[order["side"]],
        "securityId": order["securityId"],
        "quantity": int(order["quantity"]),
        "limitPrice": str(order["price"]),
        "tradeOrderId": None,
        "orderTimestamp": created.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "version": 1,
    }


def _message(answer: Answer) -> str:
    """The `message` of an error answer's JSON body, else its text, on one line."""
    try:
        body = json.loads(answer.text)
    except json.JSONDecodeError:
        body = None
    text = body.get("message") if isinstance(body, Mapping) else None
    return one_line(str(text) if text else answer.text)


def _item_outcomes(answer: Answer, count: int) -> list[Outcome]:
    """Per-order outcomes of a 200 or 207, by `requestIndex`.

    An item's own status wins. Without one, a 200 means accepted; a 207 that leaves
    an order out says nothing about it, so it stays in doubt.
    """
    items = answer.body.get("orders") if isinstance(answer.body, Mapping) else None
    by_index = {
        item["requestIndex"]: item
        for item in items or []
        if isinstance(item, Mapping) and isinstance(item.get("requestIndex"), int)
    }
    unknown = Outcome(SUBMITTING, f"{SERVICE}: HTTP 207 without a result for this order")
    outcomes = []
    for index in range(count):
        item = by_index.get(index)
        status = str(item.get("status", "")).upper() if item is not None else ""
        order_id = item.get("orderId") if item is not None else None
        order_id = order_id if isinstance(order_id, int) else None
        if status == "SUCCESS" or (not status and answer.status == 200):
            outcomes.append(Outcome(ACCEPTED, order_id=order_id))
        elif status:
            message = one_line(str(item.get("message", "")) if item is not None else "")
            outcomes.append(Outcome(REJECTED, f"{SERVICE}: {status}: {message}"))
        else:
            outcomes.append(unknown)
    return outcomes


def post_orders(client: ServiceClient, payloads: Sequence[Mapping[str, Any]]) -> list[Outcome]:
    """POST one batch (at most 1000); one `Outcome` per payload, in order.

    Parameters
    ----------
    client
        The run's order-service client.
    payloads
        Orders in the service's shape (`order_payload`).

    Returns
    -------
    list of Outcome
        `accepted` (with the order id when the answer gives one); `rejected` for a
        400, an item that failed in a 207, or a single order still too large for a
        413 (a larger batch is split in halves and each half posted); `failed` when
        the service was not reached (down, 503 after the retries, breaker open);
        `submitting` (in doubt) when the answer was lost or was another 5xx.
    """
    count = len(payloads)
    try:
        answer = client.request(
            "POST",
            ORDERS_PATH,
            payload=list(payloads),
            accept=status_in(200, 207, 400, 413),
            idempotent=False,
        )
    except OutcomeUnknownError as exc:
        return [Outcome(SUBMITTING, str(exc))] * count
    except RejectedError as exc:  # another 4xx: the service refused the whole request
        return [Outcome(REJECTED, str(exc))] * count
    except ServiceError as exc:
        return [Outcome(FAILED, str(exc))] * count
    if answer.status == 413 and count > 1:
        half = count // 2
        return post_orders(client, payloads[:half]) + post_orders(client, payloads[half:])
    if answer.status in (400, 413):
        message = f"{SERVICE}: HTTP {answer.status}: {_message(answer)}"
        return [Outcome(REJECTED, message)] * count
    return _item_outcomes(answer, count)
