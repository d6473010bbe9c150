"""Plans side by side: read plan folders back (`read_plan`), measure each with the same KPIs
(`plan_kpis`) and list the tasks whose agent differs (`diff_plans`). Reads plans, never solves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optassign.contract.io import write_csv
from optassign.contract.schema import ScenarioError
from optassign.contract.writer import atomic_folder
from optassign.plan.folder import PlanLike, as_plan, check_same_tasks
from optassign.plan.kpis import plan_kpis
from optassign.plan.plan import Plan
from optassign.scenario.scenario import Scenario, load_scenario

__all__ = [
    "Comparison",
    "compare",
    "diff_plans",
]


# --------------------------------------------------------------------------- diff
def diff_plans(a: PlanLike, b: PlanLike) -> pd.DataFrame:
    """Tasks whose agent differs between plan a and plan b ("" = unassigned), the most urgent
    first (then in the batch's order): task_id, agent_a, agent_b, priority, effort_hours,
    customer_id."""
    a, b = as_plan(a), as_plan(b)
    check_same_tasks(b.assignments["task_id"], a.assignments["task_id"], "second plan", "first plan")
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
        check_same_tasks(plan.assignments["task_id"], first, f"plan {label}", f"plan {labels[0]}")
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
