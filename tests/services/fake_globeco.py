"""A fake GlobeCo suite on a real local HTTP server, speaking the documented shapes.

One `ThreadingHTTPServer` on 127.0.0.1 serves all five services' paths (they do not
collide). It counts the requests it gets per route, and faults can be queued per
route: a status (500, 503 with Retry-After, ...), a slow answer, malformed JSON.
The pricing routes sample a new random close on every request, as the real service
does, and remember each one served, so tests can prove a price is fetched once.
"""

import json
import random
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SUMMARY, SECURITIES, SECURITIES_V2, PRICES, PRICE, ORDERS = (
    "summary",
    "securities",
    "securities-v2",
    "prices",
    "price",
    "orders",
)
ORDER_FIELDS = {
    "blotterId",
    "statusId",
    "portfolioId",
    "orderTypeId",
    "securityId",
    "quantity",
    "limitPrice",
    "tradeOrderId",
    "orderTimestamp",
    "version",
}


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or besides) answering one request."""

    status: int | None = None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    process_first: bool = False
    """With `delay`: do the work (store orders), then stall: the answer is lost."""


@dataclass
class Reply:
    status: int
    body: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def closed_port_url() -> str:
    """A URL nothing listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeGlobeCo:
    """State and behaviour of the fake services; `url` once started."""

    def __init__(self) -> None:
        self.summaries: dict[str, dict[str, Any] | None] = {}
        """Portfolio id -> summary; None answers the "no balances found" 500."""
        self.summary_texts: dict[str, str] = {}
        """Portfolio id -> a raw 200 body served instead of its summary (contract breaches
        JSON cannot be dumped into, such as a number 1e400)."""
        self.tickers: dict[str, str] = {}
        """Security id -> ticker, what the security service knows."""
        self.v1_securities = True
        """False: `GET /api/v1/securities` is 404, so clients must page v2."""
        self.v2_page_size = 1000
        self.priced: set[str] = set()
        """Tickers the pricing service has a price for."""
        self.bulk_omits: set[str] = set()
        """Priced tickers missing from the bulk `GET /api/v1/prices` answer."""
        self.price_texts: dict[str, str] = {}
        """Ticker -> the raw JSON of its price item, served (bulk and single) instead of a
        sampled close: malformed answers."""
        self.served: defaultdict[str, list[str]] = defaultdict(list)
        """Ticker -> every close served for it, in order."""
        self.order_limit = 1000
        self.reject: dict[str, str] = {}
        """Security id -> message: such orders fail item by item (207)."""
        self.accepted: list[dict[str, Any]] = []
        self.batches: list[list[dict[str, Any]]] = []
        """Every order batch received, as sent (including refused ones)."""
        self.requests: Counter[str] = Counter()
        self.paths: list[str] = []
        self._faults: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._next_order_id = 1
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # --- test controls -------------------------------------------------------------

    def fault(self, route: str, fault: Fault, times: int = 1) -> None:
        """The next `times` requests to `route` get `fault`."""
        with self._lock:
            self._faults[route].extend([fault] * times)

    def count(self, route: str) -> int:
        with self._lock:
            return self.requests[route]

    def portfolio(self, portfolio_id: str, cash: str, **quantities: int) -> None:
        """A summary in the service's shape (decimal strings, long/short split)."""
        self.summaries[portfolio_id] = {
            "portfolioId": portfolio_id,
            "cashBalance": cash,
            "securityCount": len(quantities),
            "lastUpdated": "2026-11-24T10:00:00Z",
            "securities": [
                {
                    "securityId": sid,
                    "quantityLong": f"{max(units, 0)}.00",
                    "quantityShort": f"{min(units, 0)}.00",
                    "netQuantity": f"{units}.00",
                    "lastUpdated": "2026-11-24T10:00:00Z",
                }
                for sid, units in quantities.items()
            ],
        }

    # --- serving -------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real service would
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle and
            # delayed ACKs would add ~40 ms to every keep-alive answer.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that time out hang up on slow answers: expected here

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll interval makes `stop` (shutdown) quick.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _route(self, method: str, path: str) -> tuple[str, str]:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/api/v1/orders":
            return ORDERS, ""
        if len(parts) == 5 and parts[:3] == ["api", "v1", "portfolios"] and parts[4] == "summary":
            return SUMMARY, parts[3]
        if path == "/api/v1/securities":
            return SECURITIES, ""
        if path == "/api/v2/securities":
            return SECURITIES_V2, ""
        if path == "/api/v1/prices":
            return PRICES, ""
        if len(parts) == 4 and parts[:3] == ["api", "v1", "price"]:
            return PRICE, unquote(parts[3])
        return "unknown", ""

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        route, key = self._route(method, split.path)
        with self._lock:
            self.requests[route] += 1
            self.paths.append(f"{method} {handler.path}")
            fault = self._faults[route].popleft() if self._faults[route] else None
        if fault is not None and fault.delay and not fault.process_first:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            reply = Reply(fault.status, text=fault.body, headers=fault.headers)
        else:
            reply = self._answer(route, key, parse_qs(split.query), raw)
        if fault is not None and fault.delay and fault.process_first:
            time.sleep(fault.delay)
        text = reply.text if reply.text is not None else json.dumps(reply.body)
        data = text.encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _answer(self, route: str, key: str, query: dict[str, list[str]], raw: bytes) -> Reply:
        if route == SUMMARY:
            if key not in self.summaries and key not in self.summary_texts:
                return Reply(404, {"detail": f"portfolio {key} not found"})
            if key in self.summary_texts:
                return Reply(200, text=self.summary_texts[key])
            summary = self.summaries[key]
            if summary is None:
                return Reply(500, text=f'{{"error": "No balances found for portfolio {key}"}}')
            return Reply(200, summary)
        if route == SECURITIES:
            if not self.v1_securities:
                return Reply(404, {"detail": "Not Found"})
            return Reply(200, [self._security(sid, t) for sid, t in self.tickers.items()])
        if route == SECURITIES_V2:
            return self._securities_page(query)
        if route == PRICES:
            shown = sorted(self.priced - self.bulk_omits)
            items = [self._price_text(ticker) for ticker in shown]
            return Reply(200, text=f"[{', '.join(items)}]")
        if route == PRICE:
            if key not in self.priced:
                return Reply(404, {"detail": f"no price for {key}"})
            return Reply(200, text=self._price_text(key))
        if route == ORDERS:
            return self._orders(raw)
        return Reply(404, {"detail": "Not Found"})

    @staticmethod
    def _security(security_id: str, ticker: str) -> dict[str, Any]:
        return {
            "securityId": security_id,
            "ticker": ticker,
            "description": f"{ticker} common stock",
            "securityTypeId": "CS0000000000000000000000",
            "version": 1,
            "securityType": {"abbreviation": "CS", "description": "Common Stock"},
        }

    def _securities_page(self, query: dict[str, list[str]]) -> Reply:
        limit = min(int(query.get("limit", ["50"])[0]), self.v2_page_size)
        offset = int(query.get("offset", ["0"])[0])
        items = list(self.tickers.items())
        page = items[offset : offset + limit]
        return Reply(
            200,
            {
                "securities": [self._security(sid, t) for sid, t in page],
                "pagination": {
                    "totalElements": len(items),
                    "totalPages": -(-len(items) // limit),
                    "currentPage": offset // limit,
                    "pageSize": limit,
                    "hasNext": offset + limit < len(items),
                    "hasPrevious": offset > 0,
                },
            },
        )

    def _price_text(self, ticker: str) -> str:
        """A price item as JSON text: the raw one set for the ticker, else a sampled one."""
        if ticker in self.price_texts:
            return self.price_texts[ticker]
        return json.dumps(self._price(ticker))

    def _price(self, ticker: str) -> dict[str, Any]:
        close = f"{random.uniform(5, 500):.2f}"  # a new sample on every request
        with self._lock:
            self.served[ticker].append(close)
        return {
            "id": f"price-{ticker}",
            "ticker": ticker,
            "date": "2026-11-24",
            "open": close,
            "close": close,
            "high": close,
            "low": close,
            "volume": 1000,
        }

    def _orders(self, raw: bytes) -> Reply:
        try:
            items = json.loads(raw)
        except json.JSONDecodeError:
            return Reply(400, {"status": "FAILURE", "message": "malformed JSON", "orders": []})
        if not isinstance(items, list):
            return Reply(400, {"status": "FAILURE", "message": "expected an array", "orders": []})
        with self._lock:
            self.batches.append(items)
        if len(items) > self.order_limit:
            message = f"Batch size {len(items)} exceeds maximum allowed size of {self.order_limit}"
            return Reply(413, {"status": "FAILURE", "message": message, "orders": []})
        problem = next((p for p in map(_order_problem, items) if p), None)
        if problem:
            return Reply(400, {"status": "FAILURE", "message": problem, "orders": []})
        results = []
        for index, item in enumerate(items):
            message = self.reject.get(item["securityId"])
            if message:
                results.append(
                    {
                        "status": "FAILURE",
                        "message": message,
                        "orderId": None,
                        "requestIndex": index,
                    }
                )
                continue
            with self._lock:
                order_id = self._next_order_id
                self._next_order_id += 1
                self.accepted.append({**item, "id": order_id})
            results.append(
                {
                    "status": "SUCCESS",
                    "message": "Order created successfully",
                    "orderId": order_id,
                    "requestIndex": index,
                }
            )
        failed = sum(result["status"] == "FAILURE" for result in results)
        return Reply(
            207 if failed else 200,
            {
                "status": "PARTIAL" if failed else "SUCCESS",
                "message": f"{len(items) - failed} of {len(items)} orders processed successfully",
                "totalReceived": len(items),
                "successful": len(items) - failed,
                "failed": failed,
                "orders": results,
            },
        )


def _order_problem(item: Any) -> str:
    """Why an order item breaks the contract ("" if it does not)."""
    if not isinstance(item, dict) or set(item) - ORDER_FIELDS:
        return f"unexpected fields in {item!r}"
    checks = {
        "blotterId": item.get("blotterId") == 1,
        "statusId": item.get("statusId") == 1,
        "orderTypeId": item.get("orderTypeId") in (1, 2),
        "version": item.get("version") == 1,
        "portfolioId": isinstance(item.get("portfolioId"), str) and len(item["portfolioId"]) == 24,
        "securityId": isinstance(item.get("securityId"), str) and len(item["securityId"]) == 24,
        "quantity": type(item.get("quantity")) is int and item["quantity"] > 0,
    }
    try:
        checks["limitPrice"] = Decimal(str(item.get("limitPrice"))) > 0
        datetime.fromisoformat(str(item.get("orderTimestamp")).replace("Z", "+00:00"))
        checks["orderTimestamp"] = True
    except (InvalidOperation, ValueError):
        checks.setdefault("limitPrice", False)
        checks["orderTimestamp"] = False
    bad = [name for name, ok in checks.items() if not ok]
    return f"invalid {', '.join(bad)}" if bad else ""


def serve() -> Iterator[FakeGlobeCo]:
    """Start a fake suite, yield it, stop it (the body of the `globeco` fixture)."""
    fake = FakeGlobeCo()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
