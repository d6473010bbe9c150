"""Why each row of a plan went where it went, in one line a person can read: the reason column of
assignments.csv and its categories. Built from ProblemData and the solved arrays."""

from __future__ import annotations

import numpy as np

from optassign.engine import days
from optassign.engine.problem import HOUR_SCALE, ProblemData

MAX_NAMED = 5


def _skills_text(d: ProblemData, need: np.ndarray) -> str:
    return " and ".join(f"{d.skill_names[s]}>={need[s]}" for s in np.flatnonzero(need))


def _names(d: ProblemData, agents: np.ndarray) -> str:
    shown = ", ".join(str(d.agent_ids[a]) for a in agents[:MAX_NAMED])
    more = len(agents) - MAX_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def blocked_reason(d: ProblemData, t: int) -> str:
    """For a task with no eligible agent: which rule leaves nobody, with the near misses."""
    need = d.task_skill[t]
    r = d.task_region[t]
    active = d.active
    skilled = active & (d.agent_skill >= need[None, :]).all(axis=1)
    covers = active & (d.agent_region[:, r] if r >= 0 else np.ones(d.n_agents, bool))
    region = f"region {d.region_names[r]}" if r >= 0 else ""
    skills = _skills_text(d, need)
    if not active.any():
        text = "no active agent"
    elif region and skills:
        text = f"no active agent covers {region} with {skills}"
        n_cover, n_skilled = int(covers.sum()), int(skilled.sum())
        text += f" ({n_cover} cover {d.region_names[r]}, {n_skilled} have the skills elsewhere)"
    elif region:
        text = f"no active agent covers {region}"
    elif skills:
        text = f"no active agent has {skills}"
    else:
        text = "no eligible agent"
    return text


def unassigned_reason(
    d: ProblemData,
    t: int,
    load: np.ndarray,
    count: np.ndarray,
    lowest_priority: np.ndarray,
    pair_value: np.ndarray | None = None,
    free_by: np.ndarray | None = None,
) -> str:
    """For an unassigned task: no eligible agent (which rule), or every eligible agent full
    (with a horizon, `free_by[a, d]`: the scaled hours agent a has free for on-time work due by
    day d, so that "full" also means full before the task's due date)."""
    prefix = ""
    if d.pin_broken[t]:
        prefix = f"pinned to {d.agent_ids[d.current[t]]}, who is inactive; "
    lo, hi = d.task_cand.ptr[t], d.task_cand.ptr[t + 1]
    cands = d.task_cand.agent[lo:hi]
    if len(cands) == 0:
        return prefix + blocked_reason(d, t)
    full_hours = load[cands] + d.task_cand.weight[lo:hi] > d.capacity[cands]
    at_cap = (d.max_tasks[cands] >= 0) & (count[cands] >= d.max_tasks[cands])
    blocked = full_hours | at_cap
    n = len(cands)
    if blocked.all():
        lowest = int(lowest_priority[cands].min())
        how = (
            "at capacity"
            if not at_cap.any()
            else (
                "at max_tasks"
                if not full_hours.any()
                else f"full ({int(full_hours.sum())} at capacity, "
                f"{int((at_cap & ~full_hours).sum())} at max_tasks)"
            )
        )
        noun = "the only eligible agent is" if n == 1 else f"all {n} eligible agents are"
        if n == 1:
            noun += f" {d.agent_ids[cands[0]]},"
        if lowest >= d.priority[t]:
            return prefix + f"{noun} {how} with higher-value work (priority >= {lowest})".replace(",  ", ", ")
        return prefix + (
            f"{noun} {how}; fitting it would displace more valuable work in total "
            f"(eligible: {_names(d, cands)})"
        )
    room = cands[~blocked]
    if free_by is not None:
        due = int(d.task_due[t])
        free = free_by[room, due]
        if (free < d.effort[t]).all():
            best = int(np.argmax(free))
            date = str(d.day_dates[due])
            need = d.effort[t] / HOUR_SCALE
            hours = f"{max(0, free[best]) / HOUR_SCALE:g} h free by then, the task needs {need:g} h"
            if len(room) == 1:
                return (
                    prefix + f"the only eligible agent with hours left, {d.agent_ids[room[0]]}, has {hours}"
                )
            return prefix + (
                f"none of the {len(room)} eligible agents with hours left has room by {date} "
                f"({d.agent_ids[room[best]]} has the most: {hours})"
            )
    if pair_value is not None and (pair_value[lo:hi][~blocked] <= 0).all():
        return prefix + "serving it is worth less than its penalties under this policy"
    has = "1 eligible agent has" if len(room) == 1 else f"{len(room)} eligible agents have"
    return prefix + f"not placed within the time limit although {has} room ({_names(d, room)})"


def assigned_reason(d: ProblemData, t: int, a: int, owner: np.ndarray) -> str:
    """For an assigned task: pinned, kept, with the customer's owner, or why it moved."""
    cur = d.current[t]
    c = d.task_customer[t]
    with_owner = c >= 0 and owner[c] == a
    n = int(d.task_cand.ptr[t + 1] - d.task_cand.ptr[t])
    if d.pinned[t]:
        return "pinned"
    if cur == a:
        return "kept with current assignee" + (" (customer's owner)" if with_owner else "")
    base = (
        "customer's owner"
        if with_owner
        else ("the only eligible agent" if n == 1 else f"best of {n} eligible agents")
    )
    if cur < 0:
        return f"assigned: {base}"
    lo, hi = d.task_cand.ptr[t], d.task_cand.ptr[t + 1]
    if not d.active[cur]:
        why = f"{d.agent_ids[cur]} is inactive"
    elif cur not in d.task_cand.agent[lo:hi]:
        why = f"{d.agent_ids[cur]} is no longer eligible"
    else:
        why = f"{d.agent_ids[cur]}'s hours went to higher-value work or balance"
    return f"moved: {why}; {base}"


def late_reason(d: ProblemData, t: int, a: int, finish: int) -> str:
    """For a task done after its due day: when it is done, and why not sooner."""
    due, days_late = int(d.task_due[t]), int(finish - d.task_due[t])
    when = f"late by {days_late} day{'s' if days_late != 1 else ''}: {d.agent_ids[a]} finishes it on "
    when += f"{d.day_dates[finish]}, due {d.day_dates[due]}"
    if d.pinned[t]:
        return when + " (pinned: its agent's hours by then go to other pins)"
    return when + " (nobody who can take it has the hours by then for more valuable work)"


def reasons(
    d: ProblemData,
    assign: np.ndarray,
    owner: np.ndarray,
    pair_value: np.ndarray | None = None,
    late: np.ndarray | None = None,
) -> np.ndarray:
    """The reason text of every task of a plan (`late`: its late tasks, with a horizon)."""
    done = assign >= 0
    weight = d.task_cand.weight_of(assign)
    load = np.bincount(assign[done], weights=weight[done], minlength=d.n_agents).astype(np.int64)
    owned = owner >= 0
    load += np.bincount(owner[owned], weights=d.ownership_hours[owned], minlength=d.n_agents).astype(np.int64)
    count = np.bincount(assign[done], minlength=d.n_agents)
    lowest = np.full(d.n_agents, 99, dtype=np.int64)
    np.minimum.at(lowest, assign[done], d.priority[done].astype(np.int64))
    lowest[count == 0] = 0
    free_by = None if d.day_cum is None else free_by_day(d, assign, owner, late)
    out = np.empty(d.n_tasks, dtype=object)
    for t in range(d.n_tasks):
        a = int(assign[t])
        out[t] = (
            assigned_reason(d, t, a, owner)
            if a >= 0
            else unassigned_reason(d, t, load, count, lowest, pair_value, free_by)
        )
    return out


def free_by_day(d: ProblemData, assign: np.ndarray, owner: np.ndarray, late: np.ndarray | None) -> np.ndarray:
    """int64[A, H]: per agent and day, the scaled hours free for more on-time work due by that
    day: the least, over that day and every later one, of its room less its on-time work due
    by then (days.py)."""
    rooms = days.room(d, days.owned_hours(d, owner))
    late = np.zeros(d.n_tasks, dtype=bool) if late is None else late
    slack = days.slack(d, assign, late, days.effective_due(d), rooms)
    return np.minimum.accumulate(slack[:, ::-1], axis=1)[:, ::-1]


# --------------------------------------------------------------------------- categories
# The kinds of reason an unassigned task can have, in the order reports list them.
REASON_CATEGORIES = ("no_eligible_agent", "agents_full", "low_value", "time_limit", "other")


def reason_category(text: str) -> str:
    """The kind of an unassigned task's reason text (as written by `unassigned_reason`), for
    counting: no_eligible_agent, agents_full, low_value, time_limit or other."""
    text = str(text)
    if "who is inactive; " in text:  # a broken pin is a prefix; the kind is what follows
        text = text.split("who is inactive; ", 1)[1]
    if text.startswith(("no active agent", "no eligible agent")):
        return "no_eligible_agent"
    if "eligible agent" in text and (" at capacity" in text or " at max_tasks" in text or " full (" in text):
        return "agents_full"
    if " has room by " in text or ("eligible agent with hours left" in text and " free by " in text):
        return "agents_full"  # full before the task's due date (a horizon)
    if "worth less than its penalties" in text:
        return "low_value"
    if "within the time limit" in text:
        return "time_limit"
    return "other"
