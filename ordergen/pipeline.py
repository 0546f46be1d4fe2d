"""One rebalance run from validated inputs to a sink, with progress and results observed."""

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from ordergen.batch import RunOptions, RunSummary, rebalance
from ordergen.domain.holdings import Holdings
from ordergen.domain.model import InvestmentModel
from ordergen.domain.results import PortfolioResult


class ResultSink(Protocol):
    """Where results go: an orders file, MongoDB, the order service."""

    def add(self, result: PortfolioResult) -> None: ...

    def close(self, summary: dict[str, Any]) -> None: ...


def execute(
    model: InvestmentModel,
    holdings: Sequence[Holdings],
    prices: Mapping[str, Decimal],
    sink: ResultSink,
    summary: RunSummary,
    options: RunOptions,
    *,
    on_result: Callable[[PortfolioResult], None] | None = None,
    on_chunk: Callable[[int], None] | None = None,
    unpriced: Mapping[str, str] | None = None,
) -> RunSummary:
    """Solve every portfolio, stream each result to `sink`, close it with the summary."""
    for result in rebalance(model, holdings, prices, options, on_chunk=on_chunk, unpriced=unpriced):
        summary.add(result)
        sink.add(result)
        if on_result is not None:
            on_result(result)
    sink.close(summary.document())
    return summary
