"""Floor-binding portfolios spread over worker processes give the same answers as one
process, with either method."""

from decimal import Decimal

import pytest

from ordergen.optimize.fastpath import NEEDS_MILP, screen
from ordergen.optimize.problem import Method, Status
from ordergen.optimize.solve import MIN_MILPS_FOR_WORKERS, solve_batch
from tests.factories import floor_binding_terms


@pytest.mark.parametrize(("method", "solver"), [(Method.AUTO, "knapsack"), (Method.MILP, "milp")])
def test_worker_processes_match_a_single_process(method: Method, solver: str) -> None:
    terms = floor_binding_terms()
    values = [Decimal(1000 + k) for k in range(2 * MIN_MILPS_FOR_WORKERS)]
    assert (screen(terms, values).verdict == NEEDS_MILP).all()
    alone = solve_batch(terms, values, method=method, jobs=1)
    spread = solve_batch(terms, values, method=method, jobs=2)
    assert all(s.status is Status.OK and s.solver == solver for s in spread)
    assert [s.quantities.tolist() for s in alone] == [s.quantities.tolist() for s in spread]  # type: ignore[union-attr]
