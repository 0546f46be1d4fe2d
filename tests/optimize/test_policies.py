"""The policy optimiser: the documented examples P1-P6, R1-R9 under no policy, and
auto, milp and an independent exhaustive search over Fractions held against each other."""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from ordergen.domain.policy import (
    DEFAULT_POLICY,
    CashReserve,
    MinTrade,
    Mode,
    Policy,
    Restriction,
    TradeCost,
    Trigger,
    parse_policy,
)
from ordergen.optimize.policies import units as units_module
from ordergen.optimize.policies.problem import (
    PolicySolution,
    PolicyStatus,
    PolicyTerms,
    PortfolioCase,
    SolvedBy,
)
from ordergen.optimize.policies.solve import solve_policy_batch, solve_policy_cases
from ordergen.optimize.problem import Method, ModelTerms, Status
from ordergen.optimize.solve import solve_batch
from tests.factories import gid
from tests.optimize.test_properties import binding_instances, random_instances

METHODS = [Method.AUTO, Method.MILP]


# --- an independent reading of docs/policies.md, over Fractions ---------------------


@dataclass(frozen=True)
class Instance:
    """One portfolio: securities in batch order (model first, then held outside it)."""

    terms: PolicyTerms
    market_value: Decimal
    current: tuple[int, ...]
    policy: Policy
    cash_need: Decimal = Decimal(0)

    def case(self) -> PortfolioCase:
        return PortfolioCase(
            self.market_value, np.array(self.current, dtype=np.int64), self.policy, self.cash_need
        )


@dataclass(frozen=True)
class Truth:
    status: PolicyStatus
    objective: Fraction | None = None
    traded: Fraction | None = None


class Reading:
    """The rules of one instance exactly as the policy page states them."""

    def __init__(self, instance: Instance) -> None:
        terms, policy = instance.terms, instance.policy
        self.policy = policy
        self.mv = Fraction(instance.market_value)
        self.after_need = self.mv - Fraction(instance.cash_need)
        self.prices = [Fraction(p) for p in terms.prices]
        self.current = list(instance.current)
        self.in_model = [bool(flag) for flag in terms.in_model]
        self.restrictions = [policy.restriction_of(sid) for sid in terms.security_ids]
        f = Fraction(policy.inner_band)
        mv = self.after_need
        self.bands = [
            (mv * (Fraction(t) - Fraction(lo)), mv * (Fraction(t) + Fraction(hi)))
            for t, lo, hi in zip(terms.targets, terms.low_drifts, terms.high_drifts, strict=True)
        ]
        self.zones = [
            (mv * (Fraction(t) - f * Fraction(lo)), mv * (Fraction(t) + f * Fraction(hi)))
            for t, lo, hi in zip(terms.targets, terms.low_drifts, terms.high_drifts, strict=True)
        ]
        reserve = policy.cash_reserve
        self.reserve = max(Fraction(reserve.amount), Fraction(reserve.fraction) * mv)
        self.floor = self.mv - Fraction(instance.cash_need) - self.reserve
        minimum = policy.min_trade
        self.min_value = max(Fraction(minimum.amount), Fraction(minimum.fraction) * mv)
        self.min_shares = minimum.shares

    def allowed(self, i: int, units: int) -> bool:
        c, restriction = self.current[i], self.restrictions[i]
        if units < 0:
            return False
        if not self.in_model[i] and units > c:
            return False
        mode = self.policy.mode
        if (mode is Mode.BUY_ONLY and units < c) or (mode is Mode.SELL_ONLY and units > c):
            return False
        if restriction is Restriction.NO_BUY and units > c:
            return False
        if restriction is Restriction.NO_SELL and units < c:
            return False
        if restriction is Restriction.HOLD and units != c:
            return False
        if mode is Mode.FULL and restriction is None:
            low, high = self.bands[i]
            if not low <= units * self.prices[i] <= high:
                return False
        moved = abs(units - c)
        # Stay, close out, or trade at least the minimum in value and in shares.
        big_enough = moved * self.prices[i] >= self.min_value and moved >= self.min_shares
        return units in (c, 0) or big_enough

    def term(self, i: int, units: int) -> tuple[Fraction, Fraction]:
        value = units * self.prices[i]
        low, high = self.zones[i]
        distance = max(low - value, Fraction(0), value - high)
        traded = abs(units - self.current[i]) * self.prices[i]
        cost = self.policy.trade_cost
        order = Fraction(cost.per_order) if units != self.current[i] else Fraction(0)
        return distance + order + Fraction(cost.bps) / 10000 * traded, traded

    def triggered(self) -> bool:
        for i, c in enumerate(self.current):
            low, high = self.bands[i]
            if self.restrictions[i] is None and not low <= c * self.prices[i] <= high:
                return True
        return sum(c * p for c, p in zip(self.current, self.prices, strict=True)) > self.floor

    def options(self) -> list[list[int]] | None:
        """Every allowed whole number per security (u_i <= floor / p_i: the others are >= 0)."""
        if self.floor < 0:
            return None
        return [
            [u for u in range(math.floor(self.floor / p) + 1) if self.allowed(i, u)]
            for i, p in enumerate(self.prices)
        ]


def option_count(instance: Instance) -> int:
    """How many holdings the exhaustive search would try."""
    options = Reading(instance).options()
    return 0 if options is None else math.prod(len(allowed) for allowed in options)


def brute_force(instance: Instance) -> Truth:
    reading = Reading(instance)
    if reading.after_need < 0:
        return Truth(PolicyStatus.INFEASIBLE)
    if reading.policy.trigger is Trigger.OUTSIDE_BANDS and not reading.triggered():
        return Truth(PolicyStatus.WITHIN_BANDS)
    options = reading.options()
    if options is None or any(not allowed for allowed in options):
        return Truth(PolicyStatus.INFEASIBLE)
    best: tuple[Fraction, Fraction] | None = None
    for units in itertools.product(*options):
        spend = sum((u * p for u, p in zip(units, reading.prices, strict=True)), Fraction(0))
        if spend > reading.floor:
            continue
        parts = [reading.term(i, u) for i, u in enumerate(units)]
        key = (sum(p[0] for p in parts), sum(p[1] for p in parts))
        if best is None or key < best:
            best = key
    if best is None:
        return Truth(PolicyStatus.INFEASIBLE)
    return Truth(PolicyStatus.OK, *best)


def check_answer(instance: Instance, solution: PolicySolution, truth: Truth) -> None:
    """The solution has the truth's status and, when ok, is feasible with its (J, T)."""
    assert solution.status is truth.status, (solution, truth)
    if truth.status is not PolicyStatus.OK:
        assert solution.quantities is None
        assert solution.message
        return
    assert solution.quantities is not None
    reading = Reading(instance)
    units = [int(u) for u in solution.quantities]
    assert all(reading.allowed(i, u) for i, u in enumerate(units)), units
    spend = sum((u * p for u, p in zip(units, reading.prices, strict=True)), Fraction(0))
    assert spend <= reading.floor
    parts = [reading.term(i, u) for i, u in enumerate(units)]
    objective, traded = sum(p[0] for p in parts), sum(p[1] for p in parts)
    assert (objective, traded) == (truth.objective, truth.traded), (units, truth)
    assert Fraction(solution.objective) == objective
    assert Fraction(solution.traded_value) == traded
    assert solution.cash_floor == Decimal(reading.floor.numerator) / reading.floor.denominator


# --- the documented examples -------------------------------------------------------

S, B, X = gid("S"), gid("B"), gid("X")


def r1_terms(prices: tuple[str, str] = ("100", "100")) -> PolicyTerms:
    model = ModelTerms(
        (S, B),
        (Decimal("0.60"), Decimal("0.30")),
        (Decimal("0.05"), Decimal("0.03")),
        (Decimal("0.05"), Decimal("0.03")),
        tuple(Decimal(p) for p in prices),
    )
    return PolicyTerms.build(model, {})


def solve_one(
    terms: PolicyTerms,
    current: Sequence[int],
    cash: str,
    policy: dict[str, Any],
    method: Method,
    cash_need: str = "0",
) -> PolicySolution:
    mv = Decimal(cash) + sum(
        (units * price for units, price in zip(current, terms.prices, strict=True)), Decimal(0)
    )
    case = PortfolioCase(mv, np.array(current), parse_policy(policy), Decimal(cash_need))
    (solution,) = solve_policy_cases(terms, [case], method=method)
    return solution


def orders(terms: PolicyTerms, current: Sequence[int], solution: PolicySolution) -> dict[str, int]:
    assert solution.quantities is not None
    return {
        sid: int(u) - c
        for sid, u, c in zip(terms.security_ids, solution.quantities, current, strict=True)
        if int(u) != c
    }


@pytest.mark.parametrize("method", METHODS)
def test_p1_inner_band_one_trades_to_the_nearer_band_edge(method: Method) -> None:
    terms = r1_terms()
    solution = solve_one(terms, [500, 400], "5000", {"innerBand": 1}, method)
    assert solution.status is PolicyStatus.OK
    assert solution.quantities is not None and solution.quantities.tolist() == [523, 313]
    assert orders(terms, [500, 400], solution) == {S: 23, B: -87}
    assert solution.objective == 0


@pytest.mark.parametrize("method", METHODS)
def test_p2_outside_bands_trigger_leaves_a_portfolio_inside_its_bands(method: Method) -> None:
    terms = r1_terms()
    policy = {"innerBand": 1, "trigger": "outside-bands"}
    solution = solve_one(terms, [560, 290], "10000", policy, method)
    assert solution.market_value_after_need == Decimal(95000)
    assert solution.status is PolicyStatus.WITHIN_BANDS
    assert solution.quantities is None
    assert "within bands" in solution.message
    assert solution.solver is SolvedBy.SCREEN


@pytest.mark.parametrize("method", METHODS)
def test_p3_minimum_trade_moves_at_least_a_hundred_shares(method: Method) -> None:
    terms = r1_terms()
    solution = solve_one(terms, [500, 400], "5000", {"minTrade": {"amount": 10000}}, method)
    assert solution.quantities is not None and solution.quantities.tolist() == [600, 285]
    assert orders(terms, [500, 400], solution) == {S: 100, B: -115}
    assert solution.objective == 3000


@pytest.mark.parametrize("method", METHODS)
def test_p4_no_sell_keeps_a_security_outside_the_model(method: Method) -> None:
    model = ModelTerms(
        (S,), (Decimal("0.60"),), (Decimal("0.05"),), (Decimal("0.05"),), (Decimal(100),)
    )
    terms = PolicyTerms.build(model, {X: Decimal(20)})
    assert terms.security_ids == (S, X)
    solution = solve_one(terms, [100, 50], "9000", {"restrictions": {X: "no-sell"}}, method)
    assert solution.market_value_after_need == Decimal(20000)
    assert orders(terms, [100, 50], solution) == {S: 20}
    assert solution.objective == 1000  # X's 50 x 20 still counts


@pytest.mark.parametrize("method", METHODS)
def test_p5_buy_only_with_no_cash_sends_no_orders(method: Method) -> None:
    terms = r1_terms()
    solution = solve_one(terms, [500, 400], "0", {"mode": "buy-only"}, method)
    assert solution.status is PolicyStatus.OK
    assert orders(terms, [500, 400], solution) == {}


@pytest.mark.parametrize("method", METHODS)
def test_p6_sell_only_raises_the_cash_need(method: Method) -> None:
    terms = r1_terms()
    policy = {"mode": "sell-only"}
    solution = solve_one(terms, [500, 400], "5000", policy, method, cash_need="20000")
    assert solution.market_value_after_need == Decimal(75000)
    assert orders(terms, [500, 400], solution) == {S: -50, B: -175}
    assert solution.objective == 0
    cash_after = Decimal(5000) + 50 * 100 + 175 * 100
    assert cash_after == Decimal(27500)


@st.composite
def funded_buy_only(draw: st.DrawFn) -> Instance:
    """Any portfolio holding no cash, under buy-only mode and any other policy fields."""
    instance = draw(policy_instances())
    held = sum(
        (c * p for c, p in zip(instance.current, instance.terms.prices, strict=True)), Decimal(0)
    )
    policy = Policy(
        inner_band=instance.policy.inner_band,
        mode=Mode.BUY_ONLY,
        min_trade=instance.policy.min_trade,
        trade_cost=instance.policy.trade_cost,
        restrictions=instance.policy.restrictions,
    )
    assume(all(c >= 0 for c in instance.current))
    return Instance(instance.terms, held, instance.current, policy)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(funded_buy_only())
def test_p5_any_portfolio_without_cash_buys_nothing(instance: Instance) -> None:
    for method in METHODS:
        (solution,) = solve_policy_cases(instance.terms, [instance.case()], method=method)
        assert solution.status is PolicyStatus.OK, solution
        assert solution.quantities is not None
        assert solution.quantities.tolist() == list(instance.current)


# --- R1-R9 unchanged under the default policy --------------------------------------

REFERENCE = [
    # (name, (targets, lows, highs, prices), market value, expected u or None, objective)
    (
        "r1",
        (("0.60", "0.30"), ("0.05", "0.03"), ("0.05", "0.03"), ("100", "100")),
        "95000",
        [570, 285],
        0,
    ),
    (
        "r2",
        (("0.60", "0.30"), ("0.02", "0.01"), ("0.03", "0.02"), ("100", "100")),
        "100000",
        [600, 300],
        0,
    ),
    (
        "r3",
        (("0.60", "0.30"), ("0.05", "0.03"), ("0.05", "0.03"), ("50", "100")),
        "160",
        None,
        None,
    ),
    ("r4", (("0.95",), ("0.001",), ("0.001",), ("1000",)), "1050", None, None),
    ("r5", (("0.50", "0.45"), ("0", "0"), ("0", "0"), ("33", "7")), "1000", None, None),
    (
        "r5-relaxed",
        (("0.50", "0.45"), ("0.01", "0.01"), ("0.01", "0.01"), ("33", "7")),
        "1000",
        [15, 64],
        7,
    ),
    (
        "r6",
        (("0.50", "0.40"), ("0.001", "0.001"), ("0.001", "0.001"), ("400", "400")),
        "95000",
        None,
        None,
    ),
    (
        "r7",
        (("0.30",) * 3, ("0.02",) * 3, ("0.02",) * 3, ("7", "13", "29")),
        "10000",
        [429, 231, 103],
        19,
    ),
]


def model_of(spec: tuple[tuple[str, ...], ...]) -> ModelTerms:
    targets, lows, highs, prices = ([Decimal(x) for x in column] for column in spec)
    ids = tuple(gid(f"P{i}") for i in range(len(targets)))
    return ModelTerms(ids, tuple(targets), tuple(lows), tuple(highs), tuple(prices))


@pytest.mark.parametrize(("name", "spec", "mv", "expected", "objective"), REFERENCE)
@pytest.mark.parametrize("method", METHODS)
def test_r1_to_r7_unchanged_under_the_default_policy(
    name: str,
    spec: tuple[tuple[str, ...], ...],
    mv: str,
    expected: list[int] | None,
    objective: int | None,
    method: Method,
) -> None:
    terms = PolicyTerms.build(model_of(spec), {})
    case = PortfolioCase(Decimal(mv), np.zeros(terms.size, dtype=np.int64))
    for solve in (solve_policy_cases, solve_policy_batch):
        (solution,) = solve(terms, [case], method=method)
        if expected is None:
            assert solution.status is PolicyStatus.INFEASIBLE, name
            assert solution.quantities is None
            continue
        assert solution.status is PolicyStatus.OK, name
        assert solution.quantities is not None
        assert solution.quantities.tolist() == expected, name
        assert solution.objective == objective


@pytest.mark.parametrize("method", METHODS)
def test_r9_security_outside_the_model_is_sold_under_the_default_policy(method: Method) -> None:
    model = ModelTerms(
        (S,), (Decimal("0.60"),), (Decimal("0.05"),), (Decimal("0.05"),), (Decimal(100),)
    )
    terms = PolicyTerms.build(model, {X: Decimal(20)})
    for solve in (solve_policy_cases, solve_policy_batch):
        (solution,) = solve(
            terms, [PortfolioCase(Decimal(20000), np.array([100, 50]))], method=method
        )
        assert orders(terms, [100, 50], solution) == {S: 20, X: -50}


def test_infeasible_messages_name_the_security_and_the_rule() -> None:
    terms = r1_terms(("50", "100"))
    (band,) = solve_policy_cases(terms, [PortfolioCase(Decimal(160), np.array([1, 1]))])
    assert band.status is PolicyStatus.INFEASIBLE
    assert B in band.message and "band" in band.message

    short = PolicyTerms.build(r1_terms().model, {X: Decimal(20)})
    case = PortfolioCase(Decimal(95000), np.array([500, 400, -3]))
    (direction,) = solve_policy_cases(short, [case])
    assert X in direction.message and "outside the model" in direction.message

    minimum = parse_policy({"minTrade": {"shares": 1000}})
    (trade,) = solve_policy_cases(
        terms, [PortfolioCase(Decimal(95000), np.array([1000, 300]), minimum)]
    )
    assert S in trade.message and "minimum trade" in trade.message

    reserve = parse_policy({"cashReserve": {"amount": "1000"}})
    (cash,) = solve_policy_cases(
        r1_terms(), [PortfolioCase(Decimal(95000), np.array([570, 285]), reserve)]
    )
    assert cash.status is PolicyStatus.OK
    tight = parse_policy({"cashReserve": {"fraction": "0.5"}})
    (floor,) = solve_policy_cases(
        r1_terms(), [PortfolioCase(Decimal(95000), np.array([570, 285]), tight)]
    )
    # Band minimums 523 S and 257 B cost 78000 > 95000 - 47500: short by 30500.
    assert floor.status is PolicyStatus.INFEASIBLE
    assert "short by 30500" in floor.message

    (need,) = solve_policy_cases(
        terms, [PortfolioCase(Decimal(100), np.array([0, 0]), DEFAULT_POLICY, Decimal("100.01"))]
    )
    assert need.status is PolicyStatus.INFEASIBLE
    assert "cash need 100.01 exceeds market value 100" in need.message


# --- properties: auto, milp and the exhaustive search agree ---------------------------

STEP = Decimal("0.005")
# Drifts as a share of the target, so every band spans a few whole shares.
DRIFT_SHARES = st.sampled_from(
    [Fraction(0), Fraction(1, 10), Fraction(1, 4), Fraction(1, 2), Fraction(1)]
)


@st.composite
def policies(draw: st.DrawFn, security_ids: Sequence[str]) -> Policy:
    """Any policy: every field, every mode, restrictions on any of the securities."""
    fraction = st.sampled_from([Decimal(x) for x in ("0", "0.01", "0.05", "0.2", "0.5")])
    restriction = st.sampled_from([None, None, *Restriction])
    restrictions = {sid: kind for sid in security_ids if (kind := draw(restriction)) is not None}
    return Policy(
        trigger=draw(st.sampled_from(Trigger)),
        inner_band=draw(st.sampled_from([Decimal(x) for x in ("0", "0.25", "0.5", "0.875", "1")])),
        mode=draw(st.sampled_from(Mode)),
        cash_reserve=CashReserve(
            draw(st.sampled_from([Decimal(0), Decimal("7.5")])), draw(fraction)
        ),
        min_trade=MinTrade(
            draw(st.sampled_from([Decimal(0), Decimal(10), Decimal("35.5")])),
            draw(st.sampled_from([Decimal(0), Decimal("0.02"), Decimal("0.1")])),
            draw(st.integers(0, 3)),
        ),
        trade_cost=TradeCost(
            draw(st.sampled_from([Decimal(0), Decimal(1), Decimal("2.5")])),
            draw(st.sampled_from([Decimal(0), Decimal(10), Decimal("25.5")])),
        ),
        restrictions=tuple(restrictions.items()),
    )


def _drift(target: Decimal, share: Fraction) -> Decimal:
    """share * target rounded down to a multiple of 0.005 (drifts are model decimals)."""
    return (target * Decimal(share.numerator) / share.denominator / STEP).to_integral_value(
        rounding="ROUND_FLOOR"
    ) * STEP


@st.composite
def policy_instances(draw: st.DrawFn, *, binding: bool = False) -> Instance:
    """One to three model securities (plus perhaps one held outside the model), each
    worth a few whole shares at target, holdings near target, any policy.

    With `binding`, holdings sit above targets near the 95% limit, the zone reaches
    up to the band and a reserve is kept: each security's own best choice tends to
    overspend, so the cash floor binds and the MILP decides.
    """
    size = draw(st.integers(2 if binding else 1, 3))
    outside = not binding and size < 3 and draw(st.booleans())
    fewest = 160 // size + 1 if binding else 10  # binding: targets sum to 0.8 or more
    steps = draw(st.lists(st.integers(fewest, 190 // size), min_size=size, max_size=size))
    assume(sum(steps) <= 190)
    targets = tuple(Decimal(s) * STEP for s in steps)
    mv = Decimal(draw(st.integers(100_00, 600_00))) / 100
    shares_at_target = [draw(st.integers(2, 9)) for _ in targets]
    prices = tuple(
        max(Decimal("0.01"), (mv * t / k).quantize(Decimal("0.01")))
        for t, k in zip(targets, shares_at_target, strict=True)
    )
    lows = tuple(_drift(t, draw(DRIFT_SHARES)) for t in targets)
    highs = tuple(_drift(t, draw(DRIFT_SHARES)) for t in targets)
    if binding:
        highs = tuple(
            max(high, _drift(t, Fraction(1, 2))) for t, high in zip(targets, highs, strict=True)
        )
    ids = tuple(gid(f"M{i}") for i in range(size))
    model = ModelTerms(ids, targets, lows, highs, prices)
    held_prices = {gid("OUT"): Decimal(draw(st.integers(5_00, 90_00))) / 100} if outside else {}
    terms = PolicyTerms.build(model, held_prices)
    near = st.integers(1, 4) if binding else st.integers(-4, 4)
    current = [max(-1, k + draw(near)) for k in shares_at_target]
    if outside:
        current.append(draw(st.sampled_from([-1, 1, 2, 5])))
    policy = draw(policies(terms.security_ids))
    if binding:
        policy = Policy(
            inner_band=draw(st.sampled_from([Decimal("0.5"), Decimal("0.875"), Decimal(1)])),
            cash_reserve=CashReserve(
                fraction=draw(st.sampled_from([Decimal("0.02"), Decimal("0.1")]))
            ),
            min_trade=policy.min_trade,
            trade_cost=policy.trade_cost,
        )
        need = Decimal(0)
    else:
        need = draw(st.sampled_from([Decimal(0), Decimal(0), mv / 10, mv / 3, mv + 1]))
    instance = Instance(terms, mv, tuple(current), policy, need.quantize(Decimal("0.01")))
    assume(option_count(instance) <= 40_000)
    return instance


SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def check_against_brute_force(instance: Instance) -> None:
    truth = brute_force(instance)
    event(f"truth: {truth.status.value}")
    answers = {
        method: solve_policy_cases(instance.terms, [instance.case()], method=method)[0]
        for method in METHODS
    }
    if answers[Method.AUTO].solver is SolvedBy.MILP:
        event("cash floor binds: MILP path")
    for solution in answers.values():
        check_answer(instance, solution, truth)


@SETTINGS
@given(policy_instances())
def test_auto_milp_and_brute_force_agree_under_any_policy(instance: Instance) -> None:
    check_against_brute_force(instance)


@settings(SETTINGS, max_examples=200)
@given(policy_instances(binding=True))
def test_auto_milp_and_brute_force_agree_when_the_cash_floor_binds(instance: Instance) -> None:
    check_against_brute_force(instance)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(policy_instances())
def test_python_integers_give_the_same_answers_as_int64(instance: Instance) -> None:
    # Inputs too large for int64 take Python integers; the answers must not differ.
    fast = solve_policy_cases(instance.terms, [instance.case()])[0]
    original = units_module.INT64_HEADROOM
    units_module.INT64_HEADROOM = 0
    try:
        slow = solve_policy_cases(instance.terms, [instance.case()])[0]
    finally:
        units_module.INT64_HEADROOM = original
    assert (slow.status, slow.objective, slow.traded_value, slow.message) == (
        fast.status,
        fast.objective,
        fast.traded_value,
        fast.message,
    )
    if fast.quantities is not None and slow.quantities is not None:
        assert slow.quantities.tolist() == fast.quantities.tolist()


# --- the default policy is the base problem ----------------------------------------


def exact_objective(terms: ModelTerms, mv: Decimal, units: np.ndarray) -> Decimal:
    return sum(
        (
            abs(mv * t - int(u) * p)
            for t, u, p in zip(terms.targets, units, terms.prices, strict=True)
        ),
        Decimal(0),
    )


def check_default_policy(model: ModelTerms, mv: Decimal, current: Sequence[int]) -> None:
    terms = PolicyTerms.build(model, {})
    (existing,) = solve_batch(model, [mv])
    case = PortfolioCase(mv, np.array(current, dtype=np.int64))
    # Through the batch entry point: the existing solver's answer, byte for byte.
    (batch,) = solve_policy_batch(terms, [case])
    assert batch.status.value == existing.status.value
    assert batch.message == existing.message
    if existing.quantities is None:
        assert batch.quantities is None
        (policy,) = solve_policy_cases(terms, [case])
        assert policy.status.value == existing.status.value
        return
    assert batch.quantities is not None
    assert batch.quantities.tolist() == existing.quantities.tolist()
    assert batch.objective == exact_objective(model, mv, existing.quantities)
    # Through the policy maths: the same optimum, and the least traded value among optima.
    for method in METHODS:
        (policy,) = solve_policy_cases(terms, [case], method=method)
        assert policy.status is PolicyStatus.OK
        assert policy.objective == batch.objective
        assert policy.traded_value is not None and batch.traded_value is not None
        assert policy.traded_value <= batch.traded_value
        # Held at the existing answer, that answer is the only one trading nothing.
        held = PortfolioCase(mv, existing.quantities.astype(np.int64))
        (same,) = solve_policy_cases(terms, [held], method=method)
        assert same.quantities is not None
        assert same.quantities.tolist() == existing.quantities.tolist()


CURRENT = st.lists(st.integers(0, 40), min_size=3, max_size=3)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(random_instances(), CURRENT)
def test_default_policy_equals_the_existing_solver(
    instance: tuple[ModelTerms, Decimal], current: list[int]
) -> None:
    model, mv = instance
    check_default_policy(model, mv, current[: model.size])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(binding_instances(), CURRENT)
def test_default_policy_equals_the_existing_solver_when_cash_binds(
    instance: tuple[ModelTerms, Decimal], current: list[int]
) -> None:
    model, mv = instance
    check_default_policy(model, mv, current[: model.size])


def test_batch_keeps_case_order_and_mixes_default_and_policy_cases() -> None:
    terms = r1_terms()
    inner = parse_policy({"innerBand": 1})
    cases = [
        PortfolioCase(Decimal(95000), np.array([500, 400])),
        PortfolioCase(Decimal(95000), np.array([500, 400]), inner),
        PortfolioCase(Decimal(160), np.array([1, 1])),
        PortfolioCase(Decimal(95000), np.array([500, 400]), DEFAULT_POLICY, Decimal(20000)),
    ]
    solutions = solve_policy_batch(terms, cases)
    assert [s.quantities.tolist() if s.quantities is not None else None for s in solutions] == [
        [570, 285],
        [523, 313],
        None,
        [450, 225],
    ]
    assert solutions[2].status is PolicyStatus.INFEASIBLE
    assert Status.OK.value == PolicyStatus.OK.value
