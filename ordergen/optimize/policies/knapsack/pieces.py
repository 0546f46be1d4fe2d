"""Each security's allowed whole numbers as linear segments, with exact costs.

On each stretch of A_i (one side of c, cut by the minimum trade) a security's term
J_i and traded value T_i are linear in whole u between its breakpoints: the floor
and ceiling of each zone end over the price, and the stretch ends (the fast path's
candidates, `fastpath.candidates`). So the knots are those candidates plus the
interval's ends, their costs come from `ExactRules.evaluate` (the single definition
of a term) and every whole number between two knots of one stretch costs the linear
interpolation of its knots, exactly.
"""

from dataclasses import dataclass

import numpy as np

from ordergen.optimize.policies.fastpath import candidates
from ordergen.optimize.policies.rules import ExactRules


@dataclass(frozen=True)
class Segment:
    """Whole numbers first..last of one security, J and T linear on them."""

    first: int
    last: int
    j_first: int
    j_slope: int
    t_first: int
    t_slope: int

    def cost(self, units: int) -> tuple[int, int]:
        """(J, T) at whole `units` in first..last."""
        shift = units - self.first
        return self.j_first + self.j_slope * shift, self.t_first + self.t_slope * shift


@dataclass(frozen=True)
class Security:
    """One security of one portfolio: its price, its top (own best) and its segments."""

    price: int
    top: int
    segments: tuple[Segment, ...]
    """Disjoint, ascending in u, covering exactly the allowed whole numbers <= top."""

    def saving(self, units: int) -> int:
        """What holding `units` instead of `top` saves, in money units."""
        return (self.top - units) * self.price

    def knots(self) -> list[tuple[int, int, int]]:
        """(u, J, T) at each segment's ends: the relaxation's candidate points."""
        points = []
        for segment in self.segments:
            points.append((segment.first, segment.j_first, segment.t_first))
            if segment.last > segment.first:
                points.append((segment.last, *segment.cost(segment.last)))
        return points


def securities(rules: ExactRules, *, traded_counts: bool) -> list[Security]:
    """The securities of the single row of `rules`, `rules.upper` being each one's top.

    Without `traded_counts` (the base problem, which has no traded value) T is 0.
    """
    upper = rules.upper
    raw = candidates(rules, upper)
    knots = np.concatenate([raw, rules.lower[..., None], upper[..., None]], axis=-1)
    valid = rules.allowed(knots)
    term, traded = rules.evaluate(knots)
    step = np.maximum(rules.step, 1)[0].tolist()
    current = rules.current[0].tolist()
    found = []
    rows = zip(
        knots[0].tolist(),
        valid[0].tolist(),
        term[0].tolist(),
        traded[0].tolist(),
        rules.price.tolist(),
        upper[0].tolist(),
        current,
        step,
        strict=True,
    )
    for units, ok, terms, trades, price, top, held, least_move in rows:
        costs = {
            int(u): (int(j), int(t) if traded_counts else 0)
            for u, good, j, t in zip(units, ok, terms, trades, strict=True)
            if good
        }
        found.append(Security(int(price), int(top), _segments(costs, int(held), int(least_move))))
    return found


def _segments(costs: dict[int, tuple[int, int]], held: int, step: int) -> tuple[Segment, ...]:
    """Segments from the knots: between two knots of one stretch every whole number is
    allowed and costs linearly (stretches: u <= held - step and u >= held + step)."""
    ordered = sorted(costs)
    segments = []
    for index, first in enumerate(ordered):
        j_first, t_first = costs[first]
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        same_stretch = following is not None and (
            (following <= held - step) or (first >= held + step)
        )
        if not same_stretch or following is None or following == first + 1:
            segments.append(Segment(first, first, j_first, 0, t_first, 0))
            continue
        j_next, t_next = costs[following]
        width = following - first
        segments.append(
            Segment(
                first,
                following - 1,
                j_first,
                (j_next - j_first) // width,
                t_first,
                (t_next - t_first) // width,
            )
        )
    return tuple(segments)
