"""One budget for a solve and for each of its steps: wall-clock seconds, and the deterministic
work those seconds buy at a search's own rate.

A solve gets `Budget(time_limit, deterministic)`; each step gets a part of it (`share` of the
limit, `sub` seconds, what is `left`), and every search asks its budget the same questions:
`expired()` (the wall clock, a hard limit, or an interrupt) and `work(rate)` (the work that
ends the search when deterministic, so that the same inputs, seed and workers give the same
plan). Each search keeps its rate beside it (`WORK_PER_SECOND`, CP-SAT's `DTIME_PER_SECOND`)
and says in its statistics what stopped it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace

import numpy as np

from optassign import interrupt

# Shares of a solve's time limit, step by step.
# The relaxation: the whole LP, and column generation on batches too large for one
# simplex (where the start matters more than the search).
LP_SHARE = 0.4
LARGE_LP_SHARE = 0.5
# The Lagrangian knapsack search, on problems it applies to (knapsack.applicable).
KNAPSACK_SHARE = 0.4
# Path relinking between the knapsack search's best plans.
RELINK_SHARE = 0.25
# The regional parts of a batch joined only by its multi-region agents, of the time left after
# the relaxation; the solve over the whole batch from their plan gets the rest.
REGIONS_SHARE = 0.5
# Ejection chains on problems too large for one dense search.
CHAIN_SHARE = 0.3


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


@dataclass(frozen=True)
class Budget:
    """`seconds` of wall clock from `started`; when `deterministic`, also the work those
    seconds buy at a search's rate (or `max_work`, when given, whatever the rate)."""

    seconds: float
    deterministic: bool = True
    max_work: float | None = None
    started: float = field(default_factory=time.perf_counter, compare=False)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self, reserve: float = 0.0) -> float:
        """Seconds left, less `reserve` kept for later steps (never negative)."""
        return max(0.0, self.seconds - self.elapsed() - reserve)

    def expired(self) -> bool:
        """Whether the wall clock is spent or the user asked to stop."""
        return self.elapsed() >= self.seconds or interrupt.requested()

    def work(self, rate: float) -> float:
        """The work that ends a search doing `rate` units per second on the reference machine:
        infinite (the wall clock decides) when not deterministic."""
        if self.max_work is not None:
            return self.max_work
        return self.seconds * rate if self.deterministic else np.inf

    def stopped_by(self, work: float, rate: float, word: str = "deterministic time") -> str:
        """What ended a search that did `work`: its work budget (`word`) or the wall clock."""
        return word if work >= self.work(rate) else "wall clock"

    def sub(self, seconds: float) -> Budget:
        """A step's budget of `seconds`, starting now."""
        return replace(self, seconds=seconds, max_work=None, started=time.perf_counter())

    def ending(self, seconds: float) -> Budget:
        """This budget cut to `seconds` from its start (a first step's deadline)."""
        return replace(self, seconds=seconds)

    def share(self, fraction: float) -> Budget:
        """A step's budget of `fraction` of this one's seconds, starting now."""
        return self.sub(fraction * self.seconds)

    def always_by_work(self) -> Budget:
        """The same seconds, their work always the limit (for searches with no clock)."""
        return replace(self, deterministic=True)
