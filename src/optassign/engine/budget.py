"""One budget for a solve and for each of its steps: nominal seconds, the deterministic work
those seconds buy at a search's own rate, and the wall clock that stops a run in any case.

A solve gets `Budget(time_limit, deterministic)`; each step gets a part of it (`share` of the
limit, `sub` seconds, what is `left`), and every search asks its budget the same questions:
`expired()` (the wall clock, or an interrupt) and `work(rate)` (the work that ends the search
when deterministic). Each search keeps its rate beside it (`WORK_PER_SECOND`, CP-SAT's
`DTIME_PER_SECOND`) and says in its statistics what stopped it.

Deterministic budgets follow a nominal schedule: what is `left` is the limit less the seconds
handed to the steps so far (`sub`, `share`, `charge`), never the wall clock that remains, so
that the work each step gets, and so the plan, does not depend on how fast the steps before it
ran. A busy machine then takes longer, not finds otherwise: the wall clock stops a
deterministic step only at `WALL_GRACE` times its seconds (and the whole solve at that many
times its limit), and the step says "wall clock" in its statistics. Without determinism the
wall clock is the schedule: each step gets what is left of the limit."""

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
# A deterministic step may take this many times its nominal seconds on a busy machine before
# the wall clock stops it (its plan may then differ from an unloaded run's).
WALL_GRACE = 3.0


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


@dataclass
class _Ledger:
    """Nominal seconds a budget has handed out (mutable, shared by the budget's copies)."""

    spent: float = 0.0


@dataclass(frozen=True)
class Budget:
    """`seconds` from `started`; when `deterministic`, also the work those seconds buy at a
    search's rate (or `max_work`, when given, whatever the rate). `deadline` is the wall-clock
    time (time.perf_counter) past which nothing of the solve runs on."""

    seconds: float
    deterministic: bool = True
    max_work: float | None = None
    started: float = field(default_factory=time.perf_counter, compare=False)
    deadline: float | None = field(default=None, compare=False)
    ledger: _Ledger = field(default_factory=_Ledger, compare=False, repr=False)

    def __post_init__(self) -> None:
        own = self.started + self.seconds * (WALL_GRACE if self.deterministic else 1.0)
        deadline = own if self.deadline is None else min(self.deadline, own)
        object.__setattr__(self, "deadline", deadline)

    def elapsed(self) -> float:
        """Wall-clock seconds since the start (for progress and the record, not the schedule)."""
        return time.perf_counter() - self.started

    def left(self, reserve: float = 0.0) -> float:
        """Seconds left for the steps still to come, less `reserve` kept for later ones (never
        negative): of the nominal schedule when deterministic, else of the wall clock."""
        used = self.ledger.spent if self.deterministic else self.elapsed()
        return max(0.0, self.seconds - used - reserve)

    def wall_left(self) -> float:
        """Seconds until the wall clock stops this step: the limit a solver is given."""
        return max(0.0, self.deadline - time.perf_counter())

    def expired(self) -> bool:
        """Whether the wall clock is spent or the user asked to stop."""
        return time.perf_counter() >= self.deadline or interrupt.requested()

    def work(self, rate: float) -> float:
        """The work that ends a search doing `rate` units per second on the reference machine:
        infinite (the wall clock decides) when not deterministic."""
        if self.max_work is not None:
            return self.max_work
        return self.seconds * rate if self.deterministic else np.inf

    def stopped_by(self, work: float, rate: float, word: str = "deterministic time") -> str:
        """What ended a search that did `work`: its work budget (`word`) or the wall clock."""
        return word if work >= self.work(rate) else "wall clock"

    def charge(self, seconds: float) -> None:
        """Count `seconds` of the schedule as spent by a step run outside a sub-budget."""
        self.ledger.spent += max(0.0, seconds)

    def sub(self, seconds: float) -> Budget:
        """A step's budget of `seconds`, starting now, counted as spent here."""
        self.charge(seconds)
        return replace(self, seconds=seconds, max_work=None, started=time.perf_counter(), ledger=_Ledger())

    def share(self, fraction: float) -> Budget:
        """A step's budget of `fraction` of this one's seconds, starting now."""
        return self.sub(fraction * self.seconds)

    def settle(self, step: Budget, spent: float = 0.0) -> None:
        """Give back what `step` (from `sub`) did not spend of its seconds, deterministic: what
        it handed out and charged (and `spent`, its own counted work in seconds), when it ended
        on its own (optimal, nothing more to do)."""
        step.charge(spent)
        if self.deterministic:
            self.ledger.spent -= max(0.0, step.seconds - step.ledger.spent)

    def always_by_work(self) -> Budget:
        """The same seconds, their work always the limit (for searches with no clock)."""
        return replace(self, deterministic=True)
