"""Rebalancing policies as values: when a portfolio is traded, how far, in which
direction, at what cost.

A model may carry a `Policy`; a portfolio may carry a `PolicyOverride` that replaces
the model's fields one by one (the `cashReserve`, `minTrade` and `tradeCost` objects
whole) and merges `restrictions`, the portfolio's entry winning for its security.
Only a portfolio may say `cashNeed`, the cash it must raise. The exact meaning of
every field is in docs/policies.md; `Policy()` is no policy at all.

These are the optimiser's inputs, so they live here, below the domain, which reads
them from documents (`ordergen.domain.policy`). Decimals are written as plain digits
(`f"{value:f}"`), as everywhere in ordergen's documents.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

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
        return {"amount": f"{self.amount:f}", "fraction": f"{self.fraction:f}"}


@dataclass(frozen=True)
class MinTrade:
    """The smallest order worth sending: value >= max(amount, fraction * MV') and >= shares."""

    amount: Decimal = ZERO
    fraction: Decimal = ZERO
    shares: int = 0

    def document(self) -> dict[str, Any]:
        return {
            "amount": f"{self.amount:f}",
            "fraction": f"{self.fraction:f}",
            "shares": self.shares,
        }


@dataclass(frozen=True)
class TradeCost:
    """What an order costs, weighed in the objective: perOrder + bps/10000 of its value."""

    per_order: Decimal = ZERO
    bps: Decimal = ZERO

    def document(self) -> dict[str, Any]:
        return {"perOrder": f"{self.per_order:f}", "bps": f"{self.bps:f}"}


Restrictions = tuple[tuple[str, Restriction], ...]
"""(securityId, restriction) pairs sorted by id: hashable, so equal policies group."""


def sorted_restrictions(restrictions: Mapping[str, Restriction]) -> Restrictions:
    return tuple(sorted(restrictions.items()))


POLICY_ATTRIBUTES = {
    "trigger": "trigger",
    "innerBand": "inner_band",
    "mode": "mode",
    "cashReserve": "cash_reserve",
    "minTrade": "min_trade",
    "tradeCost": "trade_cost",
    "restrictions": "restrictions",
}
"""camelCase document field -> attribute of `Policy` and `PolicyOverride`."""
POLICY_FIELDS = tuple(POLICY_ATTRIBUTES)
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
        ordered = sorted_restrictions({sid: Restriction(r) for sid, r in self.restrictions})
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
            **overridden_fields(override, self), restrictions=sorted_restrictions(restrictions)
        )

    def document(self) -> dict[str, Any]:
        """The camelCase fields that differ from the default (objects whole); {} for none."""
        # Compare values, not text: innerBand "0.0" is the default 0.
        document = _document_fields(self)
        return {
            name: value
            for name, value in document.items()
            if getattr(self, POLICY_ATTRIBUTES[name])
            != getattr(DEFAULT_POLICY, POLICY_ATTRIBUTES[name])
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
        for attribute in POLICY_ATTRIBUTES.values()
        if attribute != "restrictions"
    }


def _document_fields(policy: "Policy | PolicyOverride") -> dict[str, Any]:
    """Every set field of `policy` in camelCase document form (None fields left out)."""
    values: dict[str, Any] = {
        "trigger": None if policy.trigger is None else policy.trigger.value,
        "innerBand": None if policy.inner_band is None else f"{policy.inner_band:f}",
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
            document["cashNeed"] = f"{self.cash_need:f}"
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
        and getattr(effective, POLICY_ATTRIBUTES[name]) != getattr(model, POLICY_ATTRIBUTES[name])
    }
    model_restrictions = dict(model.restrictions)
    for sid, restriction in effective.restrictions:
        if model_restrictions.get(sid) != restriction:
            differences[f"restrictions.{sid}"] = restriction.value
    return differences


def effective_policy(model: Policy, override: PolicyOverride | None) -> tuple[Policy, Decimal]:
    """The policy a portfolio is rebalanced under, and its cash need (0 if none)."""
    if override is None:
        return model, ZERO
    return model.merged(override), override.cash_to_raise
