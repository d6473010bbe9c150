"""Time-aware assignment: day rows (due dates on the agents' calendars), hard and soft due
dates, the plan's days (planned_date, late_days, worklists, agent_days), all checked by the
independent checker, and batches without time unchanged."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optassign
from optassign.engine import days
from optassign.engine.problem import build_problem
from optassign.engine.solve import solve_problem
from tests._cases import PRIORITY, agent, task, write_scenario, zero_policy
from tests.checker import assert_plan_ok, check_plan

# Monday 2026-12-07 for two weeks: ten working days
HORIZON = "horizon:\n  start: 2026-12-07\n  days: 14\n"


def timed_scenario(folder: Path, agents, tasks, due: list[str], *, extra: str = "", calendar=None) -> Path:
    """A scenario folder with the two-week horizon and a due_date per task ("" = none)."""
    write_scenario(folder, agents, tasks)
    frame = pd.read_csv(folder / "tasks.csv", dtype=str, keep_default_na=False)
    frame["due_date"] = due
    frame.to_csv(folder / "tasks.csv", index=False)
    (folder / "scenario.yaml").write_text("name: timed\n" + HORIZON + extra, encoding="utf-8")
    if calendar is not None:
        pd.DataFrame(calendar, columns=["agent_id", "date", "hours"]).to_csv(
            folder / "calendar.csv", index=False
        )
    return folder


def solved(folder: Path, policy, *, events=None, time_limit: float = 5) -> optassign.Plan:
    loaded = optassign.load_scenario(folder, policy=policy)
    plan = optassign.solve(loaded, time_limit=time_limit, workers=1)
    out = plan.write(folder.parent / f"plan-{policy.due_dates}")
    assert_plan_ok(folder, out, events=events)
    return plan


def tuesday_rush(tmp_path: Path) -> Path:
    """4 h a day (40 h over ten working days); six 3-hour tasks all due on Tuesday: 8 h by then."""
    return timed_scenario(
        tmp_path / "s", [agent("A1", 40)], [task(f"T{i}", 3, 3) for i in range(6)], ["2026-12-08"] * 6
    )


def test_hard_due_dates_take_only_work_that_makes_its_date(tmp_path):
    plan = solved(tuesday_rush(tmp_path), zero_policy(priority_value=PRIORITY, due_dates="hard"))
    rows = plan.assignments
    assert (rows.agent_id != "").sum() == 2  # 2 x 3 h fit in 8 h, a third does not
    assert (rows.late_days == 0).all()
    assert plan.summary["late"]["tasks"] == 0
    assert plan.summary["horizon"]["due_dates"] == "hard"
    open_ = rows[rows.agent_id == ""].reason
    assert (
        open_ == "the only eligible agent with hours left, A1, has 2 h free by then, the task needs 3 h"
    ).all()


def test_status_reads_the_plans_calendar_and_schedule(tmp_path):
    from optassign.analysis.monitor import status

    folder = tuesday_rush(tmp_path)
    plan = solved(folder, zero_policy(priority_value=PRIORITY, due_dates="soft"))
    out = folder.parent / "plan-soft"
    st = status(folder, out, today="2026-12-07")
    # the four tasks the plan finishes after Tuesday are at risk; 4 h a day, not a week's 40 / 5
    assert int(st.agents.set_index("agent_id").loc["A1", "at_risk"]) == 4
    assert st.agents.hours_per_day.iat[0] == 4
    late = set(plan.assignments.task_id[plan.assignments.late_days > 0])
    assert set(st.tasks.task_id[st.tasks.at_risk]) == late


def test_soft_due_dates_serve_late_work_at_its_price_and_the_checker_reads_the_days(tmp_path):
    plan = solved(tuesday_rush(tmp_path), zero_policy(priority_value=PRIORITY, due_dates="soft"))
    rows = plan.assignments
    assert (rows.agent_id != "").all()  # 18 h fit in 40 h: every task, four of them late
    assert (rows.late_days > 0).sum() == 4
    assert plan.summary["late"]["tasks"] == 4
    assert plan.summary["late"]["hours"] == 12
    # late work costs late_penalty x hours: 0.4 points per hour at priority 3
    assert plan.result.terms["lateness"] == pytest.approx(-0.4 * 12)
    work = plan.extra_tables["worklists.csv"]
    assert list(work.position) == [1, 2, 3, 4, 5, 6]
    assert list(work.planned_date[:2]) == ["2026-12-07", "2026-12-08"]
    assert (work.late_days[:2] == 0).all()


def test_a_task_goes_to_whoever_has_room_before_its_date(tmp_path):
    # A1 is away on Monday and Tuesday (calendar.csv); the task due Tuesday goes to A2
    folder = timed_scenario(
        tmp_path / "s",
        [agent("A1", 40), agent("A2", 20)],
        [task("T1", 5, 4), task("T2", 1, 2)],
        ["2026-12-08", ""],
        calendar=[("A1", "2026-12-07", 0), ("A1", "2026-12-08", 0)],
    )
    for mode in ("hard", "soft"):
        plan = solved(folder, zero_policy(priority_value=PRIORITY, due_dates=mode))
        agents = dict(zip(plan.assignments.task_id, plan.assignments.agent_id, strict=True))
        assert agents["T1"] == "A2"
        assert (plan.assignments.late_days == 0).all()


def test_hard_due_dates_reach_the_optimum_of_small_batches(tmp_path):
    rng = np.random.default_rng(3)
    n = 9
    efforts = rng.choice([1.5, 2.0, 3.0, 4.5], n)
    prios = rng.integers(1, 6, n)
    dues = rng.choice(["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-11", ""], n)
    folder = timed_scenario(
        tmp_path / "s",
        [agent("A1", 20), agent("A2", 12)],
        [task(f"T{i}", int(prios[i]), float(efforts[i])) for i in range(n)],
        list(dues),
    )
    policy = zero_policy(priority_value=PRIORITY, due_dates="hard")
    plan = solved(folder, policy)
    data = build_problem(optassign.load_scenario(folder, policy=policy), policy)
    best = 0.0
    for choice in itertools.product([-1, 0, 1], repeat=n):
        assign = np.array(choice, dtype=np.int32)
        if _obeys_day_rows(data, assign):
            best = max(
                best, float(sum(PRIORITY[int(p)] for p, a in zip(prios, assign, strict=True) if a >= 0))
            )
    assert plan.result.objective == pytest.approx(best)
    assert plan.result.best_bound >= best - 1e-6


def _obeys_day_rows(d, assign: np.ndarray) -> bool:
    rooms = days.room(d, np.zeros(d.n_agents, np.int64))
    for a in range(d.n_agents):
        mine = assign == a
        if not mine.any():
            continue
        by_day = np.bincount(d.task_due[mine], weights=d.effort[mine], minlength=rooms.shape[1])
        if (np.cumsum(by_day) > rooms[a]).any():
            return False
    return True


def test_the_bound_with_day_rows_is_valid_and_below_the_bound_without(tmp_path):
    folder = timed_scenario(
        tmp_path / "s",
        [agent("A1", 30), agent("A2", 30)],
        [task(f"T{i}", 1 + i % 5, 2.5) for i in range(30)],
        ["2026-12-07", "2026-12-08", "2026-12-09", ""] * 7 + ["2026-12-10"] * 2,
    )
    policy = zero_policy(priority_value=PRIORITY, due_dates="hard")
    loaded = optassign.load_scenario(folder, policy=policy)
    timed = solve_problem(build_problem(loaded, policy), policy, time_limit=5, workers=1)
    off = policy.model_copy(update={"due_dates": "off"})
    plain = solve_problem(build_problem(loaded, off), off, time_limit=5, workers=1)
    assert timed.objective <= timed.best_bound + 1e-6
    assert timed.best_bound < plain.best_bound  # the day rows bind: early work cannot all be done


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_the_lagrangian_dual_with_day_rows_bounds_the_lp_and_prices_the_days(tmp_path, mode):
    # any multipliers give a bound: the minimised dual is at or above the LP with day rows,
    # close to it, below the dual without day rows, and its day multipliers price early work
    from optassign.engine import relax as R

    folder = timed_scenario(
        tmp_path / "s",
        [agent("A1", 30), agent("A2", 30)],
        [task(f"T{i}", 1 + i % 5, 2.5) for i in range(30)],
        ["2026-12-07", "2026-12-08", "2026-12-09", ""] * 7 + ["2026-12-10"] * 2,
    )
    policy = zero_policy(priority_value=PRIORITY, due_dates=mode)
    terms = ["service", "lateness"]
    d = build_problem(optassign.load_scenario(folder, policy=policy), policy)
    lp = R.relax(d, policy, terms)
    timed = R._DayRows(d, policy, terms)
    dual = R._Dual(timed.data, timed.cx, timed.co, timed)
    lag = R.lagrangian(timed.data, policy, terms, max_evaluations=2000, dual=dual)
    plain = R.lagrangian(d.replace(day_cum=None, task_due=None), policy, ["service"], max_evaluations=2000)
    assert lp.status == "optimal"
    assert lp.bound - 1e-6 <= lag.bound <= lp.bound * 1.01
    assert lag.bound < plain.bound - 1
    assert lag.day_multipliers is not None and lag.day_multipliers.max() > 0


def test_without_a_horizon_or_with_due_dates_off_the_plan_is_the_same(tmp_path):
    rows = [task(f"T{i}", 1 + i % 5, 1 + i % 3) for i in range(40)]
    people = [agent("A1", 20), agent("A2", 15), agent("A3", 10)]
    plain = write_scenario(tmp_path / "plain", people, rows)
    timed = timed_scenario(tmp_path / "timed", people, rows, ["2026-12-08"] * 40)
    policy = zero_policy(priority_value=PRIORITY, keep_assignee_weight=0.5)
    first = optassign.solve(optassign.load_scenario(plain, policy=policy), time_limit=5, workers=1)
    off = policy.model_copy(update={"due_dates": "off"})
    second = optassign.solve(optassign.load_scenario(timed, policy=off), time_limit=5, workers=1)
    assert list(first.assignments.agent_id) == list(second.assignments.agent_id)
    assert "planned_date" not in second.assignments
    assert "worklists.csv" not in second.extra_tables


def test_pins_outrank_due_dates(tmp_path):
    # 8 h pinned, due Monday: the pins stay (late), and nothing else is placed before them
    folder = timed_scenario(
        tmp_path / "s",
        [agent("A1", 40)],
        [
            task("P1", 3, 4, assigned_to="A1", pinned=True),
            task("P2", 3, 4, assigned_to="A1", pinned=True),
            task("T3", 5, 4),
        ],
        ["2026-12-07", "2026-12-07", "2026-12-08"],
    )
    plan = solved(folder, zero_policy(priority_value=PRIORITY, due_dates="hard"))
    rows = plan.assignments.set_index("task_id")
    assert rows.loc["P1", "agent_id"] == rows.loc["P2", "agent_id"] == "A1"
    assert rows.loc["T3", "agent_id"] == ""  # it would be late behind the pins
    assert rows.late_days.loc[["P1", "P2"]].max() == 1


def test_owned_hours_come_off_each_day_pro_rata(tmp_path):
    folder = timed_scenario(
        tmp_path / "s",
        [agent("A1", 40)],
        [task("T1", 5, 3, customer_id="C1"), task("T2", 5, 2, customer_id="C1")],
        ["2026-12-07", "2026-12-07"],
    )
    pd.DataFrame(
        [{"customer_id": "C1", "region": "R0", "tier": "A", "owner_id": "", "ownership_hours": 10}]
    ).to_csv(folder / "customers.csv", index=False)
    policy = zero_policy(
        priority_value=PRIORITY, due_dates="hard", ownership_value={"A": 1.0, "B": 0, "C": 0}
    )
    plan = solved(folder, policy)
    # owning takes 1 h of each 4-hour day: 3 h left on Monday, room for T1 only
    assert (plan.assignments.agent_id != "").sum() == 1
    assert plan.owners.owner_id.iat[0] == "A1"


def test_a_dated_leave_moves_only_what_cannot_wait(tmp_path):
    folder = timed_scenario(
        tmp_path / "s",
        [agent("A1", 40), agent("A2", 40)],
        [task(f"T{i}", 3, 2, assigned_to="A1") for i in range(8)],
        ["2026-12-08", "2026-12-08", "2026-12-09", "2026-12-09", "", "", "", ""],
    )
    policy = zero_policy(priority_value=PRIORITY, keep_assignee_weight=1.0, due_dates="hard")
    events = folder / "events.yaml"
    events.write_text(
        "events:\n  - leave: A1\n    from: 2026-12-07\n    until: 2026-12-09\n", encoding="utf-8"
    )
    loaded = optassign.load_scenario(folder, policy=policy)
    plan = optassign.preview(loaded, time_limit=5, workers=1).plan
    out = plan.write(tmp_path / "plan")
    assert check_plan(folder, out, events=events) == []
    rows = plan.assignments.set_index("task_id")
    moved = set(rows.index[rows.agent_id == "A2"])
    assert moved == {"T0", "T1", "T2", "T3"}  # due while A1 is away; the rest waits for A1


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_a_generated_batch_with_a_horizon_solves_within_its_days(tmp_path, mode):
    from optassign.scenario.generate import generate_scenario

    folder = generate_scenario(tmp_path / "g", tasks=300, agents=20, seed=4, horizon=10)
    calendar = pd.read_csv(folder / "calendar.csv")
    assert len(calendar) and (calendar.hours == 0).all()  # part-time days off and absences
    policy = optassign.load_policy("balanced").model_copy(update={"due_dates": mode})
    plan = solved(folder, policy)
    assert plan.summary["horizon"]["days"] == 12
    assert plan.summary["gap"] is not None
    if mode == "hard":
        late = plan.assignments[plan.assignments.late_days > 0]
        pinned = set(pd.read_csv(folder / "tasks.csv").query("pinned").task_id)
        assert set(late.task_id) <= pinned


def test_the_greedy_plans_obey_the_day_rows(tmp_path):
    from optassign.engine.relax import pair_coefficients

    folder = timed_scenario(
        tmp_path / "s",
        [agent("A1", 20), agent("A2", 10)],
        [task(f"T{i}", 1 + i % 5, 1 + i % 4) for i in range(20)],
        ["2026-12-07", "2026-12-08", "2026-12-10", ""] * 5,
    )
    for mode in ("hard", "soft"):
        policy = zero_policy(priority_value=PRIORITY, due_dates=mode)
        d = build_problem(optassign.load_scenario(folder, policy=policy), policy)
        value, _ = pair_coefficients(d, policy, ["service"])
        for edd in (True, False):
            assign, late = days.greedy_plan(d, policy, d.owner, value, earliest_due_first=edd)
            on = (assign >= 0) & ~late
            assert _obeys_day_rows(d, np.where(on, assign, -1))
            assert (late == 0).all() if mode == "hard" else late.any()


def test_the_repair_first_takes_off_work_beyond_an_agents_hours(tmp_path):
    # a start that overfills an agent (late work takes hours too) comes back within its hours,
    # the least valuable per hour off first
    from optassign.engine.relax import pair_coefficients

    folder = timed_scenario(
        tmp_path / "s",
        [agent("A1", 10)],
        [task(f"T{i}", 1 + i, 3) for i in range(5)],
        ["2026-12-18"] * 5,
    )
    for mode in ("hard", "soft"):
        policy = zero_policy(priority_value=PRIORITY, due_dates=mode)
        d = build_problem(optassign.load_scenario(folder, policy=policy), policy)
        value, _ = pair_coefficients(d, policy, ["service"])
        assign, stats = days.repair(d, policy, np.zeros(d.n_tasks, dtype=np.int32), d.owner, value)
        assert d.effort[assign >= 0].sum() <= d.capacity[0]
        assert list(assign) == [-1, -1, 0, 0, 0] and stats["removed"] == 2


def test_compare_and_the_report_show_late_work_and_the_days(tmp_path):
    from optassign.plan.kpis import plan_kpis
    from optassign.report.html import render_report

    folder = tuesday_rush(tmp_path)
    plan = solved(folder, zero_policy(priority_value=PRIORITY, due_dates="soft"))
    kpis = plan_kpis(folder.parent / "plan-soft")
    assert kpis["late_tasks"] == 4 and kpis["late_p3"] == 4 and kpis["late_hours"] == 12
    page = render_report([plan])
    assert "Late work by priority" in page and "Planned load per agent and day" in page


def test_a_batch_with_days_gives_the_same_plan_twice(tmp_path):
    from optassign.scenario.generate import generate_scenario

    folder = generate_scenario(tmp_path / "g", tasks=120, agents=10, seed=5, horizon=10)
    loaded = optassign.load_scenario(folder)
    plans = [optassign.solve(loaded, time_limit=4, workers=2, seed=3) for _ in range(2)]
    first, second = (p.assignments for p in plans)
    assert first.equals(second)
    assert plans[0].extra_tables["worklists.csv"].equals(plans[1].extra_tables["worklists.csv"])


def test_a_lexicographic_policy_scores_every_stage_on_the_plan_with_days(tmp_path):
    folder = tuesday_rush(tmp_path)
    policy = optassign.load_policy("sla_first").model_copy(update={"due_dates": "hard"})
    plan = solved(folder, policy)
    terms = plan.result.terms
    for stage in plan.result.stages:
        assert stage.objective == pytest.approx(sum(terms.get(n, 0.0) for n in stage.terms))
