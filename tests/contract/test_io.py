"""Input validation at the API: `load_scenario` reads a scenario folder or raises `ScenarioError`
whose `.problems` locate every broken rule (file, line, column, value, rule), all of them at once.

Lines count the header as line 1. In the `tiny_scenario` fixture (see conftest.py):
agents.csv lines 2..5 = A1..A4, customers.csv lines 2..4 = C1..C3, tasks.csv lines 2..9 = T1..T8."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import optassign
from optassign import ScenarioError
from optassign.contract.schema import InputProblem
from tests.conftest import AGENTS, CUSTOMERS, TASKS, edit_csv, read_csv, write_csv


# --------------------------------------------------------------------------- helpers
def problems_of(folder: Path, **kw) -> list[InputProblem]:
    """The problems `load_scenario` reports; fails the test when it loads."""
    with pytest.raises(ScenarioError) as info:
        optassign.load_scenario(folder, **kw)
    problems = info.value.problems
    assert problems, "ScenarioError without problems"
    assert str(info.value) == info.value.render()
    for p in problems:
        assert str(p) in str(info.value)
    return problems


def only_problem(folder: Path, **kw) -> InputProblem:
    problems = problems_of(folder, **kw)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def assert_problem(
    p: InputProblem,
    file: str,
    line: int | None,
    column: str | None,
    value: str | None,
    rule: str,
) -> None:
    """`p` is located exactly as given; `rule` is a (case-insensitive) part of its rule."""
    assert (p.file, p.line, p.column, p.value) == (file, line, column, value), str(p)
    assert rule.lower() in p.rule.lower(), str(p)


def find(problems: list[InputProblem], file: str, line: int | None, column: str | None) -> InputProblem:
    hits = [p for p in problems if (p.file, p.line, p.column) == (file, line, column)]
    assert len(hits) == 1, f"no single problem at {file}:{line}:{column} in\n" + "\n".join(map(str, problems))
    return hits[0]


def without_column(rows: list[dict], column: str) -> list[dict]:
    return [{k: v for k, v in r.items() if k != column} for r in rows]


# --------------------------------------------------------------------------- the valid scenario
def test_tiny_scenario_loads(tiny_scenario):
    s = optassign.load_scenario(tiny_scenario)
    assert (len(s.agents), len(s.tasks), len(s.customers)) == (4, 8, 3)
    assert s.name == "tiny" and s.policy.name == "balanced"
    assert s.tasks["priority"].tolist() == [5, 3, 4, 2, 1, 3, 2, 4]
    assert s.tasks["effort_hours"].dtype == float
    assert s.tasks["pinned"].tolist() == [True] + [False] * 7
    assert s.customers["tier"].tolist() == ["A", "B", "C"]  # empty tier = C
    assert s.customers["ownership_hours"].tolist() == [2.0, 1.0, 0.0]  # empty = 0
    assert s.agents["cost_per_hour"].tolist() == [30.0, 25.0, 28.0, 0.0]
    assert s.agents["max_tasks"].isna().tolist() == [True, False, True, True]
    assert s.tasks["due_date"].iat[0] == pd.Timestamp("2024-07-01")
    assert s.tasks["due_date"].isna().sum() == 6


def test_unknown_extra_columns_are_kept(tiny_scenario):
    rows = [dict(r, special_notes=f"note {i}") for i, r in enumerate(CUSTOMERS)]
    write_csv(tiny_scenario / "customers.csv", rows)
    s = optassign.load_scenario(tiny_scenario)
    assert s.agents["notes"].tolist() == ["team lead", "", "", "covers every region"]
    assert s.tasks["notes"].iat[0] == "promised by Ann"
    assert s.customers["special_notes"].tolist() == ["note 0", "note 1", "note 2"]


def test_bare_skill_is_level_1(tiny_scenario):
    s = optassign.load_scenario(tiny_scenario)
    a2 = s.agent_skills[s.agent_skills["row"].eq(1)].set_index("skill")["level"].to_dict()
    assert a2 == {"billing": 1, "support": 2}
    t2 = s.task_skills[s.task_skills["row"].eq(1)].set_index("skill")["level"].to_dict()
    assert t2 == {"sales": 1}


def test_star_region_covers_every_region(tiny_scenario):
    # T6 (line 7, region S) and T4 (line 5, customer C2 in S) pinned to A4, whose region is `*`
    edit_csv(tiny_scenario / "tasks.csv", 7, assigned_to="A4", pinned="true")
    edit_csv(tiny_scenario / "tasks.csv", 5, assigned_to="A4", pinned="yes")
    s = optassign.load_scenario(tiny_scenario)
    assert s.agent_regions[s.agent_regions["row"].eq(3)]["item"].tolist() == ["*"]
    assert s.tasks["pinned"].sum() == 3


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("1", True),
        ("yes", True),
        ("YeS", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("No", False),
        ("", True),  # empty = the default (active)
    ],
)
def test_booleans_accept_true_false_1_0_yes_no_any_case(tiny_scenario, word, expected):
    edit_csv(tiny_scenario / "agents.csv", 5, active=word)
    s = optassign.load_scenario(tiny_scenario)
    assert s.agents["active"].dtype == bool
    assert bool(s.agents["active"].iat[3]) is expected


@pytest.mark.parametrize("word", ["y", "n", "maybe", "2", "on", "off", "t", "-1"])
def test_booleans_reject_other_words(tiny_scenario, word):
    edit_csv(tiny_scenario / "agents.csv", 5, active=word)
    edit_csv(tiny_scenario / "tasks.csv", 3, pinned=word)
    problems = problems_of(tiny_scenario)
    assert len(problems) == 2
    assert_problem(problems[0], "agents.csv", 5, "active", word, "not a boolean")
    assert_problem(problems[1], "tasks.csv", 3, "pinned", word, "not a boolean")


def test_header_only_tasks_is_a_valid_empty_batch(tiny_scenario):
    write_csv(tiny_scenario / "tasks.csv", [], columns=list(TASKS[0]))
    s = optassign.load_scenario(tiny_scenario)
    assert len(s.tasks) == 0
    assert len(s.agents) == 4


def test_policy_file_is_relative_to_the_scenario_folder(tiny_scenario, tmp_path, monkeypatch):
    (tiny_scenario / "mine.yaml").write_text("balance_weight: 3\n", encoding="utf-8")
    (tiny_scenario / "scenario.yaml").write_text("policy: mine.yaml\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the scenario folder
    s = optassign.load_scenario(tiny_scenario)
    assert (s.policy.name, s.policy.balance_weight) == ("mine", 3.0)


def test_inline_policy(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text(
        "name: tiny\npolicy:\n  balance_weight: 2\n  region: soft\n", encoding="utf-8"
    )
    s = optassign.load_scenario(tiny_scenario)
    assert (s.policy.balance_weight, s.policy.region) == (2.0, "soft")


def test_soft_region_allows_a_pin_outside_the_agents_regions(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("policy:\n  region: soft\n", encoding="utf-8")
    edit_csv(tiny_scenario / "tasks.csv", 5, assigned_to="A2", pinned="true")  # T4 is in S, A2 in N
    assert optassign.load_scenario(tiny_scenario).tasks["pinned"].sum() == 2


# --------------------------------------------------------------------------- missing things
def test_missing_folder(tmp_path):
    folder = tmp_path / "nowhere"
    assert_problem(only_problem(folder), str(folder), None, None, None, "scenario folder not found")


def test_folder_is_a_file(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text("name: x\n", encoding="utf-8")
    assert only_problem(path).rule == "scenario folder not found"


@pytest.mark.parametrize("name", ["agents.csv", "tasks.csv", "scenario.yaml"])
def test_missing_file(tiny_scenario, name):
    (tiny_scenario / name).unlink()
    assert_problem(only_problem(tiny_scenario), name, None, None, None, "file not found")


def test_missing_file_named_in_scenario_yaml(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("agents: staff.csv\n", encoding="utf-8")
    assert_problem(only_problem(tiny_scenario), "staff.csv", None, None, None, "file not found")


@pytest.mark.parametrize(
    ("name", "rows", "column"),
    [
        ("agents.csv", AGENTS, "agent_id"),
        ("agents.csv", AGENTS, "capacity_hours"),
        ("tasks.csv", TASKS, "task_id"),
        ("tasks.csv", TASKS, "priority"),
        ("tasks.csv", TASKS, "effort_hours"),
        ("customers.csv", CUSTOMERS, "customer_id"),
    ],
)
def test_missing_required_column(tiny_scenario, name, rows, column):
    write_csv(tiny_scenario / name, without_column(rows, column))
    assert_problem(only_problem(tiny_scenario), name, 1, column, None, "required column is missing")


def test_missing_optional_columns_take_defaults(tiny_scenario):
    keep = ["agent_id", "capacity_hours"]
    write_csv(tiny_scenario / "agents.csv", [{k: r[k] for k in keep} for r in AGENTS])
    keep = ["task_id", "priority", "effort_hours"]
    write_csv(tiny_scenario / "tasks.csv", [{k: r[k] for k in keep} for r in TASKS])
    (tiny_scenario / "customers.csv").unlink()
    s = optassign.load_scenario(tiny_scenario)
    assert s.customers is None
    assert s.agents["active"].all() and not s.tasks["pinned"].any()
    assert s.tasks["assigned_to"].eq("").all()


def test_column_twice_in_the_header(tiny_scenario):
    path = tiny_scenario / "agents.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("team,", "name,", 1), encoding="utf-8")
    assert_problem(only_problem(tiny_scenario), "agents.csv", 1, "name", None, "appears twice")


def test_zero_byte_tasks_csv_is_an_error(tiny_scenario):
    (tiny_scenario / "tasks.csv").write_bytes(b"")
    assert_problem(only_problem(tiny_scenario), "tasks.csv", 1, None, None, "file is empty")


# --------------------------------------------------------------------------- ids and references
@pytest.mark.parametrize(
    ("name", "line", "column", "value"),
    [
        ("agents.csv", 5, "agent_id", "A1"),
        ("tasks.csv", 9, "task_id", "T2"),
        ("customers.csv", 4, "customer_id", "C1"),
    ],
)
def test_duplicate_ids(tiny_scenario, name, line, column, value):
    if name == "customers.csv":  # C3 is referenced by tasks: keep them valid
        edit_csv(tiny_scenario / "tasks.csv", 6, customer_id="")
        edit_csv(tiny_scenario / "tasks.csv", 8, customer_id="")
    edit_csv(tiny_scenario / name, line, **{column: value})
    first = 3 if name == "tasks.csv" else 2
    p = only_problem(tiny_scenario)
    assert_problem(p, name, line, column, value, f"duplicate {column}")
    assert f"first on line {first}" in p.rule


@pytest.mark.parametrize(("name", "column"), [("agents.csv", "agent_id"), ("tasks.csv", "task_id")])
def test_empty_id_is_an_error(tiny_scenario, name, column):
    edit_csv(tiny_scenario / name, 3, **{column: ""})
    edit_csv(tiny_scenario / name, 4, **{column: ""})
    problems = problems_of(tiny_scenario)
    for line in (3, 4):
        assert_problem(find(problems, name, line, column), name, line, column, "", "a value is required")


def test_task_customer_not_in_customers_csv(tiny_scenario):
    edit_csv(tiny_scenario / "tasks.csv", 3, customer_id="C9")
    assert_problem(
        only_problem(tiny_scenario), "tasks.csv", 3, "customer_id", "C9", "not a customer_id of customers.csv"
    )


def test_assigned_to_not_an_agent(tiny_scenario):
    edit_csv(tiny_scenario / "tasks.csv", 9, assigned_to="Z9")
    assert_problem(
        only_problem(tiny_scenario), "tasks.csv", 9, "assigned_to", "Z9", "not an agent_id of agents.csv"
    )


def test_owner_id_not_an_agent(tiny_scenario):
    edit_csv(tiny_scenario / "customers.csv", 3, owner_id="Z9")
    assert_problem(
        only_problem(tiny_scenario), "customers.csv", 3, "owner_id", "Z9", "not an agent_id of agents.csv"
    )


# --------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("abc", "not a number"),
        ("12h", "not a number"),
        ("-1", "must be >= 0"),
        ("-0.5", "must be >= 0"),
        ("nan", "not a number"),
        ("NaN", "not a number"),
        ("inf", "not a number"),
        ("", "a value is required"),
    ],
)
def test_bad_capacity_hours(tiny_scenario, value, rule):
    edit_csv(tiny_scenario / "agents.csv", 3, capacity_hours=value)
    assert_problem(only_problem(tiny_scenario), "agents.csv", 3, "capacity_hours", value, rule)


def test_capacity_hours_zero_is_allowed(tiny_scenario):
    edit_csv(tiny_scenario / "agents.csv", 5, capacity_hours="0")
    assert optassign.load_scenario(tiny_scenario).agents["capacity_hours"].iat[3] == 0.0


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("abc", "not a number"),
        ("-2", "must be > 0"),
        ("nan", "not a number"),
        ("NaN", "not a number"),
        ("0", "must be > 0"),
        ("0.0", "must be > 0"),
        ("", "a value is required"),
    ],
)
def test_bad_effort_hours(tiny_scenario, value, rule):
    edit_csv(tiny_scenario / "tasks.csv", 4, effort_hours=value)
    assert_problem(only_problem(tiny_scenario), "tasks.csv", 4, "effort_hours", value, rule)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("0", "must be >= 1"),
        ("6", "must be <= 5"),
        ("2.5", "not an integer"),
        ("high", "not an integer"),
        ("-1", "must be >= 1"),
        ("", "a value is required"),
    ],
)
def test_priority_outside_1_to_5(tiny_scenario, value, rule):
    edit_csv(tiny_scenario / "tasks.csv", 5, priority=value)
    assert_problem(only_problem(tiny_scenario), "tasks.csv", 5, "priority", value, rule)


@pytest.mark.parametrize(("column", "value"), [("max_tasks", "-1"), ("max_customers", "1.5")])
def test_bad_agent_limits(tiny_scenario, column, value):
    edit_csv(tiny_scenario / "agents.csv", 2, **{column: value})
    p = only_problem(tiny_scenario)
    assert (p.file, p.line, p.column, p.value) == ("agents.csv", 2, column, value)


# --------------------------------------------------------------------------- skills
@pytest.mark.parametrize(
    ("name", "line", "column"),
    [
        ("agents.csv", 3, "skills"),
        ("tasks.csv", 4, "required_skills"),
        ("customers.csv", 3, "required_skills"),
    ],
)
@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("billing:x", "malformed skill 'billing:x'"),
        ("billing:7", "'billing:7' must be 1..5"),
        ("billing:0", "'billing:0' must be 1..5"),
        ("billing:2.5", "malformed skill"),
        (":3", "malformed skill ':3'"),
        ("sales:2;billing:x", "malformed skill 'billing:x'"),
    ],
)
def test_malformed_skill(tiny_scenario, name, line, column, value, rule):
    edit_csv(tiny_scenario / name, line, **{column: value})
    if name == "tasks.csv":  # T3 is not pinned; its agent need not have the skill
        edit_csv(tiny_scenario / name, line, assigned_to="")
    assert_problem(only_problem(tiny_scenario), name, line, column, value, rule)


# --------------------------------------------------------------------------- policies and YAML
def test_unknown_policy_in_scenario_yaml(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("name: tiny\npolicy: nope\n", encoding="utf-8")
    p = only_problem(tiny_scenario)
    assert_problem(p, "scenario.yaml", 2, "policy", "nope", "unknown policy")
    assert "balanced" in p.rule  # lists the known ones


def test_unknown_policy_option(tiny_scenario):
    p = only_problem(tiny_scenario, policy="nope")
    assert_problem(p, "--policy", None, None, "nope", "unknown policy")


def test_inline_policy_invalid_value_names_the_key(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text(
        "name: tiny\npolicy:\n  region: hard\n  balance_weight: -1\n", encoding="utf-8"
    )
    p = only_problem(tiny_scenario)
    assert_problem(p, "scenario.yaml", 4, "policy.balance_weight", "-1", "greater than or equal to 0")


def test_inline_policy_unknown_key_names_the_nearest_known_key(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("policy:\n  balance_wieght: 3\n", encoding="utf-8")
    p = only_problem(tiny_scenario)
    assert_problem(p, "scenario.yaml", 2, "policy.balance_wieght", None, "unknown key")
    assert p.rule == "unknown key: did you mean balance_weight?"


def test_policy_of_a_wrong_type(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("policy: 3\n", encoding="utf-8")
    assert_problem(only_problem(tiny_scenario), "scenario.yaml", 1, "policy", "3", "expected a policy")


def test_invalid_settings_name_the_key(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("settings:\n  time_limit: -1\n", encoding="utf-8")
    assert_problem(only_problem(tiny_scenario), "scenario.yaml", 2, "settings.time_limit", "-1", "greater")


def test_malformed_scenario_yaml(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("name: tiny\npolicy: [balanced\n", encoding="utf-8")
    p = only_problem(tiny_scenario)
    assert p.file == "scenario.yaml" and p.line is not None
    assert p.rule.startswith("malformed YAML")


def test_recursive_yaml_alias_is_refused_without_a_crash(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text(
        "description: &a [1, *a]\nsettings: {workers: 0}\n", encoding="utf-8"
    )
    assert_problem(only_problem(tiny_scenario), "scenario.yaml", None, None, None, "recursive YAML")


def test_scenario_yaml_not_a_mapping(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("- a\n- b\n", encoding="utf-8")
    assert_problem(only_problem(tiny_scenario), "scenario.yaml", None, None, None, "mapping")


def test_malformed_events_yaml(tiny_scenario):
    (tiny_scenario / "events.yaml").write_text("events:\n  - leave: [A1\n", encoding="utf-8")
    p = only_problem(tiny_scenario)
    assert p.file == "events.yaml" and p.line is not None
    assert p.rule.startswith("malformed YAML")


def test_events_yaml_loads(tiny_scenario):
    (tiny_scenario / "events.yaml").write_text(
        "events:\n  - leave: A1\n    to: A4\n  - capacity: {agent: A2, capacity_hours: 8}\n"
        "  - hire:\n      agent_id: N1\n      capacity_hours: 30\n",
        encoding="utf-8",
    )
    s = optassign.load_scenario(tiny_scenario)
    assert len(s.events.events) == 3


def test_unknown_event_is_one_problem(tiny_scenario):
    (tiny_scenario / "events.yaml").write_text("events:\n  - leave: A1\n  - vacation: A2\n", encoding="utf-8")
    p = only_problem(tiny_scenario)
    assert_problem(p, "events.yaml", 3, "events.1", "vacation", "an event is exactly one of")


def test_invalid_event_value_names_the_key(tiny_scenario):
    (tiny_scenario / "events.yaml").write_text(
        "- leave: A1\n- capacity: {agent: A2, capacity_hours: -3}\n", encoding="utf-8"
    )
    p = only_problem(tiny_scenario)
    assert_problem(p, "events.yaml", 2, "events.1.capacity.capacity_hours", "-3", "greater")


def test_malformed_policy_file_in_scenario_yaml(tiny_scenario):
    (tiny_scenario / "mine.yaml").write_text("balance_weight: [1\nregion: hard\n", encoding="utf-8")
    (tiny_scenario / "scenario.yaml").write_text("policy: mine.yaml\n", encoding="utf-8")
    p = only_problem(tiny_scenario)
    assert p.file.endswith("mine.yaml") and p.line is not None
    assert p.rule.startswith("malformed YAML")


def test_malformed_policy_file_option(tiny_scenario, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("region: [hard\n", encoding="utf-8")
    p = only_problem(tiny_scenario, policy=str(path))
    assert p.file == str(path) and p.line is not None
    assert p.rule.startswith("malformed YAML")


def test_invalid_value_in_policy_file(tiny_scenario, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("balance_weight: -1\n", encoding="utf-8")
    p = only_problem(tiny_scenario, policy=str(path))
    assert (p.file, p.column, p.value) == (str(path), "balance_weight", "-1")


def test_missing_policy_file(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("policy: gone.yaml\n", encoding="utf-8")
    p = only_problem(tiny_scenario)
    assert p.file.endswith("gone.yaml") and p.rule == "file not found"


# --------------------------------------------------------------------------- pinned tasks
def test_pinned_without_assigned_to(tiny_scenario):
    edit_csv(tiny_scenario / "tasks.csv", 3, pinned="yes")
    assert_problem(only_problem(tiny_scenario), "tasks.csv", 3, "pinned", "true", "needs assigned_to")


def test_pinned_agent_does_not_cover_the_region(tiny_scenario):
    edit_csv(tiny_scenario / "tasks.csv", 5, assigned_to="A2", pinned="true")  # T4 (C2 in S) to A2 (N)
    p = only_problem(tiny_scenario)
    assert_problem(p, "tasks.csv", 5, "assigned_to", "A2", "region not covered")
    assert "region S" in p.rule


def test_pinned_agent_skill_level_too_low(tiny_scenario):
    edit_csv(tiny_scenario / "tasks.csv", 9, pinned="1")  # T8 needs billing:3, A2 has a bare `billing`
    p = only_problem(tiny_scenario)
    assert_problem(p, "tasks.csv", 9, "assigned_to", "A2", "skill level too low")
    assert "billing=1" in p.rule and "billing>=3" in p.rule


def test_pinned_hours_above_capacity(tiny_scenario):
    edit_csv(tiny_scenario / "agents.csv", 3, capacity_hours="2.5")  # A2
    edit_csv(tiny_scenario / "tasks.csv", 6, assigned_to="A2", pinned="true")  # T5, 2 h
    edit_csv(tiny_scenario / "tasks.csv", 8, assigned_to="A2", pinned="true")  # T7, 1 h
    p = only_problem(tiny_scenario)
    assert_problem(p, "tasks.csv", 8, "assigned_to", "A2", "pinned hours above the agent's capacity")
    assert "3 h" in p.rule and "capacity_hours 2.5" in p.rule and "lines 6, 8" in p.rule


def test_more_pins_than_max_tasks(tiny_scenario):
    edit_csv(tiny_scenario / "agents.csv", 3, max_tasks="1")  # A2
    edit_csv(tiny_scenario / "tasks.csv", 6, assigned_to="A2", pinned="true")  # T5
    edit_csv(tiny_scenario / "tasks.csv", 8, assigned_to="A2", pinned="true")  # T7
    p = only_problem(tiny_scenario)
    assert_problem(p, "tasks.csv", 8, "assigned_to", "A2", "more pins than max_tasks")
    assert "2 tasks" in p.rule and "max_tasks 1" in p.rule


def test_pins_within_limits_are_fine(tiny_scenario):
    edit_csv(tiny_scenario / "agents.csv", 3, max_tasks="2", capacity_hours="3")  # A2
    edit_csv(tiny_scenario / "tasks.csv", 6, assigned_to="A2", pinned="true")
    edit_csv(tiny_scenario / "tasks.csv", 8, assigned_to="A2", pinned="true")
    assert optassign.load_scenario(tiny_scenario).tasks["pinned"].sum() == 3


def test_several_pin_rules_reported_together(tiny_scenario):
    edit_csv(tiny_scenario / "tasks.csv", 4, assigned_to="A1", pinned="true")  # T3: S, support:3
    problems = problems_of(tiny_scenario)
    rules = sorted(p.rule.split(":")[0] for p in problems)
    assert rules == ["region not covered", "skill level too low"]
    assert {(p.line, p.column, p.value) for p in problems} == {(4, "assigned_to", "A1")}


# --------------------------------------------------------------------------- all together
def test_errors_in_several_files_reported_together(tiny_scenario):
    edit_csv(tiny_scenario / "agents.csv", 2, capacity_hours="lots")
    edit_csv(tiny_scenario / "tasks.csv", 3, priority="9")
    edit_csv(tiny_scenario / "tasks.csv", 7, effort_hours="0")
    edit_csv(tiny_scenario / "customers.csv", 4, tier="Z")
    (tiny_scenario / "events.yaml").write_text("events: [\n", encoding="utf-8")
    problems = problems_of(tiny_scenario)
    assert len(problems) == 5
    assert_problem(problems[0], "agents.csv", 2, "capacity_hours", "lots", "not a number")
    assert_problem(problems[1], "customers.csv", 4, "tier", "Z", "A, B or C")
    assert problems[2].file == "events.yaml" and "malformed YAML" in problems[2].rule
    assert_problem(problems[3], "tasks.csv", 3, "priority", "9", "must be <= 5")
    assert_problem(problems[4], "tasks.csv", 7, "effort_hours", "0", "must be > 0")


def test_cell_and_reference_errors_reported_together(tiny_scenario):
    edit_csv(tiny_scenario / "agents.csv", 2, capacity_hours="-4")
    edit_csv(tiny_scenario / "tasks.csv", 3, customer_id="C9")
    edit_csv(tiny_scenario / "customers.csv", 3, owner_id="nobody")
    problems = problems_of(tiny_scenario)
    assert len(problems) == 3
    find(problems, "agents.csv", 2, "capacity_hours")
    find(problems, "tasks.csv", 3, "customer_id")
    find(problems, "customers.csv", 3, "owner_id")


def test_broken_scenario_yaml_and_csv_errors_reported_together(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("name: [tiny\n", encoding="utf-8")
    edit_csv(tiny_scenario / "tasks.csv", 3, priority="high")
    problems = problems_of(tiny_scenario)
    assert [p.file for p in problems] == ["scenario.yaml", "tasks.csv"]


def test_missing_scenario_yaml_and_missing_column_reported_together(tiny_scenario):
    (tiny_scenario / "scenario.yaml").unlink()
    write_csv(tiny_scenario / "agents.csv", without_column(AGENTS, "capacity_hours"))
    problems = problems_of(tiny_scenario)
    assert [(p.file, p.column) for p in problems] == [
        ("agents.csv", "capacity_hours"),
        ("scenario.yaml", None),
    ]


def test_every_problem_of_one_column_is_reported(tiny_scenario):
    rows = read_csv(tiny_scenario / "tasks.csv")
    for r in rows:
        r["priority"] = "urgent"
    write_csv(tiny_scenario / "tasks.csv", rows)
    problems = problems_of(tiny_scenario)
    assert [p.line for p in problems] == list(range(2, 10))


def test_problem_renders_file_line_column_value_rule():
    p = InputProblem("tasks.csv", 7, "priority", "6", "must be <= 5")
    assert str(p) == "tasks.csv, line 7, column priority: value '6': must be <= 5"
    err = ScenarioError([p, p])
    assert len(err.problems) == 1
    assert (
        str(err) == "1 problem in the input:\n  tasks.csv, line 7, column priority: value '6': must be <= 5"
    )
