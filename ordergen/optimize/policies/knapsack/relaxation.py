"""The relaxation of "save at least r at least cost" over each security's convex hull.

Each security offers points (saving, cost). Relaxing whole numbers to their convex
hull, the least total cost of saving at least r is convex and piecewise linear in r:
start every security at its cheapest point (most saving among ties) and take the
hull edges in order of cost per unit saved. Its slope at r, the multiplier
lambda = a/b, prices the budget: for any whole choice x saving S(x) >= r,

    b * cost(x) = sum_i (b*cost_i - a*saving_i - m_i)  +  sum_i m_i  +  a*S(x)

with m_i = min over the security's points of b*cost - a*saving, so every term of the
first sum (a reduced cost) is >= 0. That identity, in integers, is what bounds the
search and fixes securities exactly.
"""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cmp_to_key
from itertools import pairwise
from math import gcd

Point = tuple[int, int]
"""(saving, cost) of one whole choice, in money units."""


def _by_slope(first: tuple[int, int, int], second: tuple[int, int, int]) -> int:
    """Order edges (saving, cost, security) by cost per saving, exactly."""
    return first[1] * second[0] - second[1] * first[0]


def lower_hull(points: Sequence[Point]) -> tuple[Point, list[Point]]:
    """The cheapest point (most saving among ties) and the hull's edges to its right,
    as (saving gained > 0, cost added), their slopes increasing."""
    start = min(points, key=lambda point: (point[1], -point[0]))
    hull = [start]
    for point in sorted(point for point in points if point[0] > start[0]):
        while len(hull) >= 2:
            (s1, c1), (s2, c2) = hull[-2], hull[-1]
            if (c2 - c1) * (point[0] - s1) >= (point[1] - c1) * (s2 - s1):
                hull.pop()
            else:
                break
        hull.append(point)
    return start, [(b[0] - a[0], b[1] - a[1]) for a, b in pairwise(hull)]


@dataclass(frozen=True)
class Relaxation:
    """The least relaxed cost of saving at least r, as a function of r."""

    base_saving: int
    base_cost: int
    savings: tuple[int, ...]
    """Cumulative saving after each edge, in slope order."""
    costs: tuple[int, ...]
    edges: tuple[tuple[int, int], ...]
    """(saving, cost) of each edge, in slope order."""

    @classmethod
    def of(cls, hulls: Sequence[tuple[Point, list[Point]]]) -> "Relaxation":
        """The relaxation of the securities whose hulls (`lower_hull`) are given."""
        edges = sorted(
            ((saving, cost, index) for index, (_, own) in enumerate(hulls) for saving, cost in own),
            key=cmp_to_key(_by_slope),
        )
        saving = sum(start[0] for start, _ in hulls)
        cost = sum(start[1] for start, _ in hulls)
        base = (saving, cost)
        savings, costs = [], []
        for gained, added, _ in edges:
            saving += gained
            cost += added
            savings.append(saving)
            costs.append(cost)
        return cls(*base, tuple(savings), tuple(costs), tuple((s, c) for s, c, _ in edges))

    def _edge(self, needed: int) -> int:
        """Index of the edge that reaches `needed` (len(edges) when none does)."""
        return bisect.bisect_left(self.savings, needed)

    def bound(self, needed: int) -> int | None:
        """The ceiling of the least relaxed cost of saving >= `needed`; None if no
        choice saves that much."""
        if needed <= self.base_saving:
            return self.base_cost
        index = self._edge(needed)
        if index == len(self.edges):
            return None
        before_saving = self.savings[index - 1] if index else self.base_saving
        before_cost = self.costs[index - 1] if index else self.base_cost
        saving, cost = self.edges[index]
        return before_cost - (-(cost * (needed - before_saving)) // saving)

    def whole(self, needed: int) -> int | None:
        """The cost of the holding that takes every edge up to the one reaching `needed`
        whole: each security at a vertex of its hull, a real choice, saving >= `needed`."""
        if needed <= self.base_saving:
            return self.base_cost
        index = self._edge(needed)
        return self.costs[index] if index < len(self.edges) else None

    def multiplier(self, needed: int) -> tuple[int, int]:
        """lambda = a/b in lowest terms at `needed` (0/1 when the start already saves it).

        `needed` must be reachable (`bound` not None).
        """
        if needed <= self.base_saving:
            return 0, 1
        saving, cost = self.edges[self._edge(needed)]
        return _lowest(cost, saving)


def _lowest(numerator: int, denominator: int) -> tuple[int, int]:
    common = gcd(numerator, denominator) or 1
    return numerator // common, denominator // common
