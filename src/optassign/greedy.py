"""Constructive plans on `ProblemData`: the first solution handed to CP-SAT as a hint, and the
least-loaded baseline that CRM routing rules use (benchmarks compare against it)."""

from __future__ import annotations

import numpy as np

from .problem import ProblemData
from .schema import Policy


def greedy_plan(
    data: ProblemData, policy: Policy | None = None, *, keep_current: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A feasible plan: owners and tasks in force kept while they fit (most valuable first), then
    the rest in order of priority (shorter first on ties), each to the least utilised eligible
    agent with room. Returns agent per task and owner per customer (-1 = none)."""
    d = data
    load = np.zeros(d.n_agents, dtype=np.int64)
    count = np.zeros(d.n_agents, dtype=np.int64)
    owned = np.zeros(d.n_agents, dtype=np.int64)
    cap = np.where(d.active, d.capacity, 0)
    max_tasks = np.where(d.max_tasks >= 0, d.max_tasks, np.iinfo(np.int64).max)
    max_cust = np.where(d.max_customers >= 0, d.max_customers, np.iinfo(np.int64).max)
    assign = np.full(d.n_tasks, -1, dtype=np.int32)
    owner = np.full(d.n_customers, -1, dtype=np.int32)
    tc, oc = d.task_cand, d.owner_cand

    def fits_task(t: int, a: np.ndarray) -> np.ndarray:
        return (load[a] + d.effort[t] <= cap[a]) & (count[a] < max_tasks[a])

    def place_task(t: int, a: int) -> None:
        assign[t] = a
        load[a] += d.effort[t]
        count[a] += 1

    # Pins first: validated to fit.
    for t in np.flatnonzero(d.pinned).tolist():
        place_task(t, int(d.current[t]))

    # Owners in force, then the rest by tier (A first), to the least utilised candidate.
    c_rows = np.arange(d.n_customers)
    c_order = np.lexsort((c_rows, d.tier))
    kept_owner = d.owner[c_order] if keep_current else np.full(len(c_order), -1)
    for c, a_now in zip(c_order.tolist(), kept_owner.tolist(), strict=True):
        cands = oc.agent[oc.ptr[c] : oc.ptr[c + 1]]
        if a_now >= 0 and a_now in cands:
            choice = np.array([a_now])
        else:
            choice = cands
        ok = choice[(load[choice] + d.ownership_hours[c] <= cap[choice]) & (owned[choice] < max_cust[choice])]
        if len(ok) == 0 and len(choice) == 1 and len(cands) > 1:
            ok = cands[(load[cands] + d.ownership_hours[c] <= cap[cands]) & (owned[cands] < max_cust[cands])]
        if len(ok):
            a = int(ok[np.argmin(load[ok] / np.maximum(cap[ok], 1))])
            owner[c] = a
            load[a] += d.ownership_hours[c]
            owned[a] += 1

    free = assign < 0
    order = np.lexsort((np.arange(d.n_tasks), d.effort, -d.priority.astype(np.int64)))
    order = order[free[order]]
    if keep_current:
        for t in order[d.current[order] >= 0].tolist():
            a = int(d.current[t])
            lo, hi = tc.ptr[t], tc.ptr[t + 1]
            if a in tc.agent[lo:hi] and fits_task(t, np.array([a]))[0]:
                place_task(t, a)
        order = order[assign[order] < 0]
    for t in order.tolist():
        cands = tc.agent[tc.ptr[t] : tc.ptr[t + 1]]
        if len(cands) == 0:
            continue
        ok = cands[fits_task(t, cands)]
        if len(ok):
            place_task(t, int(ok[np.argmin(load[ok] / np.maximum(cap[ok], 1))]))
    return assign, owner
