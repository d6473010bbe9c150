"""Plans side by side: read plan folders back (`read_plan`), measure each with the same KPIs
(`plan_kpis`) and list the tasks whose agent differs (`diff_plans`). Reads plans, never solves."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optassign.analysis.explain import REASON_CATEGORIES, reason_category
from optassign.contract.io import read_table, write_csv
from optassign.contract.schema import (
    PLAN_ASSIGNMENTS,
    PLAN_OWNERS,
    Column,
    InputProblem,
    ScenarioError,
    Table,
)
from optassign.contract.writer import atomic_folder
from optassign.plan.plan import Plan
from optassign.scenario.scenario import Scenario, load_scenario

__all__ = [
    "KPIS",
    "Comparison",
    "compare",
    "diff_plans",
    "plan_kpis",
    "read_plan",
]

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
        _check_same_tasks(a["task_id"], scenario.tasks["task_id"], label, f"scenario {scenario.name}")
        tasks = scenario.tasks.set_index("task_id")
        for column in ("priority", "effort_hours"):
            a[column] = a[column].fillna(a["task_id"].map(tasks[column]))
        a["customer_id"] = a["customer_id"].where(
            a["customer_id"].ne(""), a["task_id"].map(tasks["customer_id"])
        )
    a["priority"] = a["priority"].astype("Int64")
    return a


def _check_same_tasks(mine: pd.Series, theirs: pd.Series, label: str, other: str) -> None:
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


def _few(ids: list, n: int = 5) -> str:
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


# --------------------------------------------------------------------------- diff
def diff_plans(a: PlanLike, b: PlanLike) -> pd.DataFrame:
    """Tasks whose agent differs between plan a and plan b ("" = unassigned), the most urgent
    first (then in the batch's order): task_id, agent_a, agent_b, priority, effort_hours,
    customer_id."""
    a, b = as_plan(a), as_plan(b)
    _check_same_tasks(b.assignments["task_id"], a.assignments["task_id"], "second plan", "first plan")
    left = a.assignments[["task_id", "agent_id", "priority", "effort_hours", "customer_id"]]
    right = b.assignments[["task_id", "agent_id"]]
    both = left.merge(right, on="task_id", suffixes=("_a", "_b"), how="left", validate="one_to_one")
    both["order"] = np.arange(len(both))
    changed = both[both["agent_id_a"].ne(both["agent_id_b"])]
    changed = changed.sort_values(["priority", "order"], ascending=[False, True], kind="stable")
    return changed.rename(columns={"agent_id_a": "agent_a", "agent_id_b": "agent_b"})[
        ["task_id", "agent_a", "agent_b", "priority", "effort_hours", "customer_id"]
    ].reset_index(drop=True)


# --------------------------------------------------------------------------- comparing
@dataclass
class Comparison:
    """Plans measured side by side: `kpis` (rows = KPIs, columns = plans) and `diff` (tasks
    whose agent differs from the first plan, one block per other plan)."""

    names: list[str]
    plans: list[Plan]
    kpis: pd.DataFrame
    diff: pd.DataFrame

    def write(self, out: str | Path) -> Path:
        """kpis.csv and diff.csv into `out`, atomically."""
        out = Path(out)
        with atomic_folder(out, kind="comparison") as tmp:
            write_csv(self.kpis.rename_axis("kpi").reset_index(), tmp / "kpis.csv")
            write_csv(self.diff, tmp / "diff.csv")
        return out


def compare(
    *plans: PlanLike | Sequence[PlanLike],
    scenario: Scenario | str | Path | None = None,
    names: Sequence[str] | None = None,
) -> Comparison:
    """Compare plans (Plan objects or plan folders) of one scenario.

    compare("plans/a", "plans/b") or compare([plan_a, plan_b], names=["now", "new"]). All plans
    must hold the same tasks; otherwise a `ScenarioError` says which ids differ."""
    if len(plans) == 1 and isinstance(plans[0], list | tuple):
        plans = tuple(plans[0])
    if not plans:
        raise ValueError("compare needs at least one plan")
    if scenario is not None and not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    labels = list(names) if names is not None else [_default_name(p, i) for i, p in enumerate(plans)]
    if len(labels) != len(plans):
        raise ValueError(f"{len(labels)} names for {len(plans)} plans")
    labels = _unique(labels)
    loaded, problems = [], []
    for p in plans:  # read every plan, so all broken folders are reported together
        try:
            loaded.append(as_plan(p, scenario))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    first = loaded[0].assignments["task_id"]
    for label, plan in zip(labels[1:], loaded[1:], strict=True):
        _check_same_tasks(plan.assignments["task_id"], first, f"plan {label}", f"plan {labels[0]}")
    kpis = pd.DataFrame(
        {
            label: pd.Series(plan_kpis(p, scenario), dtype=object)
            for label, p in zip(labels, loaded, strict=True)
        }
    )
    kpis.index.name = "kpi"
    blocks = []
    for label, plan in zip(labels[1:], loaded[1:], strict=True):
        d = diff_plans(loaded[0], plan)
        d.insert(0, "plan_b", label)
        d.insert(0, "plan_a", labels[0])
        blocks.append(d)
    diff = (
        pd.concat(blocks, ignore_index=True)
        if blocks
        else pd.DataFrame(columns=["plan_a", "plan_b", "task_id", "agent_a", "agent_b", "priority"])
    )
    return Comparison(labels, loaded, kpis, diff)


def _default_name(plan: PlanLike | Sequence, i: int) -> str:
    if isinstance(plan, str | Path):
        return Path(plan).resolve().name or f"plan{i + 1}"
    return f"plan{i + 1}"


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out
