"""Pareto fronts of (saving, cost) over a sequence of securities: a dynamic programme.

After k securities, the front holds every undominated (saving, least cost) pair of
their choices: more saving costs strictly more. Savings beyond what is needed are
worth nothing more, so they are capped at it. A state is dropped as soon as the
Lagrangian bound of the securities still to come puts any completion above the
ceiling; and each state remembers the choice that made it, so a holding can be
read back.
"""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from ordergen.optimize.policies.knapsack.effort import Effort

Option = tuple[int, int, int]
"""(saving, cost, units) of one whole choice of one security."""


@dataclass(frozen=True)
class Front:
    """States in ascending saving (and so ascending cost); `links` index the previous front."""

    savings: tuple[int, ...]
    costs: tuple[int, ...]
    choices: tuple[int, ...]
    links: tuple[int, ...]


EMPTY = Front((0,), (0,), (-1,), (-1,))


@dataclass(frozen=True)
class Pricing:
    """The multiplier a/b and, per position in the sequence, the sum of m_i over the
    securities not yet taken: b*cost + rest + a*max(0, needed - saving) bounds b times
    the cost of any completion (`relaxation`)."""

    a: int
    b: int
    rest: tuple[int, ...]


def fronts(
    options: Sequence[Sequence[Option]],
    needed: int,
    ceiling: int,
    pricing: Pricing,
    effort: Effort,
) -> list[Front]:
    """The front after each prefix of `options` (index 0 is the empty sequence)."""
    found = [EMPTY]
    a, b = pricing.a, pricing.b
    limit = b * ceiling
    for position, own in enumerate(options):
        previous = found[-1]
        rest = pricing.rest[position + 1]
        states = []
        for link, (saving, cost) in enumerate(zip(previous.savings, previous.costs, strict=True)):
            for gained, added, units in own:
                total = min(needed, saving + gained)
                spent = cost + added
                if b * spent + rest + a * (needed - total) > limit:
                    continue
                states.append((total, spent, units, link))
        effort.spend_states(len(states))
        found.append(_undominated(states))
    return found


def _undominated(states: list[tuple[int, int, int, int]]) -> Front:
    """Keep, from the most saving down, each state cheaper than every state saving more.
    Among equal (saving, cost) the first listed wins, so the result is deterministic."""
    states.sort(key=lambda state: (-state[0], state[1]))
    kept = []
    cheapest = None
    for state in states:
        if cheapest is None or state[1] < cheapest:
            kept.append(state)
            cheapest = state[1]
    kept.reverse()
    return Front(
        tuple(state[0] for state in kept),
        tuple(state[1] for state in kept),
        tuple(state[2] for state in kept),
        tuple(state[3] for state in kept),
    )


def most_saving_within(front: Front, budget: int) -> int | None:
    """The most saving of a state costing at most `budget` (None if none does)."""
    index = bisect.bisect_right(front.costs, budget)
    return front.savings[index - 1] if index else None


def least_cost_saving(front: Front, needed: int) -> int | None:
    """The least cost of a state saving at least `needed` (None if none does)."""
    if needed <= front.savings[0]:
        return front.costs[0]
    index = bisect.bisect_left(front.savings, needed)
    return front.costs[index] if index < len(front.costs) else None


def read_back(found: Sequence[Front], index: int) -> list[int]:
    """The choices, in sequence order, that made state `index` of the last front."""
    choices = []
    for front in reversed(found[1:]):
        choices.append(front.choices[index])
        index = front.links[index]
    choices.reverse()
    return choices
