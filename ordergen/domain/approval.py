"""A model's approval rule: who must look at a run's orders before they are sent.

`none` (the default) sends a run's orders as it always did; `required` stores them
as proposed until someone approves them; `four-eyes` also wants that someone to be
another person than the run's proposer.
"""

from enum import StrEnum

from ordergen.domain.holdings import Holdings
from ordergen.domain.values import decimal_text
from ordergen.errors import InputError


class ApprovalRule(StrEnum):
    """The model's `approval` field."""

    NONE = "none"
    REQUIRED = "required"
    FOUR_EYES = "four-eyes"

    @property
    def needs_approval(self) -> bool:
        return self is not ApprovalRule.NONE


RULES = ", ".join(rule.value for rule in ApprovalRule)


def parse_approval_rule(raw: object, where: str = "approval") -> ApprovalRule:
    """The rule written as `raw`; anything else is an `InputError` listing the rules."""
    if isinstance(raw, str) and raw in {rule.value for rule in ApprovalRule}:
        return ApprovalRule(raw)
    raise InputError(where, raw, f"must be one of {RULES}")


def run_rule(model_rule: ApprovalRule, *, propose: bool) -> ApprovalRule:
    """The rule a run follows: the model's, raised to `required` by `--propose`."""
    if propose and model_rule is ApprovalRule.NONE:
        return ApprovalRule.REQUIRED
    return model_rule


def positions_fingerprint(holdings: Holdings) -> str:
    """What a portfolio held (cash and every quantity), as one comparable text.

    Two reads of a portfolio give the same fingerprint exactly when its cash and
    holdings are the same; a proposal records it, and a send compares it.
    """
    quantities = ",".join(
        f"{security_id}={units}"
        for security_id, units in sorted(holdings.quantities.items())
        if units
    )
    record = "record" if holdings.has_record else "no-record"
    return f"{record};cash={decimal_text(holdings.cash.normalize())};{quantities}"
