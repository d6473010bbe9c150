"""`Result`: what a solve returns, in solver terms (status, objective, bound, gap, statistics)
and as arrays (agent per task, owner per customer). Plans are derived from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optassign.engine.relax import Relaxation


class SolveStatus(StrEnum):
    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    MODEL_INVALID = "MODEL_INVALID"
    UNKNOWN = "UNKNOWN"

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


def relative_gap(objective: float, bound: float) -> float:
    """|bound - objective| / max(1, |bound|): 0 means proven optimal."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return abs(bound - objective) / max(1.0, abs(bound))


def gap_target(bound: float, gap: float) -> float:
    """The least objective that `relative_gap` proves within `gap` of `bound`; infinite (never
    reached) without a gap to stop at or a finite bound."""
    if gap <= 0 or not np.isfinite(bound):
        return float("inf")
    return bound - gap * max(1.0, abs(bound))


@dataclass(frozen=True)
class StageResult:
    """One lexicographic stage: its terms and how far the solver got on them (points)."""

    terms: list[str]
    status: SolveStatus
    objective: float
    best_bound: float
    seconds: float

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.best_bound) if self.status.has_solution else float("inf")


@dataclass(frozen=True)
class Result:
    """The outcome of `solve_problem`.

    `objective`, `best_bound` and `gap` are those of the first (primary) stage, in points; each
    stage's own are in `stages`, and `status` is OPTIMAL only when every stage was proven
    optimal. `terms` holds each objective term's value recomputed from the arrays."""

    status: SolveStatus
    objective: float
    best_bound: float
    gap: float
    runtime: float
    assign: np.ndarray
    owner: np.ndarray
    terms: dict[str, float]
    stages: list[StageResult] = field(default_factory=list)
    statistics: dict[str, float | int | str] = field(default_factory=dict)
    seed: int = 0
    workers: int = 1
    time_limit: float | None = None
    # the LP relaxation (or Lagrangian dual) the solve bounded and pruned with, if any
    relaxation: Relaxation | None = field(default=None, repr=False, compare=False)
    # with a horizon: which assigned tasks are done after their due day (days.late_tasks)
    late: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def total_objective(self) -> float:
        """The policy's full objective: the sum of every term, in points."""
        return float(sum(self.terms.values()))
