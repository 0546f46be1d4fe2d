"""Investment models: target weights with drift bands, and every rule they must obey.

A model may carry a rebalancing `Policy` (ordergen.domain.policy). A model without one
(every field at its default) has exactly the documents and content it had before
policies existed, so its fingerprint, run ids and orders files do not change.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ordergen.domain.approval import ApprovalRule, parse_approval_rule
from ordergen.domain.policy import DEFAULT_POLICY, Policy, parse_policy
from ordergen.domain.values import MAX_PLACES, at_most_places, parse_decimal, parse_globeco_id
from ordergen.errors import InputError

MAX_POSITIONS = 100
MAX_TARGET = Decimal("0.95")
MAX_TARGET_SUM = Decimal("0.95")
TARGET_STEP = Decimal("0.005")
MAX_DRIFT = Decimal(1)
TARGET_RULE = f"a target is 0 or a multiple of {TARGET_STEP} up to {MAX_TARGET}"
DRIFT_RULE = f"a drift is between 0 and 1 with at most {MAX_PLACES} decimal places"
MODEL_FIELDS = frozenset(
    {
        "name",
        "positions",
        "portfolios",
        "policy",
        "approval",
        "version",
        "lastRebalanceDate",
        "modelId",
        "id",
    }
)
POSITION_FIELDS = frozenset({"securityId", "target", "lowDrift", "highDrift"})


@dataclass(frozen=True)
class Position:
    """One security's target weight and drift band, as fractions of market value."""

    security_id: str
    target: Decimal
    low_drift: Decimal
    high_drift: Decimal


@dataclass(frozen=True)
class InvestmentModel:
    """A validated model. Positions hold only targets > 0, in the order given."""

    name: str
    positions: tuple[Position, ...]
    portfolios: tuple[str, ...]
    version: int = 1
    last_rebalance_date: datetime | None = None
    model_id: str | None = field(default=None, compare=False)
    policy: Policy = DEFAULT_POLICY
    approval: ApprovalRule = ApprovalRule.NONE
    """Who must approve a run's orders before they are sent (`ordergen.domain.approval`)."""

    @property
    def security_ids(self) -> tuple[str, ...]:
        return tuple(position.security_id for position in self.positions)


def validate_position(raw: object, where: str) -> Position:
    """One position from its camelCase mapping; `where` prefixes field names in errors."""
    if not isinstance(raw, Mapping):
        raise InputError(where, raw, "expected an object with securityId, target, drifts")
    unknown = sorted(set(raw) - POSITION_FIELDS)
    if unknown:
        raise InputError(f"{where}.{unknown[0]}", raw[unknown[0]], "unknown field")
    for required in ("securityId", "target"):
        if required not in raw:
            raise InputError(f"{where}.{required}", None, "is required")
    security_id = parse_globeco_id(raw["securityId"], f"{where}.securityId")
    # parse_decimal refuses NaN and infinities; the range is checked before the modulo,
    # so `%` only ever sees a number below 1 (a huge one could not be divided exactly).
    target = parse_decimal(raw["target"], f"{where}.target")
    if not Decimal(0) <= target <= MAX_TARGET:
        raise InputError(f"{where}.target", raw["target"], f"must be in [0, {MAX_TARGET}]")
    if target % TARGET_STEP != 0:
        raise InputError(f"{where}.target", raw["target"], f"must be a multiple of {TARGET_STEP}")
    # A multiple of 0.005 may still be written with many trailing zeros: keep its digits
    # bounded like every other number (see ordergen.domain.values).
    target = at_most_places(target, raw["target"], f"{where}.target", TARGET_RULE)
    drifts = []
    for name in ("lowDrift", "highDrift"):
        written = raw.get(name, 0)
        drift = parse_decimal(written, f"{where}.{name}")
        if not Decimal(0) <= drift <= MAX_DRIFT:
            raise InputError(f"{where}.{name}", written, "must be in [0, 1]")
        drifts.append(at_most_places(drift, written, f"{where}.{name}", DRIFT_RULE))
    return Position(security_id, target, drifts[0], drifts[1])


def validate_positions(raw_positions: object) -> tuple[Position, ...]:
    """All positions, with duplicates refused, zero targets dropped and the limits checked."""
    if not isinstance(raw_positions, Sequence) or isinstance(raw_positions, str):
        raise InputError("positions", raw_positions, "expected a list of positions")
    positions: list[Position] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_positions):
        position = validate_position(raw, f"positions[{index}]")
        if position.security_id in seen:
            raise InputError(
                f"positions[{index}].securityId", position.security_id, "duplicate security"
            )
        seen.add(position.security_id)
        if position.target > 0:  # a position saved with target 0 is removed
            positions.append(position)
    if len(positions) > MAX_POSITIONS:
        raise InputError(
            "positions", f"{len(positions)} positions", f"at most {MAX_POSITIONS} with target > 0"
        )
    total = sum((position.target for position in positions), Decimal(0))
    if total > MAX_TARGET_SUM:
        raise InputError(
            "positions.target", f"sum {total}", f"targets must sum to at most {MAX_TARGET_SUM}"
        )
    return tuple(positions)


def validate_portfolio_ids(raw_portfolios: object) -> tuple[str, ...]:
    """Portfolio ids, each of GlobeCo shape and at most once."""
    if not isinstance(raw_portfolios, Sequence) or isinstance(raw_portfolios, str):
        raise InputError("portfolios", raw_portfolios, "expected a list of portfolio ids")
    seen: set[str] = set()
    for index, raw in enumerate(raw_portfolios):
        portfolio_id = parse_globeco_id(raw, f"portfolios[{index}]")
        if portfolio_id in seen:
            raise InputError(f"portfolios[{index}]", portfolio_id, "duplicate portfolio")
        seen.add(portfolio_id)
    return tuple(raw_portfolios)


def validate_model(raw: Mapping[str, Any]) -> InvestmentModel:
    """An `InvestmentModel` from the original service's camelCase document shape."""
    if not isinstance(raw, Mapping):
        raise InputError("model", raw, "expected an object with name, positions, portfolios")
    unknown = sorted(set(raw) - MODEL_FIELDS - {"_id"})
    if unknown:
        raise InputError(unknown[0], raw[unknown[0]], "unknown field")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InputError("name", name, "expected a non-empty name of at most 200 characters")
    version = raw.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError("version", version, "expected an integer >= 1")
    last = raw.get("lastRebalanceDate")
    if last is not None and not isinstance(last, datetime):
        try:
            last = datetime.fromisoformat(str(last))
        except ValueError:
            raise InputError("lastRebalanceDate", last, "expected an ISO 8601 timestamp") from None
    model_id = raw.get("modelId", raw.get("id", raw.get("_id")))
    return InvestmentModel(
        name=name.strip(),
        positions=validate_positions(raw.get("positions", [])),
        portfolios=validate_portfolio_ids(raw.get("portfolios", [])),
        version=version,
        last_rebalance_date=last,
        model_id=None if model_id is None else str(model_id),
        # Errors name `policy.<field>`; an absent policy is no policy at all.
        policy=parse_policy(raw["policy"]) if "policy" in raw else DEFAULT_POLICY,
        approval=parse_approval_rule(raw.get("approval", ApprovalRule.NONE.value)),
    )


CONTENT_FIELDS = ("name", "positions", "portfolios", "policy", "approval")
"""What a user edits; `version` and `lastRebalanceDate` belong to the database."""


def model_content(model: InvestmentModel) -> dict[str, Any]:
    """Name, positions, portfolios and (only when not the default) policy and approval."""
    document = model_to_document(model)
    return {name: document[name] for name in CONTENT_FIELDS if name in document}


def model_to_document(model: InvestmentModel) -> dict[str, Any]:
    """The camelCase shape (decimals as strings) used by files, exports and MongoDB."""
    document: dict[str, Any] = {
        "name": model.name,
        "positions": [
            {
                "securityId": position.security_id,
                "target": str(position.target),
                "lowDrift": str(position.low_drift),
                "highDrift": str(position.high_drift),
            }
            for position in model.positions
        ],
        "portfolios": list(model.portfolios),
    }
    # Left out when default so a model without a policy keeps today's documents and
    # fingerprint (and so the run ids and orders files of existing runs).
    if not model.policy.is_default:
        document["policy"] = model.policy.document()
    if model.approval.needs_approval:  # likewise: `none` leaves today's documents as they were
        document["approval"] = model.approval.value
    document["version"] = model.version
    if model.last_rebalance_date is not None:
        document["lastRebalanceDate"] = model.last_rebalance_date.isoformat()
    return document
