"""Neighbourhood search with the day rows (days.py) in the model: a group of agents that share
candidate tasks (lns.Neighbourhoods), their tasks and the open work they could take, re-solved
exactly by CP-SAT with each agent's hours, task slots and day rows, owners fixed; with soft
due dates each pair also has a late copy (in no day row, worth its points less the task's late
points). A batch small enough is one neighbourhood. The plan's late tasks are carried along:
the model says which tasks of the group are late."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from optassign import interrupt
from optassign.contract.schema import Policy
from optassign.engine import days
from optassign.engine.budget import Budget
from optassign.engine.params import DTIME_PER_SECOND
from optassign.engine.problem import ProblemData, points_to_int
from optassign.engine.relax import pair_coefficients
from optassign.engine.search.lns import PAIR_TERMS, Neighbourhoods, _sub_policy

# A batch with at most this many task pairs is searched as one model.
WHOLE_PAIRS = 2000


@dataclass
class DayStats:
    neighbourhoods: int = 0
    improved: int = 0
    gained: float = 0.0
    deterministic_time: float = 0.0
    stopped_by: str = "-"  # gap, whole (one solve), deterministic time, wall clock, exhausted


def improve_days(
    d: ProblemData,
    policy: Policy,
    names: list[str],
    assign: np.ndarray,
    owner: np.ndarray,
    late: np.ndarray,
    *,
    budget: Budget,
    seed: int = 0,
    workers: int = 1,
    group_size: int = 6,
    step_time: float = 0.05,
    max_waiting: int = 300,
    enough: float = np.inf,
) -> tuple[np.ndarray, np.ndarray, DayStats]:
    """Improve a plan that obeys the day rows (`late`: its late tasks), owners fixed, on the
    pair terms of `names` less late points, until `budget` is spent (its deterministic work at
    CP-SAT's rate, or its seconds). Returns the new agent per task, late tasks and statistics;
    every accepted step keeps every rule of the group's agents, day rows included."""
    stats = DayStats()
    terms = [t for t in names if t in PAIR_TERMS]
    if d.day_cum is None or not terms or d.n_tasks == 0 or d.move_budget is not None:
        return assign, late, stats
    value, _ = pair_coefficients(d, _sub_policy(policy), terms)
    solver_ctx = _Context(d, policy, owner, value, seed, workers)
    solver_ctx.deterministic = budget.deterministic
    assign, late = assign.copy(), late.copy()
    if enough <= 0:  # already proven within the policy's stop_at_gap
        stats.stopped_by = "gap"
        return assign, late, stats
    if len(d.task_cand) <= WHOLE_PAIRS:
        every = np.arange(d.n_tasks)
        work = budget.work(DTIME_PER_SECOND)
        solver_ctx.step(every, np.ones(d.n_agents, bool), assign, late, stats, budget.wall_left(), None, work)
        stats.stopped_by = "whole"
        return assign, late, stats
    hoods = Neighbourhoods(d, seed, group_size, max_waiting)
    max_work = budget.work(DTIME_PER_SECOND)
    while stats.deterministic_time < max_work and stats.gained < enough and not budget.expired():
        tasks, group = hoods.next(assign)
        if len(tasks) == 0:
            if not group.any():
                break
            continue
        solver_ctx.step(tasks, group, assign, late, stats, budget.wall_left(), step_time, step_time)
    if stats.gained >= enough:
        stats.stopped_by = "gap"
    elif stats.deterministic_time >= max_work:
        stats.stopped_by = "deterministic time"
    else:
        stats.stopped_by = "wall clock" if budget.expired() else "exhausted"
    return assign, late, stats


class _Context:
    """What every neighbourhood's model shares: rooms with the owners' hours taken pro rata,
    each task's effective due day, the pair values and late points."""

    def __init__(
        self, d: ProblemData, policy: Policy, owner: np.ndarray, value: np.ndarray, seed: int, workers: int
    ):
        self.d, self.value, self.seed, self.workers = d, value, seed, workers
        self.deterministic = True
        self.rooms = days.room(d, days.owned_hours(d, owner))
        self.due = days.effective_due(d)
        self.late_points = days.late_points(d, policy)
        self.soft = not d.due_hard
        self.H = d.day_cum.shape[1]

    def step(
        self,
        tasks: np.ndarray,
        group: np.ndarray,
        assign: np.ndarray,
        late: np.ndarray,
        stats: DayStats,
        seconds: float,
        step_time: float | None,
        work: float,
    ) -> None:
        d, tc = self.d, self.d.task_cand
        pairs = (
            np.concatenate([np.arange(tc.ptr[t], tc.ptr[t + 1]) for t in tasks])
            if len(tasks)
            else np.zeros(0, int)
        )
        pairs = pairs[group[tc.agent[pairs]]]
        if not len(pairs):
            return
        row, agent, w = tc.row[pairs], tc.agent[pairs], tc.weight[pairs]
        due = self.due[row]
        can_be_late = self.soft & (due < self.H - 1) & ~d.pinned[row]
        m = cp_model.CpModel()
        x = [m.new_bool_var("") for _ in range(len(pairs))]
        late_idx = np.flatnonzero(can_be_late)
        y = {int(i): m.new_bool_var("") for i in late_idx}
        by_task: dict[int, list] = {}
        for i, t in enumerate(row.tolist()):
            by_task.setdefault(t, []).append(x[i])
            if i in y:
                by_task[t].append(y[i])
        for t, vs in by_task.items():
            if d.pinned[t]:
                m.add(sum(vs) == 1)
            else:
                m.add(sum(vs) <= 1)
        for a in np.unique(agent).tolist():
            mine = np.flatnonzero(agent == a)
            every = [x[i] for i in mine] + [y[i] for i in mine if i in y]
            hours = [int(w[i]) for i in mine] + [int(w[i]) for i in mine if i in y]
            m.add(cp_model.LinearExpr.weighted_sum(every, hours) <= int(self.rooms[a, -1]))
            if d.max_tasks[a] >= 0:
                m.add(sum(every) <= int(d.max_tasks[a]))
            for k in np.unique(due[mine]).tolist():
                if k >= self.H - 1:
                    continue
                by_k = mine[due[mine] <= k]
                m.add(
                    cp_model.LinearExpr.weighted_sum([x[i] for i in by_k], [int(w[i]) for i in by_k])
                    <= int(self.rooms[a, k])
                )
        on_points = points_to_int(self.value[pairs])
        late_points = points_to_int(self.value[pairs] - self.late_points[row])
        objective = cp_model.LinearExpr.weighted_sum(x, on_points.tolist())
        if y:
            keys = list(y)
            objective += cp_model.LinearExpr.weighted_sum(
                [y[i] for i in keys], [int(late_points[i]) for i in keys]
            )
        m.maximize(objective)
        held = assign[row] == agent
        before = int(on_points[held & ~late[row]].sum() + late_points[held & late[row]].sum())
        for i in range(len(pairs)):
            on = bool(held[i])
            m.add_hint(x[i], on and not late[row[i]])
            if i in y:
                m.add_hint(y[i], on and bool(late[row[i]]))
        solver = cp_model.CpSolver()
        prm = solver.parameters
        prm.num_workers = 1 if step_time is not None else self.workers
        prm.random_seed = self.seed
        # several workers reproduce a search only interleaved, within a work budget
        prm.interleave_search = self.deterministic and prm.num_workers > 1
        if step_time is not None or self.deterministic:
            prm.max_deterministic_time = max(0.01, work) if np.isfinite(work) else 1e9
        prm.max_time_in_seconds = max(0.05, seconds)
        code = interrupt.solve(solver, m)
        stats.neighbourhoods += 1
        stats.deterministic_time += solver.deterministic_time
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or solver.objective_value <= before:
            return
        on_value = np.array([solver.value(v) for v in x], dtype=bool)
        late_value = np.zeros(len(pairs), dtype=bool)
        for i, v in y.items():
            late_value[i] = bool(solver.value(v))
        chosen = on_value | late_value
        touched = np.unique(row)
        assign[touched] = -1
        late[touched] = False
        assign[row[chosen]] = agent[chosen]
        late[row[late_value]] = True
        stats.improved += 1
        stats.gained += (solver.objective_value - before) / 10_000
