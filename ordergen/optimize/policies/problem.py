"""What the policy optimiser takes and gives: securities, portfolio cases, solutions.

For one portfolio the securities S are the model's positions and every security it
holds outside the model (target and drifts 0). A batch lists the model's securities
first, in model order, then each security held outside the model by any of its
portfolios, sorted by id; quantities in and out follow that order.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

import numpy as np

from ordergen.optimize.policies.policy import DEFAULT_POLICY, ZERO, Policy
from ordergen.optimize.problem import IntArray, ModelTerms


class PolicyStatus(StrEnum):
    """Outcome of one portfolio under its policy."""

    OK = "ok"
    INFEASIBLE = "infeasible"
    WITHIN_BANDS = "within-bands"
    ERROR = "error"


class SolvedBy(StrEnum):
    """Which path decided a portfolio."""

    SCREEN = "screen"
    """Decided exactly before any solving: infeasible, or within its bands."""
    FAST = "fast"
    """Each security's own best choice, certified because it met the cash floor."""
    MILP = "milp"
    """The mixed-integer program (HiGHS), its answer verified exactly."""
    KNAPSACK = "knapsack"
    """The exact knapsack solver for a binding cash floor (`knapsack`), its answer
    verified exactly."""


@dataclass(frozen=True)
class PolicyTerms:
    """The securities of a batch: model positions, then held securities outside the model."""

    model: ModelTerms
    outside_ids: tuple[str, ...] = ()
    outside_prices: tuple[Decimal, ...] = ()

    @classmethod
    def build(cls, model: ModelTerms, held_prices: Mapping[str, Decimal]) -> "PolicyTerms":
        """`model` plus every priced security of `held_prices` outside it, sorted by id."""
        inside = set(model.security_ids)
        outside = sorted(sid for sid in held_prices if sid not in inside)
        return cls(model, tuple(outside), tuple(held_prices[sid] for sid in outside))

    @property
    def size(self) -> int:
        return self.model.size + len(self.outside_ids)

    @cached_property
    def security_ids(self) -> tuple[str, ...]:
        return self.model.security_ids + self.outside_ids

    @cached_property
    def prices(self) -> tuple[Decimal, ...]:
        return self.model.prices + self.outside_prices

    @cached_property
    def targets(self) -> tuple[Decimal, ...]:
        return self.model.targets + (ZERO,) * len(self.outside_ids)

    @cached_property
    def low_drifts(self) -> tuple[Decimal, ...]:
        return self.model.low_drifts + (ZERO,) * len(self.outside_ids)

    @cached_property
    def high_drifts(self) -> tuple[Decimal, ...]:
        return self.model.high_drifts + (ZERO,) * len(self.outside_ids)

    @cached_property
    def in_model(self) -> np.ndarray:
        """Boolean mask: True for the model's securities."""
        return np.arange(self.size) < self.model.size

    @cached_property
    def _column(self) -> dict[str, int]:
        return {sid: column for column, sid in enumerate(self.security_ids)}

    def quantities(self, held: Mapping[str, int]) -> IntArray:
        """Current quantities c in batch order; raises KeyError for a security not listed."""
        current = np.zeros(self.size, dtype=np.int64)
        for sid, units in held.items():
            if units:
                current[self._column[sid]] = units
        return current


@dataclass(frozen=True)
class PortfolioCase:
    """One portfolio's inputs: MV, current quantities (batch order), policy and cash need."""

    market_value: Decimal
    quantities: IntArray
    policy: Policy = DEFAULT_POLICY
    cash_need: Decimal = ZERO


@dataclass(frozen=True)
class RowAnswer:
    """One portfolio's whole quantities (the columns it was solved over) with their
    exact objective and traded value in money units, or a message saying why not."""

    units: np.ndarray | None
    objective: int
    traded: int
    message: str
    seconds: float
    solver: SolvedBy = SolvedBy.MILP


@dataclass(frozen=True)
class PolicySolution:
    """One portfolio's answer.

    `quantities` (batch order) is set only when status is ok. `objective` and
    `traded_value` are exact. `market_value_after_need` is MV' = MV - cashNeed, the
    base of the drift weights; `cash_floor` is MV - cashNeed - reserve, the most the
    holdings may cost after trading (None when MV' < 0).
    """

    status: PolicyStatus
    quantities: IntArray | None
    objective: Decimal | None
    traded_value: Decimal | None
    message: str
    solver: SolvedBy
    seconds: float
    market_value_after_need: Decimal
    cash_floor: Decimal | None = field(default=None)
