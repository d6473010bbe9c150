"""Time in the engine: the day rows of a batch with a horizon, and the plan's days.

Day d's row of agent a: the hours of its on-time tasks due by day d, plus its owned hours pro
rata (owned x hours it has by d / hours it has in the horizon), fit in the hours it has from
the first day through d. By Jackson's rule (earliest due date first) these rows hold exactly
when every on-time task can be finished by its due date, so the plan stays an assignment and
the schedule follows from it: each agent works its on-time tasks earliest due first, then its
late ones.

With soft due dates a task may be late at a price (policy `late_penalty` points per hour, by
priority). Which tasks are late is a function of the assignment (`late_tasks`): on each agent,
earliest due first, whenever a row overflows the on-time tasks cheapest to make late (per hour)
become late. With hard due dates no task is late; a pin outranks a due date (pins that cannot
all make their dates are late, and no other task is placed before them)."""

from __future__ import annotations

import heapq

import numpy as np

from optassign.contract.schema import Policy
from optassign.engine.problem import HOUR_SCALE, ProblemData

__all__ = [
    "finished_late",
    "greedy_plan",
    "late_points",
    "late_tasks",
    "overflowing",
    "owned_hours",
    "repair",
    "room",
    "schedule",
    "slack",
    "starts",
    "urgency_points",
]


def late_points(d: ProblemData, p: Policy) -> np.ndarray:
    """float[T]: the points a task costs when it is done late (soft due dates)."""
    per_hour = np.array([0.0] + [p.late_penalty[k] for k in range(1, 6)])
    return per_hour[d.priority] * d.effort / HOUR_SCALE


def urgency_points(d: ProblemData, p: Policy) -> np.ndarray:
    """float[T]: extra points for serving a task, the more the sooner it is due: urgency_weight
    x its priority points on the first day, falling linearly to 0 on the last."""
    if d.task_due is None or p.urgency_weight == 0:
        return np.zeros(d.n_tasks)
    value = np.array([0.0] + [p.priority_value[k] for k in range(1, 6)])
    H = d.day_cum.shape[1]
    share = (H - 1 - d.task_due) / max(1, H - 1)
    return p.urgency_weight * value[d.priority] * share


def owned_hours(d: ProblemData, owner: np.ndarray) -> np.ndarray:
    """int64[A]: scaled hours each agent's owned customers take."""
    c = np.flatnonzero(owner >= 0)
    return np.bincount(owner[c], weights=d.ownership_hours[c], minlength=d.n_agents).astype(np.int64)


def room(d: ProblemData, owned: np.ndarray) -> np.ndarray:
    """int64[A, H]: the scaled hours agent a has for tasks from the first day through day d,
    its owned hours taken pro rata (rounded up). Non-decreasing in d; inactive agents have none."""
    cum = np.where(d.active[:, None], d.day_cum, 0)
    total = np.maximum(cum[:, -1:], 1)
    share = -((-owned[:, None] * cum) // total)  # ceil(owned * cum / total), exact in integers
    return np.maximum.accumulate(cum - share, axis=1)


def effective_due(d: ProblemData) -> np.ndarray:
    """int64[T]: the day each task must be done by in the day rows: its due day, later for pins
    that cannot all make their dates on their agent (earliest due first, the day each then
    finishes), so that the pins alone always fit."""
    due = d.task_due.copy()
    pins = np.flatnonzero(d.pinned)
    if not len(pins):
        return due
    late = _finish(d, pins, d.current[pins], due[pins], room(d, np.zeros(d.n_agents, np.int64)))
    due[pins] = np.maximum(due[pins], np.minimum(late, d.day_cum.shape[1] - 1))
    return due


def _order(
    agent: np.ndarray, first: np.ndarray, due: np.ndarray, priority: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """The working order: by agent, `first` (0 before 1), due day, higher priority, task index."""
    return np.lexsort((t, -priority.astype(np.int64), due, first, agent))


def _finish(
    d: ProblemData, tasks: np.ndarray, agent: np.ndarray, due: np.ndarray, rooms: np.ndarray
) -> np.ndarray:
    """Finish day of `tasks` worked in earliest-due order on their agents (H when beyond)."""
    order = _order(agent, np.zeros(len(tasks)), due, d.priority[tasks], tasks)
    return _finish_in_order(d, tasks, agent, order, rooms)


def _finish_in_order(
    d: ProblemData, tasks: np.ndarray, agent: np.ndarray, order: np.ndarray, rooms: np.ndarray
) -> np.ndarray:
    """Finish day of each of `tasks` when each agent works its tasks in `order`: the first day
    by which its room reaches the hours worked so far (H when it never does)."""
    out = np.zeros(len(tasks), dtype=np.int64)
    if not len(tasks):
        return out
    a = agent[order]
    out[order] = _day_reaching(rooms, a, _cumsum_by(a, d.effort[tasks[order]]), side="left")
    return out


def _day_reaching(rooms: np.ndarray, agent: np.ndarray, hours: np.ndarray, *, side: str) -> np.ndarray:
    """Per entry, the first day by which its agent's room reaches `hours` (side="left"), or
    exceeds it (side="right": the day work begun after those hours falls on); H when never."""
    H = rooms.shape[1]
    span = int(rooms.max(initial=0)) + int(hours.max(initial=0)) + 2
    flat = (rooms + np.arange(rooms.shape[0], dtype=np.int64)[:, None] * span).ravel()
    base = agent.astype(np.int64)
    pos = np.searchsorted(flat, hours + base * span, side=side) - base * H
    return np.minimum(pos, H)


def _cumsum_by(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running sums of `values` restarting at each new value of the sorted `group`."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    total = np.cumsum(values)
    start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    offset = np.repeat(total[start] - values[start], np.diff(np.r_[start, len(group)]))
    return total - offset


def late_tasks(d: ProblemData, p: Policy, assign: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """bool[T]: the tasks of the plan that are late (see the module): with soft due dates, on
    each agent, earliest due first, an overflowing row makes late the on-time tasks so far that
    cost least per hour late (not pins), until it fits; with hard due dates only pins that
    cannot make their dates."""
    if d.day_cum is None:
        return np.zeros(d.n_tasks, dtype=bool)
    return _late(d, p, assign, room(d, owned_hours(d, owner)), effective_due(d))


def _late(d: ProblemData, p: Policy, assign: np.ndarray, rooms: np.ndarray, due: np.ndarray) -> np.ndarray:
    """late_tasks with the agents' `rooms` and `due` (effective_due) given."""
    no_one = np.zeros(d.n_tasks, dtype=bool)
    late = no_one if d.due_hard else _victims(d, assign, rooms, late_points(d, p), due)
    return late | _pins_late(d, assign, late, rooms, due)


def _victims(
    d: ProblemData, assign: np.ndarray, rooms: np.ndarray, cost: np.ndarray, due: np.ndarray
) -> np.ndarray:
    """bool[T]: the tasks to take out of the day rows so that every row of every agent fits:
    on each agent, earliest due first (`due`: effective_due), whenever a row overflows, the
    tasks so far (not pins) with the least `cost` per hour, until it fits (what pins alone
    overflow stays)."""
    out = np.zeros(d.n_tasks, dtype=bool)
    t = np.flatnonzero(assign >= 0)
    a = assign[t]
    order = _order(a, np.zeros(len(t)), due[t], d.priority[t], t)
    done = _cumsum_by(a[order], d.effort[t[order]])
    over = done > rooms[a[order], due[t[order]]]
    per_hour = cost / np.maximum(d.effort, 1)
    for agent in np.unique(a[order][over]).tolist():
        tasks = t[order[a[order] == agent]]
        heap: list[tuple[float, int, int]] = []
        load = 0
        for j, task in enumerate(tasks.tolist()):
            load += int(d.effort[task])
            if not d.pinned[task]:
                heapq.heappush(heap, (float(per_hour[task]), -task, task))
            if j + 1 < len(tasks) and due[tasks[j + 1]] == due[task]:
                continue  # a row is checked at the last task due that day
            limit = int(rooms[agent, due[task]])
            while load > limit and heap:
                _, _, victim = heapq.heappop(heap)
                out[victim] = True
                load -= int(d.effort[victim])
    return out


def _pins_late(
    d: ProblemData, assign: np.ndarray, late: np.ndarray, rooms: np.ndarray, due: np.ndarray
) -> np.ndarray:
    """Pinned tasks that finish after their due day in the plan's order."""
    finish = schedule_days(d, assign, late, rooms, due=due)
    out = np.zeros(d.n_tasks, dtype=bool)
    out[d.pinned] = finish[d.pinned] > d.task_due[d.pinned]
    return out


def schedule_days(
    d: ProblemData,
    assign: np.ndarray,
    late: np.ndarray,
    rooms: np.ndarray,
    *,
    clip: bool = True,
    due: np.ndarray | None = None,
) -> np.ndarray:
    """int64[T]: the day each assigned task is finished (on-time tasks earliest due first, then
    the late ones earliest due first); -1 for open tasks. Work beyond the agent's hours ends on
    the last day, or (clip=False) on day H, after it. `due`: effective_due, when known."""
    out = np.full(d.n_tasks, -1, dtype=np.int64)
    t = np.flatnonzero(assign >= 0)
    if not len(t):
        return out
    a = assign[t]
    due = effective_due(d) if due is None else due
    order = _order(a, late[t].astype(np.int64), due[t], d.priority[t], t)
    finish = _finish_in_order(d, t, a, order, rooms)
    out[t] = np.minimum(finish, d.day_cum.shape[1] - 1) if clip else finish
    return out


def finished_late(d: ProblemData, assign: np.ndarray, owner: np.ndarray, late: np.ndarray) -> np.ndarray:
    """bool[T]: the tasks finished after their due day when the `late` ones are worked last."""
    finish = schedule_days(d, assign, late, room(d, owned_hours(d, owner)))
    return finish > d.task_due


def schedule(
    d: ProblemData, assign: np.ndarray, owner: np.ndarray, late: np.ndarray
) -> dict[str, np.ndarray]:
    """The plan's days, its `late` tasks (late_tasks) worked after the on-time ones: per task
    its position on its agent's worklist (1-based, 0 when open), its start and finish day index
    (-1 when open); per agent and day the hours available and planned (scaled)."""
    owned = owned_hours(d, owner)
    rooms = room(d, owned)
    t = np.flatnonzero(assign >= 0)
    a = assign[t]
    order = _order(a, late[t].astype(np.int64), effective_due(d)[t], d.priority[t], t)
    H = d.day_cum.shape[1]
    position = np.zeros(d.n_tasks, dtype=np.int64)
    start = np.full(d.n_tasks, -1, dtype=np.int64)
    finish = np.full(d.n_tasks, -1, dtype=np.int64)
    planned = np.zeros((d.n_agents, H), dtype=np.int64)
    if len(t):
        ao = a[order]
        firsts = np.flatnonzero(np.r_[True, ao[1:] != ao[:-1]])
        rank = np.arange(len(order)) - np.repeat(firsts, np.diff(np.r_[firsts, len(order)]))
        position[t[order]] = rank + 1
        done = _cumsum_by(ao, d.effort[t[order]])
        began = done - d.effort[t[order]]
        finish[t[order]] = np.minimum(_day_reaching(rooms, ao, done, side="left"), H - 1)
        start[t[order]] = np.minimum(_day_reaching(rooms, ao, began, side="right"), H - 1)
        # hours worked per day: the task hours done by each day's room, day by day
        worked = np.zeros((d.n_agents, H), dtype=np.int64)
        total = np.bincount(ao, weights=d.effort[t[order]], minlength=d.n_agents).astype(np.int64)
        worked[:] = np.minimum(rooms, total[:, None])
        planned = np.diff(worked, axis=1, prepend=0)
    available = np.diff(np.where(d.active[:, None], d.day_cum, 0), axis=1, prepend=0)
    own_days = np.diff(np.where(d.active[:, None], d.day_cum, 0) - rooms, axis=1, prepend=0)
    return {
        "position": position,
        "start": start,
        "finish": finish,
        "available": available,
        "planned": planned + own_days,
    }


def slack(
    d: ProblemData, assign: np.ndarray, late: np.ndarray, due: np.ndarray, rooms: np.ndarray
) -> np.ndarray:
    """int64[A, H]: per agent and day, its room by that day less its on-time work due by then
    (`due`: effective_due; a late pin still takes its days). What a task due on day j may
    still take on time is the least of its agent's slack from day j on."""
    on = np.flatnonzero((assign >= 0) & (~late | d.pinned))
    by_day = np.zeros(rooms.shape, dtype=np.int64)
    np.add.at(by_day, (assign[on], due[on]), d.effort[on])
    return rooms - np.cumsum(by_day, axis=1)


# --------------------------------------------------------------------------- repair
def repair(
    d: ProblemData, p: Policy, assign: np.ndarray, owner: np.ndarray, value: np.ndarray
) -> tuple[np.ndarray, dict[str, int]]:
    """The plan made to obey the day rows, keeping as much value as it can.

    Hard due dates: on each agent whose row overflows, the on-time tasks (not pins) worth least
    per hour among those due by that day leave until it fits, then every task left open
    (those and the rest) goes, most valuable first, to an eligible agent with room before its
    due day (and hours and a task slot), the best pair by `value` (points per task pair).
    Soft due dates: the late tasks (late_tasks) are moved, most costly first, to an agent who
    can do them on time when that gains points; then open tasks are placed on time where they
    fit. Owners stay. First of all, work beyond an agent's hours (late work takes hours too)
    leaves, least valuable per hour first. Under a move budget (a handover) the tasks kept
    with their agent in force leave last, and a late one is moved only while the budget has
    moves left."""
    assign = assign.copy()
    stats = {"removed": 0, "placed": 0, "moved": 0}
    if d.day_cum is None:
        return assign, stats
    due = effective_due(d)
    owned = owned_hours(d, owner)
    rooms = room(d, owned)
    kept = _kept(d, assign)
    left = np.inf if d.move_budget is None else d.move_budget - _moves(d, assign, owner)
    # the plan must fit every agent's hours (late work takes hours too): what does not, leaves
    over = _victims(d, assign, rooms, _worth(d, assign, value, kept), np.full(d.n_tasks, rooms.shape[1] - 1))
    assign[over] = -1
    stats["removed"] = int(over.sum())
    if d.due_hard:
        removed = np.flatnonzero(_victims(d, assign, rooms, _worth(d, assign, value, kept), due))
        assign[removed] = -1
        stats["removed"] += int(len(removed))
    state = _Slack(d, assign, due, rooms, _late(d, p, assign, rooms, due))
    tc = d.task_cand
    late_cost = late_points(d, p)
    if not d.due_hard:
        late = state.late
        moving = np.flatnonzero(late & ~d.pinned)
        for t in moving[np.argsort(-late_cost[moving], kind="stable")].tolist():
            if kept[t] and left < 1:
                continue
            lo, hi = tc.ptr[t], tc.ptr[t + 1]
            here = lo + np.searchsorted(tc.agent[lo:hi], assign[t])
            best = state.best_on_time(t, value[lo:hi], exclude=int(assign[t]))
            if best is not None and value[lo + best] >= value[here] - late_cost[t]:
                state.move(t, int(tc.agent[lo + best]))
                stats["moved"] += 1
                left -= int(kept[t])
    open_tasks = np.flatnonzero((assign < 0) & (tc.count > 0))
    score = np.full(d.n_tasks, -np.inf)
    if len(open_tasks):
        np.maximum.at(score, tc.row, value)
    for t in open_tasks[np.argsort(-score[open_tasks], kind="stable")].tolist():
        if score[t] <= 0:
            continue
        lo, hi = tc.ptr[t], tc.ptr[t + 1]
        best = state.best_on_time(t, value[lo:hi])
        if best is not None and value[lo + best] > 0:
            state.move(t, int(tc.agent[lo + best]))
            stats["placed"] += 1
    return state.assign, stats


# Added to the worth of a kept task under a move budget, so that it leaves last.
_KEEP_FIRST = 1e12


def _worth(d: ProblemData, assign: np.ndarray, value: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """float[T]: each assigned task's `value` (per task pair) in the plan; kept tasks (under a
    move budget) worth more than any other, so that they leave last."""
    worth = np.where(kept, _KEEP_FIRST, 0.0)
    chosen = d.task_cand.chosen(assign)
    worth[d.task_cand.row[chosen]] += value[chosen]
    return worth


def _kept(d: ProblemData, assign: np.ndarray) -> np.ndarray:
    """bool[T]: under a move budget, the unforced tasks the plan keeps with their agent in force
    (moving one spends the budget); none without a budget."""
    if d.move_budget is None:
        return np.zeros(d.n_tasks, dtype=bool)
    forced = d.forced if d.forced is not None else np.zeros(d.n_tasks, dtype=bool)
    return (d.current >= 0) & (assign == d.current) & ~forced


def _moves(d: ProblemData, assign: np.ndarray, owner: np.ndarray) -> int:
    """The moves a plan spends of a move budget: unforced tasks and customers whose agent in
    force may hold them but the plan gives to another (or to no one)."""
    tc, oc = d.task_cand, d.owner_cand
    forced = d.forced if d.forced is not None else np.zeros(d.n_tasks, dtype=bool)
    owner_forced = d.owner_forced if d.owner_forced is not None else np.zeros(d.n_customers, dtype=bool)
    may_x = np.zeros(d.n_tasks, dtype=bool)
    may_x[tc.row[tc.chosen(d.current)]] = True
    may_o = np.zeros(d.n_customers, dtype=bool)
    may_o[oc.row[oc.chosen(d.owner)]] = True
    moved = int((may_x & ~forced & (assign != d.current)).sum())
    return moved + int((may_o & ~owner_forced & (owner != d.owner)).sum())


def greedy_plan(
    d: ProblemData,
    p: Policy,
    owner: np.ndarray,
    value: np.ndarray,
    *,
    earliest_due_first: bool,
    least_loaded: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """A plan that obeys the day rows, built one task at a time (pins first, owners as given):
    earliest due first (then higher priority), or most valuable per hour first; each task to
    its best agent by `value` (points per task pair) who can do it on time (`least_loaded`:
    the least loaded such agent, the routing rule), else (soft due dates) to the best with
    hours left, late, when its points beat its late points. Returns agent per task and the
    late tasks."""
    rooms = room(d, owned_hours(d, owner))
    due = effective_due(d)
    assign = np.full(d.n_tasks, -1, dtype=np.int32)
    state = _Slack(d, assign, due, rooms, np.zeros(d.n_tasks, dtype=bool))
    tc = d.task_cand
    best = np.full(d.n_tasks, -np.inf)
    if len(tc):
        np.maximum.at(best, tc.row, value)
    if earliest_due_first:
        order = np.lexsort((np.arange(d.n_tasks), -d.priority.astype(np.int64), due, ~d.pinned))
    else:
        density = best / np.maximum(d.effort, 1)
        order = np.lexsort((np.arange(d.n_tasks), due, -density, ~d.pinned))
    cost = late_points(d, p)
    for t in order.tolist():
        lo, hi = tc.ptr[t], tc.ptr[t + 1]
        if hi == lo:
            continue
        if d.pinned[t]:
            state.place(t, int(d.current[t]), late=False)
            continue
        k = state.best_on_time(t, value[lo:hi], least_loaded=least_loaded)
        if k is not None and value[lo + k] > 0:
            state.place(t, int(tc.agent[lo + k]), late=False)
        elif not d.due_hard:
            k = state.best_late(t, value[lo:hi] - cost[t])
            if k is not None and value[lo + k] - cost[t] > 0:
                state.place(t, int(tc.agent[lo + k]), late=True)
    return state.assign, state.late


def starts(
    d: ProblemData,
    p: Policy,
    owner: np.ndarray,
    value: np.ndarray,
    repaired: dict[str, np.ndarray],
    *,
    greedy: bool = True,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The plans that obey the day rows a search may start from, by name, each as agent per
    task and late tasks: the `repaired` ones (by name; see `repair`) and (`greedy`) the greedy
    plans (earliest due first, also spread to the least loaded, and most valuable first)."""
    out = {name: (a, late_tasks(d, p, a, owner)) for name, a in repaired.items()}
    if not greedy:
        return out
    for name, edd, spread in (
        ("earliest due", True, False),
        ("earliest due, least loaded", True, True),
        ("most valuable", False, False),
    ):
        out[name] = greedy_plan(d, p, owner, value, earliest_due_first=edd, least_loaded=spread)
    return out


def overflowing(d: ProblemData, assign: np.ndarray, owner: np.ndarray, worth: np.ndarray) -> np.ndarray:
    """bool[T]: the tasks to take off their agents so that every day row fits (by the rule
    late_tasks uses), those with the least `worth` (per task) per hour first; none without
    day rows."""
    if d.day_cum is None:
        return np.zeros(d.n_tasks, dtype=bool)
    return _victims(d, assign, room(d, owned_hours(d, owner)), worth, effective_due(d))


class _Slack:
    """Per agent and day the room left before that day for on-time work (room minus the
    on-time hours due by then), its hours and task slots left, as tasks move."""

    def __init__(
        self, d: ProblemData, assign: np.ndarray, due: np.ndarray, rooms: np.ndarray, late: np.ndarray
    ):
        self.d, self.assign, self.due, self.late = d, assign, due, late.copy()
        self.slack = slack(d, assign, late, due, rooms)
        self.hours = rooms[:, -1] - np.bincount(
            assign[assign >= 0], weights=d.effort[assign >= 0], minlength=d.n_agents
        ).astype(np.int64)
        self.total = rooms[:, -1]
        self.count = np.bincount(assign[assign >= 0], minlength=d.n_agents)
        self.slots = np.where(d.max_tasks >= 0, d.max_tasks, np.iinfo(np.int64).max)

    def best_on_time(
        self, t: int, values: np.ndarray, exclude: int = -1, least_loaded: bool = False
    ) -> int | None:
        """The offset (within t's pairs) of its best agent by `values` who can take it on
        time (`least_loaded`: the one with the smallest share of its hours taken, then the
        best by `values`), or None."""
        d = self.d
        tc = d.task_cand
        lo, hi = tc.ptr[t], tc.ptr[t + 1]
        agents = tc.agent[lo:hi]
        e = int(d.effort[t])
        fits = (self.slack[agents, self.due[t] :].min(axis=1) >= e) & (self.hours[agents] >= e)
        fits &= (self.count[agents] < self.slots[agents]) & d.active[agents] & (agents != exclude)
        if not fits.any():
            return None
        k = np.flatnonzero(fits)
        if least_loaded:
            used = 1.0 - self.hours[agents[k]] / np.maximum(self.total[agents[k]], 1)
            return int(k[np.lexsort((-values[k], used))[0]])
        return int(k[np.argmax(values[k])])

    def best_late(self, t: int, values: np.ndarray) -> int | None:
        """The offset of t's best agent by `values` with hours and a task slot left, or None."""
        d = self.d
        tc = d.task_cand
        lo, hi = tc.ptr[t], tc.ptr[t + 1]
        agents = tc.agent[lo:hi]
        e = int(d.effort[t])
        fits = (self.hours[agents] >= e) & (self.count[agents] < self.slots[agents]) & d.active[agents]
        if not fits.any():
            return None
        k = np.flatnonzero(fits)
        return int(k[np.argmax(values[k])])

    def move(self, t: int, to: int) -> None:
        """Task t to agent `to`, on time."""
        self.place(t, to, late=False)

    def place(self, t: int, to: int, *, late: bool) -> None:
        """Task t (from wherever it is) to agent `to`, on time or late."""
        e = int(self.d.effort[t])
        was = int(self.assign[t])
        if was >= 0:
            if not self.late[t] or self.d.pinned[t]:
                self.slack[was, self.due[t] :] += e
            self.hours[was] += e
            self.count[was] -= 1
        self.assign[t] = to
        self.late[t] = late
        if not late or self.d.pinned[t]:
            self.slack[to, self.due[t] :] -= e
        self.hours[to] -= e
        self.count[to] += 1
