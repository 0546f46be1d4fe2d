"""Rebalancing policies: when a portfolio is traded, how far, in which direction, at what cost.

A model may carry a `Policy`; a portfolio may carry a `PolicyOverride` that replaces
the model's fields one by one (the `cashReserve`, `minTrade` and `tradeCost` objects
whole) and merges `restrictions`, the portfolio's entry winning for its security.
Only a portfolio may say `cashNeed`, the cash it must raise. The exact meaning of
every field is in docs/policies.md; `Policy()` is no policy at all.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from ordergen.domain.values import decimal_text, parse_decimal, parse_globeco_id, parse_whole_number
from ordergen.errors import InputError

ZERO = Decimal(0)
ONE = Decimal(1)


class Trigger(StrEnum):
    """When a portfolio is traded at all."""

    ALWAYS = "always"
    OUTSIDE_BANDS = "outside-bands"


class Mode(StrEnum):
    """Which direction trades may go."""

    FULL = "full"
    BUY_ONLY = "buy-only"
    SELL_ONLY = "sell-only"


class Restriction(StrEnum):
    """A per-security limit."""

    NO_BUY = "no-buy"
    NO_SELL = "no-sell"
    HOLD = "hold"


@dataclass(frozen=True)
class CashReserve:
    """Cash kept after trading: R = max(amount, fraction * MV')."""

    amount: Decimal = ZERO
    fraction: Decimal = ZERO

    def document(self) -> dict[str, Any]:
        return {"amount": decimal_text(self.amount), "fraction": decimal_text(self.fraction)}


@dataclass(frozen=True)
class MinTrade:
    """The smallest order worth sending: value >= max(amount, fraction * MV') and >= shares."""

    amount: Decimal = ZERO
    fraction: Decimal = ZERO
    shares: int = 0

    def document(self) -> dict[str, Any]:
        return {
            "amount": decimal_text(self.amount),
            "fraction": decimal_text(self.fraction),
            "shares": self.shares,
        }


@dataclass(frozen=True)
class TradeCost:
    """What an order costs, weighed in the objective: perOrder + bps/10000 of its value."""

    per_order: Decimal = ZERO
    bps: Decimal = ZERO

    def document(self) -> dict[str, Any]:
        return {"perOrder": decimal_text(self.per_order), "bps": decimal_text(self.bps)}


Restrictions = tuple[tuple[str, Restriction], ...]
"""(securityId, restriction) pairs sorted by id: hashable, so equal policies group."""


def _sorted_restrictions(restrictions: Mapping[str, Restriction]) -> Restrictions:
    return tuple(sorted(restrictions.items()))


_ATTRIBUTES = {
    "trigger": "trigger",
    "innerBand": "inner_band",
    "mode": "mode",
    "cashReserve": "cash_reserve",
    "minTrade": "min_trade",
    "tradeCost": "trade_cost",
    "restrictions": "restrictions",
}
"""camelCase document field -> attribute of `Policy` and `PolicyOverride`."""
POLICY_FIELDS = tuple(_ATTRIBUTES)
CASH_NEED = "cashNeed"


@dataclass(frozen=True)
class Policy:
    """A complete (effective) policy; every field defaults to "no policy"."""

    trigger: Trigger = Trigger.ALWAYS
    inner_band: Decimal = ZERO
    mode: Mode = Mode.FULL
    cash_reserve: CashReserve = field(default_factory=CashReserve)
    min_trade: MinTrade = field(default_factory=MinTrade)
    trade_cost: TradeCost = field(default_factory=TradeCost)
    restrictions: Restrictions = ()

    def __post_init__(self) -> None:
        # One order for equal sets of restrictions, so equal policies compare and hash equal.
        ordered = _sorted_restrictions({sid: Restriction(r) for sid, r in self.restrictions})
        object.__setattr__(self, "restrictions", ordered)

    @property
    def is_default(self) -> bool:
        """True when this is no policy at all: the base problem, unchanged."""
        return self == DEFAULT_POLICY

    def restriction_of(self, security_id: str) -> Restriction | None:
        return dict(self.restrictions).get(security_id)

    def merged(self, override: "PolicyOverride | None") -> "Policy":
        """This (model) policy with a portfolio's override applied field by field."""
        if override is None:
            return self
        restrictions = dict(self.restrictions) | dict(override.restrictions or ())
        return Policy(
            **overridden_fields(override, self), restrictions=_sorted_restrictions(restrictions)
        )

    def document(self) -> dict[str, Any]:
        """The camelCase fields that differ from the default (objects whole); {} for none."""
        # Compare values, not text: innerBand "0.0" is the default 0.
        document = _document_fields(self)
        return {
            name: value
            for name, value in document.items()
            if getattr(self, _ATTRIBUTES[name]) != getattr(DEFAULT_POLICY, _ATTRIBUTES[name])
        }


DEFAULT_POLICY = Policy()

_T = TypeVar("_T")


def overriding(given: _T | None, inherited: _T) -> _T:
    """`given` where it is set, else `inherited`: how an override's fields take effect."""
    return inherited if given is None else given


def overridden_fields(
    given: "PolicyOverride", inherited: "Policy | PolicyOverride"
) -> dict[str, Any]:
    """Every policy field but `restrictions` (which merge), `given`'s where it sets one,
    else `inherited`'s; by attribute name."""
    return {
        attribute: overriding(getattr(given, attribute), getattr(inherited, attribute))
        for attribute in _ATTRIBUTES.values()
        if attribute != "restrictions"
    }


def _document_fields(policy: "Policy | PolicyOverride") -> dict[str, Any]:
    """Every set field of `policy` in camelCase document form (None fields left out)."""
    values: dict[str, Any] = {
        "trigger": None if policy.trigger is None else policy.trigger.value,
        "innerBand": decimal_text(policy.inner_band),
        "mode": None if policy.mode is None else policy.mode.value,
        "cashReserve": None if policy.cash_reserve is None else policy.cash_reserve.document(),
        "minTrade": None if policy.min_trade is None else policy.min_trade.document(),
        "tradeCost": None if policy.trade_cost is None else policy.trade_cost.document(),
        "restrictions": None
        if policy.restrictions is None
        else {sid: restriction.value for sid, restriction in policy.restrictions},
    }
    return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class PolicyOverride:
    """A portfolio's policy fields (None: inherit the model's) and its `cashNeed`."""

    trigger: Trigger | None = None
    inner_band: Decimal | None = None
    mode: Mode | None = None
    cash_reserve: CashReserve | None = None
    min_trade: MinTrade | None = None
    trade_cost: TradeCost | None = None
    restrictions: Restrictions | None = None
    cash_need: Decimal | None = None

    @property
    def cash_to_raise(self) -> Decimal:
        """`cashNeed`, 0 when not given."""
        return ZERO if self.cash_need is None else self.cash_need

    def document(self) -> dict[str, Any]:
        """Only the fields this override sets, in camelCase."""
        document = _document_fields(self)
        if self.cash_need is not None:
            document["cashNeed"] = decimal_text(self.cash_need)
        return document


def policy_differences(model: Policy, effective: Policy) -> dict[str, Any]:
    """The effective values that differ from the model's, for an audit trail.

    Keys are camelCase field names; restrictions are listed one security at a time
    as `restrictions.<securityId>`. Values are in document form.
    """
    differences = {
        name: value
        for name, value in _document_fields(effective).items()
        if name != "restrictions"
        and getattr(effective, _ATTRIBUTES[name]) != getattr(model, _ATTRIBUTES[name])
    }
    model_restrictions = dict(model.restrictions)
    for sid, restriction in effective.restrictions:
        if model_restrictions.get(sid) != restriction:
            differences[f"restrictions.{sid}"] = restriction.value
    return differences


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


def _decimal_in(
    raw: object, where: str, *, top: Decimal | None = None, top_open: bool = False
) -> Decimal:
    """A decimal >= 0 and <= top (< top when `top_open`)."""
    number = parse_decimal(raw, where)
    if number < 0:
        raise InputError(where, raw, "must be >= 0")
    if top is not None and (number > top or (top_open and number == top)):
        bracket = ")" if top_open else "]"
        raise InputError(where, raw, f"must be in [0, {top}{bracket}")
    return number


def _shares(raw: object, where: str) -> int:
    shares = parse_whole_number(raw, where)
    if shares < 0:
        raise InputError(where, raw, "must be a whole number >= 0")
    return shares


def _cash_reserve(raw: object, where: str) -> CashReserve:
    given = _mapping(raw, where, ("amount", "fraction"))
    return CashReserve(
        amount=_decimal_in(given.get("amount", 0), f"{where}.amount"),
        fraction=_decimal_in(given.get("fraction", 0), f"{where}.fraction", top=ONE, top_open=True),
    )


def _min_trade(raw: object, where: str) -> MinTrade:
    given = _mapping(raw, where, ("amount", "fraction", "shares"))
    return MinTrade(
        amount=_decimal_in(given.get("amount", 0), f"{where}.amount"),
        fraction=_decimal_in(given.get("fraction", 0), f"{where}.fraction", top=ONE),
        shares=_shares(given.get("shares", 0), f"{where}.shares"),
    )


def _trade_cost(raw: object, where: str) -> TradeCost:
    given = _mapping(raw, where, ("perOrder", "bps"))
    return TradeCost(
        per_order=_decimal_in(given.get("perOrder", 0), f"{where}.perOrder"),
        bps=_decimal_in(given.get("bps", 0), f"{where}.bps"),
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
    return _sorted_restrictions(parsed)


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
        _ATTRIBUTES[name]: _PARSERS[name](given[name], f"{where}.{name}")
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
        _decimal_in(given[CASH_NEED], f"{where}.{CASH_NEED}") if CASH_NEED in given else None
    )
    return PolicyOverride(**_parsed_fields(given, where), cash_need=cash_need)


def effective_policy(model: Policy, override: PolicyOverride | None) -> tuple[Policy, Decimal]:
    """The policy a portfolio is rebalanced under, and its cash need (0 if none)."""
    if override is None:
        return model, ZERO
    return model.merged(override), override.cash_to_raise
