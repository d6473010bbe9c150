"""compare.py: plan folders read back, KPIs (hand-computed on tiny plans), the plan diff, and
`optassign compare` on good and bad input (another scenario's plan, missing files: exit 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import optassign
from optassign.analysis.compare import compare, diff_plans
from optassign.cli.main import app
from optassign.plan.folder import read_plan
from optassign.plan.kpis import KPIS, plan_kpis
from tests.checker import assert_plan_ok
from tests.conftest import AGENTS, TASKS, edit_csv, make_scenario, read_csv, write_csv

FAST = {"time_limit": 3, "workers": 1, "seed": 0}


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> dict[str, Path]:
    """The tiny scenario solved under two policies, written as plan folders (checked)."""
    root = tmp_path_factory.mktemp("compare")
    scenario = make_scenario(root / "tiny")
    out = {"scenario": scenario}
    for policy in ("balanced", "continuity"):
        plan = optassign.solve(scenario, policy=policy, **FAST)
        out[policy] = plan.write(root / policy)
        assert_plan_ok(scenario, out[policy])
    return out


def hand_plan(agents: list[str], reasons: list[str], util: list[float], active: list[bool]):
    """A Plan built by hand: 4 tasks of priorities 5, 4, 2, 1 and effort 1, 2, 3, 4 h."""
    assignments = pd.DataFrame(
        {
            "task_id": ["T1", "T2", "T3", "T4"],
            "agent_id": agents,
            "previous_agent_id": ["A1", "", "", "A2"],
            "changed": [a != p and p != "" for a, p in zip(agents, ["A1", "", "", "A2"], strict=True)],
            "priority": [5, 4, 2, 1],
            "effort_hours": [1.0, 2.0, 3.0, 4.0],
            "reason": reasons,
            "customer_id": ["C1", "C1", "C2", ""],
            "due_date": [""] * 4,
        }
    )
    load = pd.DataFrame(
        {
            "agent_id": [f"A{i + 1}" for i in range(len(util))],
            "tasks": [0] * len(util),
            "hours": [0.0] * len(util),
            "capacity_hours": [10.0] * len(util),
            "utilization": util,
            "active": active,
        }
    )
    summary = {"status": "OPTIMAL", "objective": 12.5, "gap": 0.0, "policy": "balanced", "solve_seconds": 0.1}
    return optassign.Plan(None, assignments, None, load, summary)


# --------------------------------------------------------------------------- KPIs by hand
def test_kpis_of_a_hand_made_plan():
    plan = hand_plan(
        ["A1", "A2", "", ""],
        [
            "pinned",
            "assigned: best of 2 eligible agents",
            "no active agent covers region S with billing>=3 (0 cover S, 2 have the skills elsewhere)",
            "all 2 eligible agents are at capacity with higher-value work (priority >= 2)",
        ],
        util=[0.5, 1.0, 0.0],
        active=[True, True, False],
    )
    k = plan_kpis(plan)
    assert list(k) == list(KPIS)
    assert k["assigned"] == 2 and k["unassigned"] == 2
    assert (k["assigned_p5"], k["assigned_p4"], k["assigned_p2"], k["assigned_p1"]) == (1, 1, 0, 0)
    assert k["priority_weighted_coverage"] == pytest.approx(9 / 12)  # (5 + 4) / (5 + 4 + 2 + 1)
    assert k["unassigned_no_eligible_agent"] == 1 and k["unassigned_agents_full"] == 1
    assert k["unassigned_hours"] == 7.0  # 3 + 4
    # utilisation over the two active agents: 0.5 and 1.0 (A3 is inactive)
    assert k["active_agents"] == 2
    assert k["utilization_mean"] == pytest.approx(0.75)
    assert k["utilization_spread"] == pytest.approx(0.5)
    # Gini = sum |xi - xj| / (2 n^2 mean) = (0.5 + 0.5) / (2 * 4 * 0.75) = 1/6
    assert k["utilization_gini"] == pytest.approx(1 / 6, abs=1e-6)
    # C1 is served by A1 and A2, nobody serves C2 (T3 unassigned)
    assert k["agents_per_customer_mean"] == 2 and k["agents_per_customer_max"] == 2
    assert k["moves"] == 1  # T4 left A2
    assert k["cross_region_tasks"] is None and k["cost"] is None  # no scenario facts
    assert k["status"] == "OPTIMAL" and k["objective"] == 12.5


def test_even_utilisation_has_gini_zero():
    k = plan_kpis(hand_plan(["A1", "A2", "A1", "A2"], ["x"] * 4, [0.6, 0.6, 0.6], [True] * 3))
    assert k["utilization_gini"] == 0 and k["utilization_spread"] == 0


def test_cross_region_and_cost_come_from_the_scenario(solved, tmp_path):
    plan_dir = tmp_path / "plan"
    shutil.copytree(solved["balanced"], plan_dir)
    rows = read_csv(plan_dir / "assignments.csv")
    line = next(i for i, r in enumerate(rows) if r["task_id"] == "T6") + 2
    edit_csv(plan_dir / "assignments.csv", line, agent_id="A1")  # T6 is in region S, A1 covers N
    k = plan_kpis(read_plan(plan_dir, solved["scenario"]))
    assert k["cross_region_tasks"] == 1
    rate = {a["agent_id"]: float(a["cost_per_hour"] or 0) for a in AGENTS}
    effort = {t["task_id"]: float(t["effort_hours"]) for t in TASKS}
    rows = read_csv(plan_dir / "assignments.csv")
    expected = sum(effort[r["task_id"]] * rate[r["agent_id"]] for r in rows if r["agent_id"])
    assert k["cost"] == pytest.approx(expected)


# --------------------------------------------------------------------------- reading back
def test_read_plan_round_trip(solved):
    plan = optassign.solve(solved["scenario"], **FAST)
    back = read_plan(solved["balanced"])
    assert back.scenario is None and back.result is None
    assert back.assignments["task_id"].tolist() == plan.assignments["task_id"].tolist()
    assert back.assignments["agent_id"].tolist() == plan.assignments["agent_id"].tolist()
    assert back.assignments["priority"].tolist() == plan.assignments["priority"].tolist()
    assert back.assignments["changed"].dtype == bool
    assert back.owners["owner_id"].tolist() == plan.owners["owner_id"].tolist()
    assert back.agent_load["ownership_hours"].dtype == float  # an extra column read as numbers
    assert back.summary == json.loads((solved["balanced"] / "summary.json").read_text())
    # same KPIs from the folder as from the Plan in memory (scenario facts from the scenario)
    scenario = optassign.load_scenario(solved["scenario"])
    assert plan_kpis(back, scenario) | {"solve_seconds": 0} == plan_kpis(plan) | {"solve_seconds": 0}


def test_read_plan_reports_every_missing_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(optassign.ScenarioError) as info:
        read_plan(tmp_path / "empty")
    text = str(info.value)
    assert "assignments.csv: file not found" in text and "summary.json: file not found" in text
    with pytest.raises(optassign.ScenarioError, match="plan folder not found"):
        read_plan(tmp_path / "nowhere")


# --------------------------------------------------------------------------- comparing
def test_compare_two_plans_and_diff(solved, tmp_path):
    a, b = solved["balanced"], solved["continuity"]
    result = compare(a, b, scenario=solved["scenario"])
    assert result.names == ["balanced", "continuity"]
    assert list(result.kpis.index) == list(KPIS)
    assert list(result.kpis.columns) == ["balanced", "continuity"]
    assert result.kpis.loc["policy"].tolist() == ["balanced", "continuity"]
    agent_a = {r["task_id"]: r["agent_id"] for r in read_csv(a / "assignments.csv")}
    agent_b = {r["task_id"]: r["agent_id"] for r in read_csv(b / "assignments.csv")}
    changed = {t for t in agent_a if agent_a[t] != agent_b[t]}
    assert set(result.diff["task_id"]) == changed
    for row in result.diff.itertuples():
        assert (row.agent_a, row.agent_b) == (agent_a[row.task_id], agent_b[row.task_id])
    assert result.diff["priority"].is_monotonic_decreasing
    out = result.write(tmp_path / "cmp")
    kpis = read_csv(out / "kpis.csv")
    assert [r["kpi"] for r in kpis] == list(KPIS)
    assert len(read_csv(out / "diff.csv")) == len(changed)


def test_diff_of_a_plan_with_itself_is_empty(solved):
    assert diff_plans(solved["balanced"], solved["balanced"]).empty


def test_compare_accepts_plan_objects_and_folders(solved):
    plan = optassign.solve(solved["scenario"], policy="continuity", **FAST)
    result = compare([solved["balanced"], plan], names=["now", "new"])
    assert result.names == ["now", "new"]
    assert result.kpis.loc["cost", "new"] is not None  # the Plan carries its scenario
    assert result.kpis.loc["cost", "now"] is None  # a folder alone does not know the rates


def test_compare_rejects_a_plan_of_another_scenario(solved, tmp_path):
    tasks = [dict(t) for t in TASKS]
    tasks[7]["task_id"] = "T9"
    other = make_scenario(tmp_path / "other")
    write_csv(other / "tasks.csv", tasks)
    plan_dir = optassign.solve(other, **FAST).write(tmp_path / "other_plan")
    with pytest.raises(optassign.ScenarioError) as info:
        compare(solved["balanced"], plan_dir)
    text = str(info.value)
    assert "different scenario" in text and "T9" in text and "T8" in text
    with pytest.raises(optassign.ScenarioError, match="T9"):
        read_plan(plan_dir, solved["scenario"])


# --------------------------------------------------------------------------- CLI
def test_cli_compare_prints_and_writes(solved, tmp_path):
    out = tmp_path / "cmp"
    result = run(
        "compare", solved["balanced"], solved["continuity"], "--out", out, "--scenario", solved["scenario"]
    )
    assert result.exit_code == 0, result.output
    assert "priority_weighted_coverage" in result.stdout and "utilization_gini" in result.stdout
    assert {p.name for p in out.iterdir()} == {"kpis.csv", "diff.csv", ".optassign"}
    kpis = {r["kpi"]: r for r in read_csv(out / "kpis.csv")}
    assert kpis["tasks"]["balanced"] == "8"


@pytest.mark.parametrize("missing", ["summary.json", "assignments.csv"])
def test_cli_compare_missing_file_exits_2(solved, tmp_path, missing):
    broken = tmp_path / "broken"
    shutil.copytree(solved["balanced"], broken)
    (broken / missing).unlink()
    out = tmp_path / "cmp"
    result = run("compare", solved["balanced"], broken, "--out", out)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert f"{missing}: file not found" in result.stderr
    assert result.stderr.count("\n  ") == 1  # one message
    assert not out.exists()


def test_cli_compare_other_scenario_exits_2(solved, tmp_path):
    other = make_scenario(tmp_path / "other")
    tasks = [dict(t) for t in TASKS][:6]
    write_csv(other / "tasks.csv", tasks)
    plan_dir = optassign.solve(other, **FAST).write(tmp_path / "short")
    result = run("compare", solved["balanced"], plan_dir, "--out", tmp_path / "cmp")
    assert result.exit_code == 2
    assert "different scenario" in result.stderr and "T7, T8" in result.stderr
    assert not (tmp_path / "cmp").exists()


def test_kpis_are_numbers_where_they_should_be(solved):
    k = plan_kpis(read_plan(solved["balanced"], solved["scenario"]))
    for key in ("assigned", "moves", "owner_changes", "cross_region_tasks", "active_agents"):
        assert isinstance(k[key], int), key
    for key in ("utilization_mean", "utilization_gini", "cost"):
        assert isinstance(k[key], float) and np.isfinite(k[key]), key
