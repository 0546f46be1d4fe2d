"""`ordergen portfolios policy`: a portfolio's policy override, stored in MongoDB.

An override replaces the model's policy fields one by one (objects whole) and merges
restrictions, the portfolio's entry winning; `cashNeed` is per portfolio only. A run
combines it with `rebalance --portfolio-policies FILE`, whose fields win. Writes name
the version read (none for a portfolio without an override); a stale one is exit 5.
"""

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import typer

from ordergen.cli.app import app
from ordergen.cli.model_policy import policy_edit, policy_flag, restrict_option, unrestrict_option
from ordergen.cli.models import _json_option, _open_repository, _version_option, policy_rows
from ordergen.cli.output import print_json, print_tables, say, table
from ordergen.domain.policy import PolicyOverride
from ordergen.domain.values import parse_globeco_id
from ordergen.errors import NotFoundError

if TYPE_CHECKING:
    from ordergen.store.models import ModelRepository
    from ordergen.store.portfolio_policies import PortfolioPolicyRepository

portfolios_app = typer.Typer(
    name="portfolios", help="Per-portfolio settings stored in MongoDB.", no_args_is_help=True
)
policy_app = typer.Typer(
    help="A portfolio's override of its model's policy, and its cash need.",
    no_args_is_help=True,
)
portfolios_app.add_typer(policy_app, name="policy")
app.add_typer(portfolios_app, name="portfolios")

OVERRIDE = "policy override"
SET_VERSION_HELP = (
    "The version you read (see `portfolios policy show`); leave out to create an override. "
    "A stale one is refused (exit 5)."
)
CLEAR_VERSION_HELP = "The version you read (see `portfolios policy show`); stale: exit 5."


def _portfolio_argument() -> Any:
    return typer.Argument(..., metavar="PORTFOLIO_ID", help="Portfolio id (24 characters).")


def _repository() -> "AbstractContextManager[PortfolioPolicyRepository]":
    """The override repository on the configured database, closed when the block ends."""
    # Imported here: only the database commands load pymongo (start-up time).
    from ordergen.store.portfolio_policies import PortfolioPolicyRepository

    return _open_repository(PortfolioPolicyRepository)


def _repositories() -> "AbstractContextManager[tuple[ModelRepository, PortfolioPolicyRepository]]":
    """The model and override repositories on one connection, closed when the block ends."""
    from ordergen.store.models import ModelRepository
    from ordergen.store.portfolio_policies import PortfolioPolicyRepository

    return _open_repository(lambda db: (ModelRepository(db), PortfolioPolicyRepository(db)))


def _override_document(portfolio_id: str, override: PolicyOverride, version: int) -> dict[str, Any]:
    return {"portfolioId": portfolio_id, "version": version, "policy": override.document()}


@policy_app.command("set")
def set_policy(
    portfolio: str = _portfolio_argument(),
    trigger: str | None = policy_flag("trigger"),
    inner_band: str | None = policy_flag("inner_band"),
    mode: str | None = policy_flag("mode"),
    cash_reserve_amount: str | None = policy_flag("cash_reserve_amount"),
    cash_reserve_fraction: str | None = policy_flag("cash_reserve_fraction"),
    min_trade_amount: str | None = policy_flag("min_trade_amount"),
    min_trade_fraction: str | None = policy_flag("min_trade_fraction"),
    min_trade_shares: str | None = policy_flag("min_trade_shares"),
    per_order_cost: str | None = policy_flag("per_order_cost"),
    cost_bps: str | None = policy_flag("cost_bps"),
    restrict: list[str] = restrict_option(),
    unrestrict: list[str] = unrestrict_option(),
    cash_need: str | None = policy_flag("cash_need"),
    version: int | None = _version_option(SET_VERSION_HELP, required=False),
    as_json: bool = _json_option(OVERRIDE),
) -> None:
    """Change the fields of a portfolio's override given by flags (creating it if absent).

    An object's flag changes that sub-field of the override's object (objects replace
    the model's whole: sub-fields the override never had are 0).
    """
    portfolio_id = parse_globeco_id(portfolio, "portfolio")
    edit = policy_edit(
        trigger=trigger,
        inner_band=inner_band,
        mode=mode,
        cash_reserve_amount=cash_reserve_amount,
        cash_reserve_fraction=cash_reserve_fraction,
        min_trade_amount=min_trade_amount,
        min_trade_fraction=min_trade_fraction,
        min_trade_shares=min_trade_shares,
        per_order_cost=per_order_cost,
        cost_bps=cost_bps,
        restrict=restrict,
        unrestrict=unrestrict,
        cash_need=cash_need,
    )
    with _repositories() as (models, policies):
        models.require_portfolio(portfolio_id)  # an override no run would read is a typo
        override, new_version = policies.change(portfolio_id, edit.to_override, version)
    if as_json:
        print_json(_override_document(portfolio_id, override, new_version))
    else:
        say(f"{OVERRIDE} of portfolio {portfolio_id} set: now version {new_version}")


@policy_app.command("show")
def show_policy(
    portfolio: str = _portfolio_argument(),
    as_json: bool = typer.Option(False, "--json", help="Print the override as JSON on stdout."),
) -> None:
    """Show a portfolio's override: only the fields it sets (the others are its model's).

    A portfolio without one shows version 0 and no fields.
    """
    portfolio_id = parse_globeco_id(portfolio, "portfolio")
    with _repository() as policies:
        try:
            override, version = policies.get(portfolio_id)
        except NotFoundError:
            override, version = PolicyOverride(), 0
    if as_json:
        print_json(_override_document(portfolio_id, override, version))
    elif version == 0:
        say(f"portfolio {portfolio_id} has no {OVERRIDE}: its model's policy applies")
    else:
        # A heading line, not a table title: the title would wrap over the narrow table.
        say(f"{OVERRIDE} of portfolio {portfolio_id} (version {version})")
        print_tables(table(None, ("field", "value"), policy_rows(override.document())))


@policy_app.command("clear")
def clear_policy(
    portfolio: str = _portfolio_argument(),
    version: int = _version_option(CLEAR_VERSION_HELP),
) -> None:
    """Remove a portfolio's override: its model's policy applies again."""
    portfolio_id = parse_globeco_id(portfolio, "portfolio")
    with _repository() as policies:
        policies.clear(portfolio_id, version)
    say(f"{OVERRIDE} of portfolio {portfolio_id} cleared")
