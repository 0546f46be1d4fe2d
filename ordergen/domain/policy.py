"""Rebalancing policies read from documents: a model's `policy` and a portfolio's
override, each field checked with a message that names it.

The values themselves (`Policy`, `PolicyOverride` and their parts) are the
optimiser's inputs and live in `ordergen.optimize.policies.policy`; they are
re-exported here for the layers above.
"""

from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from ordergen.domain.values import (
    MAX_AMOUNT,
    MAX_PLACES,
    at_most_places,
    parse_decimal,
    parse_globeco_id,
    parse_whole_number,
)
from ordergen.errors import InputError
from ordergen.optimize.policies.policy import (
    CASH_NEED,
    DEFAULT_POLICY,
    ONE,
    POLICY_ATTRIBUTES,
    POLICY_FIELDS,
    ZERO,
    CashReserve,
    MinTrade,
    Mode,
    Policy,
    PolicyOverride,
    Restriction,
    Restrictions,
    TradeCost,
    Trigger,
    effective_policy,
    overridden_fields,
    overriding,
    policy_differences,
    sorted_restrictions,
)

ALL_OF_IT_BPS = Decimal(10_000)
"""The most `tradeCost.bps` may be: a cost of the whole value traded."""

__all__ = [
    "CASH_NEED",
    "DEFAULT_POLICY",
    "POLICY_FIELDS",
    "ZERO",
    "CashReserve",
    "MinTrade",
    "Mode",
    "Policy",
    "PolicyOverride",
    "Restriction",
    "Restrictions",
    "TradeCost",
    "Trigger",
    "effective_policy",
    "overridden_fields",
    "overriding",
    "parse_policy",
    "parse_policy_override",
    "policy_differences",
]


# --- parsing -------------------------------------------------------------------------


def _mapping(raw: object, where: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise InputError(where, raw, f"is not an object (fields: {', '.join(allowed)})")
    unknown = sorted(str(name) for name in raw if name not in allowed)
    if unknown:
        raise InputError(
            f"{where}.{unknown[0]}",
            raw[unknown[0]],
            f"is not a known field (known: {', '.join(allowed)})",
        )
    return raw


_E = TypeVar("_E", bound=StrEnum)


def _choice(raw: object, where: str, kind: type[_E]) -> _E:
    choices = [member.value for member in kind]
    if not isinstance(raw, str) or raw not in choices:
        raise InputError(where, raw, f"is not one of {', '.join(choices)}")
    return kind(raw)


def _decimal_in(raw: object, where: str, *, top: Decimal, top_open: bool = False) -> Decimal:
    """A decimal >= 0 and <= top (< top when `top_open`), with at most MAX_PLACES places.

    Bounded so that exact arithmetic on it stays in range (an unbounded bps of 1e400 once
    failed a run instead of its input).
    """
    number = parse_decimal(raw, where)
    if number < 0:
        raise InputError(where, raw, "must be >= 0")
    bracket = ")" if top_open else "]"
    rule = f"must be in [0, {top:f}{bracket}"
    if number > top or (top_open and number == top):
        raise InputError(where, raw, rule)
    return at_most_places(number, raw, where, f"{rule} with at most {MAX_PLACES} places")


def _shares(raw: object, where: str) -> int:
    shares = parse_whole_number(raw, where)
    if shares < 0:
        raise InputError(where, raw, "must be a whole number >= 0")
    return shares


def _cash_reserve(raw: object, where: str) -> CashReserve:
    given = _mapping(raw, where, ("amount", "fraction"))
    return CashReserve(
        amount=_decimal_in(given.get("amount", 0), f"{where}.amount", top=MAX_AMOUNT),
        fraction=_decimal_in(given.get("fraction", 0), f"{where}.fraction", top=ONE, top_open=True),
    )


def _min_trade(raw: object, where: str) -> MinTrade:
    given = _mapping(raw, where, ("amount", "fraction", "shares"))
    return MinTrade(
        amount=_decimal_in(given.get("amount", 0), f"{where}.amount", top=MAX_AMOUNT),
        fraction=_decimal_in(given.get("fraction", 0), f"{where}.fraction", top=ONE),
        shares=_shares(given.get("shares", 0), f"{where}.shares"),
    )


def _trade_cost(raw: object, where: str) -> TradeCost:
    given = _mapping(raw, where, ("perOrder", "bps"))
    return TradeCost(
        per_order=_decimal_in(given.get("perOrder", 0), f"{where}.perOrder", top=MAX_AMOUNT),
        bps=_decimal_in(given.get("bps", 0), f"{where}.bps", top=ALL_OF_IT_BPS),
    )


def _restrictions(raw: object, where: str) -> Restrictions:
    if not isinstance(raw, Mapping):
        raise InputError(
            where, raw, 'is not an object of securityId: "no-buy" | "no-sell" | "hold"'
        )
    parsed: dict[str, Restriction] = {}
    for security_id, value in raw.items():
        parse_globeco_id(security_id, where)
        parsed[security_id] = _choice(value, f"{where}.{security_id}", Restriction)
    return sorted_restrictions(parsed)


_PARSERS: dict[str, Callable[[object, str], Any]] = {
    "trigger": lambda raw, where: _choice(raw, where, Trigger),
    "innerBand": lambda raw, where: _decimal_in(raw, where, top=ONE),
    "mode": lambda raw, where: _choice(raw, where, Mode),
    "cashReserve": _cash_reserve,
    "minTrade": _min_trade,
    "tradeCost": _trade_cost,
    "restrictions": _restrictions,
}


def _parsed_fields(given: Mapping[str, Any], where: str) -> dict[str, Any]:
    return {
        POLICY_ATTRIBUTES[name]: _PARSERS[name](given[name], f"{where}.{name}")
        for name in POLICY_FIELDS
        if name in given
    }


def parse_policy(raw: object, where: str = "policy") -> Policy:
    """A model's policy from its camelCase mapping; absent fields take their defaults.

    Raises `InputError` naming the field and value for unknown fields, wrong types,
    values out of range and restriction ids not of the GlobeCo shape. `cashNeed`
    belongs to a portfolio, never to a model.
    """
    if isinstance(raw, Mapping) and CASH_NEED in raw:
        raise InputError(
            f"{where}.{CASH_NEED}", raw[CASH_NEED], "is set per portfolio, not on a model"
        )
    given = _mapping(raw, where, POLICY_FIELDS)
    return Policy(**_parsed_fields(given, where))


def parse_policy_override(raw: object, where: str = "policy") -> PolicyOverride:
    """A portfolio's override from its camelCase mapping: policy fields and `cashNeed`."""
    given = _mapping(raw, where, (*POLICY_FIELDS, CASH_NEED))
    cash_need = (
        _decimal_in(given[CASH_NEED], f"{where}.{CASH_NEED}", top=MAX_AMOUNT)
        if CASH_NEED in given
        else None
    )
    return PolicyOverride(**_parsed_fields(given, where), cash_need=cash_need)
