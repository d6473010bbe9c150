"""Path relinking: new plans from the walk between two good ones.

Two good plans of the same problem agree on most tasks and differ on a few. Walking from one
(the initiating plan) to the other (the guiding plan) one task at a time, each step moving the
task whose move to its place in the guiding plan is worth most, less a penalty for any hours or
task slots it puts an agent over, passes through plans that mix the two. Every second step
that lands on a feasible plan is polished by ejection chains (chains.descend); the best plan of
the walk is the walk's result. Good plans share structure that neither the search that found
them nor local moves around one of them can combine; the walk combines it. The plans come from
an elite pool (the Lagrangian knapsack search's best distinct plans), and a walk's result that
beats the pool's worst plan takes its place.

On chu1997 type D this takes the knapsack search's plans from 0.6-0.8% above the best known
value to 0.1-0.3% within seconds (d20100: 6,233 -> 6,202).

Works on the dense arrays of chains.py: open tasks (worth 0), task slots and pinned tasks
(never in a walk: the plans agree on them) included. Deterministic for a given seed and work
budget."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optassign.engine.budget import Budget
from optassign.engine.search.chains import WORK_PER_SECOND as CHAIN_WORK_PER_SECOND
from optassign.engine.search.chains import Dense, descend, plan_value

EPS = 1e-9
# A walk's penalty for each unit over an agent's hours or task slots, as a multiple of the
# problem's median value per hour (per task, for slots): steps that break a rule are taken
# only when every other step is worse.
PENALTY = 10.0
# Work counted for each polish beyond its array operations (the interpreter's share: about a
# millisecond on the reference machine, where chains.WORK_PER_SECOND holds for the whole walk).
POLISH_OVERHEAD = 2e6
# Work per second: a walk's operations are the chains', at their rate.
WORK_PER_SECOND = CHAIN_WORK_PER_SECOND


@dataclass
class RelinkStats:
    walks: int = 0
    improved: int = 0  # times the best plan improved
    gained: float = 0.0
    work: float = 0.0  # elementary operations, a machine-independent measure
    seconds: float = 0.0
    stopped_by: str = "pool"


def relink(
    g: Dense,
    pool: list[tuple[float, np.ndarray]],
    *,
    budget: Budget,
    seed: int = 0,
    bound: float = np.inf,
    patience: int = 500,
) -> tuple[float, np.ndarray, RelinkStats]:
    """Walks between random pairs of the pool's plans (value, agent per task; feasible, best
    first) until `budget` is spent (its work at WORK_PER_SECOND, or its seconds), the best plan meets
    `bound`, or no better plan came for `patience` walks and for as many as it took to find the
    last one. Returns the best plan's value, the plan and the stats."""
    started = time.perf_counter()
    stats = RelinkStats()
    pool = sorted(pool, key=lambda vp: -vp[0])
    best_value, best = pool[0] if pool else (-np.inf, None)
    if len(pool) < 2:
        stats.stopped_by = "pool"
        return best_value, best, stats
    rng = np.random.default_rng(seed)
    penalty = _penalties(g)
    last = 0
    max_work = budget.work(WORK_PER_SECOND)
    while True:
        if stats.work >= max_work:
            stats.stopped_by = "work"
            break
        if budget.expired():
            stats.stopped_by = "wall clock"
            break
        if best_value >= bound - 1e-6 * max(1.0, abs(bound)):
            stats.stopped_by = "bound reached"
            break
        if stats.walks - last > max(patience, last):
            stats.stopped_by = "no better plan"
            break
        i, j = rng.choice(len(pool), size=2, replace=False)
        value, plan, work = walk(g, pool[i][1], pool[j][1], penalty, rng)
        stats.walks += 1
        stats.work += work
        if plan is None:
            continue
        if value > best_value + EPS:
            stats.improved += 1
            stats.gained += value - best_value
            best_value, best, last = value, plan, stats.walks
        if value > pool[-1][0] + EPS and all((plan != p).any() for _, p in pool):
            pool[-1] = (value, plan)
            pool.sort(key=lambda vp: -vp[0])
    stats.seconds = time.perf_counter() - started
    return best_value, best, stats


def walk(
    g: Dense, start: np.ndarray, guide: np.ndarray, penalty: tuple[float, float], rng: np.random.Generator
) -> tuple[float, np.ndarray | None, float]:
    """The walk from `start` to `guide`: the best feasible plan polished on the way (its value,
    the plan; None if no step was feasible) and the work it took."""
    T, A = g.value.shape
    per_hour, per_slot = penalty
    cur = np.asarray(start, dtype=np.int64).copy()
    goal = np.asarray(guide, dtype=np.int64)
    on = cur >= 0
    load = np.bincount(cur[on], weights=g.weight[np.flatnonzero(on), cur[on]], minlength=A)
    count = np.bincount(cur[on], minlength=A).astype(np.int64)
    diff = np.flatnonzero(cur != goal)
    best_value, best, work, steps = -np.inf, None, 0.0, 0
    while len(diff) > 1:
        src, dst = cur[diff], goal[diff]
        gain = _value(g, diff, dst) - _value(g, diff, src)
        cost = np.zeros(len(diff))
        for agent, sign in ((dst, 1), (src, -1)):
            has = agent >= 0
            a = agent[has]
            w = g.weight[diff[has], a]
            room, slots = g.capacity[a] - load[a], g.slots[a] - count[a]
            over_h = np.maximum(sign * w - room, 0) - np.maximum(-room, 0)
            over_s = np.maximum(sign - slots, 0) - np.maximum(-slots, 0)
            cost[has] += per_hour * over_h + per_slot * over_s
        score = gain - cost + rng.random(len(diff)) * EPS
        k = int(np.argmax(score))
        t, a_from, a_to = diff[k], src[k], dst[k]
        if a_from >= 0:
            load[a_from] -= g.weight[t, a_from]
            count[a_from] -= 1
        if a_to >= 0:
            load[a_to] += g.weight[t, a_to]
            count[a_to] += 1
        cur[t] = a_to
        diff = np.delete(diff, k)
        steps += 1
        work += 20.0 * len(src)
        if steps % 2 == 0 and (load <= g.capacity).all() and (count <= g.slots).all():
            plan, chain_stats = descend(g, cur)
            work += chain_stats.work + POLISH_OVERHEAD
            value = plan_value(g, plan)
            if value > best_value:
                best_value, best = value, plan
    return best_value, best, work


def _value(g: Dense, tasks: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """Each task's value on its agent (0 where open)."""
    return np.where(agents >= 0, g.value[tasks, np.maximum(agents, 0)], 0.0)


def _penalties(g: Dense) -> tuple[float, float]:
    """Points per unit over an agent's hours and per task over its slots."""
    ok = np.isfinite(g.value)
    v = np.abs(g.value[ok])
    w = g.weight[ok]
    per_hour = float(np.median(v[w > 0] / w[w > 0])) if (w > 0).any() else 1.0
    per_task = float(np.median(v)) if len(v) else 1.0
    return PENALTY * max(per_hour, EPS), PENALTY * max(per_task, EPS)
