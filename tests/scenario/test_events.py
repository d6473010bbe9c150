"""Staffing changes on the tiny scenario (conftest.py: A1, A2 in region N, A3 in S, A4 with
`*`): each kind changes one agent's row, problems come back together with the event's place,
and changes that do nothing are warnings."""

from __future__ import annotations

import pytest

from optassign.contract.schema import Capacity, Hire, Leave, ScenarioError, Skills, Transfer
from optassign.scenario.events import EVENT_KINDS, apply_events
from optassign.scenario.scenario import load_scenario


def _row(scenario, agent_id: str):
    return scenario.agents.set_index("agent_id").loc[agent_id]


def test_each_kind_changes_its_agent_and_leaves_tasks_alone(tiny_scenario):
    scenario = load_scenario(tiny_scenario)
    events = [
        Leave(leave="A2"),
        Capacity(capacity={"agent": "A1", "capacity_hours": 12.5}),
        Transfer(transfer={"agent": "A3", "regions": ["N", "S"]}),
        Skills(skills={"agent": "A4", "skills": ["billing:2"]}),
        Hire(
            hire={"agent_id": "A9", "name": "New", "regions": "S", "skills": "sales:1", "capacity_hours": 8}
        ),
    ]
    after = apply_events(scenario, events)
    assert not _row(after, "A2")["active"]
    assert _row(after, "A1")["capacity_hours"] == 12.5
    assert _row(after, "A3")["regions"] == "N;S"
    assert _row(after, "A4")["skills"] == "billing:2"
    assert _row(after, "A9")["capacity_hours"] == 8.0 and _row(after, "A9")["active"]
    assert len(after.agents) == len(scenario.agents) + 1
    assert after.tasks.equals(scenario.tasks)
    assert _row(scenario, "A2")["active"]  # the scenario given is not changed


def test_every_kind_of_event_has_a_rule():
    assert set(EVENT_KINDS) == {"leave", "hire", "capacity", "transfer", "skills"}


def test_problems_name_the_event_and_come_together(tiny_scenario):
    scenario = load_scenario(tiny_scenario)
    events = [
        Leave(leave="A7"),
        Hire(hire={"agent_id": "A1", "capacity_hours": 5}),
        Capacity(capacity={"agent": "nobody", "capacity_hours": 1}),
    ]
    with pytest.raises(ScenarioError) as err:
        apply_events(scenario, events)
    found = [(p.column, p.value) for p in err.value.problems]
    assert ("events.0.leave", "A7") in found
    assert ("events.1.hire.agent_id", "A1") in found
    assert ("events.2.capacity.agent", "nobody") in found


def test_changes_that_do_nothing_are_warnings(tiny_scenario):
    scenario = load_scenario(tiny_scenario)
    warnings: list[str] = []
    apply_events(scenario, [Leave(leave="A2"), Leave(leave="A2", to=["A2"])], warnings=warnings)
    assert warnings == [
        "events.yaml event 1: A2 is already inactive; the leave changes nothing",
        "events.yaml event 1: A2 is named among its own receivers; ignored",
    ]


def test_events_given_as_an_option_are_named_by_it(tiny_scenario):
    scenario = load_scenario(tiny_scenario)
    with pytest.raises(ScenarioError) as err:
        apply_events(scenario, [Leave(leave="A7")], label="--leave")
    (problem,) = err.value.problems
    assert (problem.file, problem.column, problem.value) == ("--leave", None, "A7")
