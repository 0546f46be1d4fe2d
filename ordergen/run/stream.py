"""One rebalance run from validated inputs to a sink, with progress and results observed."""

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from ordergen.domain.columns import ResultChunk
from ordergen.domain.holdings import Holdings
from ordergen.domain.model import InvestmentModel
from ordergen.domain.policy import PolicyOverride
from ordergen.domain.results import PortfolioResult
from ordergen.domain.summary import RunSummary
from ordergen.run.engine import RunOptions, rebalance_chunks


class PortfolioSink(Protocol):
    """A sink taking results one portfolio at a time (MongoDB, the order service)."""

    def add(self, result: PortfolioResult) -> None: ...

    def close(self, summary: dict[str, Any]) -> None: ...


@runtime_checkable
class ChunkSink(Protocol):
    """A sink taking a chunk's results at once, in columns (the orders file)."""

    def add_chunk(self, chunk: ResultChunk) -> None: ...

    def close(self, summary: dict[str, Any]) -> None: ...


ResultSink = PortfolioSink | ChunkSink
"""Where results go: an orders file, MongoDB, the order service."""


@contextmanager
def _inputs_left_alone() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist when the run starts.

    The inputs (millions of objects for a large run) live as long as the run; without
    this, every full collection the results' allocations trigger walks them all again.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
    overrides: Mapping[str, PolicyOverride] | None = None,
    solved_elsewhere: Callable[[], Sequence[PortfolioResult]] | None = None,
) -> RunSummary:
    """Solve every portfolio, stream the results to `sink`, close it with the summary.

    `on_result` sees every portfolio's result, in order, once the sink has it.
    `solved_elsewhere` (with a chunk sink only) waits for the portfolios that follow
    `holdings`, which another process solved, adds them to the sink and returns their
    results; they are observed after those of `holdings`.
    """
    chunk_sink = sink if isinstance(sink, ChunkSink) else None
    portfolio_sink = None if isinstance(sink, ChunkSink) else sink
    if solved_elsewhere is not None and chunk_sink is None:
        raise ValueError("portfolios solved elsewhere can only join a chunk sink")
    with _inputs_left_alone():
        for chunk in rebalance_chunks(
            model,
            holdings,
            prices,
            options,
            on_chunk=on_chunk,
            unpriced=unpriced,
            overrides=overrides,
        ):
            if chunk_sink is not None:
                chunk_sink.add_chunk(chunk)
            for result in chunk.results:
                summary.add(result)
                if portfolio_sink is not None:
                    portfolio_sink.add(result)
                if on_result is not None:
                    on_result(result)
        if solved_elsewhere is not None:
            joined = solved_elsewhere()
            for result in joined:
                summary.add(result)
                if on_result is not None:
                    on_result(result)
            if on_chunk is not None:
                on_chunk(len(joined))
        sink.close(summary.document())
    return summary
