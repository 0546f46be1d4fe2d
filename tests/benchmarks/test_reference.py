"""The benchmark's independent reference: it agrees with an exhaustive search, it catches
answers that break a rule or fall short of the optimum, and ordergen's answers pass it."""

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from benchmarks import reference
from benchmarks.exhaustive_check import check
from benchmarks.reference import Problem, Rules
from benchmarks.scoring import Claim, Tally

# Domain reference case R1 (docs/concepts.md): S 0.60 +-0.05 @100 hold 500, B 0.30 +-0.03
# @100 hold 400, MV 95000 -> S 570, B 285, objective 0.
R1 = Problem(
    security_ids=("S" * 24, "B" * 24),
    prices=(Fraction(100), Fraction(100)),
    targets=(Fraction(60, 100), Fraction(30, 100)),
    low_drifts=(Fraction(5, 100), Fraction(3, 100)),
    high_drifts=(Fraction(5, 100), Fraction(3, 100)),
    in_model=(True, True),
    current=(500, 400),
    market_value=Fraction(95000),
)


def test_the_reference_solves_r1_and_the_policy_examples_p1_p3_p6() -> None:
    assert reference.solve(R1).units == (570, 285)
    p1 = replace(R1, rules=Rules(inner_band=Fraction(1)))
    assert reference.solve(p1).units == (523, 313)
    p3 = replace(R1, rules=Rules(min_amount=Fraction(10000)))
    answer = reference.solve(p3)
    assert (answer.units, answer.score and answer.score.objective) == ((600, 285), 3000)
    p6 = replace(R1, rules=Rules(mode="sell-only"), cash_need=Fraction(20000))
    assert reference.solve(p6).units == (450, 225)


def test_the_reference_finds_r3_infeasible() -> None:
    r3 = replace(
        R1, prices=(Fraction(50), Fraction(100)), current=(1, 1), market_value=Fraction(160)
    )
    assert reference.solve(r3).status == "infeasible"


@pytest.mark.parametrize(
    ("units", "column"),
    [((571, 285), "worse"), ((700, 285), "band_breaking"), ((700, 300), "overspending")],
)
def test_a_wrong_answer_is_counted(units: tuple[int, int], column: str) -> None:
    counts = Tally()
    counts.add(R1, reference.solve(R1), False, Claim("ok", units, optimal=True))
    assert getattr(counts, column) == 1
    assert counts.false_optimal == 1


def test_a_method_that_claims_nothing_has_no_false_optimal_column() -> None:
    counts = Tally()
    counts.add(R1, reference.solve(R1), False, Claim(None, (700, 285), optimal=None))
    assert (counts.band_breaking, counts.false_optimal) == (1, None)


def test_reference_and_ordergen_agree_with_an_exhaustive_search(tmp_path: Path) -> None:
    figures = check(tmp_path, per_policy=8, seed=5)
    assert figures.portfolios >= 30
    assert figures.reference_agrees == figures.portfolios
    for counts in (figures.auto, figures.milp):
        assert counts.sample == figures.portfolios
        errors = (counts.band_breaking, counts.overspending, counts.rule_breaking,
                  counts.wrong_verdict, counts.worse, counts.false_optimal)  # fmt: skip
        assert errors == (0, 0, 0, 0, 0, 0)
