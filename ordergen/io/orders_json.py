"""The orders JSON file: streamed portfolio by portfolio, made visible atomically.

Decimals are written as strings (exact, as the GlobeCo services do); quantities
as integers. The file appears under its final name only once complete.
"""

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

from ordergen.domain.columns import ResultChunk
from ordergen.domain.results import Drift, PortfolioResult
from ordergen.domain.values import decimal_text
from ordergen.io.portfolio_text import PortfolioTexts


def _drift(drift: Drift) -> dict[str, Any]:
    return {
        "securityId": drift.security_id,
        "target": decimal_text(drift.target),
        "lowDrift": decimal_text(drift.low_drift),
        "highDrift": decimal_text(drift.high_drift),
        "originalQuantity": drift.original_quantity,
        "adjustedQuantity": drift.adjusted_quantity,
        "price": decimal_text(drift.price),
        "actual": decimal_text(drift.actual),
        "actualDrift": decimal_text(drift.actual_drift),
    }


def portfolio_document(result: PortfolioResult) -> dict[str, Any]:
    """The camelCase document of one portfolio's result (MongoDB).

    The orders file holds the same documents as JSON text, written in bulk by
    `PortfolioTexts` (ordergen.io.portfolio_text) to the bytes `json.dumps` makes of these.
    A portfolio that ran under a policy also says which (`policy`, last).
    """
    document: dict[str, Any] = {
        "portfolioId": result.portfolio_id,
        "status": result.status,
        "marketValue": decimal_text(result.market_value),
        "cashAfter": decimal_text(result.cash_after),
        "objective": decimal_text(result.objective),
        "orders": [
            {
                "securityId": order.security_id,
                "side": order.side,
                "quantity": order.quantity,
                "price": decimal_text(order.price),
            }
            for order in result.orders
        ],
        "drifts": [_drift(drift) for drift in result.drifts],
        "worstDriftBefore": decimal_text(result.worst_drift_before),
        "worstDriftAfter": decimal_text(result.worst_drift_after),
        "solver": result.solver,
        "message": result.message,
    }
    if result.policy is not None:
        document["policy"] = result.policy.document()
    return document


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextmanager
def atomic_text_file(path: Path) -> Iterator[IO[str]]:
    """A temp file beside `path`, renamed over it only if the block completes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


class PortfolioList:
    """Portfolios' JSON texts, one after another with ",\n" between them, chunk by chunk.

    `follows`: texts were written before this list's first, so a separator leads it.
    """

    def __init__(self, stream: IO[str], *, follows: bool = False) -> None:
        self._stream = stream
        self._follows = follows
        self._texts = PortfolioTexts()

    def add_chunk(self, chunk: ResultChunk) -> None:
        """Write every portfolio of `chunk`, in order."""
        for text in self._texts(chunk):
            if self._follows:
                self._stream.write(",\n")
            self._stream.write(text)
            self._follows = True


class OrdersFileWriter:
    """Writes `{"runId", "method", "model", "portfolios": [...], "summary": {...}}` in one pass."""

    def __init__(self, stream: IO[str], header: dict[str, Any]) -> None:
        self._stream = stream
        self._portfolios = PortfolioList(stream)
        self._early_sync: EarlySync | None = None
        opening = json.dumps(header, separators=(",", ":"))[:-1]
        stream.write(f'{opening},"portfolios":[\n')

    def add_chunk(self, chunk: ResultChunk) -> None:
        """Write every portfolio of `chunk`, in order."""
        self._portfolios.add_chunk(chunk)

    def append(self, written: BinaryIO) -> None:
        """Add the portfolios another process wrote to `written` (a `PortfolioList` that
        follows these), copied from file to file by the kernel."""
        self._stream.flush()
        append_file(written, self._stream.fileno())
        self._early_sync = EarlySync(self._stream.fileno())

    def close(self, summary: dict[str, Any]) -> None:
        if self._early_sync is not None:
            self._early_sync.wait()
        self._stream.write(f'\n],"summary":{json.dumps(summary, separators=(",", ":"))}}}\n')


def append_file(source: BinaryIO, target: int) -> None:
    """Append all of `source` at the file position of descriptor `target`.

    `copy_file_range` keeps the bytes in the kernel (no trip through this process).
    Where there is none, or the file system refuses it before anything is copied,
    the bytes are copied in blocks.
    """
    offset = 0
    try:
        while copied := os.copy_file_range(source.fileno(), target, 1 << 30, offset):
            offset += copied
        return
    except (AttributeError, OSError):  # no copy_file_range here, or not for these files
        if offset:
            raise
    source.seek(0)
    with open(target, "wb", closefd=False) as out:
        shutil.copyfileobj(source, out)


class EarlySync:
    """`os.fsync` of a file, started now in a thread of its own (the call releases the
    GIL), so the disk works while the run finishes its other work; the file's final
    sync then has little left to do.

    `wait` raises the sync's failure: after a failed sync, a later one may succeed
    without the data being on disk, so the failure must not be lost.
    """

    def __init__(self, descriptor: int) -> None:
        self._failure: OSError | None = None
        self._thread = threading.Thread(target=self._sync, args=(descriptor,), daemon=True)
        self._thread.start()

    def _sync(self, descriptor: int) -> None:
        try:
            os.fsync(descriptor)
        except OSError as failure:
            self._failure = failure

    def wait(self) -> None:
        """Wait for the sync to end; raise its failure, if any."""
        self._thread.join()
        if self._failure is not None:
            raise self._failure
