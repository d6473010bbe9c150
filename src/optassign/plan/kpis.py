"""The key figures of a plan, the same for every plan whatever made it: coverage by priority,
reasons left open, utilisation and its spread, moves, owner changes, cost."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optassign.plan.folder import PlanLike, as_plan
from optassign.plan.reasons import REASON_CATEGORIES, reason_category
from optassign.scenario.scenario import Scenario

# KPI rows of a comparison, in order, with a one-line meaning (shown by `optassign compare`).
KPIS: dict[str, str] = {
    "status": "solver status",
    "objective": "objective of the primary stage (points)",
    "gap": "relative gap (0 = proven optimal)",
    "tasks": "tasks in the batch",
    "assigned": "tasks assigned",
    **{f"assigned_p{p}": f"tasks of priority {p} assigned" for p in range(5, 0, -1)},
    "priority_weighted_coverage": "sum of priority assigned / sum of priority",
    "unassigned": "tasks left unassigned",
    **{f"unassigned_{c}": f"unassigned: {c.replace('_', ' ')}" for c in REASON_CATEGORIES},
    "unassigned_hours": "effort hours left unassigned",
    "late_tasks": "tasks finished after their due date (a plan with a horizon)",
    **{f"late_p{p}": f"tasks of priority {p} late" for p in range(5, 0, -1)},
    "late_hours": "effort hours of late tasks",
    "active_agents": "active agents with capacity",
    "utilization_mean": "mean utilisation of active agents",
    "utilization_max": "highest utilisation",
    "utilization_spread": "highest minus lowest utilisation",
    "utilization_gini": "Gini index of utilisation (0 = even, 1 = one agent does all)",
    "cross_region_tasks": "tasks outside their agent's regions (needs the scenario)",
    "agents_per_customer_mean": "agents working for a customer, mean over served customers",
    "agents_per_customer_max": "agents working for one customer, most",
    "moves": "tasks moved away from their agent in force",
    "owner_changes": "customers whose owner changed",
    "cost": "sum of effort_hours x cost_per_hour (needs the scenario's rates)",
    "policy": "policy",
    "solve_seconds": "solve time (s)",
}


PERCENT_KPIS = frozenset(
    {"gap", "priority_weighted_coverage", "utilization_mean", "utilization_max", "utilization_spread"}
)


# --------------------------------------------------------------------------- KPIs
def plan_kpis(plan: PlanLike, scenario: Scenario | None = None) -> dict[str, object]:
    """The KPIs of one plan (keys of `KPIS`, in order). Those that need scenario facts
    (cross-region tasks, cost) come from `scenario` or the plan's own; None when unknown."""
    plan = as_plan(plan, scenario)
    scenario = plan.scenario if plan.scenario is not None else scenario
    a, s = plan.assignments, plan.summary
    done = a["agent_id"].ne("").to_numpy()
    prio = a["priority"].to_numpy(dtype=float, na_value=np.nan)
    effort = a["effort_hours"].to_numpy(dtype=float)
    out: dict[str, object] = dict.fromkeys(KPIS)
    out.update(status=s.get("status"), objective=s.get("objective"), gap=s.get("gap"))
    out["tasks"] = len(a)
    out["assigned"] = int(done.sum())
    for p in range(5, 0, -1):
        out[f"assigned_p{p}"] = int((done & (prio == p)).sum())
    total = np.nansum(prio)
    out["priority_weighted_coverage"] = _r(np.nansum(prio[done]) / total) if total else None
    out["unassigned"] = int((~done).sum())
    kinds = a.loc[~done, "reason"].map(reason_category).value_counts()
    for c in REASON_CATEGORIES:
        out[f"unassigned_{c}"] = int(kinds.get(c, 0))
    out["unassigned_hours"] = _r(effort[~done].sum())
    if "late_days" in a:  # a plan made with a horizon
        late = done & (pd.to_numeric(a["late_days"], errors="coerce").fillna(0).to_numpy() > 0)
        out["late_tasks"] = int(late.sum())
        for p in range(5, 0, -1):
            out[f"late_p{p}"] = int((late & (prio == p)).sum())
        out["late_hours"] = _r(effort[late].sum())
    out.update(_utilisation(plan.agent_load))
    out["cross_region_tasks"] = _cross_region(a, scenario)
    served = a[done & a["customer_id"].ne("").to_numpy()]
    per_customer = served.groupby("customer_id")["agent_id"].nunique()
    out["agents_per_customer_mean"] = _r(per_customer.mean()) if len(per_customer) else None
    out["agents_per_customer_max"] = int(per_customer.max()) if len(per_customer) else None
    out["moves"] = int(a["changed"].sum())
    out["owner_changes"] = None if plan.owners is None else int(plan.owners["changed"].sum())
    out["cost"] = _cost(a, scenario)
    out["policy"] = s.get("policy")
    out["solve_seconds"] = s.get("solve_seconds")
    return out


def _r(x: float) -> float:
    return round(float(x), 6) + 0.0


def _utilisation(load: pd.DataFrame) -> dict[str, object]:
    """Utilisation over active agents with capacity; Gini = mean absolute difference / (2 mean)."""
    active = load["active"].to_numpy(dtype=bool)  # as the run had them (a sweep may change staff)
    util = load["utilization"].to_numpy(dtype=float)[active & (load["capacity_hours"].to_numpy() > 0)]
    util = util[np.isfinite(util)]
    if not len(util):
        return {"active_agents": 0}
    x = np.sort(util)
    n = len(x)
    gini = (2 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n) if x.sum() > 0 else 0.0
    return {
        "active_agents": n,
        "utilization_mean": _r(x.mean()),
        "utilization_max": _r(x[-1]),
        "utilization_spread": _r(x[-1] - x[0]),
        "utilization_gini": _r(gini),
    }


def _cross_region(a: pd.DataFrame, scenario: Scenario | None) -> int | None:
    """Assigned tasks whose region (own or customer's) their agent does not cover."""
    if scenario is None:
        return None
    region = a["task_id"].map(pd.Series(scenario.task_region.to_numpy(), index=scenario.tasks["task_id"]))
    covers = scenario.agent_regions
    agent = scenario.agents["agent_id"].to_numpy(dtype=object)[covers["row"].to_numpy()]
    star = pd.Index(agent[covers["item"].eq("*").to_numpy()])
    pairs = pd.MultiIndex.from_arrays([agent, covers["item"].to_numpy(dtype=object)])
    placed = a["agent_id"].ne("") & region.fillna("").ne("")
    here = pd.MultiIndex.from_arrays(
        [a["agent_id"].to_numpy(dtype=object), region.fillna("").to_numpy(dtype=object)]
    )
    inside = a["agent_id"].isin(star).to_numpy() | here.isin(pairs)
    return int((placed & ~inside).sum())


def _cost(a: pd.DataFrame, scenario: Scenario | None) -> float | None:
    if scenario is None or not (scenario.agents["cost_per_hour"].fillna(0) > 0).any():
        return None
    rate = a["agent_id"].map(scenario.agents.set_index("agent_id")["cost_per_hour"]).fillna(0.0)
    return _r((rate * a["effort_hours"]).sum())
