"""`Plan`: a solve's result as the contract's tables (assignments, owners, agent load, summary)
in pandas, derived from the `Result` and the scenario; written as a plan folder by `write`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from optassign.contract.io import write_csv
from optassign.contract.writer import atomic_folder
from optassign.engine import days
from optassign.engine.problem import HOUR_SCALE, ProblemData
from optassign.engine.result import Result
from optassign.plan.reasons import reasons as why_assigned
from optassign.scenario.scenario import Scenario


def optassign_version() -> str:
    try:
        return metadata.version("optassign")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def ortools_version() -> str:
    import ortools

    return ortools.__version__


@dataclass
class Plan:
    """The tables of a plan folder as DataFrames, with the result and problem behind them."""

    scenario: Scenario
    assignments: pd.DataFrame
    owners: pd.DataFrame | None
    agent_load: pd.DataFrame
    summary: dict
    result: Result | None = None
    data: ProblemData | None = None
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def unassigned(self) -> pd.DataFrame:
        return self.assignments[self.assignments["agent_id"].eq("")]

    def write(self, out: str | Path) -> Path:
        """Write the plan folder atomically: readers see the old folder or the whole new one.
        Only a missing or empty folder, or a plan folder optassign wrote, is replaced."""
        out = Path(out)
        with atomic_folder(out) as tmp:
            self.write_into(tmp)
        return out

    def write_into(self, folder: Path) -> None:
        """The plan's files into `folder` (a fresh one: see `write` and `atomic_folder`)."""
        write_csv(self.assignments, folder / "assignments.csv")
        if self.owners is not None:
            write_csv(self.owners, folder / "owners.csv")
        write_csv(self.agent_load, folder / "agent_load.csv")
        for name, table in self.extra_tables.items():
            write_csv(table, folder / name)
        (folder / "summary.json").write_text(
            json.dumps(self.summary, indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )


def build_plan(
    scenario: Scenario,
    data: ProblemData,
    result: Result,
    *,
    reasons: np.ndarray | None = None,
    extra_tables: Mapping[str, pd.DataFrame] | None = None,
    summary_extra: Mapping[str, object] | None = None,
) -> Plan:
    """Derive the contract's tables from a result; nothing here changes the assignment.

    `reasons` (one per task) replace the generated ones where a caller knows better (a
    handover says why a task moved); `extra_tables` are further files of the plan folder
    (handover.csv, frontier.csv) and `summary_extra` further sections of summary.json."""
    assign, owner = result.assign, result.owner
    tasks = scenario.tasks
    agent_ids = np.append(data.agent_ids, "")
    agent = agent_ids[assign]  # -1 picks ""
    previous = tasks["assigned_to"].to_numpy(dtype=object)
    changed = (agent != previous) & (previous != "")
    assignments = pd.DataFrame(
        {
            "task_id": tasks["task_id"].to_numpy(dtype=object),
            "agent_id": agent,
            "previous_agent_id": previous,
            "changed": changed,
            "priority": tasks["priority"].astype(int).to_numpy(),
            "effort_hours": tasks["effort_hours"].to_numpy(),
            "reason": why_assigned(data, assign, owner, late=result.late) if reasons is None else reasons,
            "customer_id": tasks["customer_id"].to_numpy(dtype=object),
            "due_date": tasks["due_date"].dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object),
        }
    )

    owners = None
    if scenario.customers is not None:
        cust = scenario.customers
        own = agent_ids[owner]
        prev_owner = cust["owner_id"].to_numpy(dtype=object)
        owners = pd.DataFrame(
            {
                "customer_id": cust["customer_id"].to_numpy(dtype=object),
                "owner_id": own,
                "previous_owner_id": prev_owner,
                "changed": (own != prev_owner) & (prev_owner != ""),
                "tier": cust["tier"].to_numpy(dtype=object),
                "region": cust["region"].to_numpy(dtype=object),
            }
        )

    agent_load = agent_load_table(scenario, data, assign, owner)
    tables = dict(extra_tables or {})
    summary_time = {}
    if data.day_cum is not None:
        worklists, agent_days, summary_time = _days(scenario, data, result, assignments)
        tables = {"worklists.csv": worklists, "agent_days.csv": agent_days, **tables}
    summary = _summary(scenario, data, result, assignments, owners, agent_load)
    summary.update(summary_time)
    summary.update(summary_extra or {})
    return Plan(scenario, assignments, owners, agent_load, summary, result, data, tables)


def _days(
    scenario: Scenario, d: ProblemData, result: Result, assignments: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """With a horizon: assignments.csv gains planned_date (the day a task is finished, each
    agent working its on-time tasks earliest due first, then its late ones), start_date and
    late_days; the worklists (agent_id, position, task_id, ...) and agent_days (agent_id, date,
    available_hours, planned_hours) tables; summary.json's horizon and late work by priority."""
    assign, owner = result.assign, result.owner
    late = result.late if result.late is not None else np.zeros(d.n_tasks, dtype=bool)
    sch = days.schedule(d, assign, owner, late)
    dates = np.append(np.datetime_as_string(d.day_dates, unit="D").astype(object), "")
    finish, start = sch["finish"], sch["start"]
    late_days = np.where(finish >= 0, np.maximum(finish - d.task_due, 0), 0)
    assignments["start_date"] = dates[start]
    assignments["planned_date"] = dates[finish]
    assignments["late_days"] = late_days
    on = np.flatnonzero(assign >= 0)
    on = on[np.lexsort((sch["position"][on], assign[on]))]
    agent_ids = d.agent_ids
    worklists = pd.DataFrame(
        {
            "agent_id": agent_ids[assign[on]],
            "position": sch["position"][on],
            "task_id": d.task_ids[on],
            "start_date": dates[start[on]],
            "planned_date": dates[finish[on]],
            "due_date": assignments["due_date"].to_numpy(dtype=object)[on],
            "hours": scenario.tasks["effort_hours"].to_numpy(dtype=float)[on],
            "priority": d.priority[on].astype(int),
            "late_days": late_days[on],
        }
    )
    A, H = d.day_cum.shape
    agent_days = pd.DataFrame(
        {
            "agent_id": np.repeat(agent_ids, H),
            "date": np.tile(dates[:H], A),
            "available_hours": (sch["available"] / HOUR_SCALE).ravel().round(2),
            "planned_hours": (sch["planned"] / HOUR_SCALE).ravel().round(2),
        }
    )
    effort = scenario.tasks["effort_hours"].to_numpy(dtype=float)
    late_on = late_days > 0
    by_priority = {
        str(p): {
            "tasks": int((late_on & (d.priority == p)).sum()),
            "hours": round(float(effort[late_on & (d.priority == p)].sum()), 6),
        }
        for p in range(5, 0, -1)
    }
    horizon = scenario.config.horizon
    summary = {
        "horizon": {
            "start": str(horizon.start),
            "days": horizon.days,
            "working_days": int(days_working(scenario)),
            "due_dates": "hard" if d.due_hard else "soft",
        },
        "late": {
            "tasks": int(late_on.sum()),
            "hours": round(float(effort[late_on].sum()), 6),
            "by_priority": by_priority,
        },
    }
    return worklists, agent_days, summary


def days_working(scenario: Scenario) -> int:
    return int(scenario.days.working.sum()) if scenario.days is not None else 0


def agent_load_table(
    scenario: Scenario, d: ProblemData, assign: np.ndarray, owner: np.ndarray
) -> pd.DataFrame:
    """Per agent: tasks, true hours (the input's effort and ownership hours, not the solver's
    rounded-up units), capacity and utilisation."""
    done = assign >= 0
    effort = scenario.tasks["effort_hours"].to_numpy(dtype=float)
    task_hours = np.bincount(assign[done], weights=effort[done], minlength=d.n_agents)
    owned = owner >= 0
    own = np.zeros(d.n_customers)
    if scenario.customers is not None:
        own = scenario.customers["ownership_hours"].to_numpy(dtype=float)
    own_hours = np.bincount(owner[owned], weights=own[owned], minlength=d.n_agents)
    hours = np.round(task_hours + own_hours, 6)
    capacity = scenario.agents["capacity_hours"].to_numpy(dtype=float)
    if d.day_cum is not None:  # with a horizon the capacity is the calendar's hours
        capacity = d.capacity / HOUR_SCALE
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(capacity > 0, hours / capacity, 0.0)
    return pd.DataFrame(
        {
            "agent_id": d.agent_ids,
            "tasks": np.bincount(assign[done], minlength=d.n_agents),
            "hours": hours,
            "capacity_hours": capacity,
            "utilization": np.round(util, 6),
            "task_hours": np.round(task_hours, 6),
            "ownership_hours": np.round(own_hours, 6),
            "customers": np.bincount(owner[owned], minlength=d.n_agents),
            "active": d.active,
        }
    )


def _num(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def _summary(
    scenario: Scenario,
    d: ProblemData,
    r: Result,
    assignments: pd.DataFrame,
    owners: pd.DataFrame | None,
    load: pd.DataFrame,
) -> dict:
    prio = assignments["priority"].to_numpy()
    done = assignments["agent_id"].to_numpy() != ""
    total = prio.sum()
    active = load[load["active"] & (load["capacity_hours"] > 0)]
    by_priority = {
        str(p): {"tasks": int((prio == p).sum()), "assigned": int(((prio == p) & done).sum())}
        for p in range(5, 0, -1)
    }
    return {
        "status": r.status.value,
        "objective": _num(r.objective),
        "best_bound": _num(r.best_bound),
        "gap": _num(r.gap),
        "solve_seconds": round(r.runtime, 3),
        "tasks": int(len(assignments)),
        "assigned": int(done.sum()),
        "unassigned": int((~done).sum()),
        "priority_weighted_coverage": _num(prio[done].sum() / total) if total else None,
        "assigned_by_priority": by_priority,
        "assigned_hours": _num(assignments["effort_hours"].to_numpy()[done].sum()),
        "unassigned_hours": _num(assignments["effort_hours"].to_numpy()[~done].sum()),
        "moves": int(assignments["changed"].sum()),
        "moves_by_priority": {
            str(p): int(((prio == p) & assignments["changed"].to_numpy(dtype=bool)).sum())
            for p in range(5, 0, -1)
        },
        "customers": 0 if owners is None else int(len(owners)),
        "owned_customers": 0 if owners is None else int(owners["owner_id"].ne("").sum()),
        "owner_changes": 0 if owners is None else int(owners["changed"].sum()),
        "utilization_mean": _num(active["utilization"].mean()) if len(active) else None,
        "utilization_max": _num(active["utilization"].max()) if len(active) else None,
        "policy": scenario.policy.name,
        "scenario": scenario.name,
        "seed": r.seed,
        "workers": r.workers,
        "time_limit": r.time_limit,
        "total_objective": _num(r.total_objective),
        "objective_terms": {k: _num(v) for k, v in r.terms.items()},
        "stages": [
            {
                "terms": s.terms,
                "status": s.status.value,
                "objective": _num(s.objective),
                "best_bound": _num(s.best_bound),
                "gap": _num(s.gap),
                "seconds": s.seconds,
            }
            for s in r.stages
        ],
        "statistics": r.statistics,
        "inputs": scenario.hashes,
        "optassign_version": optassign_version(),
        "ortools_version": ortools_version(),
    }
