"""explain.py in depth: the points of a chosen pair (by hand on the tiny scenario), alternatives
checked against the optimum (no agent with room is better), full and blocked tasks, reason
categories, and `optassign explain` on good and bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

import optassign
from optassign.cli.main import app
from optassign.plan.reasons import REASON_CATEGORIES, reason_category
from tests.checker import assert_plan_ok
from tests.conftest import TASKS, edit_csv, make_scenario, read_csv, write_csv

FAST = {"time_limit": 3, "workers": 1, "seed": 0}


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny scenario solved (balanced: one stage, so its objective is the total) and written."""
    root = tmp_path_factory.mktemp("explain")
    scenario = make_scenario(root / "tiny")
    plan = optassign.solve(scenario, **FAST)
    assert plan.summary["status"] == "OPTIMAL"
    folder = plan.write(root / "plan")
    assert_plan_ok(scenario, folder)
    return scenario, plan, folder


# --------------------------------------------------------------------------- assigned tasks
def test_points_of_the_chosen_pair_by_hand(tiny):
    scenario, plan, folder = tiny
    (e,) = optassign.explain(folder, ["T2"], scenario=scenario)
    assert e.status == "assigned" and e.priority == 3 and e.effort_hours == 2.0
    # T2 (priority 3, needs sales:1, customer C1 in N, owned by A1): A1 (sales 2) or A4 (sales 3)
    # balanced: service 4 points; overqualification -0.05 per level above; +0.25 with C1's owner
    expected = {
        "A1": {"service": 4.0, "overqualification": -0.05, "keep_owner_tasks": 0.25},
        "A4": {"service": 4.0, "overqualification": -0.1},
    }[e.agent_id]
    assert e.terms == pytest.approx(expected)
    assert e.alternatives["agent_id"].tolist() == [{"A1": "A4", "A4": "A1"}[e.agent_id]]


def test_no_alternative_with_room_beats_an_optimal_plan(tiny):
    scenario, plan, folder = tiny
    load = {r["agent_id"]: r for r in read_csv(folder / "agent_load.csv")}
    ids = [t["task_id"] for t in TASKS]
    found = optassign.explain(plan, ids, alternatives=None)
    assert [e.task_id for e in found] == ids
    for e in found:
        assert e.unassign_change <= 1e-6, e.task_id  # dropping a task never helps at the optimum
        for alt in e.alternatives.itertuples():
            if alt.has_room:
                assert alt.worse_by >= -1e-6, (e.task_id, alt.agent_id)
            row = load[alt.agent_id]
            assert alt.hours == pytest.approx(float(row["hours"]))
            assert alt.hours_left == pytest.approx(float(row["capacity_hours"]) - float(row["hours"]))
            cap = 99 if pd.isna(alt.max_tasks) else alt.max_tasks
            assert alt.has_room == (alt.hours_left >= alt.effort_hours and alt.tasks < cap)
        assert e.alternatives["worse_by"].is_monotonic_increasing


def test_plan_object_and_folder_explain_alike(tiny):
    scenario, plan, folder = tiny
    a = optassign.explain(plan, ["T2", "T5", "T7"])
    b = optassign.explain(folder, ["T2", "T5", "T7"], scenario=scenario)
    for x, y in zip(a, b, strict=True):
        assert (x.status, x.agent_id, x.reason, x.terms) == (y.status, y.agent_id, y.reason, y.terms)
        assert x.alternatives.equals(y.alternatives)


def test_pinned_task_has_no_alternatives(tiny):
    (e,) = optassign.explain(tiny[1], "T1")
    assert e.status == "pinned" and e.agent_id == "A1" and e.reason == "pinned"
    assert e.alternatives.empty and e.terms["service"] == 16.0  # priority 5


# --------------------------------------------------------------------------- unassigned tasks
def test_task_left_out_because_its_only_agent_is_full(tmp_path):
    scenario = make_scenario(tmp_path / "tiny")
    edit_csv(scenario / "agents.csv", 2, capacity_hours="5")  # A1: T1 pinned (3 h) + C1 (2 h)
    folder = optassign.solve(scenario, **FAST).write(tmp_path / "plan")
    assert_plan_ok(scenario, folder)
    (e,) = optassign.explain(folder, ["T8"], scenario=scenario)  # needs billing:3, only A1 has it
    assert e.status == "unassigned" and e.agent_id == ""
    assert reason_category(e.reason) == "agents_full" and "A1" in e.reason
    (a1,) = e.alternatives.itertuples()
    rows = read_csv(folder / "assignments.csv")
    on_a1 = [int(r["priority"]) for r in rows if r["agent_id"] == "A1"]
    assert a1.agent_id == "A1" and not a1.has_room and a1.capacity_hours == 5.0
    assert a1.lowest_priority == min(on_a1) and a1.tasks == len(on_a1)
    assert a1.worse_by < 0  # placing it would earn points, if only there were room
    assert "A1" in e.text() and "no room" in e.text()


def test_blocked_task_names_the_rule_and_the_nearest_agents(tmp_path):
    scenario = make_scenario(tmp_path / "tiny")
    edit_csv(scenario / "tasks.csv", 6, required_skills="billing:5")  # T5: nobody has billing 5
    plan = optassign.solve(scenario, **FAST)
    (e,) = optassign.explain(plan, ["T5"])
    assert (
        e.status == "blocked"
        and e.reason
        == "no active agent covers region N with billing>=5 (3 cover N, 0 have the skills elsewhere)"
    )
    near = e.near_misses
    # one rule failed (the skill) for A1, A4, A2 (they cover N; billing 3, 2, 1 of 5 needed);
    # A3 also misses region N
    assert near["agent_id"].tolist() == ["A1", "A4", "A2", "A3"]
    assert near["rules_failed"].tolist() == [1, 1, 1, 2]
    assert near["missing_skills"].iloc[0] == "billing>=5 (has 3)"
    assert near["covers_region"].tolist() == [True, True, True, False]
    assert near["missing_skills"].iloc[1] == "billing>=5 (has 2)"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "no active agent covers region S with billing>=3 (1 cover S, 0 have the skills elsewhere)",
            "no_eligible_agent",
        ),
        ("no eligible agent", "no_eligible_agent"),
        ("all 3 eligible agents are at capacity with higher-value work (priority >= 4)", "agents_full"),
        ("the only eligible agent is A1, at max_tasks; fitting it would displace more", "agents_full"),
        (
            "all 2 eligible agents are full (1 at capacity, 1 at max_tasks) with higher-value work",
            "agents_full",
        ),
        ("serving it is worth less than its penalties under this policy", "low_value"),
        ("not placed within the time limit although 2 eligible agents have room (A1, A2)", "time_limit"),
        ("pinned to A9, who is inactive; no active agent has billing>=2", "no_eligible_agent"),
        ("something new", "other"),
    ],
)
def test_reason_category(text, kind):
    assert kind in REASON_CATEGORIES and reason_category(text) == kind


# --------------------------------------------------------------------------- bad input
def test_unknown_task_ids_are_all_reported(tiny):
    with pytest.raises(optassign.ScenarioError) as info:
        optassign.explain(tiny[1], ["T2", "T98", "T99"])
    assert "T98" in str(info.value) and "T99" in str(info.value) and "2 problems" in str(info.value)


def test_cli_explain(tiny):
    scenario, _, folder = tiny
    result = run("explain", folder, "T2", "T1", "--scenario", scenario)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "T2" in out and "points of this pair" in out and "service +4" in out
    assert "other eligible agents" in out and "pinned" in out


def test_cli_explain_unknown_task_exits_2(tiny):
    scenario, _, folder = tiny
    result = run("explain", folder, "T2", "NOPE", "--scenario", scenario)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith("error: ") and "'NOPE': not a task of this plan" in result.stderr


def test_cli_explain_needs_the_scenario(tiny):
    result = run("explain", tiny[2], "T2")
    assert result.exit_code == 2 and "--scenario" in result.stderr


def test_cli_explain_plan_of_another_scenario_exits_2(tiny, tmp_path):
    other = make_scenario(tmp_path / "other")
    tasks = [dict(t) for t in TASKS]
    tasks[0]["task_id"] = "X1"
    write_csv(other / "tasks.csv", tasks)
    result = run("explain", tiny[2], "T2", "--scenario", other)
    assert result.exit_code == 2 and "X1" in result.stderr and "T1" in result.stderr


def test_sweep_run_is_explained_with_its_own_levers(tiny, tmp_path):
    """A sweep run folder records its values; explain re-applies them (here: capacity halved)."""
    scenario = tiny[0]
    result = optassign.sweep(
        scenario, {"capacity_scale": [0.5], "balance_weight": [10]}, out=tmp_path / "sw", **FAST
    )
    folder = result.run_folders[0]
    (e,) = optassign.explain(folder, ["T2"], scenario=scenario)
    load = {r["agent_id"]: r for r in read_csv(folder / "agent_load.csv")}
    for alt in e.alternatives.itertuples():
        assert alt.capacity_hours == float(load[alt.agent_id]["capacity_hours"])  # halved


def test_unknown_policy_of_a_plan_must_be_given(tiny, tmp_path):
    import json
    import shutil

    scenario, _, folder = tiny
    copy = shutil.copytree(folder, tmp_path / "plan")
    summary = json.loads((copy / "summary.json").read_text())
    (copy / "summary.json").write_text(json.dumps({**summary, "policy": "lost_policy"}))
    with pytest.raises(optassign.ScenarioError, match="lost_policy"):
        optassign.explain(copy, ["T2"], scenario=scenario)
    (e,) = optassign.explain(copy, ["T2"], scenario=scenario, policy="balanced")
    assert e.terms["service"] == 4.0
