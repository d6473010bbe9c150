"""Tests of the independent plan checker (tests/checker.py) on one tiny hand-made case.

Each test breaks exactly one rule of a valid plan and asserts the matching violation, so the
oracle the rest of the suite trusts is itself known to see what it claims to see.
"""

import json

import pytest

from tests.checker import assert_plan_ok, check_plan, parse_bool, parse_skills

# Three agents; A3 is on leave. Regions: A1 covers R1;R2, A2 every region, A3 R1.
AGENTS = """\
agent_id,name,regions,skills,capacity_hours,max_tasks,max_customers,active
A1,Ann,R1;R2,billing:3;sales,10,3,2,true
A2,Bob,*,billing:1,8,,,yes
A3,Cid,R1,billing:5,40,,,FALSE
"""

CUSTOMERS = """\
customer_id,name,region,tier,owner_id,required_skills,ownership_hours
C1,Acme,R1,A,A1,sales:1,2
C2,Beta,R2,,A2,,1
"""

# T1 is pinned to A1 (region from C1 = R1); T2 moves off the absent A3; T4 needs billing:4,
# which only the inactive A3 has, so it stays unassigned.
TASKS = """\
task_id,customer_id,type,required_skills,region,priority,effort_hours,assigned_to,pinned
T1,C1,follow_up,billing:2,,5,3,A1,true
T2,C2,complaint,billing,R2,3,2.5,A3,false
T3,,install,sales:1,R1,2,4,,
T4,C1,follow_up,billing:4,R1,1,1,,
"""

ASSIGNMENTS = """\
task_id,agent_id,previous_agent_id,changed,priority,effort_hours,reason
T1,A1,A1,false,5,3,pinned
T2,A2,A3,true,3,2.5,A3 is inactive
T3,A1,,false,2,4.0,best fit
T4,,,false,1,1,no active agent has billing:4
"""

OWNERS = """\
customer_id,owner_id,previous_owner_id,changed
C1,A1,A1,false
C2,A2,A2,False
"""

# A1: tasks 3 + 4 = 7 h, owns C1 (2 h) -> 9 h of 10; A2: 2.5 + 1 = 3.5 h of 8; A3: nothing.
AGENT_LOAD = """\
agent_id,tasks,hours,capacity_hours,utilization
A1,2,9,10,0.9
A2,1,3.5,8,0.4375
A3,0,0,40,0
"""

# Coverage: (5 + 3 + 2) / (5 + 3 + 2 + 1) = 10 / 11.
SUMMARY = {
    "status": "OPTIMAL",
    "objective": 10,
    "best_bound": 10,
    "gap": 0.0,
    "solve_seconds": 0.01,
    "tasks": 4,
    "assigned": 3,
    "priority_weighted_coverage": 10 / 11,
    "moves": 1,
    "policy": "default",
    "seed": 0,
    "optassign_version": "0.1.0",
    "ortools_version": "9.10",
}


def make_case(tmp_path, **changes):
    """Write the scenario and plan folders; `changes` maps a file stem to replacement text."""
    files = {
        "agents": AGENTS,
        "customers": CUSTOMERS,
        "tasks": TASKS,
        "assignments": ASSIGNMENTS,
        "owners": OWNERS,
        "agent_load": AGENT_LOAD,
        "summary": SUMMARY,
    }
    files.update(changes)
    scenario = tmp_path / "scenario"
    plan = tmp_path / "plan"
    scenario.mkdir()
    plan.mkdir()
    (scenario / "scenario.yaml").write_text("name: tiny\npolicy: default\n", encoding="utf-8")
    for stem in ("agents", "customers", "tasks"):
        if files[stem] is not None:
            (scenario / f"{stem}.csv").write_text(files[stem], encoding="utf-8")
    for stem in ("assignments", "owners", "agent_load"):
        if files[stem] is not None:
            (plan / f"{stem}.csv").write_text(files[stem], encoding="utf-8")
    if files["summary"] is not None:
        (plan / "summary.json").write_text(json.dumps(files["summary"]), encoding="utf-8")
    return scenario, plan


def replace(text, old, new):
    """str.replace that fails loudly when the test's edit does not apply."""
    assert old in text, f"{old!r} not in the fixture"
    return text.replace(old, new)


def only(problems, substring):
    """Assert the case breaks exactly one rule and that it is the one named by `substring`."""
    assert len(problems) == 1, problems
    assert substring in problems[0], problems
    return problems[0]


def reported(problems, substring):
    """Assert at least one violation contains `substring`."""
    assert any(substring in p for p in problems), problems


# -- the valid plan ---------------------------------------------------------------------------


def test_valid_plan_has_no_violations(tmp_path):
    scenario, plan = make_case(tmp_path)
    assert check_plan(scenario, plan) == []
    assert_plan_ok(scenario, plan)


def test_valid_plan_with_bom_and_reordered_columns(tmp_path):
    assignments = "\ufeffreason,changed,task_id,effort_hours,priority,previous_agent_id,agent_id\n"
    assignments += "pinned,0,T1,3,5.0,A1,A1\n"
    assignments += "A3 is inactive,YES,T2,2.5,3,A3,A2\n"
    assignments += "best fit,no,T3,4,2,,A1\n"
    assignments += "no active agent has billing:4,,T4,1,1,,\n"
    scenario, plan = make_case(tmp_path, assignments=assignments)
    assert check_plan(scenario, plan) == []


def test_assert_plan_ok_raises_with_the_violations(tmp_path):
    scenario, plan = make_case(tmp_path, agents=replace(AGENTS, "R1;R2,billing:3", "R2,billing:3"))
    with pytest.raises(AssertionError, match="does not cover region"):
        assert_plan_ok(scenario, plan)


# -- hard rules ---------------------------------------------------------------------------------


def test_over_capacity(tmp_path):
    # A1: 7 task hours + 2 ownership hours = 9 > 8.5
    agents = replace(AGENTS, "sales,10,3", "sales,8.5,3")
    load = replace(AGENT_LOAD, "A1,2,9,10,0.9", "A1,2,9,8.5,1.0588")
    scenario, plan = make_case(tmp_path, agents=agents, agent_load=load)
    only(check_plan(scenario, plan), "over capacity")


def test_ownership_hours_push_over_capacity(tmp_path):
    # A1: 7 task hours fit in 8, but + 2 ownership hours of C1 = 9 > 8
    agents = replace(AGENTS, "sales,10,3", "sales,8,3")
    load = replace(AGENT_LOAD, "A1,2,9,10,0.9", "A1,2,9,8,1.125")
    scenario, plan = make_case(tmp_path, agents=agents, agent_load=load)
    message = only(check_plan(scenario, plan), "over capacity")
    assert "7 task hours + 2 ownership hours = 9 > 8" in message


def test_capacity_exactly_full_is_fine(tmp_path):
    agents = replace(AGENTS, "sales,10,3", "sales,9,3")
    load = replace(AGENT_LOAD, "A1,2,9,10,0.9", "A1,2,9,9,1")
    scenario, plan = make_case(tmp_path, agents=agents, agent_load=load)
    assert check_plan(scenario, plan) == []


def test_wrong_region(tmp_path):
    tasks = replace(TASKS, "sales:1,R1,2,4", "sales:1,R3,2,4")
    scenario, plan = make_case(tmp_path, tasks=tasks)
    only(check_plan(scenario, plan), "task T3: agent A1 does not cover region R3")


def test_region_falls_back_to_the_customer(tmp_path):
    # T1 has no region of its own; its customer C1 moves to R9, which A1 does not cover.
    customers = replace(CUSTOMERS, "C1,Acme,R1", "C1,Acme,R9")
    scenario, plan = make_case(tmp_path, customers=customers)
    problems = check_plan(scenario, plan)
    reported(problems, "task T1: agent A1 does not cover region R9")
    reported(problems, "customer C1: owner A1 does not cover region R9")
    assert len(problems) == 2, problems


def test_region_soft_when_switched_off(tmp_path):
    tasks = replace(TASKS, "sales:1,R1,2,4", "sales:1,R3,2,4")
    scenario, plan = make_case(tmp_path, tasks=tasks)
    assert check_plan(scenario, plan, region_hard=False) == []


def test_missing_skill_level(tmp_path):
    # A1 has billing:3, T1 now needs billing:4
    tasks = replace(TASKS, "T1,C1,follow_up,billing:2", "T1,C1,follow_up,billing:4")
    scenario, plan = make_case(tmp_path, tasks=tasks)
    only(check_plan(scenario, plan), "task T1: agent A1 lacks skill billing:4 (has 3)")


def test_missing_skill_altogether(tmp_path):
    tasks = replace(TASKS, "T3,,install,sales:1", "T3,,install,sales:1;repair")
    scenario, plan = make_case(tmp_path, tasks=tasks)
    only(check_plan(scenario, plan), "lacks skill repair:1 (has none)")


def test_inactive_agent(tmp_path):
    agents = replace(AGENTS, ",,,yes", ",,,no")
    scenario, plan = make_case(tmp_path, agents=agents)
    problems = check_plan(scenario, plan)
    reported(problems, "task T2: inactive agent A2")
    reported(problems, "customer C2: inactive agent A2 as owner")
    assert len(problems) == 2, problems


def test_unknown_agent(tmp_path):
    assignments = replace(ASSIGNMENTS, "T3,A1,,false", "T3,Z9,,false")
    scenario, plan = make_case(tmp_path, assignments=assignments)
    reported(check_plan(scenario, plan), "task T3: unknown agent Z9")


def test_pinned_task_moved(tmp_path):
    # T1 is pinned to the active A1 but left unassigned (the other files follow the move).
    assignments = replace(ASSIGNMENTS, "T1,A1,A1,false", "T1,,A1,true")
    load = replace(AGENT_LOAD, "A1,2,9,10,0.9", "A1,1,6,10,0.6")
    summary = dict(SUMMARY, assigned=2, moves=2, priority_weighted_coverage=5 / 11)
    scenario, plan = make_case(tmp_path, assignments=assignments, agent_load=load, summary=summary)
    only(check_plan(scenario, plan), "task T1: pinned to A1 but assigned to nobody")


def test_pin_released_when_the_agent_is_inactive(tmp_path):
    # T2 pinned to the inactive A3: moving it is allowed.
    tasks = replace(TASKS, "2.5,A3,false", "2.5,A3,true")
    scenario, plan = make_case(tmp_path, tasks=tasks)
    assert check_plan(scenario, plan) == []


def test_missing_task_row(tmp_path):
    assignments = replace(ASSIGNMENTS, "T4,,,false,1,1,no active agent has billing:4\n", "")
    scenario, plan = make_case(tmp_path, assignments=assignments)
    only(check_plan(scenario, plan), "missing task T4")


def test_duplicate_task_row(tmp_path):
    assignments = ASSIGNMENTS + "T4,,,false,1,1,no active agent has billing:4\n"
    scenario, plan = make_case(tmp_path, assignments=assignments)
    only(check_plan(scenario, plan), "duplicate task T4")


def test_unknown_task_row(tmp_path):
    assignments = ASSIGNMENTS + "T9,,,false,1,1,whatever\n"
    scenario, plan = make_case(tmp_path, assignments=assignments)
    only(check_plan(scenario, plan), "unknown task 'T9'")


def test_missing_column(tmp_path):
    lines = [line.rsplit(",", 1)[0] for line in ASSIGNMENTS.splitlines()]  # drop `reason`
    assignments = "\n".join(lines) + "\n"
    scenario, plan = make_case(tmp_path, assignments=assignments)
    problems = check_plan(scenario, plan)
    reported(problems, "assignments.csv: missing column reason")
    reported(problems, "task T4: unassigned with no reason")


def test_wrong_changed_flag(tmp_path):
    # T2 moved from A3 to A2 but says it did not (moves kept consistent with the file).
    assignments = replace(ASSIGNMENTS, "T2,A2,A3,true", "T2,A2,A3,false")
    summary = dict(SUMMARY, moves=0)
    scenario, plan = make_case(tmp_path, assignments=assignments, summary=summary)
    only(check_plan(scenario, plan), "task T2: changed flag is false, expected true")


def test_changed_flag_false_for_a_new_assignment(tmp_path):
    # T3 had no previous agent: giving it to A1 is not a change.
    assignments = replace(ASSIGNMENTS, "T3,A1,,false", "T3,A1,,true")
    summary = dict(SUMMARY, moves=2)
    scenario, plan = make_case(tmp_path, assignments=assignments, summary=summary)
    only(check_plan(scenario, plan), "task T3: changed flag is true, expected false")


def test_changed_flag_not_a_boolean(tmp_path):
    assignments = replace(ASSIGNMENTS, "T3,A1,,false", "T3,A1,,maybe")
    scenario, plan = make_case(tmp_path, assignments=assignments)
    only(check_plan(scenario, plan), "changed flag 'maybe' is not a boolean")


def test_wrong_previous_agent(tmp_path):
    assignments = replace(ASSIGNMENTS, "T2,A2,A3,true", "T2,A2,A1,true")
    scenario, plan = make_case(tmp_path, assignments=assignments)
    only(check_plan(scenario, plan), "task T2: previous_agent_id is 'A1'")


def test_priority_and_effort_copied(tmp_path):
    assignments = replace(ASSIGNMENTS, "T3,A1,,false,2,4.0", "T3,A1,,false,3,4.5")
    scenario, plan = make_case(tmp_path, assignments=assignments)
    problems = check_plan(scenario, plan)
    reported(problems, "task T3: priority is '3', input has 2")
    reported(problems, "task T3: effort_hours is '4.5', input has 4")
    assert len(problems) == 2, problems


def test_unassigned_without_reason(tmp_path):
    assignments = replace(ASSIGNMENTS, "no active agent has billing:4", "")
    scenario, plan = make_case(tmp_path, assignments=assignments)
    only(check_plan(scenario, plan), "task T4: unassigned with no reason")


def test_max_tasks(tmp_path):
    agents = replace(AGENTS, "sales,10,3,2", "sales,10,1,2")
    scenario, plan = make_case(tmp_path, agents=agents)
    only(check_plan(scenario, plan), "agent A1: 2 tasks > max_tasks 1")


def test_max_customers(tmp_path):
    # A1 takes over C2 as well (A1 covers R2); max_customers 1.
    agents = replace(AGENTS, "sales,10,3,2", "sales,10,3,1")
    owners = replace(OWNERS, "C2,A2,A2,False", "C2,A1,A2,true")
    load = "agent_id,tasks,hours,capacity_hours,utilization\n"
    load += "A1,2,10,10,1\nA2,1,2.5,8,0.3125\nA3,0,0,40,0\n"
    scenario, plan = make_case(tmp_path, agents=agents, owners=owners, agent_load=load)
    only(check_plan(scenario, plan), "agent A1: 2 customers > max_customers 1")


# -- owners.csv ---------------------------------------------------------------------------------


def test_owner_lacking_required_skill(tmp_path):
    customers = replace(CUSTOMERS, "C2,Beta,R2,,A2,,1", "C2,Beta,R2,,A2,billing:2,1")
    scenario, plan = make_case(tmp_path, customers=customers)
    only(check_plan(scenario, plan), "customer C2: owner A2 lacks skill billing:2 (has 1)")


def test_owner_rows_shape(tmp_path):
    owners = replace(OWNERS, "C2,A2,A2,False\n", "C1,A1,A1,false\nC7,A1,,false\n")
    scenario, plan = make_case(tmp_path, owners=owners)
    problems = check_plan(scenario, plan)
    reported(problems, "duplicate customer C1")
    reported(problems, "unknown customer 'C7'")
    reported(problems, "missing customer C2")


def test_owner_changed_flag_and_previous(tmp_path):
    owners = replace(OWNERS, "C2,A2,A2,False", "C2,A2,A1,false")
    scenario, plan = make_case(tmp_path, owners=owners)
    problems = check_plan(scenario, plan)
    reported(problems, "customer C2: previous_owner_id is 'A1'")
    reported(problems, "customer C2: changed flag is false, expected true")


def test_owners_csv_required_with_customers(tmp_path):
    scenario, plan = make_case(tmp_path, owners=None)
    reported(check_plan(scenario, plan), "owners.csv is missing")


def test_no_customers_no_owners(tmp_path):
    # Without customers.csv nobody owns anything: A1 carries 7 h, A2 2.5 h.
    tasks = replace(TASKS, "T2,C2,complaint", "T2,,complaint")
    load = "agent_id,tasks,hours,capacity_hours,utilization\n"
    load += "A1,2,7,10,0.7\nA2,1,2.5,8,0.3125\nA3,0,0,40,0\n"
    scenario, plan = make_case(tmp_path, customers=None, owners=None, tasks=tasks, agent_load=load)
    assert check_plan(scenario, plan) == []


# -- agent_load.csv -----------------------------------------------------------------------------


def test_agent_load_hours_without_ownership_accepted(tmp_path):
    load = replace(AGENT_LOAD, "A1,2,9,10,0.9", "A1,2,7,10,0.7")
    scenario, plan = make_case(tmp_path, agent_load=load)
    assert check_plan(scenario, plan) == []


def test_agent_load_mismatches(tmp_path):
    load = "agent_id,tasks,hours,capacity_hours,utilization\n"
    load += "A1,3,8,10,0.9\nA2,1,3.5,9,0.4375\nZ1,0,0,1,0\n"
    scenario, plan = make_case(tmp_path, agent_load=load)
    problems = check_plan(scenario, plan)
    reported(problems, "agent A1: tasks is '3', assignments give 2")
    reported(problems, "agent A1: hours is 8, assignments give 7 (or 9 with ownership hours)")
    reported(problems, "agent A1: utilization is '0.9'")
    reported(problems, "agent A2: capacity_hours is '9'")
    reported(problems, "unknown agent 'Z1'")
    reported(problems, "agent_load.csv: missing agent A3")


# -- summary.json -------------------------------------------------------------------------------


def test_summary_moves_mismatch(tmp_path):
    scenario, plan = make_case(tmp_path, summary=dict(SUMMARY, moves=2))
    only(check_plan(scenario, plan), "summary.json: moves is 2, expected 1")


def test_summary_counts_and_coverage(tmp_path):
    summary = dict(SUMMARY, tasks=5, assigned=4, priority_weighted_coverage=1.0)
    del summary["ortools_version"]
    scenario, plan = make_case(tmp_path, summary=summary)
    problems = check_plan(scenario, plan)
    reported(problems, "summary.json: missing key ortools_version")
    reported(problems, "summary.json: tasks is 5, expected 4")
    reported(problems, "summary.json: assigned is 4, expected 3")
    reported(problems, "summary.json: priority_weighted_coverage is 1.0, expected 0.909091")
    assert len(problems) == 4, problems


def test_no_tasks_accepts_null_coverage(tmp_path):
    tasks = TASKS.splitlines()[0] + "\n"
    assignments = ASSIGNMENTS.splitlines()[0] + "\n"
    load = "agent_id,tasks,hours,capacity_hours,utilization\n"
    load += "A1,0,2,10,0.2\nA2,0,1,8,0.125\nA3,0,0,40,0\n"
    summary = dict(SUMMARY, tasks=0, assigned=0, moves=0, priority_weighted_coverage=None)
    scenario, plan = make_case(
        tmp_path, tasks=tasks, assignments=assignments, agent_load=load, summary=summary
    )
    assert check_plan(scenario, plan) == []


# -- agents_override and events ------------------------------------------------------------------


def test_agents_override(tmp_path):
    scenario, plan = make_case(tmp_path)
    override = tmp_path / "agents_after.csv"
    override.write_text(replace(AGENTS, "A1,Ann,R1;R2", "A1,Ann,R2"), encoding="utf-8")
    problems = check_plan(scenario, plan, agents_override=override)
    reported(problems, "task T1: agent A1 does not cover region R1")
    reported(problems, "task T3: agent A1 does not cover region R1")
    reported(problems, "customer C1: owner A1 does not cover region R1")


def test_events_leave_releases_the_pin_and_blocks_the_agent(tmp_path):
    scenario, plan = make_case(tmp_path)
    events = tmp_path / "events.yaml"
    events.write_text("events:\n  - leave: A1\n    to: [A2]\n", encoding="utf-8")
    problems = check_plan(scenario, plan, events=events)
    reported(problems, "task T1: inactive agent A1")
    reported(problems, "task T3: inactive agent A1")
    reported(problems, "customer C1: inactive agent A1 as owner")
    assert not any("pinned" in p for p in problems), problems


def test_events_capacity_transfer_skills_hire(tmp_path):
    scenario, plan = make_case(tmp_path)
    events = tmp_path / "events.yaml"
    events.write_text(
        "events:\n"
        "  - capacity: {agent: A2, capacity_hours: 3}\n"
        "  - transfer: {agent: A1, regions: R2}\n"
        '  - skills: {agent: A2, skills: "sales:2"}\n'
        "  - hire:\n"
        "      agent_id: N1\n"
        "      regions: [R1, R2]\n"
        "      skills: billing:3;complaints:2\n"
        "      capacity_hours: 36\n",
        encoding="utf-8",
    )
    problems = check_plan(scenario, plan, events=events)
    reported(problems, "agent A2: over capacity: 2.5 task hours + 1 ownership hours = 3.5 > 3")
    reported(problems, "task T1: agent A1 does not cover region R1")
    reported(problems, "task T2: agent A2 lacks skill billing:1 (has none)")
    reported(problems, "agent_load.csv: missing agent N1")


def test_events_with_matching_plan_are_valid(tmp_path):
    # A hire only needs its agent_load row; everything else is unchanged.
    load = AGENT_LOAD + "N1,0,0,36,0\n"
    scenario, plan = make_case(tmp_path, agent_load=load)
    events = tmp_path / "events.yaml"
    events.write_text(
        "events:\n  - hire: {agent_id: N1, regions: '*', capacity_hours: 36}\n",
        encoding="utf-8",
    )
    assert check_plan(scenario, plan, events=events) == []


def test_events_unknown_agent_is_an_input_error(tmp_path):
    scenario, plan = make_case(tmp_path)
    events = tmp_path / "events.yaml"
    events.write_text("events:\n  - leave: Z9\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown agent"):
        check_plan(scenario, plan, events=events)


# -- cell parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("0", False),
        (" ", False),
    ],
)
def test_parse_bool(text, expected):
    assert parse_bool(text, default=False) is expected


def test_parse_bool_rejects_other_words():
    with pytest.raises(ValueError):
        parse_bool("maybe", default=False)


def test_parse_skills():
    assert parse_skills("billing:3; sales ;complaints:2") == {
        "billing": 3.0,
        "sales": 1.0,
        "complaints": 2.0,
    }
    assert parse_skills("") == {}
