"""Stage one: the least total term J* of a holding that saves what the cash floor needs.

The relaxation (`relaxation`) gives a lower bound, a multiplier and a holding (each
security at a hull vertex) whose J bounds J* from above. Every choice whose reduced
cost exceeds the gap between them is left out; along a segment where J does not
fall as u rises only the most saving whole number can matter for J. A dynamic
programme over the rest (`fronts`) then finds J* exactly, and a second, forward,
one tells which choices of each security some holding with J = J* uses: the
choices the second stage may search.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ordergen.optimize.policies.knapsack.effort import Effort, GiveUp
from ordergen.optimize.policies.knapsack.fronts import (
    Front,
    Option,
    Pricing,
    fronts,
    most_saving_within,
    read_back,
)
from ordergen.optimize.policies.knapsack.pieces import Security, Segment
from ordergen.optimize.policies.knapsack.relaxation import Relaxation, lower_hull


@dataclass(frozen=True)
class Choices:
    """The whole numbers first..last of one segment that some holding with J = J* uses."""

    segment: Segment
    first: int
    last: int


@dataclass(frozen=True)
class CostStage:
    """J*, one holding with it, and each security's choices that a holding with J* uses."""

    least: int
    holding: list[int]
    choices: list[list[Choices]]


@dataclass(frozen=True)
class _Reduced:
    """b*J - a*saving - m_i, the reduced cost, for one security."""

    security: Security
    a: int
    b: int
    least: int

    def at(self, units: int, cost: int) -> int:
        return self.b * cost - self.a * self.security.saving(units) - self.least

    def within(self, segment: Segment, gap: int) -> tuple[int, int] | None:
        """The whole numbers of `segment` whose reduced cost is at most `gap` (an
        interval, as the reduced cost is linear along a segment)."""
        first, last = segment.first, segment.last
        at_first = self.at(first, segment.j_first)
        at_last = self.at(last, segment.cost(last)[0])
        rise = self.b * segment.j_slope + self.a * self.security.price
        if rise > 0:
            if at_first > gap:
                return None
            return first, min(last, first + (gap - at_first) // rise)
        if rise < 0:
            if at_last > gap:
                return None
            return max(first, last - (gap - at_last) // -rise), last
        return (first, last) if at_first <= gap else None

    def spans(self, gap: int) -> Iterator[tuple[Segment, int, int]]:
        """Each segment with the whole numbers of it within `gap` (`within`)."""
        for segment in self.security.segments:
            span = self.within(segment, gap)
            if span is not None:
                yield segment, *span


def least_cost(securities: Sequence[Security], needed: int, effort: Effort) -> CostStage:
    """Stage one for securities that must save at least `needed` (>= 0) together."""
    points = [[(sec.saving(u), j) for u, j, _ in sec.knots()] for sec in securities]
    relaxation = Relaxation.of([lower_hull(own) for own in points])
    whole = relaxation.whole(needed)
    if whole is None:
        raise GiveUp("no holding saves what the cash floor needs")
    a, b = relaxation.multiplier(needed)
    reduced = [
        _Reduced(sec, a, b, min(b * j - a * s for s, j in own))
        for sec, own in zip(securities, points, strict=True)
    ]
    base = sum(r.least for r in reduced) + a * needed
    gap = b * whole - base
    options = [_cost_options(r, gap, effort) for r in reduced]
    count = len(securities)
    order = list(range(count - 1, -1, -1))
    backward = fronts(
        [options[i] for i in order], needed, whole, _pricing(reduced, order, a, b), effort
    )
    last = backward[-1]
    if last.savings[-1] < needed:
        raise GiveUp("the dynamic programme lost the relaxation's holding")
    index = next(i for i, saving in enumerate(last.savings) if saving >= needed)
    least = last.costs[index]
    holding = list(reversed(read_back(backward, index)))
    forward = fronts(options, needed, least, _pricing(reduced, list(range(count)), a, b), effort)
    gap = b * least - base
    choices = [
        _used(reduced[i], forward[i], backward[count - 1 - i], needed, least, gap, effort)
        for i in range(count)
    ]
    return CostStage(least, holding, choices)


def _pricing(reduced: Sequence[_Reduced], order: Sequence[int], a: int, b: int) -> Pricing:
    rest = [0] * (len(order) + 1)
    for position in range(len(order) - 1, -1, -1):
        rest[position] = rest[position + 1] + reduced[order[position]].least
    return Pricing(a, b, tuple(rest))


def _cost_options(reduced: _Reduced, gap: int, effort: Effort) -> list[Option]:
    """The choices that can matter for J: within the gap, and undominated along their
    segment (where J does not fall as u rises, only the segment's first, most saving,
    whole number)."""
    security = reduced.security
    options = []
    for segment, first, last in reduced.spans(gap):
        most = first if segment.j_slope >= 0 else last
        effort.spend_states(most - first + 1)
        options += [(security.saving(u), segment.cost(u)[0], u) for u in range(first, most + 1)]
    return options


def _used(
    reduced: _Reduced,
    before: Front,
    after: Front,
    needed: int,
    least: int,
    gap: int,
    effort: Effort,
) -> list[Choices]:
    """The choices of one security that a holding with J <= `least` uses: within the
    gap, and completed by a state of the securities before it and one of those after."""
    security = reduced.security
    found = []
    for segment, first, last in reduced.spans(gap):
        if segment.j_slope == 0:
            # Saving falls as u rises: the choices are those up to the most u still completed.
            most = _most_units(security, segment.j_first, before, after, needed, least)
            if most is not None and most >= first:
                found.append(Choices(segment, first, min(last, most)))
            continue
        effort.spend_states(last - first + 1)
        kept = [
            u
            for u in range(first, last + 1)
            if _completed(security.saving(u), segment.cost(u)[0], before, after, needed, least)
        ]
        found += _runs(segment, kept)
    return found


def _most_units(
    security: Security, cost: int, before: Front, after: Front, needed: int, least: int
) -> int | None:
    """The most units at J = `cost` that some before-state and after-state complete."""
    smallest = None
    for saving, spent in zip(before.savings, before.costs, strict=True):
        other = most_saving_within(after, least - spent - cost)
        if other is None:
            continue
        short = needed - saving - other
        smallest = short if smallest is None else min(smallest, short)
    if smallest is None:
        return None
    if smallest <= 0:
        return security.top
    return security.top - -(-smallest // security.price)


def _completed(
    saving: int, cost: int, before: Front, after: Front, needed: int, least: int
) -> bool:
    """Whether a choice saving `saving` at J `cost` is completed within `least`."""
    for state_saving, spent in zip(before.savings, before.costs, strict=True):
        other = most_saving_within(after, least - spent - cost)
        if other is not None and state_saving + saving + other >= needed:
            return True
    return False


def _runs(segment: Segment, units: list[int]) -> list[Choices]:
    """Consecutive whole numbers as runs."""
    runs: list[Choices] = []
    for u in units:
        if runs and runs[-1].last == u - 1:
            runs[-1] = Choices(segment, runs[-1].first, u)
        else:
            runs.append(Choices(segment, u, u))
    return runs
