"""The horizon, calendar.csv, hours_per_day and dated events (contract v1.1): each agent's
hours day by day, and every bad input refused with one message naming file, line, column,
value and rule, exit code 2 and nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optassign
from optassign.contract.schema import Horizon, ScenarioError
from optassign.scenario.calendar import Days, agent_hours, cumulative_hours, due_days
from tests._cases import agent, task, write_scenario

HORIZON = "horizon:\n  start: 2026-12-07\n  days: 14\n"


def scenario_folder(
    tmp_path: Path, *, yaml: str = HORIZON, calendar: str | None = None, events: str | None = None
) -> Path:
    folder = write_scenario(tmp_path / "s", [agent("A1", 40), agent("A2", 20)], [task("T1", 3, 2)])
    (folder / "scenario.yaml").write_text("name: s\n" + yaml, encoding="utf-8")
    if calendar is not None:
        (folder / "calendar.csv").write_text(calendar, encoding="utf-8")
    if events is not None:
        (folder / "events.yaml").write_text(events, encoding="utf-8")
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        optassign.load_scenario(folder)
    return [str(p) for p in caught.value.problems]


def test_working_days_skip_weekends_and_holidays():
    days = Days(Horizon(start="2026-12-21", days=14, holidays=["2026-12-25", "2027-01-01"]))
    assert len(days) == 14
    assert int(days.working.sum()) == 8  # two weeks, less two holidays on Fridays
    assert not days.working[4] and not days.working[5]  # Christmas day, a Saturday


def test_hours_come_from_the_calendar_then_hours_per_day_then_capacity_spread():
    days = Days(Horizon(start="2026-12-07", days=7))  # Monday..Sunday: five working days
    agents = pd.DataFrame(
        {
            "agent_id": ["A1", "A2", "A3"],
            "capacity_hours": [40.0, 40.0, 10.0],
            "hours_per_day": [np.nan, 6.0, np.nan],
        }
    )
    calendar = pd.DataFrame({"agent_id": ["A1"], "date": pd.to_datetime(["2026-12-12"]), "hours": [5.0]})
    hours = agent_hours(agents, days, calendar)
    assert list(hours[0]) == [8, 8, 8, 8, 8, 5, 0]  # 40 h spread, and a Saturday of 5 h
    assert list(hours[1]) == [6, 6, 6, 6, 6, 0, 0]
    cum = cumulative_hours(agents, days, calendar)
    assert cum[0, -1] == 40  # capacity_hours caps the batch: the calendar says when, not more
    assert cum[2, -1] == 10 and cum[2, 0] == 2  # spread evenly: a share of capacity_hours


def test_due_days_clip_to_the_horizon():
    days = Days(Horizon(start="2026-12-07", days=14))
    due = pd.Series(pd.to_datetime(["2026-12-01", "2026-12-09", None, "2027-02-01"]))
    assert list(due_days(due, days)) == [0, 2, 13, 13]  # overdue: the first day; none: the last


def test_a_calendar_and_its_warnings_are_read(tmp_path):
    folder = scenario_folder(tmp_path, calendar="agent_id,date,hours\nA1,2026-12-07,0\nA1,2027-03-01,4\n")
    loaded = optassign.load_scenario(folder)
    assert len(loaded.calendar) == 1
    assert loaded.warnings == (
        "calendar.csv line 3: date 2027-03-01 is outside the horizon 2026-12-07 .. 2026-12-20; "
        "the row is ignored",
    )


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        ("horizon:\n  days: 10\n", "scenario.yaml, line 2, column horizon.start: Field required"),
        (
            "horizon:\n  start: 2026-12-07\n  days: 0\n",
            "scenario.yaml, line 4, column horizon.days: value '0': "
            "Input should be greater than or equal to 1",
        ),
        (
            "horizon:\n  start: 2026-12-32\n  days: 5\n",
            "scenario.yaml, line 3, column horizon.start: value '2026-12-32': "
            "Value error, expected an ISO date",
        ),
        ("horizon:\n  start: 2026-12-07\n  days: 5\n  working_days: [monday]\n", "horizon.working_days"),
    ],
)
def test_a_bad_horizon_is_refused(tmp_path, yaml, expected):
    found = problems_of(scenario_folder(tmp_path, yaml=yaml))
    assert len(found) == 1 and expected in found[0]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "ZZ,2026-12-07,4",
            "calendar.csv, line 2, column agent_id: value 'ZZ': not an agent_id of agents.csv",
        ),
        ("A1,2026-12-07,25", "calendar.csv, line 2, column hours: value '25': must be <= 24"),
        ("A1,2026-12-07,-1", "calendar.csv, line 2, column hours: value '-1': must be >= 0"),
        (
            "A1,7.12.2026,4",
            "calendar.csv, line 2, column date: value '7.12.2026': not an ISO date (YYYY-MM-DD)",
        ),
        (
            "A1,2026-12-08,4\nA1,2026-12-08,2",
            "calendar.csv, line 3, column date: value '2026-12-08': a second row for agent A1 on this date "
            "(the first is on line 2)",
        ),
    ],
)
def test_a_bad_calendar_row_is_refused(tmp_path, row, expected):
    found = problems_of(scenario_folder(tmp_path, calendar=f"agent_id,date,hours\n{row}\n"))
    assert found == [expected]


def test_a_calendar_needs_a_horizon(tmp_path):
    found = problems_of(scenario_folder(tmp_path, yaml="", calendar="agent_id,date,hours\nA1,2026-12-07,4\n"))
    assert found == ["calendar.csv: a calendar needs a horizon in scenario.yaml (horizon: {start, days})"]


def test_a_dated_leave_ending_before_it_starts_is_refused(tmp_path):
    events = "events:\n  - leave: A1\n    from: 2026-12-09\n    until: 2026-12-08\n"
    found = problems_of(scenario_folder(tmp_path, events=events))
    assert len(found) == 1
    assert "events.yaml, line 2, column events.0" in found[0]
    assert "until (2026-12-08) is before from (2026-12-09)" in found[0]


def test_a_dated_leave_takes_the_days_away(tmp_path):
    from optassign.scenario.events import apply_events

    events = "events:\n  - leave: A1\n    from: 2026-12-08\n    until: 2026-12-09\n"
    loaded = optassign.load_scenario(scenario_folder(tmp_path, events=events))
    after = apply_events(loaded, loaded.events)
    assert bool(after.agents.active.iat[0])  # dated: an absence, not a departure
    hours = agent_hours(after.agents, after.days, after.calendar)
    assert list(hours[0, :5]) == [4, 0, 0, 4, 4]


def test_a_dated_event_needs_a_horizon(tmp_path):
    from optassign.scenario.events import apply_events

    events = "events:\n  - capacity: {agent: A1, hours_per_day: 2, from: 2026-12-08}\n"
    loaded = optassign.load_scenario(scenario_folder(tmp_path, yaml="", events=events))
    with pytest.raises(ScenarioError) as caught:
        apply_events(loaded, loaded.events)
    assert "a dated event needs a horizon in scenario.yaml" in str(caught.value.problems[0])


def test_the_command_line_refuses_a_bad_calendar_with_exit_2_and_writes_nothing(tmp_path):
    folder = scenario_folder(tmp_path, calendar="agent_id,date,hours\nA1,2026-12-07,30\n")
    out = tmp_path / "plan"
    run = subprocess.run(
        [sys.executable, "-m", "optassign", "solve", str(folder), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "calendar.csv, line 2, column hours: value '30': must be <= 24" in run.stderr
    assert not out.exists()
