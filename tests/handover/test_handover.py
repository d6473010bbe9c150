"""Handover and staffing-change previews: events applied to the agents (and each bad input), forced
against voluntary moves, move budgets, leaves with `to:`, capacity cuts, hires, broken pins,
handover.csv, sheets, the plan folder as plan in force, the frontier and the commands.

Every plan written is checked by the independent checker with the same staffing changes. Most
cases run on the tiny scenario (see conftest); one run each on demo, service_desk and b2b_sales."""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from optassign import load_policy, load_scenario, solve
from optassign.cli.main import app
from optassign.contract.schema import Events, Policy, ScenarioError
from optassign.handover.replan import handover, preview
from optassign.handover.result import HANDOVER_COLUMNS, HandoverResult
from optassign.handover.settings import HandoverSettings, handover_policy
from optassign.scenario.events import apply_events
from tests.checker import assert_plan_ok
from tests.conftest import edit_csv, read_csv, write_csv

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
FAST = dict(time_limit=1.0, workers=1, seed=0)
CLI_FAST = ["--time-limit", "1", "--workers", "1", "--seed", "0"]


def events_of(*items: dict) -> Events:
    return Events.model_validate({"events": list(items)})


def events_file(folder: Path, *items: dict, name: str = "events.yaml") -> Path:
    path = Path(folder) / name
    path.write_text(yaml.safe_dump({"events": list(items)}, sort_keys=False), encoding="utf-8")
    return path


def checked(scenario: Path, res: HandoverResult, out: Path, *events: dict, path: Path | None = None) -> Path:
    """Write the result and check it with the same staffing changes applied by the checker."""
    res.write(out)
    ev = path or events_file(out.parent, *events, name=f"{out.name}-events.yaml")
    assert_plan_ok(scenario, out, events=ev)
    return out


def rows_by_id(res: HandoverResult) -> dict[str, dict]:
    return {r["id"]: r for r in res.handover.to_dict("records")}


def agent_of(res: HandoverResult) -> dict[str, str]:
    a = res.plan.assignments
    return dict(zip(a["task_id"], a["agent_id"], strict=True))


# --------------------------------------------------------------------------- events -> scenario
def test_apply_events_in_order(tiny_scenario):
    s = load_scenario(tiny_scenario)
    warnings: list[str] = []
    after = apply_events(
        s,
        events_of(
            {"leave": "A2"},
            {
                "hire": {
                    "agent_id": "N1",
                    "regions": "S;N",
                    "skills": "support:4;sales",
                    "capacity_hours": 20,
                    "email": "n1@example.org",
                }
            },
            {"capacity": {"agent": "A3", "capacity_hours": 10}},
            {"transfer": {"agent": "A4", "regions": "N;S"}},
            {"skills": {"agent": "A1", "skills": "billing:4"}},
            {"capacity": {"agent": "N1", "capacity_hours": 18}},  # a hire can change later on
        ),
        warnings=warnings,
    )
    assert warnings == []
    a = after.agents.set_index("agent_id")
    assert list(a.index) == ["A1", "A2", "A3", "A4", "N1"]
    assert not a.at["A2", "active"] and a.at["N1", "active"]
    assert a.at["N1", "capacity_hours"] == 18.0 and np.isnan(a.at["N1", "max_tasks"])
    assert a.at["N1", "regions"] == "S;N" and a.at["N1", "email"] == "n1@example.org"
    assert a.at["A1", "email"] == ""  # a column only the hire has: empty for the others
    assert a.at["A3", "capacity_hours"] == 10.0 and a.at["A4", "regions"] == "N;S"
    # parsed views follow the changed frame
    skills = after.agent_skills
    assert skills[skills["row"].eq(0)][["skill", "level"]].values.tolist() == [["billing", 4]]
    assert set(after.agent_regions[after.agent_regions["row"].eq(4)]["item"]) == {"S", "N"}
    assert s.agents["active"].all()  # the input scenario is untouched


BAD_EVENTS = {
    "unknown leave": ({"leave": "ZZ"}, "events.0.leave", "ZZ", "not an agent_id of agents.csv"),
    "unknown receiver": ({"leave": "A1", "to": ["A4", "ZZ"]}, "events.0.to.1", "ZZ", "not an agent_id"),
    "unknown capacity agent": (
        {"capacity": {"agent": "ZZ", "capacity_hours": 3}},
        "events.0.capacity.agent",
        "ZZ",
        "not an agent_id",
    ),
    "unknown transfer agent": (
        {"transfer": {"agent": "ZZ", "regions": "N"}},
        "events.0.transfer.agent",
        "ZZ",
        "not an agent_id",
    ),
    "unknown skills agent": (
        {"skills": {"agent": "ZZ", "skills": "sales"}},
        "events.0.skills.agent",
        "ZZ",
        "not an agent_id",
    ),
    "malformed skills": (
        {"skills": {"agent": "A1", "skills": "sales:x"}},
        "events.0.skills.skills",
        "sales:x",
        "malformed skill",
    ),
    "hire of an existing agent": (
        {"hire": {"agent_id": "A3", "capacity_hours": 10}},
        "events.0.hire.agent_id",
        "A3",
        "already exists in agents.csv",
    ),
    "hire with a bad skill level": (
        {"hire": {"agent_id": "N1", "capacity_hours": 10, "skills": "sales:9"}},
        "events.0.hire.skills",
        "sales:9",
        "must be 1..5",
    ),
    "hire with negative capacity": (
        {"hire": {"agent_id": "N1", "capacity_hours": -4}},
        "events.0.hire.capacity_hours",
        "-4",
        "must be >= 0",
    ),
    "hire with a bad max_tasks": (
        {"hire": {"agent_id": "N1", "capacity_hours": 4, "max_tasks": 1.5}},
        "events.0.hire.max_tasks",
        "1.5",
        "not an integer",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
def test_apply_events_rejects_bad_input(tiny_scenario, case):
    event, column, value, rule = BAD_EVENTS[case]
    s = load_scenario(tiny_scenario)
    with pytest.raises(ScenarioError) as info:
        apply_events(s, events_of(event))
    problems = info.value.problems
    assert len(problems) == 1, info.value.render()
    p = problems[0]
    assert (p.file, p.column, p.value) == ("events.yaml", column, value)
    assert rule in p.rule


def test_apply_events_collects_every_problem_and_names_the_line(tiny_scenario, tmp_path):
    path = tmp_path / "events.yaml"
    path.write_text(
        "events:\n"
        "  - leave: A1\n"
        "  - hire: {agent_id: N1, capacity_hours: 5}\n"
        "  - hire: {agent_id: N1, capacity_hours: 5}\n"
        "  - capacity: {agent: Q9, capacity_hours: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        preview(tiny_scenario, path, **FAST)
    text = info.value.render()
    assert "2 problems" in text
    assert "line 4, column events.2.hire.agent_id: value 'N1': agent_id already hired by events.1" in text
    assert "line 5, column events.3.capacity.agent: value 'Q9': not an agent_id of agents.csv" in text


def test_leave_option_errors_name_the_option(tiny_scenario):
    with pytest.raises(ScenarioError) as info:
        handover(tiny_scenario, leave=["A1", "ZZ"], to=["A4", "QQ"], **FAST)
    shown = [(p.file, p.value) for p in info.value.problems]
    assert ("--leave", "ZZ") in shown and ("--leave", "QQ") in shown
    assert all(p.column is None for p in info.value.problems)


def test_leave_of_an_inactive_agent_is_a_warning(tiny_scenario):
    s = load_scenario(tiny_scenario)
    warnings: list[str] = []
    after = apply_events(
        s, events_of({"leave": "A2"}, {"leave": "A2"}, {"leave": "A1", "to": ["A2"]}), warnings=warnings
    )
    assert not after.agents["active"].iloc[:2].any()
    assert warnings == [
        "events.yaml event 1: A2 is already inactive; the leave changes nothing",
        "events.yaml event 2: A2 is inactive and cannot receive A1's work",
    ]


# --------------------------------------------------------------------------- forced and voluntary
def _crowded(folder: Path) -> Path:
    """Tiny with A4 holding T5, T6, T7 (5 h) in force: when A1 leaves, A4 (capacity cut to 9 h) is
    the only agent who may take A1's pinned T1 (3 h) and customer C1 (2 h), so something of
    A4's own must move to make room."""
    edit_csv(folder / "tasks.csv", 6, assigned_to="A4")  # T5
    edit_csv(folder / "tasks.csv", 7, assigned_to="A4")  # T6
    edit_csv(folder / "tasks.csv", 8, assigned_to="A4")  # T7
    return folder


CROWDED_EVENTS = ({"leave": "A1"}, {"capacity": {"agent": "A4", "capacity_hours": 9}})


def test_forced_and_voluntary_moves(tiny_scenario, tmp_path):
    scenario = _crowded(tiny_scenario)
    res = preview(scenario, events_of(*CROWDED_EVENTS), **FAST)
    checked(scenario, res, tmp_path / "out", *CROWDED_EVENTS)
    rows = rows_by_id(res)
    # A1 leaves: its pinned task and its customer are forced; T8 was never legal with A2
    assert rows["T1"]["forced"] and rows["T1"]["to_agent_id"] == "A4"
    assert rows["T1"]["reason"].startswith("pin broken: A1 leaves")
    assert rows["C1"]["forced"] and rows["C1"]["kind"] == "customer" and rows["C1"]["to_agent_id"] == "A4"
    assert rows["T8"]["forced"] and rows["T8"]["reason"].startswith("A2 lacks billing>=3")
    # to make room on A4, a low-value task of A4 moves: voluntary, worth its disruption
    voluntary = res.handover[~res.handover["forced"]]
    assert len(voluntary) >= 1
    assert set(voluntary["from_agent_id"]) == {"A4"}
    assert voluntary["reason"].str.startswith("voluntary: ").all()
    m = res.kpis["moves"]
    assert m["voluntary"] == len(voluntary) and m["forced"] == 3 and m["pins_broken"] == 1
    assert m["forced_by_cause"] == {"not eligible": 1, "agent left": 1, "pin broken": 1}


def test_max_moves_zero_moves_only_the_forced(tiny_scenario, tmp_path):
    scenario = _crowded(tiny_scenario)
    res = preview(scenario, events_of(*CROWDED_EVENTS), max_moves=0, **FAST)
    checked(scenario, res, tmp_path / "out", *CROWDED_EVENTS)
    assert res.handover["forced"].all() and res.kpis["moves"]["voluntary"] == 0
    agent = agent_of(res)
    assert agent["T5"] == agent["T6"] == agent["T7"] == "A4"  # everything unforced stays
    # no room on A4 for both the pinned T1 and customer C1 without moving A4's own work
    assert res.kpis["move_budget"] == 0


@pytest.mark.parametrize("due_dates", ["soft", "hard"])
def test_max_moves_zero_on_demo_keeps_every_unforced_task(tmp_path, due_dates):
    # the demo has a horizon: with hard due dates, work its agent cannot finish on time is forced
    policy = load_policy("balanced").model_copy(update={"due_dates": due_dates})
    res = handover(SCENARIOS / "demo", leave=["A00003"], max_moves=0, policy=policy, **FAST)
    checked(SCENARIOS / "demo", res, tmp_path / "out", {"leave": "A00003"})
    a = res.plan.assignments
    forced_ids = set(res.handover.loc[res.handover["forced"], "id"])
    moved = a[a["previous_agent_id"].ne("") & a["agent_id"].ne(a["previous_agent_id"])]
    assert set(moved["task_id"]) <= forced_ids
    assert set(res.handover.loc[res.handover["kind"].eq("task"), "id"]) == set(moved["task_id"])
    o = res.plan.owners
    moved_o = o[o["previous_owner_id"].ne("") & o["owner_id"].ne(o["previous_owner_id"])]
    assert set(moved_o["customer_id"]) <= forced_ids
    assert res.kpis["moves"]["voluntary"] == 0
    if due_dates == "hard":  # the plan in force does not make every date on the demo's days
        assert res.kpis["moves"]["forced_by_cause"]["due date"] > 0
        late = res.handover[res.handover["reason"].str.contains("cannot finish it by its due date")]
        assert late["forced"].all() and len(late) == res.kpis["moves"]["forced_by_cause"]["due date"]
    assert {"A00003"} <= set(res.handover["from_agent_id"])
    assert (res.handover.loc[res.handover["from_agent_id"].eq("A00003"), "forced"]).all()


# --------------------------------------------------------------------------- leave to, capacity, hire
def test_leave_to_named_agents_only(tiny_scenario, tmp_path):
    ev = {"leave": "A1", "to": ["A4"]}
    res = preview(tiny_scenario, events_of(ev), **FAST)
    checked(tiny_scenario, res, tmp_path / "out", ev)
    from_a1 = res.handover[res.handover["from_agent_id"].eq("A1")]
    assert set(from_a1["id"]) == {"T1", "C1"}
    assert set(from_a1["to_agent_id"]) == {"A4"}
    assert from_a1["reason"].str.contains(r"A1 leaves \(handover only to A4\)").all()


def test_leave_to_agents_who_cannot_take_the_work(tiny_scenario, tmp_path):
    """A3's work (region S, support) may only go to A2 (region N): it ends unassigned, with why."""
    ev = {"leave": "A3", "to": ["A2"]}
    res = preview(tiny_scenario, events_of(ev), **FAST)
    checked(tiny_scenario, res, tmp_path / "out", ev)
    rows = rows_by_id(res)
    for key in ("T3", "C2"):
        assert rows[key]["to_agent_id"] == "" and rows[key]["forced"]
        assert "none of A2 may legally" in rows[key]["reason"]
    reason = res.plan.assignments.set_index("task_id").at["T3", "reason"]
    assert "none of A2 may legally take it" in reason
    assert res.kpis["moves"]["unplaced"] == 2 + int(rows["T8"]["to_agent_id"] == "")


def test_capacity_cut_forces_the_lowest_value_tasks(tiny_scenario, tmp_path):
    """A3 holds T3 (P4, 4 h), T4 (P2, 1.5 h), T6 (P3, 2 h) and C2 (1 h) = 8.5 h; cut to 7 h, only
    the lowest-value task, T4, has to go: 8.5 - 1.5 = 7 fits."""
    edit_csv(tiny_scenario / "tasks.csv", 5, assigned_to="A3")  # T4
    edit_csv(tiny_scenario / "tasks.csv", 7, assigned_to="A3")  # T6
    ev = {"capacity": {"agent": "A3", "capacity_hours": 7}}
    res = preview(tiny_scenario, events_of(ev), max_moves=0, **FAST)
    checked(tiny_scenario, res, tmp_path / "out", ev)
    rows = rows_by_id(res)
    assert set(rows) == {"T4", "T8"}
    assert rows["T4"]["forced"]
    assert rows["T4"]["reason"].startswith(
        "A3's capacity is cut from 24 h to 7 h, below the 8.5 h it holds in force; "
        "its lowest-value work moves first"
    )
    agent = agent_of(res)
    assert agent["T3"] == agent["T6"] == "A3"
    assert res.plan.owners.set_index("customer_id").at["C2", "owner_id"] == "A3"
    assert res.kpis["moves"]["forced_by_cause"]["over capacity"] == 1


def test_a_hire_receives_work(tiny_scenario, tmp_path):
    """A3 leaves; T3 needs support:3 in region S: only the new hire N1 may take it."""
    evs = (
        {"leave": "A3"},
        {
            "hire": {
                "agent_id": "N1",
                "name": "Nia",
                "regions": "S",
                "skills": "support:4;sales:2",
                "capacity_hours": 20,
            }
        },
    )
    res = preview(tiny_scenario, events_of(*evs), **FAST)
    checked(tiny_scenario, res, tmp_path / "out", *evs)
    rows = rows_by_id(res)
    assert rows["T3"]["to_agent_id"] == "N1" and rows["T3"]["forced"]
    assert "new hire" in rows["T3"]["reason"]
    assert "N1" in res.kpis["receivers"]
    rec = res.kpis["receivers"]["N1"]
    assert rec["capacity_before"] is None and rec["hours_before"] == 0 and rec["hours_after"] > 0
    assert res.plan.agent_load.set_index("agent_id").at["N1", "tasks"] >= 1
    assert "N1" in res.sheets and "# Handover to N1 (Nia)" in res.sheets["N1"]


def test_pinned_task_of_a_leaver_is_reported_broken(tiny_scenario, tmp_path):
    res = handover(tiny_scenario, leave=["A1"], **FAST)
    checked(tiny_scenario, res, tmp_path / "out", {"leave": "A1"})
    row = rows_by_id(res)["T1"]
    assert row["forced"] and row["reason"].startswith("pin broken: A1 leaves")
    assert res.kpis["moves"]["pins_broken"] == 1
    table = pd.read_csv(tmp_path / "out" / "handover.csv", keep_default_na=False, dtype=str)
    assert table.set_index("id").at["T1", "reason"].startswith("pin broken")


# --------------------------------------------------------------------------- outputs
def test_handover_csv_columns_and_notes(tiny_scenario, tmp_path):
    rows = read_csv(tiny_scenario / "customers.csv")
    for r in rows:
        r["history"] = "renewed 2023" if r["customer_id"] == "C1" else ""
    write_csv(tiny_scenario / "customers.csv", rows)
    res = handover(tiny_scenario, leave=["A1"], **FAST)
    out = checked(tiny_scenario, res, tmp_path / "out", {"leave": "A1"})
    with (out / "handover.csv").open(encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    assert header == [*HANDOVER_COLUMNS, "notes", "history"]
    table = pd.read_csv(out / "handover.csv", keep_default_na=False, dtype=str).set_index("id")
    assert table.at["T1", "notes"] == "promised by Ann" and table.at["T1", "history"] == ""
    assert table.at["C1", "history"] == "renewed 2023" and table.at["C1", "notes"] == ""
    assert table.at["T1", "kind"] == "task" and table.at["C1", "kind"] == "customer"
    assert table.at["T1", "forced"] == "true" and table.at["T1", "priority"] == "5"
    assert table.at["T1", "effort_hours"] == "3.0" and table.at["T1", "due_date"] == "2024-07-01"
    assert table.at["C1", "priority"] == "" and table.at["C1", "due_date"] == ""
    assert table.at["T1", "customer_id"] == "C1" and table.at["C1", "customer_id"] == "C1"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["handover"]["moves"]["forced"] == len(table)
    assert summary["handover"]["events"] == ["leave A1"]


def test_sheets_messages_and_determinism(tiny_scenario, tmp_path):
    res = handover(tiny_scenario, leave=["A1"], **FAST)
    one, two = res.write(tmp_path / "one"), res.write(tmp_path / "two")
    receivers = sorted(set(res.handover["to_agent_id"]) - {""})
    assert receivers == ["A4"]
    assert sorted(p.stem for p in (one / "handover").glob("*.md")) == receivers
    sheet = (one / "handover" / "A4.md").read_text(encoding="utf-8")
    for text in (
        "# Handover to A4 (Dev)",
        "## Customers received (1)",
        "### C1 Acme · tier A",
        "## Tasks received (1)",
        "### T1 · priority 5 · due 2024-07-01 · 3 h",
        "from: A1 (Ann) (forced)",
        "notes: promised by Ann",
        "the customer's other open tasks: T2 (P3",
        "T8 (P4, due none,",
    ):
        assert text in sheet, text
    assert sorted(p.stem for p in (one / "outbox").glob("*.eml")) == res.affected_agents == ["A1", "A2", "A4"]
    for sub in ("handover", "outbox"):
        for p in sorted((one / sub).iterdir()):
            assert p.read_bytes() == (two / sub / p.name).read_bytes()
    assert not list(tmp_path.glob(".*"))  # no temporary folder left beside the plans


def test_kpi_deltas(tiny_scenario):
    res = handover(tiny_scenario, leave=["A1"], **FAST)
    k = res.kpis
    # plan in force: T1, T3, T8 assigned (priorities 5 + 4 + 4 of 5+3+4+2+1+3+2+4 = 24)
    assert k["coverage"]["before"] == pytest.approx(13 / 24, abs=1e-6)
    assert k["coverage"]["after"] == res.plan.summary["priority_weighted_coverage"]
    assert k["unassigned"]["tasks_before"] == 5 and k["unassigned"]["hours_before"] == pytest.approx(8.5)
    assert k["assigned_by_priority"]["5"] == {"tasks": 1, "before": 1, "after": 1, "delta": 0}
    a4 = k["receivers"]["A4"]
    assert a4["hours_before"] == 0 and a4["capacity_after"] == 12.0
    assert a4["utilization_after"] == pytest.approx(a4["hours_after"] / 12.0, abs=1e-6)
    assert res.plan.summary["handover"] is k


# --------------------------------------------------------------------------- plan folder in force
def _variant(scenario: Path, plan: Path, folder: Path) -> Path:
    """A copy of the scenario whose assigned_to / owner_id are the plan's: what the checker
    compares previous_agent_id with, when the plan in force came from --plan."""
    shutil.copytree(scenario, folder)
    agent = {r["task_id"]: r["agent_id"] for r in read_csv(plan / "assignments.csv")}
    owner = {r["customer_id"]: r["owner_id"] for r in read_csv(plan / "owners.csv")}
    tasks = read_csv(folder / "tasks.csv")
    for r in tasks:
        if r["pinned"].lower() in ("true", "1", "yes") and agent[r["task_id"]] != r["assigned_to"]:
            r["pinned"] = "false"
        r["assigned_to"] = agent[r["task_id"]]
    write_csv(folder / "tasks.csv", tasks)
    customers = read_csv(folder / "customers.csv")
    for r in customers:
        r["owner_id"] = owner[r["customer_id"]]
    write_csv(folder / "customers.csv", customers)
    return folder


def test_plan_folder_as_the_plan_in_force(tiny_scenario, tmp_path):
    plan_dir = solve(tiny_scenario, **FAST).write(tmp_path / "plan")
    res = handover(tiny_scenario, leave=["A3"], plan=plan_dir, **FAST)
    in_force = {r["task_id"]: r["agent_id"] for r in read_csv(plan_dir / "assignments.csv")}
    a = res.plan.assignments
    assert dict(zip(a["task_id"], a["previous_agent_id"], strict=True)) == in_force
    assert set(res.handover["from_agent_id"]) == {"A3"}  # a solved plan: only the leave forces moves
    assert res.kpis["plan_in_force"] == str(plan_dir)
    variant = _variant(tiny_scenario, plan_dir, tmp_path / "variant")
    checked(variant, res, tmp_path / "out", {"leave": "A3"})


def test_plan_folder_of_another_scenario_is_refused(tiny_scenario, tmp_path):
    plan_dir = solve(tiny_scenario, **FAST).write(tmp_path / "plan")
    rows = read_csv(plan_dir / "assignments.csv")
    rows[0]["task_id"] = "T99"
    rows[1]["agent_id"] = "Z1"
    write_csv(plan_dir / "assignments.csv", rows)
    with pytest.raises(ScenarioError) as info:
        handover(tiny_scenario, leave=["ZZ"], plan=plan_dir, **FAST)
    text = info.value.render()
    assert "task_ids do not match the scenario: 1 of tasks.csv missing (T1); 1 not in tasks.csv (T99)" in text
    assert "assignments.csv, line 3, column agent_id: value 'Z1': not an agent_id of agents.csv" in text
    assert "--leave: value 'ZZ'" in text  # reported together with the events' problems


# --------------------------------------------------------------------------- policy and frontier
def test_handover_policy_raises_disruption():
    base = Policy(
        keep_assignee_weight=0.5,
        keep_customer_owner_weight=1.0,
        stages=[["service"], ["balance"], ["keep_assignee", "overqualification"]],
    )
    p = handover_policy(base)
    assert p.keep_assignee_weight == 1.0 and p.keep_customer_owner_weight == 2.0  # x 2
    assert p.disruption_by_priority[5] == 3.0 and p.disruption_by_tier["A"] == 3.0
    assert p.stages == [
        ["service", "keep_assignee", "keep_customer_owner", "keep_owner_tasks"],
        ["balance"],
        ["overqualification"],
    ]
    same = handover_policy(
        base,
        HandoverSettings(
            keep_boost=1, disruption_by_priority={}, disruption_by_tier={}, disruption_first=False
        ),
    )
    assert same.model_dump(exclude={"name"}) == base.model_dump(exclude={"name"})


def test_frontier(tiny_scenario, tmp_path):
    scenario = _crowded(tiny_scenario)
    res = preview(scenario, events_of(*CROWDED_EVENTS), frontier=True, **FAST)
    out = checked(scenario, res, tmp_path / "out", *CROWDED_EVENTS)
    f = pd.read_csv(out / "frontier.csv", keep_default_na=False, dtype=str)
    assert list(f.columns)[:5] == ["budget", "moves", "objective", "coverage", "gap"]
    budgets = f["budget"].tolist()
    assert budgets[0] == "0" and budgets[1] == "5" and budgets[-1] == ""  # "" = no budget
    numbered = f[f["budget"].ne("")]
    assert (numbered["moves"].astype(int) <= numbered["budget"].astype(int)).all()
    assert numbered.iloc[0]["moves"] == "0"
    objective = numbered["objective"].astype(float).to_numpy()
    assert (np.diff(objective) >= -1e-6).all()  # a larger budget never does worse (optimal here)
    assert float(f.iloc[-1]["objective"]) >= objective.max() - 1e-6  # the handover starts from the best
    assert float(numbered.iloc[1]["objective"]) > float(numbered.iloc[0]["objective"])


# --------------------------------------------------------------------------- bundled scenarios
def test_preview_b2b_sales_leave_and_transfer(tmp_path):
    scenario = SCENARIOS / "b2b_sales"
    res = preview(scenario, **FAST)
    # A00001 moves to R04 but holds a pin in R03: no plan can keep both the pin and the region
    # rule, so the pin is broken with a warning (the checker binds a pin only while its agent
    # can legally hold the task).
    broken = res.handover[
        res.handover["reason"].str.startswith("pin broken: A00001 does not cover region R03")
    ]
    assert list(broken["id"]) == ["T0000235"]
    assert any(w.startswith("T0000235 is pinned to A00001, who is still active") for w in res.warnings)
    checked(scenario, res, tmp_path / "out", path=scenario / "events.yaml")
    causes = res.kpis["moves"]["forced_by_cause"]
    assert causes.get("agent left", 0) > 0 and causes.get("not eligible", 0) > 0  # leave, transfer
    moved = res.handover
    assert (moved.loc[moved["from_agent_id"].eq("A00013"), "forced"]).all()
    transferred = moved[moved["from_agent_id"].eq("A00001") & moved["forced"]]
    assert transferred["reason"].str.contains("A00001 does not cover region R03").all()
    assert set(moved["to_agent_id"]) - {""} == set(res.sheets)


# --------------------------------------------------------------------------- commands
def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_handover(tiny_scenario, tmp_path):
    out = tmp_path / "out"
    result = run("handover", tiny_scenario, "--leave", "A1", "--to", "A4", "--out", out, *CLI_FAST)
    assert result.exit_code == 0, result.output
    for text in (
        "handover against the plan in force",
        "moves forced / voluntary",
        "receiving agents",
        "leave A1 (to A4)",
    ):
        assert text in result.stdout, text
    assert {"handover.csv", "handover", "outbox", "summary.json"} <= {p.name for p in out.iterdir()}
    assert_plan_ok(tiny_scenario, out, events=events_file(tmp_path, {"leave": "A1", "to": ["A4"]}))


def test_cli_preview_service_desk(tmp_path):
    scenario = SCENARIOS / "service_desk"
    out = tmp_path / "out"
    result = run("preview", scenario, "--out", out, "--max-moves", "0", *CLI_FAST)
    assert result.exit_code == 0, result.output
    assert_plan_ok(scenario, out, events=scenario / "events.yaml")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    h = summary["handover"]
    assert h["moves"]["voluntary"] == 0 and h["move_budget"] == 0
    assert h["events"][0] == "leave A00018 (to A00017, A00004)"
    table = pd.read_csv(out / "handover.csv", keep_default_na=False, dtype=str)
    leaver = table[table["from_agent_id"].eq("A00018")]
    assert set(leaver["to_agent_id"]) <= {"A00017", "A00004", ""}
    assert (leaver.loc[leaver["to_agent_id"].eq(""), "reason"].str.contains("not placed")).all()
    assert "N0001" in summary["handover"]["receivers"] or "N0001" not in set(table["to_agent_id"])


@pytest.mark.parametrize(
    "args, expected",
    [
        (["handover", "{s}", "--leave", "ZZ"], ["--leave: value 'ZZ': not an agent_id of agents.csv"]),
        (["preview", "{s}"], ["no events to preview"]),
        (["preview", "{s}", "--events", "{bad}"], ["column events.0.capacity.agent: value 'Q'"]),
        (["handover", "{s}", "--leave", "A1", "--plan", "{missing}"], ["plan folder not found"]),
        (["handover", "{s}", "--leave", "A1", "--smtp", "localhost"], ["--smtp", "HOST:PORT"]),
    ],
)
def test_cli_input_errors_exit_2_and_write_nothing(tiny_scenario, tmp_path, args, expected):
    bad = events_file(tmp_path, {"capacity": {"agent": "Q", "capacity_hours": 3}}, name="bad.yaml")
    out = tmp_path / "out"
    filled = [a.format(s=tiny_scenario, bad=bad, missing=tmp_path / "nope") for a in args]
    result = run(*filled, "--out", out, *CLI_FAST)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    for text in expected:
        assert text in result.stderr, result.stderr
    assert not out.exists()


def test_cli_warns_on_leave_of_inactive_agent(tiny_scenario, tmp_path):
    edit_csv(tiny_scenario / "agents.csv", 3, active="false")  # A2
    result = run("handover", tiny_scenario, "--leave", "A2", "--out", tmp_path / "out", *CLI_FAST)
    assert result.exit_code == 0, result.output
    assert "warning: --leave: A2 is already inactive" in result.stderr


def test_command_time_limit_covers_reading_and_writing():
    """The handover and preview commands give the re-plan what is left of --time-limit after
    reading the scenario and before writing the folder, but never less than half of it."""
    import time

    from optassign.cli.handover import WRITE_SECONDS_PER_TASK, _limit

    loaded = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "demo")
    writing = WRITE_SECONDS_PER_TASK * len(loaded.tasks)
    read_for_4s = time.perf_counter() - 4.0
    assert _limit(loaded, 30.0, read_for_4s) == pytest.approx(26.0 - writing, abs=0.2)
    assert _limit(loaded, 6.0, read_for_4s) == 3.0  # half the limit at least
    default = loaded.config.settings.time_limit or 30.0
    assert _limit(loaded, None, time.perf_counter()) == pytest.approx(default - writing, abs=0.2)


# --------------------------------------------------------------------------- hostile ids
HOSTILE_IDS = [
    "../../x",
    "/tmp/x",
    "a/b",
    "..",
    ".",
    "CON",
    "x" * 300,
    "Ågent",
    "日本語",
    "ab",
    "AB",
]


def hostile_scenario(folder: Path) -> Path:
    """One leaver L holding one 2 h task per hostile receiver; each receiver has room for
    exactly one, so every hostile id receives work (a sheet) and a message."""
    from tests.conftest import make_scenario

    folder = make_scenario(folder)
    (folder / "customers.csv").unlink()
    base = {"team": "t", "role": "service", "regions": "*", "skills": "", "max_tasks": "", "active": "true"}
    agents = [{"agent_id": "L", "name": "Lea", "capacity_hours": "40", **base}]
    agents += [
        {"agent_id": a, "name": f"n{i}", "capacity_hours": "2", **base} for i, a in enumerate(HOSTILE_IDS)
    ]
    tasks = [
        {
            "task_id": f"T{i}",
            "required_skills": "",
            "priority": "5",
            "effort_hours": "2",
            "assigned_to": "L",
            "notes": "line one\nline two | [link](http://x) <b>",
        }
        for i in range(len(HOSTILE_IDS))
    ]
    write_csv(folder / "agents.csv", agents)
    write_csv(folder / "tasks.csv", tasks)
    return folder


def listing(root: Path, skip: Path) -> set[str]:
    return {str(p) for p in root.rglob("*") if skip not in p.parents and p != skip}


def test_agent_id_never_becomes_a_path_outside_the_plan_folder(tmp_path):
    scenario = hostile_scenario(tmp_path / "scen")
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    outside = {Path("/tmp/x.md"), Path("/tmp/x.eml")}
    existed = {p for p in outside if p.exists()}
    before = listing(tmp_path.parent, out)
    result = run("handover", scenario, "--leave", "L", "--out", out, *CLI_FAST)
    assert result.exit_code == 0, result.output
    assert listing(tmp_path.parent, out) == before  # nothing beside or above the plan folder
    assert {p for p in outside if p.exists()} == existed
    assert_plan_ok(scenario, out, events=events_file(tmp_path, {"leave": "L"}))
    sheets = {r["agent_id"]: r["file"] for r in read_csv(out / "handover" / "index.csv")}
    mails = {r["agent_id"]: r["file"] for r in read_csv(out / "outbox" / "index.csv")}
    assert set(sheets) == set(HOSTILE_IDS) and set(mails) == {*HOSTILE_IDS, "L"}
    for folder, files in ((out / "handover", sheets), (out / "outbox", mails)):
        on_disk = sorted(p.name for p in folder.iterdir())
        assert on_disk == sorted([*files.values(), "index.csv"])
        assert len({f.casefold() for f in files.values()}) == len(files)  # case-insensitive disks too
        assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.(md|eml)", f) for f in files.values())
    assert sheets["ab"] != "ab.md" and sheets["AB"] != "AB.md"  # only case tells them apart
    for agent in HOSTILE_IDS:
        msg = email.message_from_bytes(
            (out / "outbox" / mails[agent]).read_bytes(), policy=email.policy.default
        )
        assert msg["X-Optassign-Agent"] == agent
        assert f"Your handover sheet: handover/{sheets[agent]} in the plan folder." in msg.get_content()
        sheet = (out / "handover" / sheets[agent]).read_text(encoding="utf-8")
        assert sheet.startswith("# Handover to ")
        # a note's line break and markup stay inside its own list item
        assert "- notes: line one line two | \\[link\\](http://x) \\<b>" in sheet
    assert not list(tmp_path.joinpath("deep").glob(".*"))  # no temporary folder left behind


def test_handover_files_keep_their_names_for_plain_ids(tiny_scenario, tmp_path):
    out = handover(tiny_scenario, leave=["A1"], **FAST).write(tmp_path / "plan")
    assert read_csv(out / "handover" / "index.csv") == [{"agent_id": "A4", "file": "A4.md"}]
    assert [r["file"] for r in read_csv(out / "outbox" / "index.csv")] == ["A1.eml", "A2.eml", "A4.eml"]
