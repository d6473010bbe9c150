"""The changed problem of a handover: which rows the events make illegal, what must move, who
may receive it, and the hint of the plan in force less what moves."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optassign.contract.schema import Event, Hire, Leave, Policy
from optassign.engine import days
from optassign.engine.problem import HOUR_SCALE, ProblemData, build_problem
from optassign.engine.search.greedy import greedy_plan
from optassign.scenario.scenario import Scenario


# --------------------------------------------------------------------------- the changed problem
@dataclass
class Prepared:
    """The changed problem and what the reports need to explain it."""

    before: Scenario
    after: Scenario
    data: ProblemData
    free: ProblemData  # candidates before pins and `to:` restrictions (legality)
    hint: tuple[np.ndarray, np.ndarray]
    forced: np.ndarray  # bool[T]
    owner_forced: np.ndarray  # bool[C]
    task_cause: np.ndarray  # object[T]: why a forced task must move ("" if not forced)
    owner_cause: np.ndarray  # object[C]
    restricted: np.ndarray  # bool[T]: candidates cut to a leave's `to:` agents
    owner_restricted: np.ndarray  # bool[C]
    receivers: dict[str, list[str]]  # leaver -> `to:` agents
    hired: set[str]
    pin_broken: np.ndarray  # bool[T]
    cause: np.ndarray  # object[T]: kind of forced move ("" if not forced), for the KPIs
    owner_cause_kind: np.ndarray  # object[C]


def prepare(
    before: Scenario,
    after: Scenario,
    events: list[Event],
    policy: Policy,
    max_moves: int | None,
    warnings: list[str],
) -> Prepared:
    """Derive the changed problem: legality of the plan in force after the events, forced rows,
    candidates of a leaver's work cut to its `to:` agents, pins, and a hint that keeps
    everything unforced and places the rest greedily.

    A pin holds while its agent is active and may legally keep the task. A pin whose agent is
    still active but may no longer hold it (a transfer, a skills change, a capacity cut below
    the pinned hours) is broken like a leaver's, and a warning says so: the contract's hard
    rules cannot all hold for it, and the manual decision behind it needs a look."""
    free = build_problem(after.replace(tasks=after.tasks.assign(pinned=False)), policy)
    legal, legal_o, task_cause, owner_cause = _legality(before, free)
    kept, kept_o, pinned, pin_broken = _forced(
        before, after, free, policy, legal, legal_o, task_cause, owner_cause, warnings
    )
    too_late = _force_late(free.replace(pinned=pinned), policy, kept, kept_o, task_cause)
    forced, owner_forced = task_cause != "", owner_cause != ""
    receivers = _receivers(events)
    keep, keep_o, restricted, owner_restricted = _restricted_candidates(free, pinned, receivers)
    data = free.replace(
        task_cand=free.task_cand.select(keep),
        owner_cand=free.owner_cand.select(keep_o),
        pinned=pinned,
        pin_broken=pin_broken,
        forced=forced,
        owner_forced=owner_forced,
        move_budget=max_moves,
    )
    hired = {str(e.hire["agent_id"]).strip() for e in events if isinstance(e, Hire)}
    hint = _hint(data, kept & ~forced, kept_o & ~owner_forced)
    return Prepared(
        before,
        after,
        data,
        free,
        hint,
        forced,
        owner_forced,
        task_cause,
        owner_cause,
        restricted,
        owner_restricted,
        receivers,
        hired,
        pin_broken,
        np.where(too_late, "due date", _kinds(forced, pin_broken, free.current, free.active, legal)),
        _kinds(owner_forced, np.zeros(free.n_customers, dtype=bool), free.owner, free.active, legal_o),
    )


def _force_late(
    d: ProblemData, policy: Policy, kept: np.ndarray, kept_o: np.ndarray, task_cause: np.ndarray
) -> np.ndarray:
    """Hard due dates: mark as forced the work its agent in force cannot finish by its due date
    with the work it keeps (worked earliest due first), the lowest priority value per hour
    first; pins stay. Changes `kept` and `task_cause` in place; returns those tasks (mask)."""
    out = np.zeros(d.n_tasks, dtype=bool)
    if d.day_cum is None or not d.due_hard:
        return out
    assign = np.where(kept, d.current, -1).astype(np.int32)
    owner = np.where(kept_o, d.owner, -1).astype(np.int32)
    value = np.array([0.0] + [policy.priority_value[p] for p in range(1, 6)])[d.priority]
    out = days.overflowing(d, assign, owner, value) & kept
    for t in np.flatnonzero(out).tolist():
        task_cause[t] = (
            f"{d.agent_ids[int(d.current[t])]} cannot finish it by its due date "
            f"{d.day_dates[int(d.task_due[t])]} with the work due before it"
        )
        kept[t] = False
    return out


def _legality(before: Scenario, d: ProblemData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Whether each task's agent and each customer's owner in force may still legally hold it
    after the events (it is among the candidates `d` allows), and for each that may not, why:
    its agent leaves, no longer covers its region or lacks a skill. Returns legal (bool[T]),
    legal_o (bool[C]) and the causes (object[T], object[C], "" where legal or unassigned)."""
    T, C = d.n_tasks, d.n_customers
    tc, oc = d.task_cand, d.owner_cand
    cur, own = d.current, d.owner
    legal = np.bincount(tc.row[tc.chosen(cur)], minlength=T) > 0
    legal_o = np.bincount(oc.row[oc.chosen(own)], minlength=C) > 0
    was_active = dict(zip(before.agents["agent_id"], before.agents["active"].astype(bool), strict=True))
    task_cause = np.full(T, "", dtype=object)
    owner_cause = np.full(C, "", dtype=object)
    for t in np.flatnonzero((cur >= 0) & ~legal).tolist():
        task_cause[t] = _why_illegal(d, was_active, d.task_skill[t], int(d.task_region[t]), int(cur[t]))
    for c in np.flatnonzero((own >= 0) & ~legal_o).tolist():
        owner_cause[c] = _why_illegal(
            d, was_active, d.customer_skill[c], int(d.customer_region[c]), int(own[c])
        )
    return legal, legal_o, task_cause, owner_cause


def _why_illegal(
    d: ProblemData, was_active: dict[str, bool], row_skill: np.ndarray, region: int, a: int
) -> str:
    """Why agent `a` may not hold a row needing `row_skill` in `region`, the first reason that
    applies: it leaves (or was inactive already), its regions, its skills."""
    name = d.agent_ids[a]
    if not d.active[a]:
        return f"{name} leaves" if was_active.get(name, True) else f"{name} is inactive"
    if d.region_hard and region >= 0 and not d.agent_region[a, region]:
        return f"{name} does not cover region {d.region_names[region]}"
    short = [f"{d.skill_names[s]}>={row_skill[s]}" for s in np.flatnonzero(row_skill > d.agent_skill[a])]
    if short:
        return f"{name} lacks {' and '.join(short)}"
    return f"{name} may not hold it"


def _forced(
    before: Scenario,
    after: Scenario,
    d: ProblemData,
    policy: Policy,
    legal: np.ndarray,
    legal_o: np.ndarray,
    task_cause: np.ndarray,
    owner_cause: np.ndarray,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What must move besides the illegal rows: the lowest-value work of agents over their
    limits (`_force_overloads`), and pins whose task must move, which break; a warning for each
    pin broken while its agent is still active. Fills `task_cause` and `owner_cause` in place
    and returns what the plan in force legally keeps (kept, kept_o), the pins that hold and the
    pins broken."""
    cur = d.current
    pinned = after.tasks["pinned"].to_numpy(dtype=bool) & (cur >= 0)
    kept = (cur >= 0) & legal
    kept_o = (d.owner >= 0) & legal_o
    _force_overloads(before, after, d, policy, kept, kept_o, pinned, task_cause, owner_cause)
    forced = task_cause != ""
    pin_broken = pinned & forced
    task_ids = after.tasks["task_id"].to_numpy(dtype=object)
    for t in np.flatnonzero(pin_broken).tolist():
        if d.active[cur[t]]:
            warnings.append(
                f"{task_ids[t]} is pinned to {d.agent_ids[cur[t]]}, who is still active but may not keep it "
                f"after the changes ({task_cause[t]}): the pin is broken and the task re-planned"
            )
        task_cause[t] = f"pin broken: {task_cause[t]}"
    return kept, kept_o, pinned & ~forced, pin_broken


def _receivers(events: list[Event]) -> dict[str, list[str]]:
    """leaver -> the agents its work may go to, from the leaves' `to:`; a later leave of the
    same agent replaces an earlier one, and one without `to:` lifts it."""
    receivers: dict[str, list[str]] = {}
    for e in events:
        if isinstance(e, Leave):
            targets = [a for a in e.to or [] if a != e.leave]  # naming oneself was warned about
            if targets:
                receivers[e.leave] = targets
            else:
                receivers.pop(e.leave, None)
    return receivers


def _restricted_candidates(
    d: ProblemData, pinned: np.ndarray, receivers: dict[str, list[str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidates: a kept pin only with its agent; a leaver's work only to its `to:` agents.
    Returns which task and owner candidates of `d` stay (bool over each candidate list), and
    which tasks and customers the `to:` of a leave restricts (bool[T], bool[C])."""
    tc, oc = d.task_cand, d.owner_cand
    cur, own = d.current, d.owner
    agent_pos = pd.Index(d.agent_ids)
    keep = ~pinned[tc.row] | (tc.agent == cur[tc.row])
    keep_o = np.ones(len(oc), dtype=bool)
    restricted = np.zeros(d.n_tasks, dtype=bool)
    owner_restricted = np.zeros(d.n_customers, dtype=bool)
    for leaver, targets in sorted(receivers.items()):
        li = agent_pos.get_loc(leaver)
        allowed = agent_pos.get_indexer(targets)
        rows = cur == li
        restricted |= rows
        keep &= ~rows[tc.row] | np.isin(tc.agent, allowed)
        rows_o = own == li
        owner_restricted |= rows_o
        keep_o &= ~rows_o[oc.row] | np.isin(oc.agent, allowed)
    return keep, keep_o, restricted, owner_restricted


def _kinds(
    forced: np.ndarray, pin_broken: np.ndarray, agent: np.ndarray, active: np.ndarray, legal: np.ndarray
) -> np.ndarray:
    """Kind of each forced move: pin broken, agent left, not eligible, over capacity (and,
    set by the caller, due date)."""
    out = np.full(len(forced), "", dtype=object)
    gone = ~active[np.maximum(agent, 0)]
    out[forced & legal] = "over capacity"
    out[forced & ~legal & ~gone] = "not eligible"
    out[forced & gone] = "agent left"
    out[pin_broken] = "pin broken"
    return out


def _force_overloads(
    before: Scenario,
    after: Scenario,
    d: ProblemData,
    policy: Policy,
    kept: np.ndarray,
    kept_o: np.ndarray,
    pinned: np.ndarray,
    task_cause: np.ndarray,
    owner_cause: np.ndarray,
) -> None:
    """Mark as forced, per agent whose limits the work it legally keeps exceeds (a capacity cut,
    or a plan in force already over its limits), the lowest-value items until the rest fits:
    unpinned tasks first (lowest priority value, then latest due date, then largest effort, then
    id), then owned customers (lowest tier first), then pinned tasks (their pins break).
    Changes `kept`, `kept_o`, `task_cause` and `owner_cause` in place."""
    tasks = after.tasks
    T = d.n_tasks
    cur, own = d.current, d.owner
    hours = np.bincount(cur[kept], weights=d.effort[kept], minlength=d.n_agents).astype(np.int64)
    hours += np.bincount(own[kept_o], weights=d.ownership_hours[kept_o], minlength=d.n_agents).astype(
        np.int64
    )
    count = np.bincount(cur[kept], minlength=d.n_agents)
    owned = np.bincount(own[kept_o], minlength=d.n_agents)
    cap_t = np.where(d.max_tasks >= 0, d.max_tasks, np.iinfo(np.int64).max)
    cap_c = np.where(d.max_customers >= 0, d.max_customers, np.iinfo(np.int64).max)
    over = (hours > d.capacity) | (count > cap_t) | (owned > cap_c)
    if not over.any():
        return
    value = np.array([0.0] + [policy.priority_value[p] for p in range(1, 6)])[d.priority]
    due = tasks["due_date"].to_numpy(dtype="datetime64[D]").astype(np.int64).astype(float)
    due = np.where(tasks["due_date"].isna().to_numpy(), np.inf, due)
    # lowest value first: value asc, due desc, effort desc, position asc
    order = np.lexsort((np.arange(T), -d.effort, -due, value, pinned.astype(int)))
    tier_value = np.array([policy.ownership_value[t] for t in "ABC"])[d.tier]
    order_o = np.lexsort((np.arange(d.n_customers), -d.ownership_hours, tier_value))
    old_cap = dict(zip(before.agents["agent_id"], before.agents["capacity_hours"], strict=True))
    for a in np.flatnonzero(over).tolist():
        name = d.agent_ids[a]
        cap = float(after.agents["capacity_hours"].iat[a])
        load = hours[a] / HOUR_SCALE
        if hours[a] > d.capacity[a]:
            was = old_cap.get(name)
            if was is not None and cap < was:
                why = (
                    f"{name}'s capacity is cut from {was:g} h to {cap:g} h, below the {load:g} h it "
                    "holds in force; its lowest-value work moves first"
                )
            else:
                why = (
                    f"{name} holds {load:g} h in the plan in force, above its {cap:g} h capacity; "
                    "its lowest-value work moves first"
                )
        elif count[a] > cap_t[a]:
            why = (
                f"{name} holds {count[a]} tasks in force, above its max_tasks {d.max_tasks[a]}; "
                "its lowest-value tasks move first"
            )
        else:
            why = (
                f"{name} owns {owned[a]} customers in force, above its max_customers "
                f"{d.max_customers[a]}; its lowest-tier customers move first"
            )
        mine = order[kept[order] & (cur[order] == a)]
        mine_o = order_o[kept_o[order_o] & (own[order_o] == a)]
        loose, pins = mine[~pinned[mine]], mine[pinned[mine]]

        # Drop in this order until the rest fits: customers over max_customers, unpinned
        # tasks, customers (hours), pinned tasks.
        queue_o = mine_o.tolist()
        steps = [("c", c, "count") for c in queue_o] + [("t", t, "any") for t in loose.tolist()]
        steps += [("c", c, "hours") for c in queue_o] + [("t", t, "any") for t in pins.tolist()]
        dropped_o: set[int] = set()
        for kind, i, need in steps:
            over_h = hours[a] > d.capacity[a]
            if kind == "c":
                if i in dropped_o or not (owned[a] > cap_c[a] if need == "count" else over_h):
                    continue
                dropped_o.add(i)
                kept_o[i] = False
                owner_cause[i] = why
                hours[a] -= d.ownership_hours[i]
                owned[a] -= 1
            elif over_h or count[a] > cap_t[a]:
                kept[i] = False
                task_cause[i] = why
                hours[a] -= d.effort[i]
                count[a] -= 1


def _hint(data: ProblemData, kept: np.ndarray, kept_o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plan in force minus what must move, completed greedily in the room that is left
    (greedy_plan on the residual problem), so the hint keeps every unforced item and so meets
    every move budget."""
    d = data
    tc, oc = d.task_cand, d.owner_cand
    start = np.where(kept, d.current, -1).astype(np.int32)
    start_o = np.where(kept_o, d.owner, -1).astype(np.int32)
    used = tc.weight_of(start)
    load = np.bincount(start[kept], weights=used[kept], minlength=d.n_agents).astype(np.int64)
    load += np.bincount(start_o[kept_o], weights=d.ownership_hours[kept_o], minlength=d.n_agents).astype(
        np.int64
    )
    count = np.bincount(start[kept], minlength=d.n_agents)
    owned = np.bincount(start_o[kept_o], minlength=d.n_agents)
    residual = d.replace(
        capacity=np.maximum(d.capacity - load, 0),
        max_tasks=np.where(d.max_tasks >= 0, np.maximum(d.max_tasks - count, 0), -1),
        max_customers=np.where(d.max_customers >= 0, np.maximum(d.max_customers - owned, 0), -1),
        task_cand=tc.select(~kept[tc.row]),
        owner_cand=oc.select(~kept_o[oc.row]),
        pinned=np.zeros(d.n_tasks, dtype=bool),
        move_budget=None,
    )
    rest, rest_o = greedy_plan(residual, keep_current=False)
    return np.where(kept, start, rest).astype(np.int32), np.where(kept_o, start_o, rest_o).astype(np.int32)
