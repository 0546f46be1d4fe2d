"""Combining a portfolio's policy overrides, and editing a policy one field at a time.

A portfolio's override may be stored (MongoDB, `ordergen portfolios policy set`) and
given for one run (`rebalance --portfolio-policies FILE`). The run's override is the
stored one with the file's fields winning one by one: objects (`cashReserve`,
`minTrade`, `tradeCost`) whole, `restrictions` merged with the file's entry winning
for its security, `cashNeed` like any other field. `effective_policy` then applies it
over the model's policy, so the precedence is file > stored > model.

`PolicyEdit` is what the `policy set` commands change: only the fields given, and of
an object only the sub-fields given, the result being checked by the policy parser.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ordergen.domain.policy import (
    Policy,
    PolicyOverride,
    overridden_fields,
    overriding,
    parse_policy,
    parse_policy_override,
)
from ordergen.domain.values import parse_globeco_id
from ordergen.errors import InputError

OBJECT_FIELDS = ("cashReserve", "minTrade", "tradeCost")
"""Policy fields whose value is an object, edited one sub-field at a time."""


def combine_overrides(
    stored: PolicyOverride | None, given: PolicyOverride | None
) -> PolicyOverride | None:
    """A portfolio's override for a run: `stored` with `given`'s fields winning.

    Fields are taken whole (objects included); restrictions are merged, `given`'s
    entry winning for its security. None when neither exists.
    """
    if stored is None:
        return given
    if given is None:
        return stored
    restrictions = stored.restrictions
    if given.restrictions is not None:
        restrictions = tuple((dict(stored.restrictions or ()) | dict(given.restrictions)).items())
    return PolicyOverride(
        **overridden_fields(given, stored),
        # Sorted like the parser's, so equal overrides compare equal.
        restrictions=None if restrictions is None else tuple(sorted(restrictions)),
        cash_need=overriding(given.cash_need, stored.cash_need),
    )


def overrides_for_run(
    portfolio_ids: Iterable[str],
    stored: Mapping[str, PolicyOverride],
    given: Mapping[str, PolicyOverride],
) -> dict[str, PolicyOverride]:
    """The combined override of each of `portfolio_ids` that has one (stored or given)."""
    combined: dict[str, PolicyOverride] = {}
    for portfolio_id in portfolio_ids:
        override = combine_overrides(stored.get(portfolio_id), given.get(portfolio_id))
        if override is not None:
            combined[portfolio_id] = override
    return combined


@dataclass(frozen=True)
class PolicyEdit:
    """A field-by-field change to a policy document (camelCase, values as written).

    `fields` holds top-level values (`trigger`, `innerBand`, `mode`, `cashNeed`) and,
    for the object fields, a mapping of only the sub-fields to change. `restrict`
    adds or replaces restrictions; `unrestrict` removes them (one not there is an
    error, so a mistyped id is not silently ignored).
    """

    fields: Mapping[str, Any] = field(default_factory=dict)
    restrict: Mapping[str, str] = field(default_factory=dict)
    unrestrict: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.fields or self.restrict or self.unrestrict)

    def check(self, where: str = "policy") -> None:
        """Refuse bad values before anything is read or written (the result is checked again)."""
        for security_id in self.unrestrict:
            parse_globeco_id(security_id, "--unrestrict")
        both = sorted(set(self.unrestrict) & set(self.restrict))
        if both:
            raise InputError("--unrestrict", both[0], "is also given to --restrict")
        # Each value alone, sub-fields completed by their defaults: enough to name
        # the first bad one with its field.
        parse_policy_override(self._given(), where)

    def _given(self) -> dict[str, Any]:
        given = dict(self.fields)
        if self.restrict:
            given["restrictions"] = dict(self.restrict)
        return given

    def applied(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """`document` with this edit made; raises `InputError` for a restriction not there."""
        result = dict(document)
        for name, value in self.fields.items():
            if name in OBJECT_FIELDS:
                result[name] = {**result.get(name, {}), **value}
            else:
                result[name] = value
        restrictions = {**result.get("restrictions", {}), **self.restrict}
        for security_id in self.unrestrict:
            if security_id not in restrictions:
                raise InputError("--unrestrict", security_id, "has no restriction here to remove")
            del restrictions[security_id]
        result.pop("restrictions", None)
        if restrictions:  # none left: the field is absent (an override inherits the model's)
            result["restrictions"] = restrictions
        return result

    def to_policy(self, policy: Policy, where: str = "policy") -> Policy:
        """A model's policy with this edit made, checked by `parse_policy`."""
        return parse_policy(self.applied(policy.document()), where)

    def to_override(self, override: PolicyOverride, where: str = "policy") -> PolicyOverride:
        """A portfolio's override with this edit made, checked by `parse_policy_override`."""
        return parse_policy_override(self.applied(override.document()), where)
