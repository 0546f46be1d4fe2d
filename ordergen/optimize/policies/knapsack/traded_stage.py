"""Stage two: the least traded value T* among holdings with J = J* (stage one's).

Only the choices stage one kept can appear, so most securities have one and are
fixed. The others are free, of two kinds, searched in this order:

- candidates, which move off their default (usually holding their top) only by
  paying J, say an order's cost: J* allows only a few of them to move, so the search
  picks which move (in order), and how far;
- fillers, which can move at no cost in J (their order is due anyway): the search
  picks each one's whole number in turn.

A node is cut when the securities after it cannot complete it within J* (their exact
Pareto front of saving against J says so) or when its T plus a lower bound for the
rest is no better than the best holding found: that bound is the relaxation of T
(one multiplier, `relaxation`), with the rest's saving and T rounded up to multiples
of the gcd of their prices (every saving and every traded value is one). Where only
one candidate may still move, which one and how far is read off one table with the
fillers (`group`); the last fillers are chosen in closed form in the same way. The
search stops as soon as a holding meets the relaxation's bound for the whole
problem: then it is optimal, and usually at once.

Ties: a holding replaces the best one only when its T is strictly less, so among
equal ones the first met wins, stage one's holding first. The order is fixed by the
portfolio's data alone: candidates, then fillers, each kind by what it can save
freely, then dearest price, then batch order; each candidate's defaults before its
moves, its moves from the one leaving the rest a shortfall nearest mid-way in what it
can save, then fewest units; each filler's whole numbers by the bound, then the same;
in the tables, the fewest units of the first security, then of the next.
"""

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd

from ordergen.optimize.policies.knapsack.cost_stage import Choices, CostStage
from ordergen.optimize.policies.knapsack.effort import ROWS_PER_UNIT, Effort
from ordergen.optimize.policies.knapsack.fronts import (
    Front,
    Option,
    Pricing,
    fronts,
    least_cost_saving,
    most_saving_within,
)
from ordergen.optimize.policies.knapsack.group import (
    Member,
    Table,
    best_row,
    best_with_last,
    dtype_for,
    union,
)
from ordergen.optimize.policies.knapsack.pieces import Security
from ordergen.optimize.policies.knapsack.relaxation import Relaxation, lower_hull

GROUP_LIMIT = 4096
"""The most combinations the last free securities are searched together in numpy."""
UNION_LIMIT = 65536
"""The most rows of single moves (with the fillers' combinations) searched at once."""


class _Optimal(Exception):  # noqa: N818 (not an error: the search is done)
    """A holding met the lower bound: the search is over."""


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step if step else value


@dataclass
class _Best:
    traded: int
    units: list[int]


@dataclass(frozen=True)
class _Free:
    """One free security in search order, with its choices. A candidate has a default
    (its one least-J choice, usually holding its top): it only moves off it by paying
    J, so the search picks which candidates move. A filler can move at no cost in J."""

    security: Security
    choices: tuple[Choices, ...]
    member: Member
    default: tuple[int, int, int, int] | None = None
    """(units, saving, J, T) of a candidate's default choice."""


class _Search:
    def __init__(
        self,
        free: Sequence[_Free],
        needed: int,
        budget: int,
        best: _Best,
        effort: Effort,
    ) -> None:
        self.free = free
        self.needed = needed
        self.budget = budget
        self.best = best
        self.effort = effort
        count = len(free)
        self.candidates = sum(1 for item in free if item.default is not None)
        self.fronts = self._cost_fronts()
        hulls = [lower_hull(_points(item)) for item in free]
        relaxation = Relaxation.of(hulls)
        self.a, self.b = relaxation.multiplier(needed)
        least = [
            min(self.b * traded - self.a * saving for saving, traded in _points(item))
            for item in free
        ]
        self.rest = [0] * (count + 1)
        self.steps = [0] * (count + 1)
        for position in range(count - 1, -1, -1):
            self.rest[position] = self.rest[position + 1] + least[position]
            self.steps[position] = gcd(self.steps[position + 1], free[position].security.price)
        bound = relaxation.bound(needed)
        assert bound is not None, "stage one's holding saves what is needed"
        self.floor = _round_up(bound, self.steps[0])
        # Sums of the candidates' defaults before each position, and the least J a move
        # off the default adds from each position on.
        sums = [(0, 0, 0)]
        for item in free[: self.candidates]:
            assert item.default is not None
            _, saving, cost, trade = item.default
            total = sums[-1]
            sums.append((total[0] + saving, total[1] + cost, total[2] + trade))
        self.defaults = sums
        self.least_move: list[int | None] = [None] * (self.candidates + 1)
        for position in range(self.candidates - 1, -1, -1):
            move = _least_move(free[position])
            after = self.least_move[position + 1]
            options = [value for value in (move, after) if value is not None]
            self.least_move[position] = min(options) if options else None
        self.fillers = [item.member for item in free[self.candidates :]]
        # Twice the middle of what the securities from each position on can save.
        self.middle = [0] * (count + 1)
        for position in range(count - 1, -1, -1):
            savings = [saving for saving, _ in _points(free[position])]
            self.middle[position] = self.middle[position + 1] + min(savings) + max(savings)
        self.filler_cost = sum(_least_cost(item) for item in free[self.candidates :])
        self.prefix: list[int] = []
        self.dtype = dtype_for([item.member for item in free], needed, budget)
        self.heads: dict[tuple[str, int, int], Table | None] = {}

    def _cost_fronts(self) -> list[Front]:
        """Suffix fronts: the least J of the free securities from each position on."""
        options: list[list[Option]] = []
        for item in reversed(self.free):
            own: list[Option] = []
            for choice in item.choices:
                segment = choice.segment
                # Along a flat J only the most saving whole number matters for J.
                last = choice.first if segment.j_slope == 0 else choice.last
                own += [
                    (item.security.saving(u), segment.cost(u)[0], u)
                    for u in range(choice.first, last + 1)
                ]
            options.append(own)
        flat = Pricing(0, 1, (0,) * (len(options) + 1))
        found = fronts(options, self.needed, self.budget, flat, self.effort)
        return list(reversed(found))

    def bound(self, position: int, short: int) -> int:
        """A lower bound on the T of the free securities from `position` on, which must
        save at least `short`."""
        step = self.steps[position]
        short = _round_up(max(short, 0), step)
        return _round_up(-(-(self.rest[position] + self.a * short) // self.b), step)

    def run(self) -> None:
        if self.best.traded > self.floor:
            with contextlib.suppress(_Optimal):
                self._candidates(0, 0, 0, 0)

    def _hopeless(self, position: int, saved: int, spent: int, traded: int) -> bool:
        """Whether no completion from `position` on fits J* or beats the best T."""
        short = self.needed - saved
        rest_cost = least_cost_saving(self.fronts[position], short)
        if rest_cost is None or spent + rest_cost > self.budget:
            return True
        return traded + self.bound(position, short) >= self.best.traded

    def _offer(self, traded: int, units: list[int]) -> None:
        if traded < self.best.traded:
            self.best.traded = traded
            self.best.units = units
            if traded <= self.floor:
                raise _Optimal

    def _candidates(self, position: int, saved: int, spent: int, traded: int) -> None:
        """Candidates from `position` on: all at their defaults, or the first to move
        is one of them (each in turn), with the candidates before it at their defaults."""
        self.effort.spend()
        if self._hopeless(position, saved, spent, traded):
            return
        if self._one_move(position, saved, spent, traded):
            return
        end = self.candidates
        start = self.defaults[position]
        depth = len(self.prefix)
        for moved in range(position, end + 1):
            before = self.defaults[moved]
            at = (
                saved + before[0] - start[0],
                spent + before[1] - start[1],
                traded + before[2] - start[2],
            )
            self.prefix[depth:] = self._defaults_between(position, moved)
            if moved == end:
                if not self._hopeless(end, *at):
                    self._fillers(end, *at)
                break
            if self._hopeless(moved, *at):
                continue
            self._move(moved, *at)
        del self.prefix[depth:]

    def _one_move(self, position: int, saved: int, spent: int, traded: int) -> bool:
        """When the J left allows at most one candidate from `position` on to move:
        which one, how far and the fillers, all in one table. False when it allows
        more, or the table would be too large."""
        end = self.candidates
        least = self.least_move[position]
        start, rest = self.defaults[position], self.defaults[end]
        room = self.budget - spent - (rest[1] - start[1]) - self.filler_cost
        if least is not None and room >= 2 * least:
            return False
        head = self._moves(position)
        if head is None:
            return False
        short = self.needed - saved - (rest[0] - start[0])
        budget = self.budget - spent - (rest[1] - start[1])
        base = traded + rest[2] - start[2]
        found = self._closed(head, self.fillers[-1] if self.fillers else None, short, budget)
        if found is not None:
            who, units, *fillers = found[1]
            moves = [
                units if position + offset == who else item.default[0]
                for offset, item in enumerate(self.free[position:end])
                if item.default is not None
            ]
            self._offer(base + found[0], [*self.prefix, *moves, *fillers])
        return True

    def _moves(self, position: int) -> Table | None:
        """Every single move off a default from `position` on (or none), as changes to
        the defaults' totals, with every combination of the fillers but the last."""
        key = ("one", position, 0)
        if key not in self.heads:
            movers = []
            for offset, item in enumerate(self.free[position : self.candidates]):
                assert item.default is not None
                default = item.default[0]
                moving = tuple(c for c in item.choices if not c.first == c.last == default)
                if moving:
                    movers.append((position + offset, item, Member(item.security, moving)))
            size = 1 + sum(member.count for _, _, member in movers)
            for filler in self.fillers[:-1]:
                size *= filler.count
            table = None
            if size <= UNION_LIMIT:
                parts = []
                for label, item, member in movers:
                    assert item.default is not None
                    _, saving, cost, trade = item.default
                    moved = Table.of(member, self.dtype).shifted(saving, cost, trade)
                    parts.append((label, moved))
                table = union(parts, self.dtype)
                for filler in self.fillers[:-1]:
                    table = table.then(Table.of(filler, self.dtype))
            self.heads[key] = table
        return self.heads[key]

    def _move(self, position: int, saved: int, spent: int, traded: int) -> None:
        """Candidate `position` moves off its default (the ones after it free to)."""
        item = self.free[position]
        assert item.default is not None
        default_units = item.default[0]
        after_defaults = self.defaults[self.candidates][1] - self.defaults[position + 1][1]
        next_move = self.least_move[position + 1]
        for choice in item.choices:
            if choice.first == choice.last == default_units:
                continue
            segment = choice.segment
            room = self.budget - spent - after_defaults - self.filler_cost
            further = segment.j_slope != 0 or (
                next_move is not None and room - segment.j_first >= next_move
            )
            if further:
                for units in self._balanced(position, choice, saved, spent, traded):
                    cost, trade = segment.cost(units)
                    self.prefix.append(units)
                    self._candidates(
                        position + 1,
                        saved + item.security.saving(units),
                        spent + cost,
                        traded + trade,
                    )
                    self.prefix.pop()
                continue
            # Nothing after it moves: the candidates in between keep their defaults.
            rest = self.defaults[self.candidates]
            here = self.defaults[position + 1]
            short = self.needed - saved - (rest[0] - here[0])
            budget = self.budget - spent - (rest[1] - here[1])
            base = traded + rest[2] - here[2]
            between = self._defaults_between(position + 1, self.candidates)
            lone = Member(item.security, (choice,))
            members = [lone, *self.fillers[:-1]] if self.fillers else []
            head = self._head(("move", position, choice.first), members)
            if head is not None:
                # The candidate with the fillers, in closed form.
                last = self.fillers[-1] if self.fillers else lone
                found = self._closed(head, last, short, budget)
                if found is not None:
                    first, *others = found[1]
                    self._offer(base + found[0], [*self.prefix, first, *between, *others])
                continue
            depth = len(self.prefix)
            for units in range(choice.first, choice.last + 1):
                cost, trade = segment.cost(units)
                at = (
                    self.needed - short + item.security.saving(units),
                    self.budget - budget + cost,
                    base + trade,
                )
                if self._hopeless(self.candidates, *at):
                    continue
                self.prefix[depth:] = [units, *between]
                self._fillers(self.candidates, *at)
            del self.prefix[depth:]

    def _closed(
        self, head: Table, last: Member | None, short: int, budget: int
    ) -> tuple[int, tuple[int, ...]] | None:
        """The best row of `head` (with `last` in closed form, if any), counting the work."""
        self.effort.spend(1 + len(head.saving) // ROWS_PER_UNIT)
        if last is None:
            return best_row(head, short, budget)
        return best_with_last(head, last, short, budget)

    def _defaults_between(self, start: int, end: int) -> list[int]:
        """The candidates' default units from position `start` to `end` (excluded)."""
        return [item.default[0] for item in self.free[start:end] if item.default is not None]

    def _balanced(
        self, position: int, choice: Choices, saved: int, spent: int, traded: int
    ) -> list[int]:
        """The whole numbers of a moving candidate's run that the rest can complete
        within J* and that may beat the best T, those leaving the rest a shortfall
        mid-way in what it can still save first."""
        security = self.free[position].security
        segment = choice.segment
        after = self.fronts[position + 1]
        short = self.needed - saved
        keyed = []
        self.effort.spend(choice.last - choice.first + 1)
        for units in range(choice.first, choice.last + 1):
            cost, trade = segment.cost(units)
            most = most_saving_within(after, self.budget - spent - cost)
            rest_short = short - security.saving(units)
            if most is None or rest_short > most:
                continue
            if traded + trade + self.bound(position + 1, rest_short) >= self.best.traded:
                continue
            keyed.append((abs(2 * rest_short - most), units))
        keyed.sort()
        return [units for _, units in keyed]

    def _head(self, key: tuple[str, int, int], members: Sequence[Member]) -> Table | None:
        """The table of every combination of `members` (built once per key), or None
        when there are more than `GROUP_LIMIT`."""
        if key not in self.heads:
            total = 1
            for member in members:
                total *= member.count
            table = None
            if total <= GROUP_LIMIT:
                table = Table.empty(self.dtype)
                for member in members:
                    table = table.then(Table.of(member, self.dtype))
            self.heads[key] = table
        return self.heads[key]

    def _fillers(self, position: int, saved: int, spent: int, traded: int) -> None:
        """The fillers from `position` on, one whole number each; the last two in
        closed form."""
        self.effort.spend()
        short = self.needed - saved
        remaining = len(self.free) - position
        if remaining == 0:
            if short <= 0 and spent <= self.budget:
                self._offer(traded, list(self.prefix))
            return
        head = self._head(("fill", position, 0), [item.member for item in self.free[position:-1]])
        if head is not None:
            found = self._closed(head, self.free[-1].member, short, self.budget - spent)
            if found is not None:
                self._offer(traded + found[0], [*self.prefix, *found[1]])
            return
        item = self.free[position]
        security = item.security
        after = self.fronts[position + 1]
        children = []
        for choice in item.choices:
            segment = choice.segment
            last = choice.last
            self.effort.spend(last - choice.first + 1)
            if segment.j_slope == 0:
                # The rest must cover what this choice leaves short within the J left.
                most = most_saving_within(after, self.budget - spent - segment.j_first)
                if most is None:
                    continue
                lacking = short - most
                if lacking > 0:
                    last = min(last, security.top - -(-lacking // security.price))
            for units in range(choice.first, last + 1):
                cost, trade = segment.cost(units)
                rest_short = short - security.saving(units)
                if segment.j_slope:
                    rest_cost = least_cost_saving(after, rest_short)
                    if rest_cost is None or spent + cost + rest_cost > self.budget:
                        continue
                bound = traded + trade + self.bound(position + 1, rest_short)
                if bound < self.best.traded:
                    # Equal bounds: leave the rest a shortfall mid-way in what it can save.
                    off_centre = abs(2 * rest_short - self.middle[position + 1])
                    children.append((bound, off_centre, units, cost, trade))
        children.sort()
        for bound, _, units, cost, trade in children:
            if bound >= self.best.traded:
                break
            self.prefix.append(units)
            self._fillers(
                position + 1,
                saved + security.saving(units),
                spent + cost,
                traded + trade,
            )
            self.prefix.pop()


def _least_cost(item: _Free) -> int:
    """The least J of any of the security's choices."""
    return min(
        choice.segment.cost(u)[0] for choice in item.choices for u in (choice.first, choice.last)
    )


def _least_move(item: _Free) -> int | None:
    """The least J a candidate adds by moving off its default (None if it cannot)."""
    assert item.default is not None
    units, _, cost, _ = item.default
    moves = [
        choice.segment.cost(u)[0] - cost
        for choice in item.choices
        for u in (choice.first, choice.last)
        if u != units
    ]
    return min(moves) if moves else None


def _points(item: _Free) -> list[tuple[int, int]]:
    """(saving, T) at the ends of each run of choices: the run's convex hull."""
    points = []
    for choice in item.choices:
        for units in {choice.first, choice.last}:
            points.append((item.security.saving(units), choice.segment.cost(units)[1]))
    return points


def least_traded(
    securities: Sequence[Security], needed: int, stage: CostStage, effort: Effort
) -> list[int]:
    """A holding with J = stage.least and the least T (stage two)."""
    units = list(stage.holding)
    free_indexes = [
        i
        for i, choices in enumerate(stage.choices)
        if len(choices) > 1 or choices[0].first < choices[0].last
    ]
    fixed_saving = fixed_cost = 0
    free_set = set(free_indexes)
    for i, choices in enumerate(stage.choices):
        if i not in free_set:
            units[i] = choices[0].first
            fixed_saving += securities[i].saving(units[i])
            fixed_cost += choices[0].segment.cost(units[i])[0]
    if not free_indexes:
        return units
    spans = {i: _free_span(securities[i], stage.choices[i]) for i in free_indexes}
    free_indexes.sort(key=lambda i: (spans[i] > 0, spans[i], -securities[i].price, i))
    free = [
        _Free(
            securities[i],
            tuple(stage.choices[i]),
            Member(securities[i], tuple(stage.choices[i])),
            _default(securities[i], stage.choices[i]) if spans[i] == 0 else None,
        )
        for i in free_indexes
    ]
    traded = sum(_cost_at(securities[i], stage.choices[i], units[i])[1] for i in free_indexes)
    best = _Best(traded, [units[i] for i in free_indexes])
    search = _Search(free, needed - fixed_saving, stage.least - fixed_cost, best, effort)
    search.run()
    for i, chosen in zip(free_indexes, best.units, strict=True):
        units[i] = chosen
    return units


def _default(security: Security, choices: Sequence[Choices]) -> tuple[int, int, int, int]:
    """(units, saving, J, T) of the least (J, T) choice, the most saving among equals."""
    options = []
    for choice in choices:
        for units in (choice.first, choice.last):
            cost, trade = choice.segment.cost(units)
            options.append((cost, trade, -security.saving(units), units))
    cost, trade, saving, units = min(options)
    return units, -saving, cost, trade


def _free_span(security: Security, choices: Sequence[Choices]) -> int:
    """How much the security can save without raising its J above its least: the
    securities that can fill a shortfall at no cost in J are searched last."""
    least = min(choice.segment.cost(choice.last)[0] for choice in choices)
    span = 0
    for choice in choices:
        segment = choice.segment
        if segment.j_slope == 0 and segment.j_first == least:
            span += (choice.last - choice.first) * security.price
    return span


def _cost_at(security: Security, choices: Sequence[Choices], units: int) -> tuple[int, int]:
    for choice in choices:
        if choice.first <= units <= choice.last:
            return choice.segment.cost(units)
    for segment in security.segments:
        if segment.first <= units <= segment.last:
            return segment.cost(units)
    raise ValueError(f"{units} is not an allowed whole number")
