"""Each portfolio's drifts before and after, per security, as one compact table.

A report of 10,000 portfolios of 100 securities draws none of them up front: the page
holds this table, deflated and base64-encoded, and draws one portfolio when it is
clicked. Drifts are weight − target in units of 0.0001 (the orders file's precision),
stored as columns of little-endian integers, security by security, portfolio by portfolio.
"""

import base64
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

UNIT = 10_000
"""Drifts are stored in units of 1 / UNIT: the 4 decimal places of the orders file."""


@dataclass
class DrillTable:
    """Columns of (security, drift before, drift after), with a count per portfolio."""

    securities: list[str] = field(default_factory=list)
    bands: list[tuple[float, float]] = field(default_factory=list)
    """Per security: (−lowDrift, highDrift) as fractions; (0, 0) outside the model."""
    counts: list[int] = field(default_factory=list)
    band_edges: set[Decimal] = field(default_factory=set)
    """The distinct lowDrift and highDrift of the model's securities (target not 0)."""
    _index: dict[str, int] = field(default_factory=dict)
    _security: list[int] = field(default_factory=list)
    _before: list[int] = field(default_factory=list)
    _after: list[int] = field(default_factory=list)

    def add(self, drifts: Sequence[Mapping[str, Any]], base: Decimal | None) -> None:
        """Add one portfolio's `drifts` (orders-file documents), weighed against `base`.

        `base` is the value weights are fractions of (MV, or MV − cashNeed under a
        policy); with none (not valued, or not `ok`) the portfolio has no rows.
        """
        if not drifts or base is None or base <= 0:
            self.counts.append(0)
            return
        value = float(base)
        for drift in drifts:
            target = float(drift["target"])
            before = int(drift["originalQuantity"]) * float(drift["price"]) / value
            self._security.append(self._security_index(drift))
            self._before.append(round((before - target) * UNIT))
            self._after.append(round((float(drift["actual"]) - target) * UNIT))
        self.counts.append(len(drifts))

    def _security_index(self, drift: Mapping[str, Any]) -> int:
        security_id = drift["securityId"]
        index = self._index.get(security_id)
        if index is None:
            index = self._index[security_id] = len(self.securities)
            self.securities.append(security_id)
            low, high = Decimal(str(drift["lowDrift"])), Decimal(str(drift["highDrift"]))
            self.bands.append((-float(low), float(high)))
            if Decimal(str(drift["target"])) != 0:
                self.band_edges.update((low, high))
        return index

    def rows(self, portfolio: int) -> list[tuple[str, int, int]]:
        """The (security, before, after) rows of the `portfolio`-th portfolio added."""
        start = sum(self.counts[:portfolio])
        stop = start + self.counts[portfolio]
        return [
            (self.securities[self._security[i]], self._before[i], self._after[i])
            for i in range(start, stop)
        ]

    def encoded(self) -> dict[str, Any]:
        """The counts and the three columns, each as the narrowest little-endian signed
        integers that hold it (`dtypes`: 1, 2 or 4 bytes), one after another, deflated
        (zlib) and base64-encoded (`data`): what the page inflates when first asked."""
        columns = (self.counts, self._security, self._before, self._after)
        arrays = [np.asarray(column, dtype=_narrowest(column)) for column in columns]
        raw = b"".join(array.tobytes() for array in arrays)
        return {
            "dtypes": [array.dtype.itemsize for array in arrays],
            "data": base64.b64encode(zlib.compress(raw, 6)).decode("ascii"),
        }


def _narrowest(values: Sequence[int]) -> str:
    """The smallest little-endian signed integer type that holds every value."""
    low, high = min(values, default=0), max(values, default=0)
    for dtype in ("<i1", "<i2"):
        limits = np.iinfo(dtype)
        if limits.min <= low and high <= limits.max:
            return dtype
    return "<i4"
