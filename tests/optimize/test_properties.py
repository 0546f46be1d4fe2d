"""Property tests: auto, milp and brute force agree on every small instance."""

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from ordergen.optimize.exact import spend_exceeds
from ordergen.optimize.fastpath import NEEDS_MILP, screen
from ordergen.optimize.problem import Method, ModelTerms, Status
from ordergen.optimize.solve import solve_batch
from tests.factories import floor_binding_terms
from tests.optimize.brute_force import brute_force

STEP = Decimal("0.005")


DRIFTS = st.sampled_from([Decimal(x) for x in ("0", "0.01", "0.02", "0.05", "0.1", "0.2")])


@st.composite
def binding_instances(draw: st.DrawFn) -> tuple[ModelTerms, Decimal]:
    """A few whole shares per position with targets just above half a share, so the
    nearest counts overspend: the cash floor binds and the MILP must decide."""
    size = draw(st.integers(2, 3))
    market_value = Decimal(draw(st.integers(1_000, 300_000))) / 100
    shares = draw(st.lists(st.integers(2, 6), min_size=size, max_size=size))
    counts = [draw(st.integers(1, k)) for k in shares]
    nudges = draw(st.lists(st.integers(1, 8), min_size=size, max_size=size))
    targets = tuple(
        (Decimal(2 * n - 1) / (2 * k) / STEP).to_integral_value(rounding="ROUND_CEILING") * STEP
        + nudge * STEP
        for n, k, nudge in zip(counts, shares, nudges, strict=True)
    )
    assume(sum(targets) <= Decimal("0.95") and all(t <= Decimal("0.95") for t in targets))
    assume(sum(Fraction(n, k) for n, k in zip(counts, shares, strict=True)) > 1)
    prices = tuple((market_value / k).quantize(Decimal("0.01")) for k in shares)
    wide = st.sampled_from([Decimal("0.2"), Decimal("0.3")])
    lows = tuple(min(draw(wide), t) for t in targets)
    highs = tuple(draw(wide) for _ in targets)
    ids = tuple(f"{i:024d}" for i in range(size))
    return ModelTerms(ids, targets, lows, highs, prices), market_value


@st.composite
def random_instances(draw: st.DrawFn) -> tuple[ModelTerms, Decimal]:
    """Small instances of every kind: feasible, infeasible by a band or by cash."""
    size = draw(st.integers(1, 3))
    market_value = Decimal(draw(st.integers(0, 300_000))) / 100
    steps = draw(st.lists(st.integers(1, 190 // size), min_size=size, max_size=size))
    prices = tuple(Decimal(draw(st.integers(100, 40000))) / 100 for _ in steps)
    targets = tuple(Decimal(s) * STEP for s in steps)
    lows = tuple(min(draw(DRIFTS), t) for t in targets)
    highs = tuple(draw(DRIFTS) for _ in targets)
    # Keep the exhaustive search small: at most ~20k candidate holdings.
    widths = [
        float(market_value * (low + high) / p) + 1
        for low, high, p in zip(lows, highs, prices, strict=True)
    ]
    assume(math.prod(widths) <= 20_000)
    ids = tuple(f"{i:024d}" for i in range(size))
    return ModelTerms(ids, targets, lows, highs, prices), market_value


def exact_objective(terms: ModelTerms, mv: Decimal, units: np.ndarray) -> Fraction:
    return sum(
        (
            abs(Fraction(mv) * Fraction(t) - int(u) * Fraction(p))
            for t, u, p in zip(terms.targets, units, terms.prices, strict=True)
        ),
        Fraction(0),
    )


def assert_feasible(terms: ModelTerms, mv: Decimal, units: np.ndarray) -> None:
    assert not spend_exceeds(units[None, :], terms.prices, [mv])[0]
    for t, low, high, p, u in zip(
        terms.targets, terms.low_drifts, terms.high_drifts, terms.prices, units, strict=True
    ):
        assert u >= 0
        assert mv * (t - low) <= int(u) * p <= mv * (t + high)


SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def check_against_brute_force(terms: ModelTerms, mv: Decimal) -> None:
    truth = brute_force(
        Fraction(mv),
        [Fraction(t) for t in terms.targets],
        [Fraction(x) for x in terms.low_drifts],
        [Fraction(x) for x in terms.high_drifts],
        [Fraction(p) for p in terms.prices],
    )
    if screen(terms, [mv]).verdict[0] == NEEDS_MILP:
        event("cash floor binds: MILP path")
    for method in (Method.AUTO, Method.MILP):
        (solution,) = solve_batch(terms, [mv], method=method)
        if truth is None:
            assert solution.status is Status.INFEASIBLE, solution
            assert solution.quantities is None
            continue
        assert solution.status is Status.OK, solution
        assert solution.quantities is not None
        assert_feasible(terms, mv, solution.quantities)
        assert exact_objective(terms, mv, solution.quantities) == truth[0]


@SETTINGS
@given(random_instances())
def test_auto_milp_and_brute_force_agree(instance: tuple[ModelTerms, Decimal]) -> None:
    check_against_brute_force(*instance)


@SETTINGS
@given(binding_instances())
def test_auto_milp_and_brute_force_agree_when_cash_binds(
    instance: tuple[ModelTerms, Decimal],
) -> None:
    check_against_brute_force(*instance)


@pytest.mark.parametrize(("method", "solver"), [(Method.AUTO, "knapsack"), (Method.MILP, "milp")])
def test_binding_cash_floor_goes_to_an_exact_solver_and_stays_optimal(
    method: Method, solver: str
) -> None:
    # Nearest counts (3, 3) cost 1080 > MV 1000; the optimum buys 3 and 2 (objective 180).
    terms = floor_binding_terms()
    assert screen(terms, [Decimal(1000)]).verdict[0] == NEEDS_MILP
    (solution,) = solve_batch(terms, [Decimal(1000)], method=method)
    assert solution.status is Status.OK and solution.quantities is not None
    assert solution.solver == solver
    assert sorted(solution.quantities.tolist()) == [2, 3]
    assert exact_objective(terms, Decimal(1000), solution.quantities) == 180


def test_milp_answer_does_not_depend_on_what_was_solved_before() -> None:
    # Warm starts would carry the previous portfolio's answer into ties; chunking varies.
    terms = floor_binding_terms()
    alone = solve_batch(terms, [Decimal(1000)], method=Method.MILP)[0].quantities
    after_others = solve_batch(
        terms, [Decimal(v) for v in (1500, 990, 1200, 1000)], method=Method.MILP
    )[-1].quantities
    assert alone is not None and after_others is not None
    assert alone.tolist() == after_others.tolist()
