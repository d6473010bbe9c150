"""Moves against value: the handover re-solved under growing move budgets (frontier.csv), so a
manager sees what each extra move buys."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from optassign.contract.schema import Policy
from optassign.engine.model import points
from optassign.engine.problem import ProblemData
from optassign.engine.result import Result
from optassign.engine.solve import ProgressFn, primary_terms, solve_problem
from optassign.handover.prepare import Prepared
from optassign.handover.result import FRONTIER_COLUMNS
from optassign.handover.tables import coverage

# The move budgets a frontier tries: 0, then FRONTIER_FIRST, doubling, at most FRONTIER_POINTS.
FRONTIER_FIRST = 5
FRONTIER_POINTS = 10
FRONTIER_TOLERANCE = 0.001  # stop when the objective improves by no more than 0.1%
FRONTIER_TIME_SHARE = 0.5  # of the time limit, for each frontier solve (small budgets solve fast)


# --------------------------------------------------------------------------- frontier
def solve_frontier(
    prep: Prepared,
    data: ProblemData,
    policy: Policy,
    time_limit: float,
    workers: int | None,
    seed: int,
    progress: ProgressFn | None,
) -> tuple[pd.DataFrame, list[tuple[int, Result]]]:
    """Objective against move budget: budgets 0, 5, 10, 20, ... doubling until the objective
    improves by no more than 0.1% (or every movable item may move), each solve given
    `time_limit` and started from the previous one's plan, which meets the larger budget
    too. Returns frontier.csv's rows and each budget's result."""
    movable = int((data.task_cand.chosen(data.current) & ~prep.forced[data.task_cand.row]).sum())
    movable += int((data.owner_cand.chosen(data.owner) & ~prep.owner_forced[data.owner_cand.row]).sum())
    rows, points = [], []
    hint = prep.hint
    previous = None
    budget = 0
    for _ in range(FRONTIER_POINTS):
        r = solve_problem(
            data.replace(move_budget=budget),
            policy,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            hint=hint,
            progress=phase_progress(progress, f"frontier, budget {budget}"),
        )
        rows.append(frontier_row(budget, r, prep, policy))
        points.append((budget, r))
        if r.status.has_solution:
            hint = (r.assign, r.owner)
        if budget >= movable:
            break
        value = rows[-1]["objective"]
        if previous is not None and value - previous <= FRONTIER_TOLERANCE * max(1.0, abs(previous)):
            break
        previous = value
        budget = FRONTIER_FIRST if budget == 0 else budget * 2
    return pd.DataFrame(rows, columns=FRONTIER_COLUMNS), points


def frontier_row(budget: int | None, r: Result, prep: Prepared, policy: Policy) -> dict:
    """One frontier point. The objective is the policy's first stage recomputed from the plan on
    the first pass's problem, so points stay comparable when a second pass re-scored owners;
    the gap is that stage's."""
    d = prep.data
    moved = (d.current >= 0) & (r.assign != d.current)
    moved_o = (d.owner >= 0) & (r.owner != d.owner)
    gap = r.stages[0].gap if r.stages else r.gap
    return {
        "budget": "" if budget is None else budget,
        "moves": int((moved & ~prep.forced).sum() + (moved_o & ~prep.owner_forced).sum()),
        "objective": round(points(d, policy, primary_terms(policy), r.assign, r.owner), 6),
        "coverage": coverage(d.priority.astype(int), r.assign >= 0),
        "gap": round(float(gap), 6) if np.isfinite(gap) else None,
        "forced": int((moved & prep.forced).sum() + (moved_o & prep.owner_forced).sum()),
        "unassigned": int((r.assign < 0).sum()),
        "status": r.status.value,
    }


def phase_progress(progress: ProgressFn | None, name: str) -> ProgressFn | None:
    if progress is None:
        return None
    return lambda p: progress(dataclasses.replace(p, phase=f"{name}: {p.phase}"))
