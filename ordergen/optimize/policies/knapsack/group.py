"""The last few free securities together, in closed form for the last one.

Every combination of the others' whole numbers is laid out at once in numpy (a
`Table`; the search hands over only when there are few enough); for each, the last
security's best choice is an end of what still covers the shortfall within the J
left, since along a run both its J and its T are linear in u.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ordergen.optimize.policies.knapsack.cost_stage import Choices
from ordergen.optimize.policies.knapsack.pieces import Security
from ordergen.optimize.policies.units import ceil_div, integer_dtype

Found = tuple[int, tuple[int, ...]]
"""(T, units of each security) of the best combination."""


@dataclass(frozen=True)
class Member:
    """A free security as a group needs it."""

    security: Security
    choices: tuple[Choices, ...]

    @property
    def count(self) -> int:
        """How many whole numbers it can take."""
        return sum(choice.last - choice.first + 1 for choice in self.choices)

    def largest(self) -> int:
        """The largest magnitude any of its savings, J or T reaches."""
        values = [self.security.top * self.security.price]
        for choice in self.choices:
            for units in (choice.first, choice.last):
                values += [self.security.saving(units), *choice.segment.cost(units)]
        return max(abs(value) for value in values)


@dataclass(frozen=True)
class Table:
    """Every combination of some members' whole numbers: their units (one column per
    member), total saving, J and T; rows in order (the first member's fewest units
    first)."""

    units: np.ndarray
    saving: np.ndarray
    cost: np.ndarray
    trade: np.ndarray

    @classmethod
    def of(cls, member: Member, dtype: type[Any]) -> "Table":
        security = member.security
        units, cost, trade = [], [], []
        for choice in member.choices:
            for u in range(choice.first, choice.last + 1):
                units.append(u)
                j, t = choice.segment.cost(u)
                cost.append(j)
                trade.append(t)
        held = _array(units, dtype)
        return cls(
            held[:, None],
            (security.top - held) * security.price,
            _array(cost, dtype),
            _array(trade, dtype),
        )

    @classmethod
    def empty(cls, dtype: type[Any]) -> "Table":
        zero = _array([0], dtype)
        return cls(np.zeros((1, 0), dtype=dtype), zero, zero, zero)

    def shifted(self, saving: int, cost: int, trade: int) -> "Table":
        """This table with each total less the given amounts (a move off a default)."""
        return Table(self.units, self.saving - saving, self.cost - cost, self.trade - trade)

    def then(self, other: "Table") -> "Table":
        """Every combination of this table's rows with `other`'s (this one's first)."""
        rows, others = len(self.saving), len(other.saving)
        return Table(
            np.concatenate(
                [np.repeat(self.units, others, axis=0), np.tile(other.units, (rows, 1))], axis=1
            ),
            (self.saving[:, None] + other.saving[None, :]).ravel(),
            (self.cost[:, None] + other.cost[None, :]).ravel(),
            (self.trade[:, None] + other.trade[None, :]).ravel(),
        )


def union(parts: Sequence[tuple[int, "Table"]], dtype: type[Any]) -> "Table":
    """One table of alternatives: a row of "none" (labelled -1, all zero), then each
    part's rows labelled with its label (a first column)."""
    labels = [_array([-1], dtype)]
    units = [np.zeros((1, 1), dtype=dtype)]
    saving, cost, trade = [_array([0], dtype)], [_array([0], dtype)], [_array([0], dtype)]
    for label, table in parts:
        labels.append(_array([label] * len(table.saving), dtype))
        units.append(table.units)
        saving.append(table.saving)
        cost.append(table.cost)
        trade.append(table.trade)
    return Table(
        np.concatenate([np.concatenate(labels)[:, None], np.concatenate(units)], axis=1),
        np.concatenate(saving),
        np.concatenate(cost),
        np.concatenate(trade),
    )


def dtype_for(members: Sequence[Member], *numbers: int) -> type[Any]:
    """int64 when every sum a group can form fits with room to spare, else object."""
    largest = max([abs(number) for number in numbers] + [m.largest() for m in members])
    return integer_dtype(64 * len(members) * largest)


def best_with_last(head: Table, last: Member, short: int, budget: int) -> Found | None:
    """The least T of a row of `head` with a choice of `last`, saving at least `short`
    with J at most `budget`; among equals the first row, then the fewest units of
    `last`. None when nothing does."""
    found: Found | None = None
    for choice in last.choices:
        ok, chosen, trade = _with_last(
            last.security, choice, short - head.saving, budget - head.cost
        )
        if not ok.any():
            continue
        rows = np.flatnonzero(ok)
        total = head.trade[rows] + trade[rows]
        row = int(rows[np.argmin(total)])
        units = (*(int(u) for u in head.units[row]), int(chosen[row]))
        candidate = (int(head.trade[row] + trade[row]), units)
        if found is None or candidate < found:
            found = candidate
    return found


def best_row(head: Table, short: int, budget: int) -> Found | None:
    """The least T of a row of `head` saving at least `short` with J at most `budget`;
    the first such row among equals."""
    ok = np.flatnonzero((head.saving >= short) & (head.cost <= budget))
    if not len(ok):
        return None
    row = int(ok[np.argmin(head.trade[ok])])
    return int(head.trade[row]), tuple(int(u) for u in head.units[row])


def _with_last(
    security: Security, choice: Choices, short: np.ndarray, budget: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether `choice` can cover each shortfall within each J budget, with its best
    units (an end of the feasible part) and their T."""
    segment = choice.segment
    covering = np.where(short > 0, security.top - ceil_div(short, security.price), security.top)
    low = np.full_like(covering, choice.first)
    high = np.minimum(covering, choice.last)
    room = budget - segment.j_first
    if segment.j_slope > 0:
        high = np.minimum(high, choice.first + room // segment.j_slope)
    elif segment.j_slope < 0:
        low = np.maximum(low, choice.first + ceil_div(room, segment.j_slope))
    ok = low <= high
    if segment.j_slope == 0:
        ok = ok & (room >= 0)
    chosen = high if segment.t_slope <= 0 else low
    trade = segment.t_first + segment.t_slope * (chosen - choice.first)
    return ok, chosen, trade


def _array(values: list[int], dtype: type[Any]) -> np.ndarray:
    if dtype is object:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array
    return np.asarray(values, dtype=np.int64)
