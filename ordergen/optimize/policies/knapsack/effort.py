"""A bounded amount of work, counted rather than timed, so that whether the exact
solver decides a portfolio never depends on the machine or its load."""

import time
from dataclasses import dataclass, field

STATES = 200_000
"""States the dynamic programmes may make for one portfolio."""
NODES = 20_000
"""Nodes the search may visit for one portfolio."""


class GiveUp(Exception):  # noqa: N818 (not an error: a decision to hand over)
    """The work allowed ran out: HiGHS decides instead."""


class TimeUp(GiveUp):
    """The portfolio's time limit passed: nobody decides it."""


@dataclass
class Effort:
    """What is left of the work allowed for one portfolio.

    `states` bounds the dynamic programme's states, `nodes` the search's nodes. The
    deadline (`time.perf_counter()` seconds) is only a guard for the time limit; the
    counts are what normally stop the work.
    """

    states: int
    nodes: int
    deadline: float = field(default=float("inf"))

    def spend_states(self, count: int) -> None:
        self.states -= count
        if self.states < 0:
            raise GiveUp("the dynamic programme grew past its bound")

    def spend_node(self) -> None:
        self.nodes -= 1
        if self.nodes < 0:
            raise GiveUp("the search grew past its bound")
        if self.nodes % 256 == 0 and time.perf_counter() > self.deadline:
            raise TimeUp("the time limit passed")
