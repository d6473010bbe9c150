"""The rows and figures of a handover: handover.csv (every task and customer that changes
hands, with why), the KPI deltas against the plan in force, and the events in words."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from optassign.contract.schema import CONTEXT_COLUMNS, Capacity, Event, Hire, Leave, Policy, Skills, Transfer
from optassign.engine.result import Result
from optassign.handover.prepare import Prepared
from optassign.handover.result import HANDOVER_COLUMNS
from optassign.scenario.scenario import Scenario


# --------------------------------------------------------------------------- reports
def _names(items: Sequence[str]) -> str:
    return ", ".join(items)


def handover_table(prep: Prepared, reasons: np.ndarray, result: Result, policy: Policy) -> pd.DataFrame:
    """handover.csv: one row per task or customer whose agent changes, with why it moved and why
    to this agent; the input's notes / history / special_notes carried along."""
    records = _task_rows(prep, reasons, result, policy) + _customer_rows(prep, result, policy)
    table = pd.DataFrame(records, columns=[*HANDOVER_COLUMNS, "_row"])
    table["priority"] = table["priority"].astype("Int64")
    table["effort_hours"] = table["effort_hours"].astype(float)
    table["forced"] = table["forced"].astype(bool)
    _add_context(table, prep.after.tasks, prep.after.customers)
    table = table.sort_values(["from_agent_id", "kind", "id"], kind="stable").reset_index(drop=True)
    return table.drop(columns="_row")


def _voluntary(points: float) -> str:
    return f"voluntary: the new plan gains more from it than its disruption costs ({points:g} points)"


def _only_to(prep: Prepared, restricted: bool, frm: str) -> str:
    """The `to:` of the leave whose work this is, when it binds the item ("" otherwise)."""
    if restricted and frm in prep.receivers:
        return f" (handover only to {_names(prep.receivers[frm])})"
    return ""


def _task_rows(prep: Prepared, reasons: np.ndarray, result: Result, policy: Policy) -> list[dict]:
    """A record per task that had an agent in force and now has another (or none); `_row` is
    its position in the tasks, for the context columns."""
    d, tasks = prep.data, prep.after.tasks
    frm = tasks["assigned_to"].to_numpy(dtype=object)
    to = np.append(d.agent_ids, "")[result.assign]
    keep_points = policy.keep_assignee_weight * np.array(
        [0.0] + [policy.disruption_by_priority[p] for p in range(1, 6)]
    )
    records = []
    for t in np.flatnonzero((frm != "") & (to != frm)).tolist():
        why = prep.task_cause[t] if prep.forced[t] else _voluntary(keep_points[d.priority[t]])
        why += _only_to(prep, prep.restricted[t], frm[t])
        if result.assign[t] < 0:
            where = "not placed: " + _unplaced(prep, t, reasons[t])
        else:
            where = f"to {to[t]}: " + ", ".join(_why_agent(prep, result, t, frm[t], to[t]))
        records.append(
            {
                "kind": "task",
                "id": tasks["task_id"].iat[t],
                "customer_id": tasks["customer_id"].iat[t],
                "from_agent_id": frm[t],
                "to_agent_id": to[t],
                "forced": bool(prep.forced[t]),
                "priority": int(d.priority[t]),
                "effort_hours": float(tasks["effort_hours"].iat[t]),
                "due_date": date_text(tasks["due_date"].iat[t]),
                "reason": f"{why}; {where}",
                "_row": t,
            }
        )
    return records


def _why_agent(prep: Prepared, result: Result, t: int, frm: str, to: str) -> list[str]:
    """Why task `t` goes to its new agent: it owns the customer (newly or already), is a new
    hire, is the best of the leave's named receivers or of the agents eligible for it."""
    d = prep.data
    a, c = int(result.assign[t]), int(d.task_customer[t])
    n = int(d.task_cand.ptr[t + 1] - d.task_cand.ptr[t])
    bits = []
    if c >= 0 and result.owner[c] == a:
        # against the owner in force, not a second pass's
        new = result.owner[c] != prep.free.owner[c]
        bits.append("the customer's new owner" if new else "the customer's owner")
    if to in prep.hired:
        bits.append("new hire")
    if prep.restricted[t] and frm in prep.receivers:
        bits.append(f"best of {n} named receivers" if n > 1 else "the only named receiver who can")
    elif not bits:
        bits.append("the only eligible agent" if n == 1 else f"best of {n} eligible agents")
    return bits


def _customer_rows(prep: Prepared, result: Result, policy: Policy) -> list[dict]:
    """A record per customer that had an owner in force and now has another (or none)."""
    d, customers = prep.data, prep.after.customers
    if customers is None:
        return []
    frm = customers["owner_id"].to_numpy(dtype=object)
    to = np.append(d.agent_ids, "")[result.owner]
    cust_ids = np.append(d.customer_ids, "")
    records = []
    for c in np.flatnonzero((frm != "") & (to != frm)).tolist():
        if prep.owner_forced[c]:
            why = prep.owner_cause[c]
        else:
            why = _voluntary(policy.keep_customer_owner_weight * policy.disruption_by_tier["ABC"[d.tier[c]]])
        why += _only_to(prep, prep.owner_restricted[c], frm[c])
        if result.owner[c] < 0:
            where = "not placed: " + _unowned(prep, c)
        else:
            where = f"to {to[c]}: " + ", ".join(_why_owner(prep, result, c, frm[c], to[c]))
        records.append(
            {
                "kind": "customer",
                "id": cust_ids[c],
                "customer_id": cust_ids[c],
                "from_agent_id": frm[c],
                "to_agent_id": to[c],
                "forced": bool(prep.owner_forced[c]),
                "priority": None,
                "effort_hours": None,
                "due_date": "",
                "reason": f"{why}; {where}",
                "_row": c,
            }
        )
    return records


def _why_owner(prep: Prepared, result: Result, c: int, frm: str, to: str) -> list[str]:
    """Why customer `c` goes to its new owner: a new hire, the best of the leave's named
    receivers or of the eligible owners; and how many of its tasks in force go along."""
    d = prep.data
    a = int(result.owner[c])
    n = int(d.owner_cand.ptr[c + 1] - d.owner_cand.ptr[c])
    bits = ["new hire"] if to in prep.hired else []
    if prep.owner_restricted[c] and frm in prep.receivers:
        bits.append("the only named receiver who can" if n == 1 else f"best of {n} named receivers")
    else:
        bits.append("the only eligible owner" if n == 1 else f"best of {n} eligible owners")
    was = prep.free.owner[c]  # the owner in force
    along = int(((d.task_customer == c) & (result.assign == a) & (d.current == was)).sum())
    if along:
        bits.append(f"{along} of its open tasks go along")
    return bits


def _add_context(table: pd.DataFrame, tasks: pd.DataFrame, customers: pd.DataFrame | None) -> None:
    """The input's context columns (notes, history, special_notes) of each row's task or
    customer, as text, "" where the input has none; added to `table` in place."""
    is_t = table["kind"].eq("task")
    for name in CONTEXT_COLUMNS:
        in_t = name in tasks.columns
        in_c = customers is not None and name in customers.columns
        if not (in_t or in_c):
            continue
        col = pd.Series("", index=table.index, dtype=object)
        if in_t and is_t.any():
            col[is_t] = _text(tasks[name]).to_numpy()[table.loc[is_t, "_row"].to_numpy(dtype=int)]
        if in_c and (~is_t).any():
            col[~is_t] = _text(customers[name]).to_numpy()[table.loc[~is_t, "_row"].to_numpy(dtype=int)]
        table[name] = col


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str)


def date_text(value) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _unplaced(prep: Prepared, t: int, reason: str) -> str:
    """Why a task that had to move found nobody; for a leave with `to:` the named agents."""
    d = prep.data
    frm = prep.after.tasks["assigned_to"].iat[t]
    if prep.restricted[t] and frm in prep.receivers:
        named = prep.receivers[frm]
        f = prep.free.task_cand
        lo, hi = f.ptr[t], f.ptr[t + 1]
        legal = set(d.agent_ids[f.agent[lo:hi]]) & set(named)
        if not legal:
            who = _names(named) or "the named agents"
            return f"none of {who} may legally take it (active, region, skills)"
        return f"{_names(sorted(legal))} may take it but have no room for it"
    return reason


def _unowned(prep: Prepared, c: int) -> str:
    d = prep.data
    n = int(d.owner_cand.ptr[c + 1] - d.owner_cand.ptr[c])
    frm = prep.after.customers["owner_id"].iat[c]
    if prep.owner_restricted[c] and frm in prep.receivers and n == 0:
        return f"none of {_names(prep.receivers[frm])} may legally own it (active, region, skills)"
    if n == 0:
        return "no active agent may own it (region, skills)"
    return "every eligible owner is full or at max_customers, or owning it is worth less than its load"


def coverage(priority: np.ndarray, done: np.ndarray) -> float | None:
    total = priority.sum()
    return None if total == 0 else round(float(priority[done].sum() / total), 6)


def handover_kpis(
    prep: Prepared,
    agent_load: pd.DataFrame,
    result: Result,
    table: pd.DataFrame,
    events: list[Event],
    warnings: list[str],
    policy: Policy,
    max_moves: int | None,
    plan_dir: str | Path | None,
    passes: int,
) -> dict:
    """KPI deltas against the plan in force: coverage by priority, unassigned work, load of
    every receiving agent before and after, moves forced and voluntary."""
    d, before, after = prep.data, prep.before, prep.after
    prio = d.priority.astype(int)
    done_before = d.current >= 0
    done_after = result.assign >= 0
    effort = after.tasks["effort_hours"].to_numpy(dtype=float)
    by_p = {}
    for p in range(5, 0, -1):
        m = prio == p
        by_p[str(p)] = {
            "tasks": int(m.sum()),
            "before": int((m & done_before).sum()),
            "after": int((m & done_after).sum()),
            "delta": int((m & done_after).sum() - (m & done_before).sum()),
        }
    cov_b, cov_a = coverage(prio, done_before), coverage(prio, done_after)
    # load in force: on the staffing before the events
    b_ids = before.agents["agent_id"].to_numpy(dtype=object)
    b_cap = dict(zip(b_ids, before.agents["capacity_hours"].astype(float), strict=True))
    b_hours: dict[str, float] = {}
    for a, h in zip(before.tasks["assigned_to"], effort, strict=True):
        if a:
            b_hours[a] = b_hours.get(a, 0.0) + h
    if before.customers is not None:
        own_hours = before.customers["ownership_hours"].astype(float)
        for a, h in zip(before.customers["owner_id"], own_hours, strict=True):
            if a:
                b_hours[a] = b_hours.get(a, 0.0) + h
    load = agent_load.set_index("agent_id")
    receivers = {}
    placed = table[table["to_agent_id"].ne("")]
    for agent, group in placed.groupby("to_agent_id", sort=True):
        cap_b = b_cap.get(agent)
        hb = round(b_hours.get(agent, 0.0), 6)
        row = load.loc[agent]
        receivers[agent] = {
            "received_tasks": int(group["kind"].eq("task").sum()),
            "received_customers": int(group["kind"].eq("customer").sum()),
            "hours_before": hb,
            "hours_after": round(float(row["hours"]), 6),
            "capacity_before": cap_b,
            "capacity_after": float(row["capacity_hours"]),
            "utilization_before": round(hb / cap_b, 6) if cap_b else None,
            "utilization_after": round(float(row["utilization"]), 6),
        }
    causes: dict[str, int] = {}
    forced = table[table["forced"]]
    for kind, ids, kinds in (
        ("task", d.task_ids, prep.cause),
        ("customer", d.customer_ids, prep.owner_cause_kind),
    ):
        rows = pd.Index(ids).get_indexer(forced.loc[forced["kind"].eq(kind), "id"])
        for key in kinds[rows]:
            causes[key] = causes.get(key, 0) + 1
    return {
        "events": [_describe(e, before) for e in events],
        "plan_in_force": str(plan_dir) if plan_dir is not None else "assigned_to and owner_id of the input",
        "policy": policy.name,
        "move_budget": max_moves,
        "passes": passes,
        "moves": {
            "forced": int(table["forced"].sum()),
            "voluntary": int((~table["forced"]).sum()),
            "tasks": int(table["kind"].eq("task").sum()),
            "customers": int(table["kind"].eq("customer").sum()),
            "unplaced": int(table["to_agent_id"].eq("").sum()),
            "pins_broken": int(prep.pin_broken.sum()),
            "forced_by_cause": dict(sorted(causes.items())),
        },
        "coverage": {
            "before": cov_b,
            "after": cov_a,
            "delta": None if cov_b is None or cov_a is None else round(cov_a - cov_b, 6),
        },
        "assigned_by_priority": by_p,
        "unassigned": {
            "tasks_before": int((~done_before).sum()),
            "tasks_after": int((~done_after).sum()),
            "hours_before": round(float(effort[~done_before].sum()), 6),
            "hours_after": round(float(effort[~done_after].sum()), 6),
        },
        "receivers": receivers,
        "warnings": list(warnings),
    }


def _describe(e: Event, before: Scenario) -> str:
    agents = before.agents.set_index("agent_id")
    if isinstance(e, Leave):
        return f"leave {e.leave}" + (f" (to {_names(e.to)})" if e.to else "")
    if isinstance(e, Hire):
        h = e.hire
        return f"hire {h.get('agent_id')} ({h.get('capacity_hours')} h, regions {h.get('regions', '')})"
    if isinstance(e, Capacity):
        ch = e.capacity
        was = agents["capacity_hours"].get(ch.agent)
        return f"capacity {ch.agent}: {was:g} h -> {ch.capacity_hours:g} h" if was is not None else ""
    if isinstance(e, Transfer):
        ch = e.transfer
        regions = ";".join(ch.regions) if isinstance(ch.regions, list) else ch.regions
        return f"transfer {ch.agent}: regions {agents['regions'].get(ch.agent, '')} -> {regions}"
    if isinstance(e, Skills):
        ch = e.skills
        skills = ";".join(ch.skills) if isinstance(ch.skills, list) else ch.skills
        return f"skills {ch.agent}: {agents['skills'].get(ch.agent, '')} -> {skills}"
    return str(e)
