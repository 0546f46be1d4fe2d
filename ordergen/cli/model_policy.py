"""`ordergen models policy`: a model's rebalancing policy (docs/policies.md).

`set` changes only the fields whose flags are given, and of an object (`cashReserve`,
`minTrade`, `tradeCost`) only the sub-fields given; the result is checked as a whole
policy before it is written. Like every model edit, a change names the version it
read and a stale one is refused with exit code 5. The policy flags are shared with
`ordergen portfolios policy set` (ordergen.cli.portfolios).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import typer

from ordergen.cli.models import (
    _changed,
    _json_option,
    _repository,
    _version_option,
    models_app,
    policy_rows,
)
from ordergen.cli.output import print_json, print_tables, say, table
from ordergen.domain.policy import Policy
from ordergen.domain.policy_overrides import PolicyEdit
from ordergen.errors import InputError

policy_app = typer.Typer(
    help="A model's rebalancing policy: when, how far and how its portfolios trade.",
    no_args_is_help=True,
)
models_app.add_typer(policy_app, name="policy")

RESTRICTIONS = "no-buy|no-sell|hold"
RESTRICT_FLAG = f"SECURITY_ID={RESTRICTIONS}"

_FLAGS: dict[str, tuple[str, str, str]] = {
    # parameter: (flag, metavar, help)
    "trigger": ("--trigger", "always|outside-bands", "When a portfolio is traded at all."),
    "inner_band": ("--inner-band", "D", "How far it is moved: 0 to target, 1 to the band edge."),
    "mode": ("--mode", "full|buy-only|sell-only", "Which direction trades may go."),
    "cash_reserve_amount": ("--cash-reserve-amount", "D", "Cash kept after trading (amount)."),
    "cash_reserve_fraction": (
        "--cash-reserve-fraction",
        "D",
        "Cash kept after trading, as a fraction of market value, in [0, 1).",
    ),
    "min_trade_amount": ("--min-trade-amount", "D", "Smallest order value worth sending."),
    "min_trade_fraction": (
        "--min-trade-fraction",
        "D",
        "Smallest order value, as a fraction of market value.",
    ),
    "min_trade_shares": ("--min-trade-shares", "N", "Smallest order in shares."),
    "per_order_cost": ("--per-order-cost", "D", "What each order costs (in the objective)."),
    "cost_bps": ("--cost-bps", "D", "What an order costs in basis points of its value."),
    "cash_need": ("--cash-need", "D", "Cash this portfolio must raise (a withdrawal)."),
}


def policy_flag(parameter: str) -> Any:
    """The Typer option of one policy flag (values are checked by the policy parser,
    so a bad one is a one-line message naming the field)."""
    flag, metavar, help_text = _FLAGS[parameter]
    return typer.Option(None, flag, metavar=metavar, help=help_text)


def restrict_option() -> Any:
    return typer.Option(
        [], "--restrict", metavar=RESTRICT_FLAG, help="Restrict a security; repeatable."
    )


def unrestrict_option() -> Any:
    return typer.Option(
        [], "--unrestrict", metavar="SECURITY_ID", help="Remove a restriction; repeatable."
    )


def _restrictions(texts: Sequence[str]) -> dict[str, str]:
    """`SECURITY_ID=RESTRICTION` flags by security id (both checked by the policy parser)."""
    restrictions: dict[str, str] = {}
    for text in texts:
        security_id, equals, restriction = text.partition("=")
        if not equals or not security_id:
            raise InputError("--restrict", text, f"is not of the form {RESTRICT_FLAG}")
        if security_id in restrictions:
            raise InputError("--restrict", security_id, "is given twice")
        restrictions[security_id] = restriction
    return restrictions


def _given(values: Mapping[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}


def policy_edit(
    *,
    trigger: str | None,
    inner_band: str | None,
    mode: str | None,
    cash_reserve_amount: str | None,
    cash_reserve_fraction: str | None,
    min_trade_amount: str | None,
    min_trade_fraction: str | None,
    min_trade_shares: str | None,
    per_order_cost: str | None,
    cost_bps: str | None,
    restrict: Sequence[str],
    unrestrict: Sequence[str],
    cash_need: str | None = None,
) -> PolicyEdit:
    """The edit the flags ask for, its values checked; nothing given is an `InputError`."""
    objects = {
        "cashReserve": _given({"amount": cash_reserve_amount, "fraction": cash_reserve_fraction}),
        "minTrade": _given(
            {"amount": min_trade_amount, "fraction": min_trade_fraction, "shares": min_trade_shares}
        ),
        "tradeCost": _given({"perOrder": per_order_cost, "bps": cost_bps}),
    }
    scalars = {"trigger": trigger, "innerBand": inner_band, "mode": mode, "cashNeed": cash_need}
    fields: dict[str, Any] = _given(scalars) | {name: sub for name, sub in objects.items() if sub}
    edit = PolicyEdit(fields, _restrictions(restrict), tuple(dict.fromkeys(unrestrict)))
    if edit.is_empty:
        raise InputError("policy", None, "nothing to set: give at least one policy flag")
    edit.check()
    return edit


def full_policy_document(policy: Policy) -> dict[str, Any]:
    """Every field of `policy`, defaults included, in the camelCase document shape."""
    return {
        "trigger": policy.trigger.value,
        "innerBand": policy.inner_band,
        "mode": policy.mode.value,
        "cashReserve": policy.cash_reserve.document(),
        "minTrade": policy.min_trade.document(),
        "tradeCost": policy.trade_cost.document(),
        "restrictions": {sid: restriction.value for sid, restriction in policy.restrictions},
    }


@policy_app.command("set")
def set_policy(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
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
    version: int = _version_option(),
    as_json: bool = _json_option(),
) -> None:
    """Change the fields of a model's policy given by flags; the others stay as they are."""
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
    )
    with _repository() as models:
        changed = models.change_policy(name_or_id, edit.to_policy, expected_version=version)
    _changed(changed, "updated", as_json)


@policy_app.command("show")
def show_policy(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    as_json: bool = typer.Option(False, "--json", help="Print the policy as JSON on stdout."),
) -> None:
    """Show a model's policy: every field, and whether the model sets it or it is the default."""
    with _repository() as models:
        model = models.get(name_or_id)
    document = model.policy.document()
    if as_json:
        print_json({"model": model.name, "version": model.version, "policy": document})
        return
    rows = [
        (name, value, "model" if name.split(".")[0] in document else "default")
        for name, value in policy_rows(full_policy_document(model.policy))
    ]
    title = f"policy of model {model.name} (version {model.version})"
    print_tables(table(title, ("field", "value", "from"), rows))
    if model.policy.is_default:
        say(f"model {model.name!r} has no policy: every field is at its default")


@policy_app.command("clear")
def clear_policy(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    version: int = _version_option(),
    as_json: bool = _json_option(),
) -> None:
    """Remove a model's policy: every field back to its default."""
    with _repository() as models:
        changed = models.clear_policy(name_or_id, expected_version=version)
    _changed(changed, "updated", as_json)
