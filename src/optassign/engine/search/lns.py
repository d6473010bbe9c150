"""Large-neighbourhood search around CP-SAT for instances too large to search whole: free
the work of a group of agents that share candidate tasks, re-solve that small model exactly
with everything else fixed, keep the better plan, move on to the next group."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from optassign import interrupt
from optassign.contract.schema import TERMS, Policy
from optassign.engine.budget import Budget
from optassign.engine.model import AssignmentModel
from optassign.engine.params import DTIME_PER_SECOND
from optassign.engine.problem import TASK_ARRAYS, Candidates, ProblemData
from optassign.engine.relax import pair_coefficients
from optassign.engine.search.chains import MAX_DENSE_TASKS, dense, descend
from optassign.engine.search.chains import WORK_PER_SECOND as CHAIN_WORK_PER_SECOND

# Terms that depend on one pair at a time: a neighbourhood can be scored on these alone.
PAIR_TERMS = tuple(t for t in TERMS if t not in ("agents_per_customer", "balance"))


@dataclass
class LnsStats:
    neighbourhoods: int = 0
    improved: int = 0
    gained: float = 0.0
    deterministic_time: float = 0.0
    seconds: float = 0.0


def subproblem(d: ProblemData, tasks: np.ndarray, group: np.ndarray, owner: np.ndarray) -> ProblemData:
    """The problem restricted to `tasks` and the agents in `group` (a mask), with owners fixed:
    their hours come off the owners' capacity and no ownership is decided."""
    tc = d.task_cand
    new_row = np.full(d.n_tasks, -1, dtype=np.int64)
    new_row[tasks] = np.arange(len(tasks))
    keep = (new_row[tc.row] >= 0) & group[tc.agent]
    rows = new_row[tc.row[keep]]
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=len(tasks))
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    pick = np.flatnonzero(keep)[order]
    cand = Candidates(
        ptr, tc.agent[pick], tc.cross_region[pick], tc.overqual[pick], tc.weight[pick], tc.value[pick]
    )
    owned = owner >= 0
    own_hours = np.bincount(owner[owned], weights=d.ownership_hours[owned], minlength=d.n_agents)
    empty_owner = Candidates(
        np.zeros(d.n_customers + 1, np.int64),
        *(np.zeros(0, t) for t in (np.int32, bool, np.int32, np.int64, float)),
    )
    return d.replace(
        **d.rows(TASK_ARRAYS, tasks),
        capacity=np.maximum(0, d.capacity - own_hours.astype(np.int64)),
        task_cand=cand,
        owner_cand=empty_owner,
        move_budget=None,
    )


class Neighbourhoods:
    """Groups of agents that share candidate tasks, in sweeps: each sweep starts from the
    agents most able to serve open work (by its summed priority), the rest in a random order,
    and seeds a group only from an agent no group of the sweep has covered yet. A group is
    the seed and the agents sharing most of its candidate tasks; its tasks are those its
    agents hold, plus open tasks it could take (the most urgent `max_waiting`), plus the
    pinned tasks it holds (they keep their hours in the sub-model).

    With a `guide` (the LP relaxation's value of each task pair) the sweeps start instead
    from the agents where the plan and the LP disagree most (the summed priority of the
    pairs whose plan value, 0 or 1, differs from the LP's), and a group's mates are first
    the agents on the other side of those disagreements: where the LP would move work."""

    def __init__(
        self, d: ProblemData, seed: int, group_size: int, max_waiting: int, guide: np.ndarray | None = None
    ):
        self.d, self.group_size, self.max_waiting = d, group_size, max_waiting
        self.guide = guide
        tc = d.task_cand
        self.rng = np.random.default_rng(seed)
        self.agents = np.flatnonzero(np.bincount(tc.agent, minlength=d.n_agents) > 0)
        # agent -> candidate tasks (CSR by agent)
        self.by_agent = np.argsort(tc.agent, kind="stable")
        self.a_ptr = np.concatenate([[0], np.cumsum(np.bincount(tc.agent, minlength=d.n_agents))])
        self.covered = np.zeros(d.n_agents, bool)
        self.order = np.zeros(0, dtype=np.int64)
        self.cursor = 0

    def _sweep_order(self, assign: np.ndarray) -> np.ndarray:
        tc, d = self.d.task_cand, self.d
        if self.guide is not None:
            self.disagree = np.abs(self.guide - tc.chosen(assign)) * d.priority[tc.row]
            want = np.bincount(tc.agent, weights=self.disagree, minlength=d.n_agents)
        else:
            open_ = (assign < 0)[tc.row]
            want = np.bincount(tc.agent[open_], weights=d.priority[tc.row[open_]], minlength=d.n_agents)
        perm = self.rng.permutation(self.agents)
        return perm[np.argsort(-want[perm], kind="stable")]

    def next(self, assign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The next group's tasks and agent mask. The tasks are those the group holds, then the
        open ones it could take, then its pinned ones; a sub-problem must keep every task the
        group holds, so only the open ones may be left out."""
        d, tc = self.d, self.d.task_cand
        while True:
            while self.cursor < len(self.order) and self.covered[self.order[self.cursor]]:
                self.cursor += 1
            if self.cursor < len(self.order):
                break
            self.covered[:] = False
            self.cursor = 0
            self.order = self._sweep_order(assign)
            if len(self.order) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(d.n_agents, bool)
        seed_agent = self.order[self.cursor]
        shared = tc.row[self.by_agent[self.a_ptr[seed_agent] : self.a_ptr[seed_agent + 1]]]
        pairs = (
            np.concatenate([np.arange(tc.ptr[t], tc.ptr[t + 1]) for t in shared[:400]])
            if len(shared)
            else np.zeros(0, dtype=np.int64)
        )
        score = np.bincount(tc.agent[pairs], minlength=d.n_agents).astype(float)
        if self.guide is not None and len(pairs):  # disagreements first, then shared tasks
            score += len(pairs) * np.bincount(
                tc.agent[pairs], weights=self.disagree[pairs], minlength=d.n_agents
            )
        score[seed_agent] = np.inf
        group_idx = np.argsort(-score, kind="stable")[: min(self.group_size, int((score > 0).sum()))]
        group = np.zeros(d.n_agents, bool)
        group[group_idx] = True
        self.covered |= group
        reach = np.zeros(d.n_tasks, bool)
        reach[tc.row[group[tc.agent]]] = True
        held = (assign >= 0) & group[np.maximum(assign, 0)]
        mine = np.flatnonzero(reach & held & ~d.pinned)
        waiting = np.flatnonzero(reach & (assign < 0) & ~d.pinned)
        if len(waiting) > self.max_waiting:  # the most urgent open work the group could take
            waiting = waiting[np.argsort(-d.priority[waiting], kind="stable")[: self.max_waiting]]
        pinned_here = np.flatnonzero(d.pinned & held)
        return np.concatenate([mine, np.sort(waiting), pinned_here]), group


def _sub_policy(policy: Policy) -> Policy:
    return policy.model_copy(update={"balance": "none", "agents_per_customer_weight": 0.0, "stages": None})


Step = Callable[[np.ndarray, np.ndarray, np.ndarray, list[str], Policy, LnsStats, float], None]


def _sweep(
    d: ProblemData,
    policy: Policy,
    names: list[str],
    assign: np.ndarray,
    *,
    budget: Budget,
    rate: float,
    seed: int,
    group_size: int,
    max_waiting: int,
    step: Step,
    guide: np.ndarray | None = None,
    enough: float = np.inf,
) -> tuple[np.ndarray, LnsStats]:
    """Neighbourhood after neighbourhood, `step(tasks, group, assign, terms, sub_policy, stats,
    seconds left)` improves `assign` in place and counts its work in
    `stats.deterministic_time`, until that reaches the budget's work at `rate`, its seconds are
    spent or the steps gained `enough` (scaled points)."""
    started = time.perf_counter()
    stats = LnsStats()
    terms = [t for t in names if t in PAIR_TERMS]
    if not terms or d.n_tasks == 0 or d.move_budget is not None:
        return assign, stats
    sub_policy = _sub_policy(policy)
    assign = assign.copy()
    hoods = Neighbourhoods(d, seed, group_size, max_waiting, guide)
    max_work = budget.work(rate)
    while stats.deterministic_time < max_work and stats.gained < enough:
        if budget.expired():
            break
        left = budget.wall_left()
        tasks, group = hoods.next(assign)
        if len(tasks) == 0:
            if not group.any():
                break
            continue
        step(tasks, group, assign, terms, sub_policy, stats, left)
    stats.seconds = time.perf_counter() - started
    return assign, stats


def improve(
    d: ProblemData,
    policy: Policy,
    names: list[str],
    assign: np.ndarray,
    owner: np.ndarray,
    *,
    budget: Budget,
    seed: int = 0,
    group_size: int = 24,
    step_time: float = 0.4,
    max_waiting: int = 300,
    guide: np.ndarray | None = None,
    enough: float = np.inf,
) -> tuple[np.ndarray, LnsStats]:
    """Improve `assign` (owners stay) on the pair terms of `names`, neighbourhood by
    neighbourhood, each re-solved exactly by CP-SAT, until `budget` is spent (its deterministic
    work at CP-SAT's DTIME_PER_SECOND, summed over sub-solves, or its seconds) or the steps
    gained `enough` (scaled points: the policy's stop_at_gap reached). Returns the new
    agent per task; every accepted step keeps the plan feasible because each sub-model holds
    the full capacity rules of its agents."""

    def solve_one(tasks, group, assign, terms, sub_policy, stats, left) -> None:
        sub = subproblem(d, tasks, group, owner)
        model = AssignmentModel(sub, sub_policy)
        start = model.values_of_plan(assign[tasks], np.full(sub.n_customers, -1, np.int32))
        model.hint(start)
        model.maximize(terms)
        var, coef = model.stage_expr(terms)
        before = float(coef @ start[var])
        solver = cp_model.CpSolver()
        prm = solver.parameters
        prm.num_workers = 1
        prm.random_seed = seed
        prm.max_deterministic_time = step_time
        prm.max_time_in_seconds = max(0.05, left)
        code = interrupt.solve(solver, model.model)
        stats.neighbourhoods += 1
        stats.deterministic_time += solver.deterministic_time
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) and solver.objective_value > before + 0.5:
            values = np.array(solver.response_proto.solution, dtype=np.int64)
            new_assign, _ = model.plan_of_values(values)
            assign[tasks] = new_assign
            stats.improved += 1
            stats.gained += solver.objective_value - before

    return _sweep(
        d, policy, names, assign, budget=budget, rate=DTIME_PER_SECOND, seed=seed,
        group_size=group_size, max_waiting=max_waiting, step=solve_one, guide=guide, enough=enough,
    )  # fmt: skip


def chain_sweep(
    d: ProblemData,
    policy: Policy,
    names: list[str],
    assign: np.ndarray,
    owner: np.ndarray,
    *,
    budget: Budget,
    seed: int = 0,
    group_size: int = 16,
    max_waiting: int = 400,
    guide: np.ndarray | None = None,
) -> tuple[np.ndarray, LnsStats]:
    """Ejection chains (chains.py) neighbourhood by neighbourhood, for problems too large for
    one dense search: each group's tasks (at most chains.MAX_DENSE_TASKS) over all their pairs
    with the group's agents, owners fixed. Ends when `budget` is spent: its work at the chains'
    WORK_PER_SECOND (their elementary operations plus 100 per candidate pair scanned to build
    each sub-problem) or its seconds; `deterministic_time` in the stats is that work. Every
    accepted chain keeps the plan feasible and raises its value on the pair terms of `names`."""

    def chain_one(tasks, group, assign, terms, sub_policy, stats, _left) -> None:
        held = int((assign[tasks] >= 0).sum())
        if held > MAX_DENSE_TASKS:
            stats.deterministic_time += len(d.task_cand)
            return  # the group holds too much for a dense search
        if len(tasks) > MAX_DENSE_TASKS:  # leave out open work, never a task the group holds
            tasks = np.concatenate([tasks[assign[tasks] >= 0], tasks[assign[tasks] < 0]])
            tasks = tasks[:MAX_DENSE_TASKS]
        sub = subproblem(d, tasks, group, owner)
        coef, _ = pair_coefficients(sub, sub_policy, terms)
        members = np.flatnonzero(group)
        # owners' hours are already off the sub-problem's capacities
        g = dense(sub, coef, np.full(sub.n_customers, -1, np.int32), agents=members)
        # every assigned task here is held by a member: its column is its agent's rank
        local = np.where(assign[tasks] >= 0, np.searchsorted(members, assign[tasks]), -1)
        new, cst = descend(g, local)
        stats.neighbourhoods += 1
        stats.deterministic_time += cst.work + 100.0 * len(d.task_cand)
        if cst.chains:
            assign[tasks] = np.where(new >= 0, members[np.maximum(new, 0)], -1)
            stats.improved += 1
            stats.gained += cst.gained

    return _sweep(
        d, policy, names, assign, budget=budget, rate=CHAIN_WORK_PER_SECOND, seed=seed,
        group_size=group_size, max_waiting=max_waiting, step=chain_one, guide=guide,
    )  # fmt: skip
