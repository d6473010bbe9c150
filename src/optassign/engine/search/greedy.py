"""Constructive plans on `ProblemData`: the first solution handed to CP-SAT as a hint, and the
least-loaded baseline that CRM routing rules use (benchmarks compare against it)."""

from __future__ import annotations

import numpy as np

from optassign.engine.problem import ProblemData

BIG = np.iinfo(np.int64).max


def greedy_plan(
    data: ProblemData,
    *,
    keep_current: bool = True,
    pair_score: np.ndarray | None = None,
    start: tuple[np.ndarray, np.ndarray] | None = None,
    kept_first: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """A feasible plan built one decision at a time.

    Pins first; then (with `keep_current`) owners and assignees in force while they fit, most
    valuable first; then every other task by priority (shorter first on ties) to the eligible
    agent with room that has the highest `pair_score`, ties to the least utilised. With no
    score this is the least-loaded routing rule. `start` seeds the plan with given tasks and
    owners (kept where they fit) instead of the plan in force. `kept_first` places every
    owner and assignee kept before any new owner (a customer without one in force then takes
    only the room the plan in force leaves). Returns agent per task and owner per customer
    (-1 = none)."""
    d = data
    tc, oc = d.task_cand, d.owner_cand
    load = np.zeros(d.n_agents, dtype=np.int64)
    count = np.zeros(d.n_agents, dtype=np.int64)
    owned = np.zeros(d.n_agents, dtype=np.int64)
    cap = np.where(d.active, d.capacity, 0)
    max_tasks = np.where(d.max_tasks >= 0, d.max_tasks, BIG)
    max_cust = np.where(d.max_customers >= 0, d.max_customers, BIG)
    assign = np.full(d.n_tasks, -1, dtype=np.int32)
    owner = np.full(d.n_customers, -1, dtype=np.int32)
    score = np.zeros(len(tc)) if pair_score is None else pair_score
    wanted_task = d.current if start is None else start[0]
    wanted_owner = d.owner if start is None else start[1]
    keep = keep_current or start is not None

    def try_place(t: int, only: int = -1) -> bool:
        lo, hi = tc.ptr[t], tc.ptr[t + 1]
        a = tc.agent[lo:hi]
        ok = (load[a] + tc.weight[lo:hi] <= cap[a]) & (count[a] < max_tasks[a])
        if only >= 0:
            ok &= a == only
        if not ok.any():
            return False
        k = np.flatnonzero(ok)
        util = load[a[k]] / np.maximum(cap[a[k]], 1)
        best = k[np.lexsort((util, -score[lo:hi][k]))[0]]
        assign[t] = a[best]
        load[a[best]] += tc.weight[lo + best]
        count[a[best]] += 1
        return True

    for t in np.flatnonzero(d.pinned).tolist():
        try_place(t, int(d.current[t]))

    def place_owners(kept_only: bool) -> None:
        """Owners: the one in force where legal and it fits, else (unless `kept_only`) the
        least utilised candidate."""
        for c in np.lexsort((np.arange(d.n_customers), d.tier)).tolist():
            if owner[c] >= 0:
                continue
            lo, hi = oc.ptr[c], oc.ptr[c + 1]
            a = oc.agent[lo:hi]
            ok = (load[a] + oc.weight[lo:hi] <= cap[a]) & (owned[a] < max_cust[a])
            if not ok.any():
                continue
            k = np.flatnonzero(ok)
            kept = k[a[k] == wanted_owner[c]] if keep else k[:0]
            if kept_only and not len(kept):
                continue
            best = kept[0] if len(kept) else k[np.argmin(load[a[k]] / np.maximum(cap[a[k]], 1))]
            owner[c] = a[best]
            load[a[best]] += oc.weight[lo + best]
            owned[a[best]] += 1

    place_owners(kept_only=kept_first)
    order = np.lexsort((np.arange(d.n_tasks), d.effort, -d.priority.astype(np.int64)))
    order = order[assign[order] < 0]
    if keep:
        for t in order[wanted_task[order] >= 0].tolist():
            try_place(t, int(wanted_task[t]))
        order = order[assign[order] < 0]
    if kept_first:
        place_owners(kept_only=False)
    for t in order.tolist():
        try_place(t)
    return assign, owner
