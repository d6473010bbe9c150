"""Monitoring on a hand-made case seen from a fixed day: what is due, overdue and at risk per
agent (capacity_hours / 5 per working day, Mon-Fri), the reminder e-mails, `optassign status`."""

from __future__ import annotations

import email
import email.policy
from datetime import date

import pytest
from typer.testing import CliRunner

from optassign.analysis.monitor import reminder_message, status, write_reminders
from optassign.api import solve
from optassign.cli.main import app
from optassign.scenario.scenario import load_scenario
from tests.conftest import edit_csv, make_scenario, read_csv

TODAY = "2024-07-03"  # a Wednesday


@pytest.fixture
def case(tmp_path):
    """The tiny scenario with due dates, seen from Wednesday 2024-07-03 (capacities: A1 20 h =
    4 h a day, A2 16 h = 3.2, A3 24 h = 4.8):

    T1 A1 3 h due Mon 07-01 (overdue)      T2 A1 2 h due today      T5 A1 2 h due Fri 07-05
    T4 A3 1.5 h due today                  T3 A3 4 h due Sat 07-06  T8 A2 5 h due Mon 07-08
    T6 unassigned, due Tue 07-02 (overdue) T7 no due date"""
    folder = make_scenario(tmp_path / "dated")
    tasks = folder / "tasks.csv"
    edit_csv(tasks, 2, due_date="2024-07-01")  # T1, pinned to A1
    edit_csv(tasks, 3, due_date="2024-07-03", assigned_to="A1")  # T2
    edit_csv(tasks, 4, due_date="2024-07-06")  # T3, assigned_to A3
    edit_csv(tasks, 5, due_date="2024-07-03", assigned_to="A3")  # T4
    edit_csv(tasks, 6, due_date="2024-07-05", assigned_to="A1")  # T5
    edit_csv(tasks, 7, due_date="2024-07-02")  # T6, unassigned
    edit_csv(tasks, 9, due_date="2024-07-08")  # T8, assigned_to A2
    return folder


def test_due_overdue_and_at_risk_by_hand(case):
    st = status(case, today=TODAY, horizon_days=7)
    t = st.tasks.set_index("task_id")
    assert list(st.tasks["task_id"]) == ["T1", "T6", "T2", "T4", "T5", "T3", "T8"]  # by date, then P
    assert "T7" not in t.index  # no due date: never due
    assert set(t.index[t["overdue"]]) == {"T1", "T6"}
    assert set(t.index[t["due_soon"]]) == {"T2", "T4", "T5", "T3", "T8"}
    # A1 by today: T1 3 (overdue, still to do) + T2 2 = 5 h > 1 working day x 4 h -> T2 at risk;
    # by Fri: 5 + T5 2 = 7 h <= 3 days x 4 h = 12 -> T5 fine
    assert set(t.index[t["at_risk"]]) == {"T2"}
    assert (t.loc["T2", "hours_due_by"], t.loc["T2", "hours_available_by"]) == (5, 4)
    assert (t.loc["T5", "hours_due_by"], t.loc["T5", "hours_available_by"]) == (7, 12)
    # A3 by Sat: T4 1.5 + T3 4 = 5.5 h, Wed-Fri 3 x 4.8 = 14.4; A2 by Mon: 5 h, 4 x 3.2 = 12.8
    assert t.loc["T3", "hours_available_by"] == pytest.approx(14.4)
    assert t.loc["T8", "hours_available_by"] == pytest.approx(12.8)
    assert t.loc["T6", "agent_id"] == ""
    assert t.loc["T1", "days_left"] == -2


def test_per_agent_summary(case):
    a = status(case, today=TODAY, horizon_days=7).agents.set_index("agent_id")
    assert a.loc["A1", ["due_soon", "overdue", "at_risk", "tasks"]].tolist() == [2, 1, 1, 3]
    assert a.loc["A1", "hours"] == 7 and a.loc["A1", "hours_per_day"] == 4
    assert a.loc["A3", ["due_soon", "overdue", "at_risk"]].tolist() == [2, 0, 0]
    assert a.loc["A2", ["due_soon", "overdue", "at_risk"]].tolist() == [1, 0, 0]
    assert a.loc["A4", ["tasks", "due_soon", "overdue", "at_risk"]].tolist() == [0, 0, 0, 0]
    assert a.loc["A1", "next_due"] == date(2024, 7, 3)
    assert list(a.index[:1]) == ["A1"]  # those needing attention first
    assert a.loc["A2", "email"] == "A2@example.invalid"


def test_horizon_limits_due_soon(case):
    t = status(case, today=TODAY, horizon_days=3).tasks.set_index("task_id")
    assert "T8" not in t.index  # due in 5 days
    assert set(t.index[t["due_soon"]]) == {"T2", "T4", "T5", "T3"}


def test_weekends_give_no_hours(case):
    # from Saturday 07-06: T3 (A3, due today) has no working day left; T8 (A2, Mon) one: 3.2 h < 5 h
    t = status(case, today="2024-07-06", horizon_days=7).tasks.set_index("task_id")
    assert t.loc["T3", "hours_available_by"] == 0 and t.loc["T3", "at_risk"]
    assert t.loc["T8", "hours_available_by"] == pytest.approx(3.2) and t.loc["T8", "at_risk"]


def test_inactive_agent_has_no_hours(case):
    edit_csv(case / "agents.csv", 4, active="false")  # A3 leaves: its dated work is at risk
    t = status(case, today=TODAY).tasks.set_index("task_id")
    assert t.loc["T4", "at_risk"] and t.loc["T3", "at_risk"]


def test_follows_a_plan(case, tmp_path):
    scenario = load_scenario(case)
    plan = solve(scenario, time_limit=2, workers=1, seed=0)
    st = status(scenario, plan=plan, today=TODAY)
    by_plan = plan.assignments.set_index("task_id")["agent_id"]
    assert all(by_plan[r.task_id] == r.agent_id for r in st.tasks.itertuples())
    folder = plan.write(tmp_path / "plan")
    assert status(scenario, plan=folder, today=TODAY).tasks.equals(st.tasks)


def test_reminders(case, tmp_path):
    edit_csv(case / "agents.csv", 2, email="ann@corp.example")
    st = status(case, today=TODAY)
    files = write_reminders(st, tmp_path / "outbox")
    assert [f.name for f in files] == ["A1.eml", "A2.eml", "A3.eml"]  # A4 has nothing
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["To"] == "Ann <ann@corp.example>"
    assert msg["Subject"] == "Reminders 2024-07-03: 1 overdue, 2 due within 7 days, 1 at risk"
    body = msg.get_content()
    assert "T1" in body and "T2" in body and "5 h due by then, 4 h available" in body
    assert "Monday to Friday" in body
    a2 = email.message_from_bytes(files[1].read_bytes(), policy=email.policy.default)
    assert a2["To"] == "Bob <A2@example.invalid>"
    again = reminder_message(status(case, today=TODAY), "A1").as_bytes(policy=email.policy.SMTP)
    assert again == files[0].read_bytes()  # same day, same bytes


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_status(case, tmp_path):
    result = run("status", case, "--today", TODAY, "--days", "7", "--outbox", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "A1" in result.output and "overdue" in result.output and "at risk" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["A1.eml", "A2.eml", "A3.eml", "index.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--today", "2024-02-30"], "--today: '2024-02-30' is not a date"),
        (["--today", "tomorrow"], "is not a date"),
        (["--plan", "no/such/plan"], "--plan: no/such/plan: plan folder not found"),
    ],
)
def test_cli_status_bad_input(case, args, message):
    result = run("status", case, *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr


def test_cli_status_plan_of_another_scenario(case, tmp_path):
    other = make_scenario(tmp_path / "other")
    edit_csv(other / "tasks.csv", 2, task_id="X1")
    plan = solve(load_scenario(other), time_limit=1, workers=1, seed=0).write(tmp_path / "plan")
    result = run("status", case, "--plan", plan, "--today", TODAY)
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


def test_reminders_stay_in_the_outbox_whatever_the_agent_id(case, tmp_path):
    # A1 -> ../../x, A2 -> Ågent, A3 -> 日本語 (their tasks follow them)
    ids = {"A1": "../../x", "A2": "Ågent", "A3": "日本語"}
    for path in (case / "agents.csv", case / "tasks.csv", case / "customers.csv"):
        text = path.read_text(encoding="utf-8")
        for old, new in ids.items():
            text = text.replace(f",{old},", f",{new},").replace(f"\n{old},", f"\n{new},")
        path.write_text(text, encoding="utf-8")
    st = status(case, today=TODAY)
    # values a reader should have refused, let through: they must not reach a header
    st.agents["name"] = st.agents["name"] + "\r\nBcc: evil@attacker.example"
    st.tasks["task_id"] = st.tasks["task_id"] + "\nX-Injected: 1"
    outbox = tmp_path / "deep" / "outbox"
    outbox.parent.mkdir()
    before = {str(p) for p in tmp_path.parent.rglob("*") if outbox not in p.parents}
    files = write_reminders(st, outbox)
    assert {str(p) for p in tmp_path.parent.rglob("*") if outbox not in p.parents and p != outbox} == before
    index = {r["agent_id"]: r["file"] for r in read_csv(outbox / "index.csv")}
    assert set(index) == set(ids.values()) and [f.name for f in files] == [index[a] for a in sorted(index)]
    assert sorted(p.name for p in outbox.iterdir()) == sorted([*index.values(), "index.csv"])
    for agent, name in index.items():
        raw = (outbox / name).read_bytes()
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert head.isascii() and b"\r\nBcc:" not in head
        assert b"X-Injected" in raw and b"\nX-Injected" not in raw  # folded onto the task's line
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["Bcc"] is None and msg["To"].addresses[0].username.isascii()
        assert msg["Message-ID"] == f"<reminders-{TODAY}-{name.removesuffix('.eml')}@optassign.invalid>"
        assert raw == reminder_message(st, agent).as_bytes(policy=email.policy.SMTP)  # same bytes
