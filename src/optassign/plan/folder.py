"""Plan folders read back into a Plan (assignments.csv, owners.csv, agent_load.csv, summary.json),
checked against the contract and, when given, against the scenario they were solved for."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from optassign.contract.io import read_table
from optassign.contract.schema import (
    PLAN_ASSIGNMENTS,
    PLAN_OWNERS,
    Column,
    InputProblem,
    ScenarioError,
    Table,
)
from optassign.plan.plan import Plan
from optassign.scenario.scenario import Scenario, load_scenario

PlanLike = Plan | str | Path


# Plan files as read back: the contract's columns plus the extras optassign writes. Only the
# keys are required; a missing optional column reads as absent (NaN, "" or false).
_ASSIGNMENTS = Table(
    "assignments.csv",
    "task_id",
    (
        *PLAN_ASSIGNMENTS.columns,
        Column("previous_agent_id", "ref"),
        Column("changed", "bool", default=False),
        Column("priority", "integer", minimum=1, maximum=5),
        Column("effort_hours", "number", minimum=0),
        Column("reason"),
        Column("customer_id", "ref"),
        Column("due_date"),
    ),
)


_OWNERS = Table(
    "owners.csv",
    "customer_id",
    (
        *PLAN_OWNERS.columns,
        Column("previous_owner_id", "ref"),
        Column("changed", "bool", default=False),
        Column("tier"),
        Column("region"),
    ),
)


_AGENT_LOAD = Table(
    "agent_load.csv",
    "agent_id",
    (
        Column("agent_id", "id", required=True, nonempty=True),
        Column("tasks", "integer", minimum=0),
        Column("hours", "number"),
        Column("capacity_hours", "number", minimum=0),
        Column("utilization", "number"),
        Column("active", "bool", default=True),
    ),
)


PLAN_FILES = ("assignments.csv", "owners.csv", "agent_load.csv", "summary.json")


# --------------------------------------------------------------------------- reading plans
def read_plan(folder: str | Path, scenario: Scenario | str | Path | None = None) -> Plan:
    """A plan folder read back as a `Plan` (no result or problem data behind it).

    With a scenario (object or folder), the plan must cover exactly its tasks, and columns the
    plan lacks (priority, effort_hours, customer_id) are taken from it. Every problem found
    (missing files, unreadable rows, tasks of another scenario) is raised in one
    `ScenarioError`."""
    folder = Path(folder)
    if scenario is not None and not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not folder.is_dir():
        raise ScenarioError([InputProblem(str(folder), None, None, None, "plan folder not found")])
    problems: list[InputProblem] = []

    def label(name: str) -> str:
        return str(folder / name)

    assignments = None
    if (folder / "assignments.csv").is_file():
        assignments = read_table(folder / "assignments.csv", _ASSIGNMENTS, problems, label("assignments.csv"))
    else:
        problems.append(
            InputProblem(label("assignments.csv"), None, None, None, "file not found: not a plan folder?")
        )
    summary = _read_summary(folder / "summary.json", problems, label("summary.json"))
    owners = agent_load = None
    if (folder / "owners.csv").is_file():
        owners = read_table(folder / "owners.csv", _OWNERS, problems, label("owners.csv"))
    if (folder / "agent_load.csv").is_file():
        agent_load = read_table(folder / "agent_load.csv", _AGENT_LOAD, problems, label("agent_load.csv"))
    if problems:
        raise ScenarioError(problems)
    for frame, spec in ((assignments, _ASSIGNMENTS), (owners, _OWNERS), (agent_load, _AGENT_LOAD)):
        if frame is not None:
            _infer_extra(frame, spec)
    extra = {
        p.name: pd.read_csv(p, dtype=str, keep_default_na=False, na_filter=False)
        for p in sorted(folder.glob("*.csv"))
        if p.name not in PLAN_FILES
    }
    assignments = _typed_assignments(assignments, scenario, label("assignments.csv"))
    if owners is not None:
        owners.attrs = {}
    if agent_load is None:
        agent_load = _empty_load()
    else:
        agent_load["tasks"] = agent_load["tasks"].fillna(0).astype(int)
        agent_load.attrs = {}
    return Plan(scenario, assignments, owners, agent_load, summary, extra_tables=extra)


def _infer_extra(frame: pd.DataFrame, spec: Table) -> None:
    """Extra columns (not in the contract) back to numbers or booleans when every cell reads
    as one; otherwise they stay text."""
    known = {c.name for c in spec.columns}
    for name in frame.columns:
        if name in known:
            continue
        text = frame[name].astype(str)
        filled = text.ne("")
        if not filled.any():
            continue
        low = text.str.lower()
        if low[filled].isin(["true", "false"]).all() and filled.all():
            frame[name] = low.eq("true")
            continue
        num = pd.to_numeric(text.where(filled), errors="coerce")
        if num[filled].notna().all():
            frame[name] = num


def _read_summary(path: Path, problems: list[InputProblem], label: str) -> dict:
    if not path.is_file():
        problems.append(InputProblem(label, None, None, None, "file not found: not a plan folder?"))
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(InputProblem(label, getattr(exc, "lineno", None), None, None, f"not JSON: {exc}"))
        return {}
    if not isinstance(data, dict):
        problems.append(InputProblem(label, None, None, None, "expected a JSON object"))
        return {}
    return data


def _typed_assignments(a: pd.DataFrame, scenario: Scenario | None, label: str) -> pd.DataFrame:
    a = a.copy()
    a.attrs = {}
    if scenario is not None:
        check_same_tasks(a["task_id"], scenario.tasks["task_id"], label, f"scenario {scenario.name}")
        tasks = scenario.tasks.set_index("task_id")
        for column in ("priority", "effort_hours"):
            a[column] = a[column].fillna(a["task_id"].map(tasks[column]))
        a["customer_id"] = a["customer_id"].where(
            a["customer_id"].ne(""), a["task_id"].map(tasks["customer_id"])
        )
    a["priority"] = a["priority"].astype("Int64")
    return a


def check_same_tasks(mine: pd.Series, theirs: pd.Series, label: str, other: str) -> None:
    """Raise unless both hold the same task ids: a plan of another scenario is an input error."""
    extra = mine[~mine.isin(theirs)].tolist()
    missing = theirs[~theirs.isin(mine)].tolist()
    if not extra and not missing:
        return
    parts = []
    if extra:
        parts.append(f"{len(extra)} task ids not in {other} ({_few(extra)})")
    if missing:
        parts.append(f"{len(missing)} task ids of {other} missing ({_few(missing)})")
    raise ScenarioError(
        [
            InputProblem(
                label,
                None,
                "task_id",
                None,
                f"plan of a different scenario? {'; '.join(parts)}",
            )
        ]
    )


def _few(ids: Sequence, n: int = 5) -> str:
    """The first n ids, and how many more: for messages about sets of ids."""
    shown = ", ".join(map(str, ids[:n]))
    return shown + (f" and {len(ids) - n} more" if len(ids) > n else "")


def _empty_load() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agent_id": pd.Series([], dtype=object),
            "tasks": pd.Series([], dtype=int),
            "hours": pd.Series([], dtype=float),
            "capacity_hours": pd.Series([], dtype=float),
            "utilization": pd.Series([], dtype=float),
            "active": pd.Series([], dtype=bool),
        }
    )


def as_plan(plan: PlanLike, scenario: Scenario | None = None) -> Plan:
    """A Plan as is, or a plan folder read back."""
    return plan if isinstance(plan, Plan) else read_plan(plan, scenario)


# --------------------------------------------------------------------------- plan in force
def with_plan_in_force(scenario: Scenario, folder: str | Path) -> Scenario:
    """The scenario whose `assigned_to` / `owner_id` are the agent_id / owner_id of a plan folder.

    The plan must be of this scenario: the same task ids (and customer ids), agents that exist.
    A pin stays only where the plan kept the pinned agent (a pin broken earlier is history)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError([InputProblem(str(folder), None, None, None, "plan folder not found")])
    problems: list[InputProblem] = []
    label = str(folder / "assignments.csv")
    plan = read_table(folder / "assignments.csv", PLAN_ASSIGNMENTS, problems, label)
    owners = None
    if scenario.customers is not None:
        owners = read_table(folder / "owners.csv", PLAN_OWNERS, problems, str(folder / "owners.csv"))
    if problems:
        raise ScenarioError(problems)
    agent_ids = set(scenario.agents["agent_id"])

    def same_ids(frame: pd.DataFrame, key: str, expected: pd.Series, file: str, source: str) -> None:
        missing = sorted(set(expected) - set(frame[key]))
        unknown = sorted(set(frame[key]) - set(expected))
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"{len(missing)} of {source} missing ({_few(missing)})")
            if unknown:
                parts.append(f"{len(unknown)} not in {source} ({_few(unknown)})")
            problems.append(
                InputProblem(
                    file,
                    None,
                    key,
                    None,
                    f"{key}s do not match the scenario: {'; '.join(parts)}; "
                    "--plan needs a plan folder written for this scenario",
                )
            )

    def known_agents(frame: pd.DataFrame, column: str, file: str) -> None:
        lines = frame.attrs.get("lines", np.arange(len(frame)) + 2)
        bad = ~frame[column].isin(agent_ids) & frame[column].ne("")
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                InputProblem(
                    file,
                    int(lines[i]),
                    column,
                    str(frame[column].iat[i]),
                    f"not an agent_id of {scenario.config.agents}",
                )
            )

    same_ids(plan, "task_id", scenario.tasks["task_id"], label, scenario.config.tasks)
    known_agents(plan, "agent_id", label)
    if owners is not None and scenario.customers is not None:
        cust_file = str(folder / "owners.csv")
        same_ids(owners, "customer_id", scenario.customers["customer_id"], cust_file, "customers.csv")
        known_agents(owners, "owner_id", cust_file)
    if problems:
        raise ScenarioError(problems)
    tasks = scenario.tasks.copy()
    agent = tasks["task_id"].map(plan.set_index("task_id")["agent_id"]).astype(object)
    tasks["pinned"] = tasks["pinned"].to_numpy(dtype=bool) & (agent == tasks["assigned_to"]).to_numpy()
    tasks["assigned_to"] = agent
    customers = scenario.customers
    if owners is not None and customers is not None:
        customers = customers.copy()
        new_owner = customers["customer_id"].map(owners.set_index("customer_id")["owner_id"])
        customers["owner_id"] = new_owner.astype(object)
    return scenario.replace(tasks=tasks, customers=customers)
