"""A run's inputs from the GlobeCo services: holdings, tickers and prices, and a snapshot.

Which services are needed: Portfolio Accounting always; the security and pricing
services only for securities that matter (model securities plus those held by the
loaded portfolios) and have no price from an earlier attempt of the run.
"""

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ordergen.domain.holdings import Holdings, market_value
from ordergen.domain.model import InvestmentModel, model_to_document
from ordergen.domain.values import decimal_text
from ordergen.errors import InputError, ServiceError
from ordergen.io.inputs_out import write_inputs
from ordergen.services import accounting, pricing, securities
from ordergen.services.client import ServiceClient
from ordergen.services.options import ServiceOptions
from ordergen.settings import Settings


@dataclass(frozen=True)
class ServiceInputs:
    """What the services said, ready for `batch.rebalance`."""

    holdings: list[Holdings]
    """One per requested portfolio id, same order; failures carry `load_error`."""
    prices: dict[str, Decimal]
    """Security id -> close price, each fetched once per run (or reused)."""
    tickers: dict[str, str]
    """Security id -> ticker, for the securities that had to be priced."""
    unpriced: dict[str, str]
    """Security id -> why it has no price ("no ticker", "no price for ticker X", a failure)."""
    failed_services: dict[str, str]
    """Service name -> its first failure message."""
    load_seconds: dict[str, float]
    """Wall seconds per source: "portfolio-accounting", "security", "pricing" (0 if unused)."""
    summaries: list[dict[str, Any]]
    """The holdings loaded, in the positions-file JSON shape (portfolios with a record)."""


def summary_document(holdings: Holdings) -> dict[str, Any]:
    """`holdings` as a portfolio-accounting summary, the positions-file shape."""
    return {
        "portfolioId": holdings.portfolio_id,
        "cashBalance": decimal_text(holdings.cash),
        "securities": [
            {"securityId": security_id, "netQuantity": quantity}
            for security_id, quantity in holdings.quantities.items()
        ],
    }


def needed_securities(model: InvestmentModel, holdings: Sequence[Holdings]) -> list[str]:
    """Model securities (model order), then securities held (non-zero) by `holdings`, sorted."""
    needed = list(model.security_ids)
    held = {sid for item in holdings for sid, units in item.quantities.items() if units}
    return needed + sorted(held - set(needed))


class _Loader:
    """One `load_service_inputs` call: its clients' settings and what went wrong."""

    def __init__(self, settings: Settings, options: ServiceOptions) -> None:
        self.settings = settings
        self.options = options
        self.failed: dict[str, str] = {}
        self.seconds = {accounting.SERVICE: 0.0, securities.SERVICE: 0.0, pricing.SERVICE: 0.0}

    def client(self, service: str, url: str) -> ServiceClient:
        return ServiceClient(service, url, self.options)

    def holdings(self, portfolio_ids: Sequence[str]) -> list[Holdings]:
        started = time.perf_counter()
        url = self.settings.portfolio_accounting_service_url
        with self.client(accounting.SERVICE, url) as client:
            loaded = accounting.fetch_holdings(client, portfolio_ids)
        self.seconds[accounting.SERVICE] = time.perf_counter() - started
        for item in loaded:
            if item.load_error is not None:
                self.failed.setdefault(accounting.SERVICE, item.load_error)
        return loaded

    def tickers(self) -> dict[str, str] | None:
        """Every ticker, or None (recorded) if the security service failed."""
        started = time.perf_counter()
        try:
            with self.client(securities.SERVICE, self.settings.security_service_url) as client:
                return securities.fetch_tickers(client)
        except ServiceError as exc:
            self.failed.setdefault(securities.SERVICE, str(exc))
            return None
        finally:
            self.seconds[securities.SERVICE] = time.perf_counter() - started

    def closes(self, tickers: set[str]) -> pricing.PriceLookup:
        started = time.perf_counter()
        with self.client(pricing.SERVICE, self.settings.pricing_service_url) as client:
            lookup = pricing.fetch_closes(client, tickers)
        self.seconds[pricing.SERVICE] = time.perf_counter() - started
        if lookup.failure is not None:
            self.failed.setdefault(pricing.SERVICE, lookup.failure)
        return lookup


def _fail_portfolios_needing(
    model: InvestmentModel, holdings: list[Holdings], outages: Mapping[str, str]
) -> list[Holdings]:
    """Portfolios needing a security a failed service could not price get that failure.

    So they are reported as `error` naming the service that is down, rather than an
    unpriced security whose price may well exist.
    """
    if not outages:
        return holdings
    result: list[Holdings] = []
    for item in holdings:
        sid = next((s for s in needed_securities(model, [item]) if s in outages), None)
        if item.load_error is None and sid is not None:
            result.append(dataclasses.replace(item, load_error=outages[sid]))
        else:
            result.append(item)
    return result


def _fail_out_of_range(
    holdings: list[Holdings], prices: Mapping[str, Decimal]
) -> tuple[list[Holdings], set[str]]:
    """Portfolios whose market value, or a holding's value, is out of range get that error.

    Every value in the answers was checked on its own; this checks them together
    (quantity x price, and the sum) before any portfolio is solved, so such a
    portfolio is an `error` naming both services rather than a run that stops
    half-way. Portfolios holding an unpriced security are left to the batch, which
    names the security. Returns the holdings and the ids that failed.
    """
    result: list[Holdings] = []
    failed: set[str] = set()
    for item in holdings:
        priced = all(sid in prices for sid, units in item.quantities.items() if units)
        if item.load_error is None and item.has_record and priced:
            try:
                market_value(item, prices)
            except InputError as exc:
                reason = f"{accounting.SERVICE} and {pricing.SERVICE}: {exc}"
                result.append(dataclasses.replace(item, load_error=reason))
                failed.add(item.portfolio_id)
                continue
        result.append(item)
    return result, failed


def load_service_inputs(
    settings: Settings,
    model: InvestmentModel,
    portfolio_ids: Sequence[str],
    *,
    known_prices: Mapping[str, Decimal] | None = None,
    options: ServiceOptions | None = None,
) -> ServiceInputs:
    """Load a run's holdings and prices from the GlobeCo services.

    One summary request per portfolio (at most `max_parallel_rebalances` at once),
    then, for the securities that matter and are not in `known_prices`, one bulk
    ticker request, one bulk price request and single price requests only for
    tickers the bulk answer lacked. Each price is fetched once and used for every
    portfolio.

    Parameters
    ----------
    settings
        Service URLs and resilience settings.
    model
        The model being rebalanced: its securities are always priced.
    portfolio_ids
        The portfolios to load (the model's, or one shard of them).
    known_prices
        Prices recorded by an earlier attempt of the same run id: reused, not fetched.
    options
        Client behaviour; `ServiceOptions.from_settings(settings)` by default.

    Returns
    -------
    ServiceInputs
        Never raises for a service failure: a portfolio whose summary failed or
        broke the contract (a required field missing, a value of the wrong type or
        out of range), that needs a security a failed service could not price, or
        whose market value is out of range, gets `load_error` naming the service
        (and the field), and `failed_services` names every service that failed.
        Other portfolios are unaffected.
    """
    loader = _Loader(settings, options or ServiceOptions.from_settings(settings))
    loaded = loader.holdings(portfolio_ids)
    known = known_prices or {}
    needed = needed_securities(model, loaded)
    prices = {sid: known[sid] for sid in needed if sid in known}
    to_price = [sid for sid in needed if sid not in prices]
    unpriced: dict[str, str] = {}
    outages: dict[str, str] = {}
    tickers: dict[str, str] = {}
    if to_price:
        every_ticker = loader.tickers()
        if every_ticker is None:
            outages = dict.fromkeys(to_price, loader.failed[securities.SERVICE])
        else:
            tickers = {sid: every_ticker[sid] for sid in to_price if sid in every_ticker}
            unpriced = {sid: "no ticker" for sid in to_price if sid not in every_ticker}
            lookup = loader.closes(set(tickers.values()))
            for sid, ticker in tickers.items():
                if ticker in lookup.closes:
                    prices[sid] = lookup.closes[ticker]
                elif ticker in lookup.failures:
                    outages[sid] = lookup.failures[ticker]
                else:
                    unpriced[sid] = lookup.missing[ticker]
    unpriced.update(outages)
    checked, out_of_range = _fail_out_of_range(
        _fail_portfolios_needing(model, loaded, outages), prices
    )
    return ServiceInputs(
        holdings=checked,
        prices=prices,
        tickers=tickers,
        unpriced={sid: unpriced[sid] for sid in needed if sid in unpriced},
        failed_services=loader.failed,
        load_seconds=loader.seconds,
        summaries=[
            summary_document(item)
            for item in loaded
            if item.has_record and not item.load_error and item.portfolio_id not in out_of_range
        ],
    )


def write_snapshot(
    directory: Path, model: InvestmentModel, inputs: ServiceInputs
) -> tuple[Path, Path, Path]:
    """Write model.json, positions.json and prices.json: what the run used.

    `ordergen rebalance --model-file D/model.json --positions D/positions.json
    --prices D/prices.json` then replays the run. Portfolios with no balance record,
    or whose summary failed, are absent from positions.json (the file format has no
    way to say why), and unpriced securities are absent from prices.json.

    Returns
    -------
    tuple of Path
        The three files' paths.
    """
    prices = {sid: decimal_text(price) for sid, price in sorted(inputs.prices.items())}
    return write_inputs(directory, model_to_document(model), inputs.summaries, prices)
