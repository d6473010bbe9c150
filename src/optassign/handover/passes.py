"""The solves of a handover: the first pass on the changed problem, then, when handed-over
customers should take their open tasks along, a second pass with their new owners in force."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optassign.contract.schema import Policy
from optassign.engine.budget import Budget
from optassign.engine.problem import ProblemData
from optassign.engine.relax import raised
from optassign.engine.result import Result
from optassign.engine.solve import ProgressFn, primary_terms, solve_problem
from optassign.handover.frontier import phase_progress
from optassign.handover.prepare import Prepared
from optassign.handover.settings import FIRST_PASS_SHARE, FOLLOW_OWNERS, OWNER_KEEP_TERMS


@dataclass(frozen=True)
class Passes:
    """What the solves leave: the last result, the problem it was solved on (the second pass
    changes the owners in force) and how many passes ran."""

    result: Result
    data: ProblemData
    count: int


def _tasks_of_forced_customers(prep: Prepared) -> np.ndarray:
    """Per task: its customer changes owner because of the events."""
    data = prep.data
    cust = data.task_customer
    if not data.n_customers:
        return cust < -1
    return (cust >= 0) & prep.owner_forced[np.maximum(cust, 0)]


def will_follow(prep: Prepared, policy: Policy) -> bool:
    """Customers handed over take their open tasks along (keep_owner_tasks): the engine scores
    tasks against the owner in force, so a second, shorter pass makes the owner the first pass
    chose the owner in force of each handed-over customer and re-solves from the first plan.
    Only tasks free to move (forced, or without an agent in force) can follow at no disruption,
    so the pass runs only when one of them exists."""
    free_task = prep.forced | (prep.data.current < 0)
    return (
        FOLLOW_OWNERS
        and policy.keep_owner_tasks_weight > 0
        and bool((free_task & _tasks_of_forced_customers(prep)).any())
    )


def solve_passes(
    prep: Prepared,
    policy: Policy,
    hint: tuple[np.ndarray, np.ndarray],
    schedule: Budget,
    *,
    workers: int | None,
    seed: int,
    progress: ProgressFn | None,
) -> Passes:
    """The first pass within the `schedule`'s seconds (a share of them when a second pass may
    follow), then the second within what the schedule has left: nominal seconds, so that the
    plan does not depend on how fast the machine ran."""
    data = prep.data
    follow = will_follow(prep, policy)
    first_limit = schedule.seconds * (FIRST_PASS_SHARE if follow else 1.0)
    schedule.charge(first_limit)
    run = dict(workers=workers, seed=seed)
    result = solve_problem(
        data, policy, time_limit=first_limit, hint=hint, progress=phase_progress(progress, "handover"), **run
    )
    if not (follow and result.status.has_solution):
        return Passes(result, data, 1)
    of_forced = _tasks_of_forced_customers(prep)
    free_task = prep.forced | (data.current < 0)
    cust = data.task_customer
    new_owner = np.where(prep.owner_forced & (result.owner >= 0), result.owner, data.owner)
    task_owner = np.where(of_forced, new_owner[np.maximum(cust, 0)], -1)
    tc = data.task_cand
    could = np.bincount(tc.row[tc.chosen(task_owner)], minlength=data.n_tasks) > 0
    if not (free_task & of_forced & could & (result.assign != task_owner)).any():
        return Passes(result, data, 1)
    second = data.replace(owner=new_owner.astype(np.int32))
    bound = None
    # the first pass's, raised for the new owners (when it spans the same owner pairs: a
    # policy that gives owning no value solves without any)
    if result.relaxation is not None and len(result.relaxation.o) == len(data.owner_cand):
        # only the keep terms read the owners in force: the other points do not change
        owner_terms = [t for t in primary_terms(policy) if t in OWNER_KEEP_TERMS]
        bound = raised(result.relaxation, data, second, policy, owner_terms)
    result = solve_problem(
        second,
        policy,
        time_limit=max(1.0, schedule.left()),
        hint=(result.assign, result.owner),
        relaxation=bound,
        progress=phase_progress(progress, "handover, owners' tasks follow"),
        **run,
    )
    return Passes(result, second, 2)
