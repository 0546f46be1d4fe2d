"""Shards of a run: `--shard I/N` splits a model's portfolios stably across N processes."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ordergen.errors import InputError


def shard_of(portfolio_id: str, shards: int) -> int:
    """Stable shard number of a portfolio: the same on every machine and Python run."""
    digest = hashlib.sha256(portfolio_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`: `--shard I/N`, as Kubernetes Indexed Jobs number them."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        index, _, count = text.partition("/")
        try:
            shard = cls(int(index), int(count))
        except ValueError:
            raise InputError("shard", text, "expected I/N, for example 0/4") from None
        if shard.count < 1 or not 0 <= shard.index < shard.count:
            raise InputError("shard", text, "expected I/N with 0 <= I < N")
        return shard

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


# An unsharded run is shard 0 of 1, so one code path records both kinds.
WHOLE_RUN = Shard(0, 1)


def select_shard(portfolio_ids: Sequence[str], shard: Shard) -> list[str]:
    """The portfolio ids of `shard` (the shards partition the ids)."""
    return [pid for pid in portfolio_ids if shard_of(pid, shard.count) == shard.index]
