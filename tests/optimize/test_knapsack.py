"""The exact knapsack solver for floor-binding portfolios (issue 19): held against the
exhaustive search and against HiGHS (`--method milp`), with and without policies; its
pieces, its bound, its fallback to HiGHS and its time limit."""

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ordergen.optimize.fastpath import NEEDS_MILP, screen
from ordergen.optimize.policies import units as units_module
from ordergen.optimize.policies.fastpath import best_per_security
from ordergen.optimize.policies.knapsack import Effort, GiveUp, TimeUp, solve_knapsack
from ordergen.optimize.policies.knapsack import solve as knapsack_solve
from ordergen.optimize.policies.knapsack.pieces import securities
from ordergen.optimize.policies.knapsack.relaxation import Relaxation, lower_hull
from ordergen.optimize.policies.policy import CashReserve, MinTrade, Policy, TradeCost
from ordergen.optimize.policies.problem import (
    PolicySolution,
    PolicyStatus,
    PolicyTerms,
    PortfolioCase,
    SolvedBy,
)
from ordergen.optimize.policies.rows import row_problem
from ordergen.optimize.policies.rules import ExactRules, build_rules
from ordergen.optimize.policies.screen import SOLVE
from ordergen.optimize.policies.screen import screen as policy_screen
from ordergen.optimize.policies.solve import solve_policy_cases
from ordergen.optimize.problem import Method, ModelTerms, Status
from ordergen.optimize.solve import solve_batch
from tests.factories import floor_binding_terms, gid
from tests.optimize.test_policies import (
    Instance,
    brute_force,
    check_answer,
    policy_instances,
)
from tests.optimize.test_properties import binding_instances
from tests.optimize.test_properties import check_against_brute_force as check_base

QUICK = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def solve(instance: Instance, method: Method) -> PolicySolution:
    (solution,) = solve_policy_cases(instance.terms, [instance.case()], method=method)
    return solution


def binding_rows(instance: Instance) -> list[ExactRules]:
    """The instance's problem for the exact solvers, if its cash floor binds."""
    rules = build_rules(instance.terms, [instance.case()])
    screening = policy_screen(rules, instance.terms, [instance.case()])
    if screening.verdict[0] != SOLVE:
        return []
    choice = best_per_security(rules)
    if choice.certified[0]:
        return []
    return [row_problem(rules, 0, screening.least[0], choice.units[0])]


# --- against the exhaustive search and HiGHS, small instances ------------------------


def check_knapsack_decides(instance: Instance) -> None:
    """With `--method auto` a floor-binding portfolio is the knapsack's (never HiGHS's on
    instances this small), and its answer is the exhaustive search's and HiGHS's."""
    truth = brute_force(instance)
    auto, milp = solve(instance, Method.AUTO), solve(instance, Method.MILP)
    event(f"decided by {auto.solver.value}")
    assert auto.solver is not SolvedBy.MILP, auto
    check_answer(instance, auto, truth)
    check_answer(instance, milp, truth)
    if auto.solver is SolvedBy.KNAPSACK:
        assert milp.solver is SolvedBy.MILP
        assert (auto.objective, auto.traded_value) == (milp.objective, milp.traded_value)


@settings(QUICK, max_examples=150)
@given(policy_instances(binding=True))
def test_knapsack_meets_brute_force_and_milp_when_the_floor_binds(instance: Instance) -> None:
    check_knapsack_decides(instance)


@settings(QUICK, max_examples=150)
@given(binding_instances())
def test_base_problem_knapsack_meets_brute_force_and_milp(
    instance: tuple[ModelTerms, Decimal],
) -> None:
    terms, mv = instance
    check_base(terms, mv)  # auto (the knapsack here) and milp against the brute force
    if screen(terms, [mv]).verdict[0] == NEEDS_MILP:
        (auto,) = solve_batch(terms, [mv], method=Method.AUTO)
        assert auto.solver == "knapsack"


# --- against HiGHS, instances too large for the exhaustive search -------------------


def _drift(target: Decimal, tenths: int) -> Decimal:
    """`tenths`/10 of `target`, down to a multiple of 0.005 (drifts are model decimals)."""
    step = Decimal("0.005")
    return (target * tenths / 10 / step).to_integral_value("ROUND_FLOOR") * step


@st.composite
def withdrawals(draw: st.DrawFn) -> Instance:
    """A desk-like policy and a withdrawal on 4 to 8 securities held near target, 3 to
    60 shares each, with little cash: the cash floor binds, and the knapsack's second
    stage has room to work."""
    size = draw(st.integers(4, 8))
    scale = Decimal(draw(st.integers(20_000, 200_000)))
    # Targets summing to 0.95, so that holdings near target leave little cash.
    steps = [190 // size + (i < 190 % size) for i in range(size)]
    targets = tuple(Decimal(step) * Decimal("0.005") for step in steps)
    shares = [draw(st.integers(3, 60)) for _ in targets]
    prices = tuple(
        max(Decimal("0.01"), (scale * t / k).quantize(Decimal("0.01")))
        for t, k in zip(targets, shares, strict=True)
    )
    drifts = tuple(_drift(t, draw(st.sampled_from([3, 4, 6]))) for t in targets)
    ids = tuple(gid(f"W{i}") for i in range(size))
    terms = PolicyTerms.build(ModelTerms(ids, targets, drifts, drifts, prices), {})
    current = tuple(round(k * draw(st.floats(0.8, 1.2))) for k in shares)
    policy = Policy(
        inner_band=draw(st.sampled_from([Decimal("0.5"), Decimal("0.875")])),
        cash_reserve=CashReserve(fraction=Decimal("0.01")),
        min_trade=MinTrade(amount=draw(st.sampled_from([Decimal(0), Decimal(100)]))),
        trade_cost=TradeCost(per_order=draw(st.sampled_from([Decimal(0), Decimal(5)]))),
    )
    held = sum((c * p for c, p in zip(current, prices, strict=True)), Decimal(0))
    value = held + (held * Decimal(draw(st.integers(0, 3))) / 100).quantize(Decimal("0.01"))
    need = (value * Decimal(draw(st.integers(5, 15))) / 100).quantize(Decimal("0.01"))
    return Instance(terms, value, current, policy, need)


@settings(QUICK, max_examples=40)
@given(withdrawals())
def test_knapsack_meets_milp_on_withdrawals(instance: Instance) -> None:
    auto, milp = solve(instance, Method.AUTO), solve(instance, Method.MILP)
    event(f"decided by {auto.solver.value}")
    assert auto.status is milp.status
    assert (auto.objective, auto.traded_value) == (milp.objective, milp.traded_value)
    if auto.quantities is not None:
        assert auto.solver is not SolvedBy.MILP


@st.composite
def crowded_floors(draw: st.DrawFn) -> tuple[ModelTerms, Decimal]:
    """The base problem on 5 to 10 securities, 2.5 to 10 shares each at target, targets
    summing to nearly 1: most nearest holdings round up and together they overspend (as
    in the benchmark's floor-binding model)."""
    size = draw(st.integers(5, 10))
    mv = Decimal(draw(st.integers(5_000_00, 50_000_00))) / 100
    target = (Decimal("0.99") / size / Decimal("0.005")).to_integral_value("ROUND_FLOOR")
    targets = (target * Decimal("0.005"),) * size
    prices = tuple(
        (mv * targets[0] * Decimal(draw(st.integers(10, 40))) / 100).quantize(Decimal("0.01"))
        for _ in range(size)
    )
    drifts = tuple(_drift(t, draw(st.sampled_from([3, 4, 5]))) for t in targets)
    ids = tuple(gid(f"F{i}") for i in range(size))
    return ModelTerms(ids, targets, drifts, drifts, prices), mv


@settings(QUICK, max_examples=60)
@given(crowded_floors())
def test_base_problem_knapsack_meets_milp_on_crowded_floors(
    instance: tuple[ModelTerms, Decimal],
) -> None:
    terms, mv = instance
    (auto,) = solve_batch(terms, [mv], method=Method.AUTO)
    (milp,) = solve_batch(terms, [mv], method=Method.MILP)
    assert auto.status is milp.status
    event(f"{auto.status.value}, decided by {auto.solver}")
    if auto.quantities is None or milp.quantities is None:
        return
    binding = screen(terms, [mv]).verdict[0] == NEEDS_MILP
    assert auto.solver == ("knapsack" if binding else "fast")

    def objective(units: np.ndarray) -> Fraction:
        return sum(
            (
                abs(Fraction(mv) * Fraction(t) - int(u) * Fraction(p))
                for t, u, p in zip(terms.targets, units, terms.prices, strict=True)
            ),
            Fraction(0),
        )

    assert objective(auto.quantities) == objective(milp.quantities)


# --- the pieces, the bound, determinism ----------------------------------------------


@QUICK
@given(policy_instances())
def test_segments_hold_exactly_the_allowed_whole_numbers_at_their_exact_cost(
    instance: Instance,
) -> None:
    for problem in binding_rows(instance):
        for column, security in enumerate(securities(problem, traded_counts=True)):
            one = problem.select([0], [column])
            covered = {}
            for segment in security.segments:
                for units in range(segment.first, segment.last + 1):
                    assert units not in covered
                    covered[units] = segment.cost(units)
            lower = int(problem.lower[0, column])
            span = np.arange(lower, security.top + 1, dtype=np.int64)[None, None, :]
            grid = span.astype(object) if problem.dtype is object else span
            allowed = one.allowed(grid)[0, 0]
            term, traded = one.evaluate(grid)
            for index, units in enumerate(span[0, 0].tolist()):
                if allowed[index]:
                    assert covered.pop(units) == (term[0, 0, index], traded[0, 0, index])
            assert not covered


@st.composite
def point_sets(draw: st.DrawFn) -> list[list[tuple[int, int]]]:
    point = st.tuples(st.integers(0, 40), st.integers(0, 40))
    return draw(st.lists(st.lists(point, min_size=1, max_size=5), min_size=1, max_size=4))


@QUICK
@given(point_sets(), st.integers(0, 120))
def test_relaxation_bounds_every_whole_choice_and_its_multiplier_certifies(
    sets: list[list[tuple[int, int]]], needed: int
) -> None:
    """bound <= every whole choice saving `needed`; whole() is one such choice's cost; and
    with lambda = a/b, b*cost - a*saving - m_i >= 0 sums to the bound (the certificate)."""
    relaxation = Relaxation.of([lower_hull(points) for points in sets])
    bound = relaxation.bound(needed)
    choices = [
        (sum(p[0] for p in pick), sum(p[1] for p in pick))
        for pick in _product(sets)
        if sum(p[0] for p in pick) >= needed
    ]
    if bound is None:
        assert not choices
        return
    assert choices
    best = min(cost for _, cost in choices)
    whole = relaxation.whole(needed)
    assert whole is not None and bound <= best <= whole
    assert any(cost == whole for _, cost in choices)
    a, b = relaxation.multiplier(needed)
    least = [min(b * cost - a * saving for saving, cost in points) for points in sets]
    dual = Fraction(sum(least) + a * needed, b)
    assert math.ceil(dual) == bound  # the Lagrangian bound is the relaxation's, exactly


def _product(sets: list[list[tuple[int, int]]]) -> list[tuple[tuple[int, int], ...]]:
    import itertools

    return list(itertools.product(*sets))


@settings(QUICK, max_examples=40)
@given(policy_instances(binding=True))
def test_knapsack_answer_does_not_depend_on_the_chunk_or_integer_width(
    instance: Instance,
) -> None:
    """Ties are broken by the search's fixed order, on exact integers: the answer is the
    same alone, in a chunk whose money scale is finer, and on Python integers."""
    alone = solve(instance, Method.AUTO)
    finer = PortfolioCase(
        instance.market_value + Decimal("0.001"),
        np.array(instance.current, dtype=np.int64),
        instance.policy,
        instance.cash_need + Decimal("0.0000001"),
    )
    _, together = solve_policy_cases(instance.terms, [finer, instance.case()])
    original = units_module.INT64_HEADROOM
    units_module.INT64_HEADROOM = 0
    try:
        wide = solve(instance, Method.AUTO)
    finally:
        units_module.INT64_HEADROOM = original
    for other in (together, wide):
        assert other.solver is alone.solver
        assert (other.status, other.objective, other.traded_value) == (
            alone.status,
            alone.objective,
            alone.traded_value,
        )
        if alone.quantities is not None:
            assert other.quantities is not None
            assert other.quantities.tolist() == alone.quantities.tolist()


# --- the fallback to HiGHS and the time limit ------------------------------------------

# R1 (docs/concepts.md) with 5,000 withdrawn, 10% kept and the zone the band: each
# holding is inside its zone, but together they are 4,500 over the floor of 81,000.
# One order is cheapest (J* = 5): S sells exactly 45 shares (T* = 4,500).
FLOOR = (
    PolicyTerms.build(
        ModelTerms(
            (gid("S"), gid("B")),
            (Decimal("0.60"), Decimal("0.30")),
            (Decimal("0.05"), Decimal("0.03")),
            (Decimal("0.05"), Decimal("0.03")),
            (Decimal("100"), Decimal("100")),
        ),
        {},
    ),
    PortfolioCase(
        Decimal(95_000),
        np.array([570, 285], dtype=np.int64),
        Policy(
            inner_band=Decimal(1),
            cash_reserve=CashReserve(fraction=Decimal("0.1")),
            trade_cost=TradeCost(per_order=Decimal(5)),
        ),
        Decimal(5000),
    ),
)


def test_a_floor_binding_portfolio_is_the_knapsacks() -> None:
    terms, case = FLOOR
    (auto,) = solve_policy_cases(terms, [case])
    (milp,) = solve_policy_cases(terms, [case], method=Method.MILP)
    assert auto.status is PolicyStatus.OK and auto.solver is SolvedBy.KNAPSACK
    assert milp.solver is SolvedBy.MILP
    assert (auto.objective, auto.traded_value) == (milp.objective, milp.traded_value)
    assert (auto.objective, auto.traded_value) == (5, 4500)
    assert auto.quantities is not None and auto.quantities.tolist() == [525, 285]


def test_highs_decides_when_the_knapsacks_effort_runs_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terms, case = FLOOR
    (knapsack,) = solve_policy_cases(terms, [case])
    monkeypatch.setattr(knapsack_solve, "STATES", 0)
    (fallback,) = solve_policy_cases(terms, [case])
    assert fallback.solver is SolvedBy.MILP
    assert (fallback.status, fallback.objective, fallback.traded_value) == (
        knapsack.status,
        knapsack.objective,
        knapsack.traded_value,
    )


def test_highs_decides_the_base_problem_when_the_knapsacks_effort_runs_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terms = floor_binding_terms()
    (knapsack,) = solve_batch(terms, [Decimal(1000)])
    monkeypatch.setattr(knapsack_solve, "STATES", 0)
    (fallback,) = solve_batch(terms, [Decimal(1000)])
    assert (knapsack.solver, fallback.solver) == ("knapsack", "milp")
    assert fallback.quantities is not None and knapsack.quantities is not None
    assert sorted(fallback.quantities.tolist()) == sorted(knapsack.quantities.tolist()) == [2, 3]


def test_a_tiny_effort_gives_up_and_says_so() -> None:
    terms, case = FLOOR
    (problem,) = binding_rows(
        Instance(terms, case.market_value, (570, 285), case.policy, case.cash_need)
    )
    with pytest.raises(GiveUp):
        solve_knapsack(problem, traded_counts=True, effort=Effort(0, 0))
    answer = solve_knapsack(problem, traded_counts=True, effort=Effort(10_000, 10_000))
    assert answer.units is not None and answer.solver is SolvedBy.KNAPSACK


def test_the_effort_stops_at_the_deadline() -> None:
    effort = Effort(states=10, work=10**9, deadline=0.0)
    with pytest.raises(TimeUp):
        for _ in range(10_000):
            effort.spend()


def test_a_knapsack_past_its_time_limit_is_an_error_not_a_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terms, case = FLOOR

    def too_slow(*args: object, **kwargs: object) -> object:
        raise TimeUp("the time limit passed")

    monkeypatch.setattr(knapsack_solve, "solve_knapsack", too_slow)
    (solution,) = solve_policy_cases(terms, [case])
    assert solution.status is PolicyStatus.ERROR and solution.quantities is None
    assert solution.solver is SolvedBy.KNAPSACK
    assert "time limit" in solution.message


def test_highs_gets_only_what_is_left_of_the_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terms, case = FLOOR
    monkeypatch.setattr(knapsack_solve, "STATES", 0)
    (solution,) = solve_policy_cases(terms, [case], time_limit=1e-9)
    assert solution.status is PolicyStatus.ERROR and solution.solver is SolvedBy.MILP
    assert "time limit" in solution.message
    base = floor_binding_terms()
    (stopped,) = solve_batch(base, [Decimal(1000)], time_limit=1e-9)
    assert stopped.status is Status.ERROR and "time limit" in stopped.message
