"""Reports of the two kinds of run: an orders file, and a run recorded in MongoDB."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ordergen.errors import ExitCode
from ordergen.io.orders_read import OrdersFile
from ordergen.report.build import ReportBuilder, comparison
from ordergen.report.model import Comparison, Report, RunFacts

RUN_EXIT_CODES = {"completed": ExitCode.OK, "partial": ExitCode.PARTIAL}
"""A MongoDB run's status to the exit code its run ended with (a `failed` run crashed:
its code is not recorded)."""


def baseline(path: Path | None) -> Comparison | None:
    """What the run without a policy in the orders file `path` traded, if one is given."""
    return None if path is None else comparison(OrdersFile(path).portfolios())


def _time(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return None if value is None else str(value)


def _facts(document: Mapping[str, Any], source: str, **known: Any) -> RunFacts:
    """The facts an orders file's header and a run document share, and the `known` rest."""
    return RunFacts(
        run_id=str(document["runId"]),
        model=str(document.get("model", "")),
        method=str(document.get("method", "")),
        input_digest=str(document.get("inputDigest", "")),
        policy=document.get("policy"),
        source=source,
        **known,
    )


def file_report(
    path: Path,
    compare: Path | None = None,
    started: str | None = None,
    ended: str | None = None,
) -> Report:
    """The report of the orders file at `path`, set against `compare` (back to target).

    The file records no times and no exit code: the exit code is the one its statuses
    give (3 when some portfolio is `infeasible` or in `error`), and `started`/`ended`
    are shown when the caller knows them.
    """
    orders = OrdersFile(path)
    builder = ReportBuilder()
    for document in orders.portfolios():
        builder.add(document)
    failed = any(row.status in ("infeasible", "error") for row in builder.rows)
    header = orders.header
    facts = _facts(
        header,
        f"orders file {path.name}",
        started=started,
        ended=ended,
        exit_code=int(ExitCode.PARTIAL if failed else ExitCode.OK),
    )
    return builder.report(facts, orders.summary, baseline(compare))


def run_report(
    run: Mapping[str, Any],
    results: Iterable[Mapping[str, Any]],
    compare: Path | None = None,
    approvals: Mapping[str, str] | None = None,
) -> Report:
    """The report of a run recorded in MongoDB: its document and its portfolios' results,
    with each portfolio's approval state from `approvals` (by portfolio id) when it has one."""
    status = run.get("status")
    code = RUN_EXIT_CODES.get(str(status))
    if code is not None and run.get("failedServices"):
        code = ExitCode.PARTIAL
    facts = _facts(
        run,
        "MongoDB run",
        started=_time(run.get("startedAt")),
        ended=_time(run.get("endedAt")),
        run_status=None if status is None else str(status),
        exit_code=None if code is None else int(code),
    )
    builder = ReportBuilder()
    for document in results:
        state = (approvals or {}).get(str(document["portfolioId"]))
        builder.add(document if state is None else {**document, "approval": state})
    return builder.report(facts, None, baseline(compare))
