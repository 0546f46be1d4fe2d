"""The benchmark's rows are produced and scored against the reference (speed is measured
by `python -m benchmarks.run`, never asserted here)."""

from pathlib import Path

from benchmarks import base_rows, policies
from benchmarks.base_rows import Part
from benchmarks.instances import build, floor_binding, load
from benchmarks.scoring import Tally, referenced
from ordergen.demo import DESK_POLICY
from ordergen.optimize.problem import Method


def errors(counts: Tally) -> tuple[int | None, ...]:
    return (
        counts.band_breaking, counts.overspending, counts.rule_breaking, counts.wrong_verdict,
        counts.worse, counts.false_optimal, counts.no_answer, counts.reference_failures,
    )  # fmt: skip


NONE = (0, 0, 0, 0, 0, 0, 0, 0)


def test_the_floor_binding_model_makes_the_floor_bind(tmp_path: Path) -> None:
    part = load(tmp_path, floor_binding(size=12, seed=4, securities=100))
    answers = referenced(part.data, jobs=1)
    assert len(answers) == 12
    assert sum(item.binds for item in answers.values()) >= 6


def test_base_and_policy_rows_are_exact_against_the_reference(tmp_path: Path) -> None:
    large = build(tmp_path / "large", portfolios=60, securities=12, seed=3)
    sample = [large, load(tmp_path / "floor", floor_binding(size=10, seed=3, securities=100))]
    base = [Part(inst, referenced(inst.data, jobs=1)) for inst in sample]
    for row in (
        base_rows.auto_solve_stage(large, base),
        base_rows.engine(large, base),
        base_rows.orders_file(base, tmp_path),
        base_rows.one_at_a_time(base, Method.MILP),
    ):
        assert row.tally.sample == len(large.market_values) + 10
        assert errors(row.tally) == NONE
    desk = [Part(inst, referenced(inst.data, DESK_POLICY, jobs=1)) for inst in sample]
    desk_row = policies.desk_solve_stage(large, desk)
    assert errors(desk_row.row.tally) == NONE
    assert sum(desk_row.decided_by.values()) == len(large.market_values)
    withdrawal = [
        Part(inst, referenced(inst.data, DESK_POLICY, policies.WITHDRAWAL, jobs=1))
        for inst in sample
    ]
    row = policies.withdrawal_one_at_a_time(withdrawal, Method.AUTO)
    assert errors(row.row.tally) == NONE
    assert row.row.tally.binding > 0


def test_the_original_method_is_caught_breaking_bands(tmp_path: Path) -> None:
    sample = [load(tmp_path, floor_binding(size=4, seed=3, securities=100))]
    base = [Part(inst, referenced(inst.data, jobs=1)) for inst in sample]
    counts = base_rows.baseline(base, base_rows.ORIGINAL).tally
    assert counts.overspending + counts.band_breaking + counts.worse > 0
    peer = base_rows.baseline(base, base_rows.PYPORTFOLIOOPT).tally
    assert peer.false_optimal is None
