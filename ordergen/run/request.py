"""What a user asks a run to do: the typed form of `ordergen rebalance`'s choices."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ordergen.domain.shard import Shard
from ordergen.optimize.problem import Method


class Source(StrEnum):
    """Where positions and prices come from."""

    FILES = "files"
    SERVICES = "services"


@dataclass(frozen=True)
class RunRequest:
    """Which model and portfolios, from where, solved how, under which run id.

    The model is `model_file`, or the stored `model`, or the stored model holding
    `portfolio`. With `Source.FILES`, `positions` and `prices` name the files; with
    `Source.SERVICES` they are None and `snapshot` may name a folder for the inputs used.
    """

    source: Source
    method: Method
    model_file: Path | None = None
    model: str | None = None
    portfolio: str | None = None
    shard: Shard | None = None
    positions: Path | None = None
    prices: Path | None = None
    snapshot: Path | None = None
    run_id: str | None = None
    portfolio_policies: Path | None = None
    """Policy overrides for this run, winning over the stored ones field by field."""
