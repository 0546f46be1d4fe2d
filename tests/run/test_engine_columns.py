"""The whole engine (screening, MILP, results, orders file) against the Decimal results.

Every portfolio of a demo run, whatever its status, must report what the
per-portfolio Decimal implementation reports for the same solution, and the
orders file must be the bytes the per-portfolio `json.dumps` writer made.
"""

import io
import json
from decimal import Decimal

import pytest

from ordergen.demo import generate
from ordergen.domain.holdings import Holdings
from ordergen.domain.model import validate_model
from ordergen.domain.results import PortfolioResult
from ordergen.domain.summary import RunSummary
from ordergen.io.orders_json import OrdersFileWriter, portfolio_document
from ordergen.optimize.problem import Method
from ordergen.run.engine import RunOptions, rebalance_chunks
from tests.domain import decimal_reference as reference
from tests.factories import gid


def expected_result(
    result: PortfolioResult, holdings: Holdings, positions: tuple, prices: dict[str, Decimal]
) -> PortfolioResult:
    """What the Decimal implementation reports for the solution `result` carries."""
    if result.status != "ok":
        return result
    return reference.rebalanced_result(
        holdings,
        reference.market_value(holdings, prices),
        positions,
        prices,
        [drift.adjusted_quantity for drift in result.drifts[: len(positions)]],
        solver=result.solver,
        seconds=result.seconds,
    )


@pytest.mark.parametrize("method", [Method.AUTO, Method.MILP])
def test_a_demo_run_reports_what_the_decimal_implementation_reports(method: Method) -> None:
    portfolios = 400 if method is Method.AUTO else 60
    data = generate(seed=5, portfolios=portfolios, securities=15)
    model = validate_model(data.model)
    prices = {sid: Decimal(text) for sid, text in data.prices.items()}
    holdings = [
        Holdings(
            item["portfolioId"],
            Decimal(item["cashBalance"]),
            {held["securityId"]: int(held["netQuantity"]) for held in item["securities"]},
        )
        for item in data.summaries
    ]
    holdings += [
        Holdings(gid("E"), Decimal("0.0004"), {}),  # empty
        Holdings(gid("U"), Decimal(100), {gid("X"): 5}),  # holds a security with no price
    ]
    stream = io.StringIO()
    writer = OrdersFileWriter(stream, {"runId": "r"})
    summary = RunSummary()
    results = []
    for chunk in rebalance_chunks(
        model, holdings, prices, RunOptions(method=method, chunk_size=97)
    ):
        writer.add_chunk(chunk)
        for result in chunk.results:
            summary.add(result)
            results.append(result)
    writer.close(summary.document())

    assert {result.status for result in results} == {"ok", "infeasible", "empty", "error"}
    targets = {p.security_id: p.target for p in model.positions}
    expected = []
    for result, item in zip(results, holdings, strict=True):
        assert result.portfolio_id == item.portfolio_id
        if result.status == "error":
            assert result.message == f"no price for security {gid('X')}"
            expected.append(result)
            continue
        value = reference.market_value(item, prices)
        assert str(result.market_value) == str(value)
        if result.status in ("ok", "infeasible"):
            before = reference.worst_drift(item.quantities, targets, prices, value)
            assert str(result.worst_drift_before) == str(before)
        expected.append(expected_result(result, item, model.positions, prices))
    assert [portfolio_document(r) for r in results] == [portfolio_document(r) for r in expected]

    # The file as the per-portfolio writer wrote it: header, one json.dumps each, summary.
    lines = ",\n".join(json.dumps(portfolio_document(r), separators=(",", ":")) for r in expected)
    totals = RunSummary()
    for result in expected:
        totals.add(result)
    summary_text = json.dumps(totals.document(), separators=(",", ":"))
    assert stream.getvalue() == (
        f'{{"runId":"r","portfolios":[\n{lines}\n],"summary":{summary_text}}}\n'
    )
