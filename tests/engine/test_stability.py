"""Stable plans and stopping early: a re-solve with its own plan in force and unchanged inputs
moves nothing; the policy's min_relative_gain decides between the re-solve and the plan in
force completed; max_moves caps the moves of a solve; stop_at_gap ends the search once the
plan is proven within it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import optassign
from optassign import Policy
from tests._cases import random_frames, write_scenario
from tests.checker import assert_plan_ok

SERVICE_DESK = Path(__file__).parents[2] / "scenarios" / "service_desk"


def _case(tmp_path: Path, case: str, seed: int) -> Path:
    """A mid-size random batch (no horizon) or the service desk (due dates and calendars)."""
    if case == "mid-size":
        return write_scenario(tmp_path / "scenario", *random_frames(seed, 400, 30, 60))
    return SERVICE_DESK


def _moves(before: Path, after: Path) -> int:
    """Tasks that had an agent in `before` and another one, or none, in `after`."""
    a = pd.read_csv(before / "assignments.csv", dtype=str, keep_default_na=False).set_index("task_id")
    b = pd.read_csv(after / "assignments.csv", dtype=str, keep_default_na=False).set_index("task_id")
    return int(((a["agent_id"] != "") & (a["agent_id"] != b["agent_id"].reindex(a.index))).sum())


@pytest.mark.parametrize("case", ["mid-size", "service desk"])
def test_tonights_plan_in_force_and_unchanged_inputs_move_nothing(tmp_path, case):
    folder = _case(tmp_path, case, 31)
    first = optassign.solve(folder, time_limit=4, workers=2, seed=0).write(tmp_path / "night1")
    again = optassign.solve(folder, plan=first, time_limit=4, workers=2, seed=0).write(tmp_path / "night2")
    assert_plan_ok(folder, again, in_force=first)
    summary = json.loads((again / "summary.json").read_text())
    assert summary["moves"] == 0 and summary["owner_changes"] == 0
    assert set(summary["moves_by_priority"]) == {"1", "2", "3", "4", "5"}
    assert _moves(first, again) == 0  # nothing left open either (open work may be placed)


def test_the_policy_decides_what_a_re_solve_must_gain_over_the_plan_in_force(tmp_path):
    # random frames carry a plan in force far from the best: a re-solve gains much
    folder = write_scenario(tmp_path / "scenario", *random_frames(32, 300, 25, 40))
    eager = optassign.solve(
        folder, policy=Policy(name="eager", min_relative_gain=0.0), time_limit=3, workers=1
    )
    assert "stability" not in eager.result.statistics
    keen = optassign.solve(folder, policy=Policy(name="keen"), time_limit=3, workers=1)
    assert keen.result.statistics["stability"].startswith("re-solved")
    assert keen.summary["moves"] == eager.summary["moves"] > 0
    # asked for more than any re-solve can gain: the plan in force stays where it fits
    steady = optassign.solve(
        folder, policy=Policy(name="steady", min_relative_gain=1.0), time_limit=3, workers=1
    )
    assert steady.result.statistics["stability"].startswith("kept the plan in force")
    assert steady.summary["moves"] < eager.summary["moves"]
    assert steady.result.objective < eager.result.objective
    assert_plan_ok(folder, steady.write(tmp_path / "steady"))


def test_max_moves_caps_what_a_solve_moves(tmp_path):
    # last night's plan (every rule kept) re-solved under a policy that wants other assignees
    folder = write_scenario(tmp_path / "scenario", *random_frames(33, 300, 25, 40))
    night = optassign.solve(folder, time_limit=3, workers=1).write(tmp_path / "night")
    other = Policy(
        name="service only",
        min_relative_gain=0.0,
        keep_assignee_weight=0.0,
        keep_owner_tasks_weight=0.0,
        keep_customer_owner_weight=0.0,
        overqualification_weight=1.0,
    )
    free = optassign.solve(folder, policy=other, plan=night, time_limit=3, workers=1)
    capped = optassign.solve(folder, policy=other, plan=night, max_moves=3, time_limit=3, workers=1)
    assert free.summary["moves"] + free.summary["owner_changes"] > 3
    assert capped.summary["moves"] + capped.summary["owner_changes"] <= 3
    assert_plan_ok(folder, capped.write(tmp_path / "capped"), in_force=night)


@pytest.mark.parametrize("case", ["mid-size", "service desk"])
def test_stop_at_gap_ends_the_search_once_proven_within_it(tmp_path, case):
    folder = _case(tmp_path, case, 34)
    plan = optassign.solve(folder, stop_at_gap=0.05, time_limit=20, workers=2, seed=0)
    stopped = {k: v for k, v in plan.result.statistics.items() if k.endswith("stopped_by")}
    assert plan.result.gap <= 0.05
    assert "gap" in stopped.values() or plan.result.gap == 0, stopped
    assert_plan_ok(folder, plan.write(tmp_path / "plan"))
