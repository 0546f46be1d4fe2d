"""A bounded amount of work, counted rather than timed, so that whether the exact
solver decides a portfolio never depends on the machine or its load."""

import time
from dataclasses import dataclass, field

STATES = 200_000
"""States the dynamic programmes may make for one portfolio."""
WORK = 400_000
"""Work the search may do for one portfolio: a node, a whole number weighed or
sixteen rows of a closed-form table are one unit each (about a microsecond)."""
ROWS_PER_UNIT = 16


class GiveUp(Exception):  # noqa: N818 (not an error: a decision to hand over)
    """The work allowed ran out: HiGHS decides instead."""


class TimeUp(GiveUp):
    """The portfolio's time limit passed: nobody decides it."""


@dataclass
class Effort:
    """What is left of the work allowed for one portfolio.

    `states` bounds the dynamic programme's states, `work` the search's (`WORK`). The
    deadline (`time.perf_counter()` seconds) is only a guard for the time limit; the
    counts are what normally stop the work.
    """

    states: int
    work: int
    deadline: float = field(default=float("inf"))
    _since_clock: int = 0

    def spend_states(self, count: int) -> None:
        self.states -= count
        if self.states < 0:
            raise GiveUp("the dynamic programme grew past its bound")

    def spend(self, units: int = 1) -> None:
        """Count `units` of the search's work; give up when it runs out."""
        self.work -= units
        if self.work < 0:
            raise GiveUp("the search grew past its bound")
        self._since_clock += units
        if self._since_clock >= 4096:
            self._since_clock = 0
            if time.perf_counter() > self.deadline:
                raise TimeUp("the time limit passed")
