"""Ejection chains: improve a plan by moving several tasks at once, each into the place the
next one leaves.

A plan that CP-SAT or a greedy found is usually a local optimum for single moves and swaps:
every agent is full, so no task can move without another making room. A chain moves task t1
onto the agent of t2, t2 onto the agent of t3, ..., and the last task either onto an agent
with room (a path) or onto the agent t1 left (a cycle). Each agent on a chain loses one task
and gains one, so only its own capacity has to be checked against the two; the agents of a
chain are distinct. A path may also start with an open task, which then takes the place of
the first task it ejects (insertion with a chain behind it).

The best chain of up to `max_len` tasks is found by a label-correcting search over the dense
(task x task) arc matrix: for each length and each task, the most valuable chain ending in
that task, extended by one arc at a time with numpy. That keeps one label per task and length,
so it is a heuristic search of the chain neighbourhood, not an exhaustive one. The most
valuable chain found is applied and the search repeated until none gains. Deterministic.

Works on problems small enough for dense arrays (`fits_dense`); pinned tasks never move, a
task never becomes open, owners stay (their hours come off the capacity)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optassign import interrupt
from optassign.engine.problem import ProblemData
from optassign.engine.search.greedy import BIG

EPS = 1e-9
# Dense arrays: tasks x tasks arcs and tasks x agents pairs.
MAX_DENSE_TASKS = 1_500
MAX_DENSE_PAIRS = 2_000_000
# Elementary array operations per second of the chain search on the reference machine (1,000
# tasks x 50 agents: 6e8 in 0.43 s; 10,000-task neighbourhoods: 3e9 in 1.7 s); callers turn
# seconds into a deterministic work budget.
WORK_PER_SECOND = 1.5e9


@dataclass
class ChainStats:
    chains: int = 0  # chains applied
    moved: int = 0  # task moves they made
    rounds: int = 0  # searches run
    gained: float = 0.0  # points
    work: float = 0.0  # elementary array operations, a machine-independent measure


@dataclass(frozen=True)
class Dense:
    """A problem's task pairs as dense arrays: value[t, a] (-inf where (t, a) is no candidate
    or the agent is inactive), weight[t, a], each agent's capacity net of owned hours, its
    task slots, which tasks may move, and where each task that may not is held (-1: open)."""

    value: np.ndarray  # float64[T, A]
    weight: np.ndarray  # int64[T, A]
    capacity: np.ndarray  # int64[A]
    slots: np.ndarray  # int64[A]
    movable: np.ndarray  # bool[T]
    fixed_at: np.ndarray  # int64[T]: column of a pinned task's agent, -1 for the others


def fits_dense(d: ProblemData) -> bool:
    return 0 < d.n_tasks <= MAX_DENSE_TASKS and d.n_tasks * d.n_agents <= MAX_DENSE_PAIRS


def dense(d: ProblemData, coef: np.ndarray, owner: np.ndarray, agents: np.ndarray | None = None) -> Dense:
    """The dense arrays of `d`'s task pairs; with `agents` (indices), only those agents'
    columns, in that order (a plan then names agents by their position in `agents`)."""
    tc = d.task_cand
    cols = np.arange(d.n_agents) if agents is None else np.asarray(agents)
    column = np.full(d.n_agents, -1)
    column[cols] = np.arange(len(cols))
    keep = column[tc.agent] >= 0
    value = np.full((d.n_tasks, len(cols)), -np.inf)
    weight = np.zeros((d.n_tasks, len(cols)), dtype=np.int64)
    rows, col = tc.row[keep], column[tc.agent[keep]]
    ok = d.active[tc.agent[keep]]
    value[rows[ok], col[ok]] = coef[keep][ok]
    weight[rows, col] = tc.weight[keep]
    owned = owner >= 0
    own_hours = np.bincount(owner[owned], weights=d.ownership_hours[owned], minlength=d.n_agents)
    capacity = (np.where(d.active, d.capacity, 0) - own_hours.astype(np.int64))[cols]
    slots = np.where(d.max_tasks >= 0, d.max_tasks, BIG).astype(np.int64)[cols]
    # a pinned task's only candidate is the agent it is pinned to (problem.build_problem)
    fixed_at = np.where(d.pinned & (d.current >= 0), column[np.maximum(d.current, 0)], -1)
    return Dense(value, weight, capacity, slots, ~d.pinned, fixed_at)


def chain_exchange(
    d: ProblemData,
    coef: np.ndarray,
    assign: np.ndarray,
    owner: np.ndarray,
    *,
    max_len: int = 5,
    max_rounds: int = 10_000,
    max_work: float = np.inf,
) -> tuple[np.ndarray, ChainStats]:
    """Improve `assign` on the pair values `coef` (points per pair of `d.task_cand`) by
    ejection chains until none gains. Returns the new agent per task (a copy) and what was
    done; unchanged when the problem is too large for dense arrays or has a move budget."""
    if not fits_dense(d) or d.move_budget is not None:
        return np.asarray(assign, dtype=np.int64).copy(), ChainStats()
    return descend(dense(d, coef, owner), assign, max_len=max_len, max_rounds=max_rounds, max_work=max_work)


def descend(
    g: Dense, assign: np.ndarray, *, max_len: int = 5, max_rounds: int = 10_000, max_work: float = np.inf
) -> tuple[np.ndarray, ChainStats]:
    """`chain_exchange` on dense arrays (callers that descend from many plans build them once).
    Stops after `max_rounds` searches or once `max_work` operations are spent."""
    stats = ChainStats()
    a = np.asarray(assign, dtype=np.int64).copy()
    T, A = g.value.shape
    tasks = np.arange(T)
    agents = np.arange(A)
    while stats.rounds < max_rounds and stats.work < max_work and not interrupt.requested():
        stats.rounds += 1
        on = a >= 0
        aa = np.where(on, a, 0)
        load = _load(g, a)
        count = np.bincount(a[on], minlength=A)
        own = g.value[tasks, aa]
        held = on & np.isfinite(own)  # a task on a pair outside the values stays where it is
        own = np.where(held, own, 0.0)
        source = g.movable & (held | (~on & (g.value > -np.inf).any(axis=1)))
        target = g.movable & held
        # arc t1 -> t2: t1 takes the place of t2 on t2's agent
        gain = g.value[:, aa] - own[:, None]
        fit = (load[aa] - g.weight[tasks, aa])[None, :] + g.weight[:, aa] <= g.capacity[aa][None, :]
        arc_ok = fit & source[:, None] & target[None, :] & (a[:, None] != aa[None, :])
        gain = np.where(arc_ok, gain, -np.inf)
        # a path ends with its last task on an agent with room and a free slot
        end = g.value - own[:, None]
        room = (load[None, :] + g.weight <= g.capacity[None, :]) & (count < g.slots)[None, :]
        room &= agents[None, :] != a[:, None]
        end = np.where(room, end, -np.inf)
        stats.work += 4.0 * T * T + 3.0 * T * A

        label = np.where(source, 0.0, -np.inf)
        first = tasks.copy()
        path = a[:, None].copy()  # agents on the chain so far (-1: an open task's none)
        preds: list[np.ndarray] = []
        best, move = EPS, None
        for k in range(1, max_len + 1):
            on_path = np.zeros((T, A), dtype=bool)
            for c in range(path.shape[1]):
                hit = path[:, c] >= 0
                on_path[tasks[hit], path[hit, c]] = True
            e = np.where(on_path, -np.inf, end)
            to = np.argmax(e, axis=1)
            value = label + e[tasks, to]
            t = int(np.argmax(value))
            if value[t] > best:
                best, move = float(value[t]), ("path", k, t, int(to[t]))
            if k >= 2:
                value = label + gain[tasks, first]
                t = int(np.argmax(value))
                if value[t] > best:
                    best, move = float(value[t]), ("cycle", k, t, -1)
            if k == max_len:
                break
            ext = label[:, None] + gain
            for c in range(path.shape[1]):
                ext[path[:, c][:, None] == aa[None, :]] = -np.inf
            p = np.argmax(ext, axis=0)
            label = ext[p, tasks]
            path = np.concatenate([path[p], a[:, None]], axis=1)
            first = first[p]
            preds.append(p)
            stats.work += 3.0 * T * T * (k + 1)
        if move is None:
            break
        kind, k, t, to = move
        chain = [t]
        for p in reversed(preds[: k - 1]):
            chain.append(int(p[chain[-1]]))
        chain.reverse()
        new = a.copy()
        for i in range(len(chain) - 1):
            new[chain[i]] = a[chain[i + 1]]
        new[chain[-1]] = to if kind == "path" else a[chain[0]]
        if not _better(g, a, new):
            break  # the label search's bookkeeping disagreed with the plan: stop safely
        stats.chains += 1
        stats.moved += len(chain)
        stats.gained += best
        a = new
    return a, stats


def plan_value(g: Dense, a: np.ndarray) -> float:
    on = a >= 0
    return float(g.value[np.flatnonzero(on), a[on]].sum())


def _better(g: Dense, old: np.ndarray, new: np.ndarray) -> bool:
    """The new plan keeps every rule on the agents the chain changed and is worth more."""
    on = new >= 0
    if (old[~on] >= 0).any() or not np.isfinite(g.value[np.flatnonzero(on), new[on]]).all():
        return False
    before, after = _load(g, old), _load(g, new)
    A = g.value.shape[1]
    count = np.bincount(new[on], minlength=A)
    grew = count > np.bincount(old[old >= 0], minlength=A)
    if ((after != before) & (after > g.capacity)).any() or (grew & (count > g.slots)).any():
        return False
    return plan_value(g, new) > plan_value(g, old) + EPS


def _load(g: Dense, a: np.ndarray) -> np.ndarray:
    """Each agent's hours under plan `a`."""
    on = a >= 0
    return np.bincount(a[on], weights=g.weight[np.flatnonzero(on), a[on]], minlength=g.value.shape[1])
