"""Run a rebalance job to an orders file, and what every sink's run shares: its report
and the solve (`ordergen.run.to_mongo` runs one into MongoDB).

The inputs are validated before this starts, so every failure here is the
infrastructure's.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordergen import __version__
from ordergen.domain.model import InvestmentModel
from ordergen.domain.results import PortfolioResult
from ordergen.domain.summary import RunSummary
from ordergen.io.orders_json import OrdersFileWriter, atomic_text_file
from ordergen.observability.run import RunObserver
from ordergen.run.engine import RunOptions
from ordergen.run.forked_half import forked_half, split_point
from ordergen.run.inputs import RunInputs
from ordergen.run.stream import ResultSink, execute

if TYPE_CHECKING:  # a files run never loads the order service's client (start-up time)
    from ordergen.services.submit import SubmissionReport

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RunReport:
    """How a run ended; `failed` decides the partial-failure exit code."""

    run_id: str
    model: str
    summary: RunSummary
    seconds: float
    destination: str
    failed_services: Mapping[str, str] = field(default_factory=dict)
    submission: "SubmissionReport | None" = None
    approval: Mapping[str, Any] | None = None
    """A run that needs approval: its rule, proposer and proposal time; nothing sent."""

    @property
    def failed(self) -> bool:
        unsubmitted = self.submission is not None and self.submission.unsubmitted > 0
        return bool(self.summary.failed or self.failed_services or unsubmitted)

    def outcome(self) -> dict[str, Any]:
        """Counts, failed services and submission: what the run document records."""
        outcome: dict[str, Any] = {
            **self.summary.document(),
            "failedServices": dict(self.failed_services),
        }
        if self.submission is not None:
            outcome["submission"] = self.submission.document()
        if self.approval is not None:
            outcome["approval"] = dict(self.approval)
        return outcome

    def document(self) -> dict[str, Any]:
        """The `--json` run summary."""
        return {
            "runId": self.run_id,
            "model": self.model,
            "output": self.destination,
            "seconds": round(self.seconds, 3),
            **self.outcome(),
        }


def solve_into(
    inputs: RunInputs,
    sink: ResultSink,
    options: RunOptions,
    observer: RunObserver,
    progress: Progress | None,
    solved_elsewhere: Callable[[], Sequence[PortfolioResult]] | None = None,
) -> RunSummary:
    """Rebalance every portfolio of `inputs` into `sink`, reporting to `observer`.

    `solved_elsewhere`: see `ordergen.run.stream.execute`.
    """

    def on_chunk(count: int) -> None:
        observer.on_chunk(count)
        if progress is not None:
            progress(count)

    summary = RunSummary(missing_portfolios=inputs.missing, unmodelled_portfolios=inputs.unmodelled)
    return execute(
        inputs.model,
        inputs.holdings,
        inputs.prices,
        sink,
        summary,
        options,
        on_result=observer.on_result,
        on_chunk=on_chunk,
        unpriced=inputs.unpriced,
        overrides=inputs.overrides,
        solved_elsewhere=solved_elsewhere,
    )


def _model_policy(model: InvestmentModel) -> dict[str, Any]:
    """The model's policy for the orders file's header; nothing when it has none."""
    return {} if model.policy.is_default else {"policy": model.policy.document()}


def run_to_file(
    inputs: RunInputs,
    output: Path,
    run_id: str,
    options: RunOptions,
    observer: RunObserver,
    progress: Progress | None = None,
) -> RunReport:
    """Rebalance and write the orders file atomically: all of it, or nothing."""
    started = time.perf_counter()
    header = {
        "runId": run_id,
        "method": options.method.value,
        "model": inputs.model.name,
        **_model_policy(inputs.model),
        "inputDigest": inputs.digest,
        "ordergenVersion": __version__,
    }
    split = split_point(len(inputs.holdings), options)
    # Split, each half is solved on one core: worker pools would compete for both.
    one_core = replace(options, jobs=1)
    with atomic_text_file(output) as stream:
        writer = OrdersFileWriter(stream, header)
        if split is None:
            summary = solve_into(inputs, writer, options, observer, progress)
        else:
            stream.flush()  # the forked process must not inherit text still to be written
            with forked_half(
                inputs.model,
                inputs.holdings[split:],
                inputs.prices,
                one_core,
                output.parent,
                unpriced=inputs.unpriced,
                overrides=inputs.overrides,
            ) as second:
                summary = solve_into(
                    replace(inputs, holdings=inputs.holdings[:split]),
                    writer,
                    one_core,
                    observer,
                    progress,
                    solved_elsewhere=lambda: second.join(writer),
                )
    return RunReport(
        run_id,
        inputs.model.name,
        summary,
        time.perf_counter() - started,
        str(output),
        inputs.failed_services,
    )
