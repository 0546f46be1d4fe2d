"""An independent exact reference for the benchmark's correctness columns.

It shares no code with ordergen. It reads the generated data as the plain strings a
user's files hold, values each portfolio itself, states the integer program of
docs/policies.md directly for `scipy.optimize.milp` (a different modelling path to
HiGHS than ordergen's CVXPY problems; the base problem is the case with no policy),
and re-scores every answer exactly with `Fraction`. An exhaustive search over every
allowed whole-share vector checks it on small instances.
"""

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

ZERO = Fraction(0)
OBJECTIVE_SCALE = 1000
"""Objectives are stated in thousandths of a dollar, so that HiGHS's absolute gap
tolerance (1e-6) is far below the smallest difference between two answers."""
TIME_LIMIT_SECONDS = 120.0
EXHAUSTIVE_LIMIT = 200_000
"""The most whole-share vectors the exhaustive search will enumerate."""


def exact(text: str | int | Decimal) -> Fraction:
    """A decimal string (or Decimal, or int) as an exact Fraction."""
    return Fraction(Decimal(text) if isinstance(text, str) else text)


@dataclass(frozen=True)
class Rules:
    """A policy's values (docs/policies.md); the defaults are no policy at all."""

    trigger: str = "always"
    inner_band: Fraction = ZERO
    mode: str = "full"
    reserve_amount: Fraction = ZERO
    reserve_fraction: Fraction = ZERO
    min_amount: Fraction = ZERO
    min_fraction: Fraction = ZERO
    min_shares: int = 0
    per_order: Fraction = ZERO
    bps: Fraction = ZERO
    restrictions: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> "Rules":
        """The rules of a policy document as a model file holds it."""
        reserve = document.get("cashReserve", {})
        minimum = document.get("minTrade", {})
        cost = document.get("tradeCost", {})
        return cls(
            trigger=document.get("trigger", "always"),
            inner_band=exact(document.get("innerBand", "0")),
            mode=document.get("mode", "full"),
            reserve_amount=exact(reserve.get("amount", "0")),
            reserve_fraction=exact(reserve.get("fraction", "0")),
            min_amount=exact(minimum.get("amount", "0")),
            min_fraction=exact(minimum.get("fraction", "0")),
            min_shares=int(minimum.get("shares", 0)),
            per_order=exact(cost.get("perOrder", "0")),
            bps=exact(cost.get("bps", "0")),
            restrictions=dict(document.get("restrictions", {})),
        )


NO_POLICY = Rules()


@dataclass(frozen=True)
class Problem:
    """One portfolio: its securities (the model's, then those held outside it), its
    current whole shares, market value, rules and cash need."""

    security_ids: tuple[str, ...]
    prices: tuple[Fraction, ...]
    targets: tuple[Fraction, ...]
    low_drifts: tuple[Fraction, ...]
    high_drifts: tuple[Fraction, ...]
    in_model: tuple[bool, ...]
    current: tuple[int, ...]
    market_value: Fraction
    rules: Rules = NO_POLICY
    cash_need: Fraction = ZERO

    @property
    def size(self) -> int:
        return len(self.security_ids)

    @property
    def base(self) -> Fraction:
        """MV' = MV - cash need: the base of bands, zones and fractions."""
        return self.market_value - self.cash_need

    @property
    def cash_floor(self) -> Fraction:
        """The most the holdings may cost after trading."""
        rules = self.rules
        reserve = max(rules.reserve_amount, rules.reserve_fraction * self.base)
        return self.market_value - self.cash_need - reserve

    def band(self, i: int) -> tuple[Fraction, Fraction]:
        return (
            self.base * (self.targets[i] - self.low_drifts[i]),
            self.base * (self.targets[i] + self.high_drifts[i]),
        )

    def zone(self, i: int) -> tuple[Fraction, Fraction]:
        f = self.rules.inner_band
        return (
            self.base * (self.targets[i] - f * self.low_drifts[i]),
            self.base * (self.targets[i] + f * self.high_drifts[i]),
        )

    def restriction(self, i: int) -> str | None:
        return self.rules.restrictions.get(self.security_ids[i])

    def band_enforced(self, i: int) -> bool:
        return self.rules.mode == "full" and self.restriction(i) is None

    def step(self, i: int) -> int:
        """The fewest shares a trade of security i may move (closing aside)."""
        rules = self.rules
        smallest_value = max(rules.min_amount, rules.min_fraction * self.base)
        return max(math.ceil(smallest_value / self.prices[i]), rules.min_shares, 1)

    def bounds(self, i: int, *, band: bool = True) -> tuple[int, int]:
        """Whole shares allowed by direction, restriction and (where enforced and
        `band`) the band."""
        c, mode, restriction = self.current[i], self.rules.mode, self.restriction(i)
        low, high = 0, c + 10**15
        if not self.in_model[i] or mode == "sell-only" or restriction in ("no-buy", "hold"):
            high = min(high, c)
        if mode == "buy-only" or restriction in ("no-sell", "hold"):
            low = max(low, c)
        if band and self.band_enforced(i):
            band_low, band_high = self.band(i)
            low = max(low, math.ceil(band_low / self.prices[i]))
            high = min(high, math.floor(band_high / self.prices[i]))
        return low, high

    def searched_bounds(self, i: int, *, cash_floor: bool = True) -> tuple[int, int]:
        """`bounds` with an upper bound no optimum exceeds. Above both c + step and the
        zone's top, one share less is allowed and strictly better (less distance, less
        trading); and with the cash floor, as every quantity is >= 0, no one holding
        may cost more than the floor."""
        low, high = self.bounds(i)
        price = self.prices[i]
        high = min(high, max(self.current[i] + self.step(i), math.ceil(self.zone(i)[1] / price)))
        if cash_floor:
            high = min(high, math.floor(max(self.cash_floor, ZERO) / price))
        return low, high

    def allowed(self, i: int, units: int, *, band: bool = True) -> bool:
        """Whether `units` meets every rule on security i alone (the band only if `band`)."""
        low, high = self.bounds(i, band=band)
        c = self.current[i]
        return low <= units <= high and (units in (c, 0) or abs(units - c) >= self.step(i))

    def smallest_allowed(self, i: int) -> int | None:
        low, _ = self.bounds(i)
        c = self.current[i]
        found = [u for u in (low, c, 0, c + self.step(i)) if self.allowed(i, u)]
        return min(found) if found else None

    def within_bands(self) -> bool:
        """The trigger's test: left alone when every unrestricted holding is in its band
        and the current holdings meet the cash floor."""
        if self.rules.trigger != "outside-bands":
            return False
        for i in range(self.size):
            if self.restriction(i) is None:
                low, high = self.band(i)
                if not low <= self.current[i] * self.prices[i] <= high:
                    return False
        return spend(self, self.current) <= self.cash_floor

    def infeasibility(self) -> str | None:
        """Why no whole-share answer exists, or None when one does (decided exactly)."""
        if self.base < 0:
            return "cash need exceeds market value"
        cheapest = ZERO
        for i in range(self.size):
            smallest = self.smallest_allowed(i)
            if smallest is None:
                return f"no allowed quantity for {self.security_ids[i]}"
            cheapest += smallest * self.prices[i]
        if cheapest > self.cash_floor:
            return "the cheapest allowed holdings break the cash floor"
        return None


def spend(problem: Problem, units: Sequence[int]) -> Fraction:
    return sum((u * p for u, p in zip(units, problem.prices, strict=True)), ZERO)


def distance(value: Fraction, zone: tuple[Fraction, Fraction]) -> Fraction:
    low, high = zone
    return low - value if value < low else value - high if value > high else ZERO


@dataclass(frozen=True)
class Score:
    """An answer measured exactly against its problem."""

    objective: Fraction
    traded: Fraction
    outside_band: int
    """Securities outside a band that is enforced."""
    overspent: bool
    other_rules_broken: int
    """Securities breaking a direction, restriction or minimum-trade rule."""

    @property
    def breaks_a_rule(self) -> bool:
        return bool(self.outside_band or self.overspent or self.other_rules_broken)

    @property
    def rank(self) -> tuple[Fraction, Fraction]:
        """Objective first, then the least traded value (docs/policies.md)."""
        return self.objective, self.traded


def score(problem: Problem, units: Sequence[int]) -> Score:
    objective = traded = ZERO
    outside = broken = 0
    rules = problem.rules
    for i, u in enumerate(units):
        p, c = problem.prices[i], problem.current[i]
        value = u * p
        objective += distance(value, problem.zone(i))
        moved = abs(u - c) * p
        traded += moved
        if u != c:
            objective += rules.per_order + rules.bps / 10_000 * moved
        low, high = problem.band(i)
        outside += problem.band_enforced(i) and not low <= value <= high
        broken += not problem.allowed(i, u, band=False)
    return Score(objective, traded, outside, spend(problem, units) > problem.cash_floor, broken)


@dataclass(frozen=True)
class Answer:
    """The reference's verdict: `ok` with its quantities, `infeasible` or `within-bands`."""

    status: str
    units: tuple[int, ...] | None = None
    score: Score | None = None
    note: str = ""


def solve(problem: Problem) -> Answer:
    """The exact optimum: verdicts decided by the rules, the rest by a MILP re-scored exactly."""
    if problem.within_bands():
        return Answer("within-bands")
    reason = problem.infeasibility()
    if reason is not None:
        return Answer("infeasible", note=reason)
    best = _optimum(problem, cash_floor=True)
    if best is None:
        return Answer("failed", note="the reference MILP found no answer")
    found = score(problem, best)
    if found.breaks_a_rule:
        return Answer("failed", best, found, "the reference MILP's answer breaks a rule")
    return Answer("ok", best, found)


def floor_binds(problem: Problem, answer: Answer) -> bool:
    """Whether the cash floor changes the optimum of an `ok` answer: the best holdings
    without the floor rank better (objective, then traded value under a policy)."""
    if answer.score is None:
        return False
    free = _optimum(problem, cash_floor=False)
    if free is None:
        return False
    found = score(problem, free)
    if problem.rules == NO_POLICY:
        return found.objective < answer.score.objective
    return found.rank < answer.score.rank


def _optimum(problem: Problem, *, cash_floor: bool) -> tuple[int, ...] | None:
    """The MILP's best whole shares. Under a policy, the least traded value among the
    optimal answers is found by a second MILP that keeps the objective at its optimum."""
    program = _Program(problem, cash_floor=cash_floor)
    first = program.solve(program.objective, None)
    if first is None or problem.rules == NO_POLICY:
        return first
    second = program.solve(program.traded, first)
    if second is not None and score(problem, second).rank < score(problem, first).rank:
        return second
    return first


class _Program:
    """The integer program of one problem, laid out for `scipy.optimize.milp`.

    Columns, n each: u (whole shares), d (distance to the zone), up and down (shares
    bought and sold); when trades have a minimum or a per-order cost, also the binaries
    buy, sell and close (a sale to zero, which no minimum restricts).
    """

    def __init__(self, problem: Problem, *, cash_floor: bool) -> None:
        n = problem.size
        self.problem = problem
        rules = problem.rules
        steps = [problem.step(i) for i in range(n)]
        self.binaries = rules.per_order > 0 or any(step > 1 for step in steps)
        blocks = 7 if self.binaries else 4
        self.columns = blocks * n
        u, d, up, down = (np.arange(n) + k * n for k in range(4))
        buy, sell, close = (np.arange(n) + k * n for k in range(4, 7))
        prices = [float(p) for p in problem.prices]
        bounds = [problem.searched_bounds(i, cash_floor=cash_floor) for i in range(n)]
        lower = np.zeros(self.columns)
        upper = np.full(self.columns, np.inf)
        lower[u] = [low for low, _ in bounds]
        upper[u] = [high for _, high in bounds]
        room_up = [max(0, high - c) for (_, high), c in zip(bounds, problem.current, strict=True)]
        room_down = [max(0, c - low) for (low, _), c in zip(bounds, problem.current, strict=True)]
        upper[up], upper[down] = room_up, room_down
        integrality = np.zeros(self.columns)
        integrality[u] = 1
        if self.binaries:
            upper[buy] = upper[sell] = upper[close] = 1
            integrality[buy] = integrality[sell] = integrality[close] = 1
        self.bounds = Bounds(lower, upper)
        self.integrality = integrality

        rows: list[tuple[dict[int, float], float, float]] = []
        for i in range(n):
            zone_low, zone_high = (float(end) for end in problem.zone(i))
            c = problem.current[i]
            rows.append(({d[i]: 1, u[i]: prices[i]}, zone_low, np.inf))  # d >= low - value
            rows.append(({d[i]: 1, u[i]: -prices[i]}, -zone_high, np.inf))  # d >= value - high
            rows.append(({u[i]: 1, up[i]: -1, down[i]: 1}, c, c))  # u - c = up - down
            if self.binaries:
                rows.append(({up[i]: 1, buy[i]: -room_up[i]}, -np.inf, 0))
                rows.append(({down[i]: 1, sell[i]: -room_down[i]}, -np.inf, 0))
                rows.append(({buy[i]: 1, sell[i]: 1}, -np.inf, 1))
                rows.append(({up[i]: 1, buy[i]: -steps[i]}, 0, np.inf))
                # A sale moves at least the step unless it closes the position.
                rows.append(({down[i]: 1, sell[i]: -steps[i], close[i]: steps[i]}, 0, np.inf))
                rows.append(({close[i]: 1, sell[i]: -1}, -np.inf, 0))
                rows.append(({u[i]: 1, close[i]: max(upper[u[i]], 0)}, -np.inf, upper[u[i]]))
        if cash_floor:
            floor = float(problem.cash_floor)
            rows.append(({int(u[i]): prices[i] for i in range(n)}, -np.inf, floor))
        self.rows = rows

        objective = np.zeros(self.columns)
        objective[d] = 1
        rate = float(rules.bps) / 10_000
        objective[up] = objective[down] = [rate * p for p in prices]
        if self.binaries:
            objective[buy] = objective[sell] = float(rules.per_order)
        self.objective = objective * OBJECTIVE_SCALE
        traded = np.zeros(self.columns)
        traded[up] = traded[down] = prices
        self.traded = traded
        self.u = u

    def solve(self, cost: np.ndarray, keep: tuple[int, ...] | None) -> tuple[int, ...] | None:
        """Minimise `cost`; with `keep`, among answers whose objective is no worse than
        that of the whole shares `keep`."""
        rows = list(self.rows)
        if keep is not None:
            reached = float(score(self.problem, keep).objective) * OBJECTIVE_SCALE
            rows.append((dict(enumerate(self.objective.tolist())), -np.inf, reached + 1e-3))
        matrix, low, high = self._matrix(rows)
        result = milp(
            cost,
            integrality=self.integrality,
            bounds=self.bounds,
            constraints=LinearConstraint(matrix, low, high),
            options={"mip_rel_gap": 0.0, "time_limit": TIME_LIMIT_SECONDS},
        )
        if result.x is None:
            return None
        return tuple(round(x) for x in result.x[self.u].tolist())

    def _matrix(self, rows: list[tuple[dict[int, float], float, float]]) -> tuple[Any, Any, Any]:
        row_index, column_index, values = [], [], []
        for r, (coefficients, _, _) in enumerate(rows):
            for column, value in coefficients.items():
                if value:
                    row_index.append(r)
                    column_index.append(column)
                    values.append(value)
        matrix = coo_array(
            (values, (row_index, column_index)), shape=(len(rows), self.columns)
        ).tocsr()
        return matrix, np.array([r[1] for r in rows]), np.array([r[2] for r in rows])


def exhaustive(problem: Problem) -> Answer | None:
    """Every allowed whole-share vector, ranked exactly; None when there are too many."""
    if problem.within_bands():
        return Answer("within-bands")
    choices = []
    for i in range(problem.size):
        low, high = problem.searched_bounds(i)
        if high - low > EXHAUSTIVE_LIMIT:
            return None
        choices.append([u for u in range(max(low, 0), high + 1) if problem.allowed(i, u)])
    if math.prod(len(options) for options in choices) > EXHAUSTIVE_LIMIT:
        return None
    best: tuple[tuple[Fraction, Fraction], tuple[int, ...]] | None = None
    for units in itertools.product(*choices):
        if spend(problem, units) <= problem.cash_floor:
            rank = score(problem, units).rank
            if best is None or rank < best[0]:
                best = rank, units
    if best is None:
        return Answer("infeasible")
    return Answer("ok", best[1], score(problem, best[1]))


def market_value(
    cash: str, holdings: Mapping[str, int], prices: Mapping[str, Fraction]
) -> Fraction:
    """cash + sum of quantity x price, rounded half up (away from zero) to 3 dp."""
    value = exact(cash) + sum((units * prices[sid] for sid, units in holdings.items()), ZERO)
    thousandths = abs(value) * 1000
    rounded = math.floor(thousandths + Fraction(1, 2))
    return Fraction(rounded if value >= 0 else -rounded, 1000)


def problems(
    model: Mapping[str, Any],
    summaries: Sequence[Mapping[str, Any]],
    price_text: Mapping[str, str],
    policy: Mapping[str, Any] | None = None,
    withdrawal: Fraction = ZERO,
) -> Iterator[tuple[str, Problem]]:
    """Each portfolio with balances as a Problem, from the plain documents a run reads.

    `withdrawal` is a cash need as a share of market value, rounded to the cent.
    """
    rules = NO_POLICY if policy is None else Rules.of(policy)
    prices = {sid: exact(text) for sid, text in price_text.items()}
    positions = model["positions"]
    model_ids = [position["securityId"] for position in positions]
    inside = set(model_ids)
    for summary in summaries:
        held = {
            item["securityId"]: int(item["netQuantity"])
            for item in summary["securities"]
            if int(item["netQuantity"])
        }
        if not held and exact(summary["cashBalance"]) == 0:
            continue
        outside = sorted(sid for sid in held if sid not in inside)
        ids = tuple(model_ids + outside)
        value = market_value(summary["cashBalance"], held, prices)
        need = Fraction(round(value * withdrawal * 100), 100)
        zeros = (ZERO,) * len(outside)
        yield (
            summary["portfolioId"],
            Problem(
                security_ids=ids,
                prices=tuple(prices[sid] for sid in ids),
                targets=tuple(exact(p["target"]) for p in positions) + zeros,
                low_drifts=tuple(exact(p["lowDrift"]) for p in positions) + zeros,
                high_drifts=tuple(exact(p["highDrift"]) for p in positions) + zeros,
                in_model=(True,) * len(model_ids) + (False,) * len(outside),
                current=tuple(held.get(sid, 0) for sid in ids),
                market_value=value,
                rules=rules,
                cash_need=need,
            ),
        )
