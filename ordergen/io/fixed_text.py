"""Fixed-point integers as text, a whole array at a time.

Each distinct value is written once and looked up from then on: a run's
quantities and weights fall in narrow ranges, so a table over the range seen so
far serves every chunk.
"""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ordergen.domain.fixed_point import Exact

Texts = npt.NDArray[np.object_]
"""An array of str."""

MAX_TABLE = 1 << 17
"""Most values a table spans; wider ranges are written value by distinct value."""


class FixedText:
    """`write(value)` for every element of integer arrays, each distinct value written once."""

    def __init__(self, write: Callable[[int], str]) -> None:
        self._write = write
        self._low = 0
        self._table: Texts = np.empty(0, dtype=object)

    def _texts(self, values: range | list[int]) -> Texts:
        texts = np.empty(len(values), dtype=object)
        texts[:] = list(map(self._write, values))
        return texts

    def _cover(self, low: int, high: int) -> bool:
        """Extend the table over [low, high] unless it would grow too wide."""
        old_low, old_high = self._low, self._low + len(self._table) - 1
        if not self._table.size:
            old_low, old_high = low, low - 1
        elif old_low <= low and high <= old_high:
            return True
        new_low, new_high = min(low, old_low), max(high, old_high)
        if new_high - new_low >= MAX_TABLE:
            return False
        self._table = np.concatenate(
            [
                self._texts(range(new_low, old_low)),
                self._table,
                self._texts(range(old_high + 1, new_high + 1)),
            ]
        )
        self._low = new_low
        return True

    def __call__(self, values: Exact) -> Texts:
        """The text of each element, in an array of the same shape."""
        if not values.size:
            return np.empty(values.shape, dtype=object)
        if values.dtype != object and self._cover(int(values.min()), int(values.max())):
            looked_up: Texts = self._table[values - self._low]
            return looked_up
        distinct, inverse = np.unique(values, return_inverse=True)
        return self._texts(distinct.tolist())[inverse.reshape(values.shape)]
