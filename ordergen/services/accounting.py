"""Portfolio Accounting: each portfolio's summary (cash and net quantities) as `Holdings`."""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx

from ordergen.domain.holdings import Holdings
from ordergen.errors import InputError, ServiceError
from ordergen.io.files import summary_to_holdings
from ordergen.services.client import ServiceClient

SERVICE = "portfolio-accounting"
# The service answers HTTP 500 with this text for a portfolio that has no balances.
NO_BALANCES = "no balances found"


def _summary_path(portfolio_id: str) -> str:
    return f"/api/v1/portfolios/{portfolio_id}/summary"


def _answers(response: httpx.Response) -> bool:
    """A 200, or the 500 that means "no balances" (an empty portfolio, not an outage)."""
    return response.status_code == 200 or (
        response.status_code == 500 and NO_BALANCES in response.text.lower()
    )


def fetch_summary(client: ServiceClient, portfolio_id: str) -> Holdings:
    """One portfolio's holdings; a failure becomes `load_error`, never an exception.

    Parameters
    ----------
    client
        The run's Portfolio Accounting client.
    portfolio_id
        The portfolio to load.

    Returns
    -------
    Holdings
        Its cash and quantities; `has_record=False` for "no balances found"; cash 0
        and `load_error="portfolio-accounting: <reason>"` if the summary could not be
        fetched or breaks the contract: a required field missing (never read as zero
        or nothing held), a value of the wrong type or out of range (the reason
        names the field and the value).
    """
    path = _summary_path(portfolio_id)
    try:
        answer = client.get(path, accept=_answers)
        if answer.status != 200:
            return Holdings(portfolio_id, Decimal(0), {}, has_record=False)
        holdings = summary_to_holdings(answer.body, "summary")
        if holdings.portfolio_id != portfolio_id:
            raise InputError(
                "summary.portfolioId",
                holdings.portfolio_id,
                f"is not the portfolio asked for ({portfolio_id})",
            )
    except InputError as exc:
        error = ServiceError(SERVICE, f"GET {path}: malformed summary: {exc}")
        return Holdings(portfolio_id, Decimal(0), {}, load_error=str(error))
    except ServiceError as exc:
        return Holdings(portfolio_id, Decimal(0), {}, load_error=str(exc))
    return holdings


def fetch_holdings(client: ServiceClient, portfolio_ids: Sequence[str]) -> list[Holdings]:
    """Every portfolio's holdings, in the order asked, one summary request each.

    Requests run concurrently, at most `client.parallel` at a time.
    """
    with ThreadPoolExecutor(client.parallel, thread_name_prefix=SERVICE) as pool:
        return list(pool.map(lambda pid: fetch_summary(client, pid), portfolio_ids))
