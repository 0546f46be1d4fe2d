"""The rebalance problems of many portfolios of one model, as arrays.

Prices are fixed for a run, so every portfolio of a model shares the securities,
weights and prices; only the market value differs. Float64 arrays feed the
vectorised maths; the exact Decimal values stay beside them for the few
comparisons that land on a boundary.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Status(StrEnum):
    """Outcome of one portfolio's rebalance."""

    OK = "ok"
    INFEASIBLE = "infeasible"
    ERROR = "error"
    EMPTY = "empty"


class Method(StrEnum):
    """`auto`: certified fast path, the exact knapsack where the cash floor binds, the MILP
    as its fallback. `milp`: the MILP for every portfolio."""

    AUTO = "auto"
    MILP = "milp"


@dataclass(frozen=True)
class ModelTerms:
    """Per-security terms shared by every portfolio of a run (model order)."""

    security_ids: tuple[str, ...]
    targets: tuple[Decimal, ...]
    low_drifts: tuple[Decimal, ...]
    high_drifts: tuple[Decimal, ...]
    prices: tuple[Decimal, ...]

    def __post_init__(self) -> None:
        sizes = {len(self.security_ids), len(self.targets), len(self.low_drifts)}
        sizes |= {len(self.high_drifts), len(self.prices)}
        if len(sizes) != 1:
            raise ValueError("model terms must all have one entry per security")

    @property
    def size(self) -> int:
        return len(self.security_ids)

    def floats(self, values: Sequence[Decimal]) -> FloatArray:
        return np.array([float(value) for value in values], dtype=np.float64)


@dataclass(frozen=True)
class Solution:
    """The solver's answer for one portfolio. `quantities` is set only when status is ok."""

    status: Status
    quantities: IntArray | None
    message: str
    seconds: float
    solver: str
