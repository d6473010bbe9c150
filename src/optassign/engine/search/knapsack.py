"""Lagrangian relaxation of the one-agent-per-task rows: a bound and a stream of plans.

With a price u[t] on each task's row, the problem splits into one knapsack per agent: take
the candidate tasks whose value less their price is positive, within the agent's hours
(solved exactly by dynamic programming over whole scaled hours). The sum of the knapsacks and
the prices bounds the whole problem from above for any prices (non-negative ones for tasks
that may stay open), and is at least as tight as the LP relaxation at its best, often much
tighter on capacity-bound problems (chu1997 d20100: 6,176 against the LP's 6,142.5, best
known 6,185). Prices follow the subgradient: up where several agents want a task, down where
none does.

Each iteration's knapsacks are also nearly a plan: a task several agents took goes to the one
it is worth most to, tasks nobody took are placed by regret (the largest loss if not placed
on its best agent first), and ejection chains (chains.py) polish the result. Across hundreds
of price vectors this gives many different good plans: on chu1997 type D it reaches 0.2-0.8%
above the best known in seconds, where CP-SAT alone stalls near 0.6-1%. The best distinct ones
are returned as an elite pool, which path relinking (relink.py) then combines.

Applies when task pairs are the whole first-stage objective over a dense problem (no owner
pairs to decide, `chains.fits_dense`) and capacities are small enough for the knapsack table.
Deterministic for a given seed and work budget."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optassign.engine.budget import Budget
from optassign.engine.problem import ProblemData
from optassign.engine.search.chains import Dense, descend, fits_dense, plan_value

# Knapsack tables: at most this many cells (candidate tasks x capacity) per iteration.
MAX_TABLE = 4_000_000
# Elementary operations per second of the search on the reference machine (about 2e8 on
# chu1997 d20100 and gap12-0, 3e8 on d10200), set a little under that so that a budget's work,
# not its wall clock, ends the search.
WORK_PER_SECOND = 1.8e8
EPS = 1e-9


@dataclass
class LagrangianStats:
    iterations: int = 0
    plans: int = 0  # feasible plans built from knapsacks
    improved: int = 0  # times the best plan improved
    bound: float = float("inf")  # the best (lowest) Lagrangian bound, points
    work: float = 0.0
    seconds: float = 0.0
    stopped_by: str = "iterations"


def applicable(d: ProblemData) -> bool:
    """Dense enough for chains, no owners to decide, knapsack tables small enough."""
    if not fits_dense(d) or len(d.owner_cand) or d.move_budget is not None:
        return False
    per_agent = np.bincount(d.task_cand.agent, minlength=d.n_agents)
    return float((per_agent * (np.maximum(d.capacity, 0) + 1)).sum()) <= MAX_TABLE


def search(
    g: Dense,
    must: np.ndarray,
    *,
    budget: Budget,
    seed: int = 0,
    max_len: int = 5,
    patience: int = 200,
    elite: int = 12,
) -> tuple[list[tuple[float, np.ndarray]], LagrangianStats]:
    """Subgradient on the task prices with a plan built and polished at every iteration.
    Returns the `elite` best distinct plans as (value, agent per task), best first (empty if
    none was built), and the stats (with the bound). `must` marks tasks that must be assigned
    (their prices may be negative); tasks that may not move stay where `g.fixed_at` holds them.
    The search ends when `budget` is spent (its work at WORK_PER_SECOND, or its seconds), when
    the best plan meets the bound, or, once there is a plan, when no better one came for
    `patience` iterations and twice as many as it took to find the last one."""
    started = time.perf_counter()
    stats = LagrangianStats()
    rng = np.random.default_rng(seed)
    T, A = g.value.shape
    pool: list[tuple[float, np.ndarray]] = []
    best_value = -np.inf
    # Start prices: each task's second-best value (its best, if it has one candidate).
    ordered = np.sort(np.where(np.isfinite(g.value), g.value, -np.inf), axis=1)
    price = np.where(np.isfinite(ordered[:, -2]), ordered[:, -2], ordered[:, -1]) if A > 1 else ordered[:, -1]
    price = np.where(np.isfinite(price), price, 0.0)
    price = np.where(must, price, np.maximum(price, 0.0))
    step, stall, best_bound = 2.0, 0, np.inf
    candidates = [np.flatnonzero(np.isfinite(g.value[:, i]) & g.movable) for i in range(A)]
    fixed = ~g.movable
    # the tasks that stay: their value counts in every bound, their hours come off the room
    held = np.flatnonzero(g.fixed_at >= 0)
    fixed_value = float(g.value[held, g.fixed_at[held]].sum())
    room = g.capacity - np.bincount(
        g.fixed_at[held], weights=g.weight[held, g.fixed_at[held]], minlength=A
    ).astype(np.int64)
    last = 0  # the iteration of the last better plan
    max_work = budget.work(WORK_PER_SECOND)
    while stats.work < max_work:
        if pool and stats.iterations - last > max(patience, 2 * last):
            stats.stopped_by = "no better plan"
            break
        if best_value >= best_bound - 1e-6 * max(1.0, abs(best_bound)):
            stats.stopped_by = "bound reached"
            break
        if budget.expired():
            stats.stopped_by = "wall clock"
            break
        stats.iterations += 1
        take = np.zeros((T, A), dtype=bool)
        bound = float(price[g.movable].sum()) + fixed_value
        for i in range(A):
            ks, chosen, cells = _knapsack(g, i, candidates[i], price, int(room[i]))
            bound += ks
            take[chosen, i] = True
            stats.work += cells
        if bound < best_bound - EPS:
            best_bound, stall = bound, 0
        else:
            stall += 1
            if stall >= 15:
                step, stall = max(step / 2, 0.02), 0
        plan = _repair(g, take, must)
        if plan is not None:
            stats.plans += 1
            plan, chain_stats = descend(g, plan, max_len=max_len)
            stats.work += chain_stats.work
            value = plan_value(g, plan)
            if value > best_value + EPS:
                best_value = value
                stats.improved += 1
                last = stats.iterations
            _keep(pool, value, plan, elite)
        # subgradient: a task taken by no agent gets cheaper, by several dearer
        sub = 1 - take.sum(axis=1)
        sub[fixed] = 0
        norm = float((sub * sub).sum())
        if norm == 0:
            break  # the knapsacks form a plan: the bound is reached
        target = best_value if np.isfinite(best_value) else bound - 0.01 * abs(bound) - 1.0
        noise = 1.0 + 0.3 * rng.standard_normal(T)
        price = price - step * (bound - target) / norm * sub * noise
        price = np.where(must, price, np.maximum(price, 0.0))
    stats.bound = best_bound
    stats.seconds = time.perf_counter() - started
    return pool, stats


def _keep(pool: list[tuple[float, np.ndarray]], value: float, plan: np.ndarray, size: int) -> None:
    """Put `plan` in the pool (best first, at most `size` distinct plans) if it earns a place."""
    if len(pool) >= size and value <= pool[-1][0] + EPS:
        return
    if any(abs(v - value) <= EPS and (p == plan).all() for v, p in pool):
        return
    pool.append((value, plan))
    pool.sort(key=lambda vp: -vp[0])
    del pool[size:]


def _knapsack(
    g: Dense, agent: int, cand: np.ndarray, price: np.ndarray, room: int
) -> tuple[float, np.ndarray, float]:
    """The most valuable set of `cand` tasks for `agent` at these prices within `room`:
    (value, tasks, table cells used). 0/1 knapsack by dynamic programming over whole units."""
    if room <= 0 or len(cand) == 0:
        return 0.0, np.zeros(0, dtype=np.int64), 0.0
    profit = g.value[cand, agent] - price[cand]
    weight = g.weight[cand, agent]
    use = np.flatnonzero((profit > EPS) & (weight <= room))
    if len(use) == 0:
        return 0.0, np.zeros(0, dtype=np.int64), 0.0
    zero = use[weight[use] == 0]  # weightless tasks with a profit are always taken
    use = use[weight[use] > 0]
    best = np.zeros(room + 1)
    keep = np.zeros((len(use), room + 1), dtype=bool)
    for k, j in enumerate(use.tolist()):
        w = int(weight[j])
        cand_value = best[: room + 1 - w] + profit[j]
        better = cand_value > best[w:] + EPS
        keep[k, w:] = better
        best[w:] = np.where(better, cand_value, best[w:])
    chosen = []
    cap = room
    for k in range(len(use) - 1, -1, -1):
        if keep[k, cap]:
            chosen.append(use[k])
            cap -= int(weight[use[k]])
    picked = np.concatenate([zero, np.array(chosen, dtype=np.int64)])
    value = float(best[room]) + float(profit[zero].sum())
    return value, cand[picked], float(len(use) * (room + 1))


def _repair(g: Dense, take: np.ndarray, must: np.ndarray) -> np.ndarray | None:
    """A plan from the knapsacks: a task taken by several agents goes to the one it is worth
    most to; agents over their task slots drop their least valuable; the tasks left are placed
    by regret (must-assign first, then by value where they fit). None if a must-assign task
    fits nowhere."""
    T, A = g.value.shape
    fixed = ~g.movable
    plan = np.where(fixed, g.fixed_at, -1)
    best = np.argmax(np.where(take, g.value, -np.inf), axis=1)
    taken = take.any(axis=1) & ~fixed
    plan[taken] = best[taken]
    on = plan >= 0
    count = np.bincount(plan[on], minlength=A)
    for i in np.flatnonzero(count > g.slots).tolist():
        mine = np.flatnonzero((plan == i) & ~fixed)
        drop = mine[np.argsort(g.value[mine, i], kind="stable")[: count[i] - g.slots[i]]]
        plan[drop] = -1
    on = plan >= 0
    load = np.bincount(plan[on], weights=g.weight[np.flatnonzero(on), plan[on]], minlength=A).astype(np.int64)
    count = np.bincount(plan[on], minlength=A)
    left = np.flatnonzero((plan < 0) & g.movable)
    # must-assign tasks by regret, then the optional ones by value while they add some
    for group, by_regret in ((left[must[left]], True), (left[~must[left]], False)):
        pending = list(group.tolist())
        while pending:
            idx = np.array(pending)
            fits = (load[None, :] + g.weight[idx] <= g.capacity[None, :]) & (count < g.slots)[None, :]
            val = np.where(fits, g.value[idx], -np.inf)
            order = np.sort(val, axis=1)
            top = order[:, -1]
            if by_regret:
                second = order[:, -2] if A > 1 else np.full(len(idx), -np.inf)
                with np.errstate(invalid="ignore"):
                    urgency = np.where(np.isfinite(second), top - second, np.inf)
            else:
                urgency = np.where(top > EPS, top, -np.inf)
            k = int(np.argmax(urgency))
            t = int(idx[k])
            if not np.isfinite(top[k]) or (not by_regret and top[k] <= EPS):
                if by_regret:
                    return None
                break
            i = int(np.argmax(val[k]))
            plan[t] = i
            load[i] += g.weight[t, i]
            count[i] += 1
            pending.pop(k)
    return plan
