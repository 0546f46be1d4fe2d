"""Before a send: re-read the positions of the portfolios about to be sent.

A run that read its positions from the accounting service recorded what each portfolio
held when it proposed its orders. A send reads them again: a portfolio whose cash or
holdings changed since is stale (its orders were computed for what it no longer
holds), and one that cannot be read now cannot be checked; neither is sent.
"""

from dataclasses import dataclass, field

from ordergen.domain.approval import positions_fingerprint
from ordergen.services import accounting
from ordergen.services.client import ServiceClient
from ordergen.services.options import ServiceOptions
from ordergen.settings import Settings
from ordergen.store import approvals
from ordergen.store.connection import Db


@dataclass(frozen=True)
class PositionCheck:
    """The portfolios a send may not post: changed since the proposal, or unreadable."""

    changed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def check_positions(db: Db, settings: Settings, run_id: str) -> PositionCheck:
    """Compare each portfolio still to send with what the proposal recorded."""
    wanted = approvals.portfolios_to_send(db, run_id)
    if not wanted:
        return PositionCheck()
    recorded = approvals.recorded_positions(db, run_id, wanted)
    url = settings.portfolio_accounting_service_url
    with ServiceClient(accounting.SERVICE, url, ServiceOptions.from_settings(settings)) as client:
        now = accounting.fetch_holdings(client, wanted)
    check = PositionCheck()
    for holdings in now:
        portfolio_id = holdings.portfolio_id
        if holdings.load_error is not None or portfolio_id not in recorded:
            check.unreadable.append(portfolio_id)
        elif positions_fingerprint(holdings) != recorded[portfolio_id]:
            check.changed.append(portfolio_id)
    return check
