"""The second half of an orders-file run, solved and written by a forked process.

Solving and formatting are Python, one core's work: threads cannot share it. So a
files run with two or more jobs forks once its inputs are loaded. The child
inherits the inputs (nothing is copied, read or checked again), solves the second
half of the portfolios and writes their text to an unnamed file beside the orders
file, while this process does the first half straight into the orders file. The
child's text is then appended by the kernel, and its results, reduced to their
counts, reach the summary, logs and metrics after this process's own, in portfolio
order. The orders file is the one-process file, byte for byte.
"""

import gc
import io
import os
import pickle
import signal
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, NoReturn

from ordergen.domain.holdings import Holdings
from ordergen.domain.model import InvestmentModel
from ordergen.domain.policy import PolicyOverride
from ordergen.domain.results import (
    CountedResult,
    PortfolioResult,
    counted_values,
    from_counted_values,
)
from ordergen.io.orders_json import OrdersFileWriter, PortfolioList
from ordergen.run.engine import RunOptions, rebalance_chunks

CAN_FORK = hasattr(os, "fork")


def split_point(portfolios: int, options: RunOptions) -> int | None:
    """Where the forked process's portfolios start, or None to run in one process.

    Forking pays once there are two chunks' worth of portfolios and two jobs.
    """
    if not CAN_FORK or options.jobs < 2 or portfolios < 2 * options.chunk_size:
        return None
    return portfolios // 2


class ForkedHalf:
    """A forked process solving the portfolios after the split; see `forked_half`.

    It writes their text to `text` and then, pickled, their results (or what it
    failed with) to `results`, and exits.
    """

    def __init__(self, process: int, text: BinaryIO, results: BinaryIO) -> None:
        self._process: int | None = process
        self._text = text
        self._results = results

    def join(self, writer: OrdersFileWriter) -> list[PortfolioResult]:
        """Wait for the process, append its portfolios to `writer`, and return their
        results (counts only: `counted_values`).

        Raises
        ------
        BaseException
            What the process failed with, or `ChildProcessError` if it died.
        """
        self._reap()
        self._results.seek(0)
        try:
            outcome = pickle.load(self._results)
        except EOFError:  # it died without a word (killed, out of memory)
            outcome = None
        if isinstance(outcome, BaseException):
            raise outcome
        if not isinstance(outcome, list):
            raise ChildProcessError("the process solving the second half of the run died")
        writer.append(self._text)
        return list(map(from_counted_values, outcome))

    def _reap(self) -> None:
        if self._process is not None:
            os.waitpid(self._process, 0)
            self._process = None

    def _stop(self) -> None:
        """End the process if it still runs (this run failed or was stopped)."""
        if self._process is not None:
            os.kill(self._process, signal.SIGKILL)
            self._reap()
        self._text.close()
        self._results.close()


@contextmanager
def forked_half(
    model: InvestmentModel,
    holdings: Sequence[Holdings],
    prices: Mapping[str, Decimal],
    options: RunOptions,
    directory: Path,
    *,
    unpriced: Mapping[str, str],
    overrides: Mapping[str, PolicyOverride],
) -> Iterator[ForkedHalf]:
    """Fork a process that solves `holdings` (the run's second half) with `options`
    into files in `directory`; ended, if still running, when the block ends.

    Whatever this process has buffered for its own files must be flushed before.
    """
    # Unnamed: gone with their last descriptors. Closed by `ForkedHalf._stop`.
    text = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115
    results = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115
    # Frozen, the inputs are not walked by either process's collector, so their memory
    # pages stay shared instead of being copied on the collector's first pass.
    gc.freeze()
    process = os.fork()
    if process == 0:
        _solve_and_exit(model, holdings, prices, options, text, results, unpriced, overrides)
    half = ForkedHalf(process, text, results)
    try:
        yield half
    finally:
        half._stop()


def _solve_and_exit(
    model: InvestmentModel,
    holdings: Sequence[Holdings],
    prices: Mapping[str, Decimal],
    options: RunOptions,
    text: BinaryIO,
    results: BinaryIO,
    unpriced: Mapping[str, str],
    overrides: Mapping[str, PolicyOverride],
) -> NoReturn:
    """The forked process: solve, write the text and the results, exit.

    It never returns into the caller's code (the CLI, a test) and never runs the
    parent's exit handlers or flushes its buffers: `os._exit`, whatever happens.
    """
    code = 1
    try:
        outcome: list[CountedResult] | BaseException
        try:
            stream = io.TextIOWrapper(text, encoding="utf-8")
            portfolios = PortfolioList(stream, follows=True)
            outcome = []
            for chunk in rebalance_chunks(
                model, holdings, prices, options, None, unpriced, overrides
            ):
                portfolios.add_chunk(chunk)
                outcome.extend(map(counted_values, chunk.results))
            stream.flush()
        except BaseException as failure:  # reported to the parent, which raises it
            outcome = failure
        try:
            pickle.dump(outcome, results, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            results.seek(0)
            results.truncate()
            pickle.dump(RuntimeError(repr(outcome)), results)
        results.flush()
        code = 0
    finally:
        os._exit(code)
