"""Stable plans: a re-solve that gains little over the plan in force keeps the plan in force.

The nightly batch re-solves the same people and mostly the same work. A plan that reshuffles
worklists for a few points loses people's trust, so the policy's `min_relative_gain` sets what
a new plan must gain, on the first stage's terms, over the plan in force completed: pins,
then the owners and assignees in force where they still fit, then new owners and every other
task placed by the greedy (by priority), and, with hard due dates, the day rows repaired. When
the new plan gains less than that share of the completed plan's value, the completed plan is
the result: it moves only what no longer fits."""

from __future__ import annotations

import dataclasses

import numpy as np

from optassign.contract.schema import Policy
from optassign.engine import days
from optassign.engine.model import evaluate, primary_terms
from optassign.engine.problem import ProblemData
from optassign.engine.relax import pair_coefficients
from optassign.engine.result import Result, SolveStatus, StageResult, relative_gap
from optassign.engine.search.greedy import greedy_plan


def in_force_completed(data: ProblemData, policy: Policy) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The plan in force where it still fits, open work placed by the greedy, hard due dates'
    day rows repaired: agent per task, owner per customer and, with a horizon, the late tasks."""
    assign, owner = greedy_plan(data, kept_first=True)
    if data.day_cum is None:
        return assign, owner, None
    if data.due_hard:  # soft due dates let work be late: the plan in force stands as it is
        value, _ = pair_coefficients(data, policy, primary_terms(policy))
        assign, _ = days.repair(data, policy, assign, owner, value)
    return assign, owner, days.late_tasks(data, policy, assign, owner)


def keep_plan_in_force(data: ProblemData, policy: Policy, result: Result) -> Result:
    """`result`, or the plan in force completed when `result` gains less than the policy's
    `min_relative_gain` over it on the first stage's terms (statistics say which, and by how
    much). Unchanged without a gain to ask for, a move away from the plan in force, a move
    budget (a handover decides its moves itself), or a plan in `result` not proven optimal (a
    proven optimum, the keep weights counted, is taken: it is what the policy asks for)."""
    threshold = policy.min_relative_gain
    if threshold <= 0 or result.status != SolveStatus.FEASIBLE or data.move_budget is not None:
        return result
    moved = ((data.current >= 0) & (result.assign != data.current)).any()
    moved |= ((data.owner >= 0) & (result.owner != data.owner)).any()
    if not moved:  # the re-solve keeps the plan in force (and places open work): nothing to weigh
        return result
    assign, owner, late = in_force_completed(data, policy)
    terms = evaluate(data, policy, assign, owner, late)
    primary = primary_terms(policy)
    kept = float(sum(terms.get(n, 0.0) for n in primary))
    gain = result.objective - kept
    statistics = dict(result.statistics)
    statistics.update(stability_in_force_objective=round(kept, 4), stability_gain=round(gain, 4))
    if gain >= threshold * max(1.0, abs(kept)):
        statistics.update(stability="re-solved: gained enough over the plan in force")
        return dataclasses.replace(result, statistics=statistics)
    statistics.update(stability="kept the plan in force: the re-solve gained too little")
    status = SolveStatus.FEASIBLE
    stages = [
        StageResult(r.terms, status, float(sum(terms.get(n, 0.0) for n in r.terms)), r.best_bound, r.seconds)
        for r in result.stages
    ]
    return dataclasses.replace(
        result,
        status=status,
        objective=kept,
        gap=relative_gap(kept, result.best_bound),
        assign=assign,
        owner=owner,
        terms=terms,
        stages=stages,
        statistics=statistics,
        late=late if late is not None else result.late,
    )
