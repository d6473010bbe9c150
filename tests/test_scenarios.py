"""End to end on the bundled scenarios: the CLI solves each one with its own policy, the plan
passes the independent checker, and the summary is consistent with the plan's rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optassign.cli.main import app
from tests.checker import assert_plan_ok

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
NAMES = ["demo", "service_desk", "b2b_sales"]


@pytest.mark.parametrize("name", NAMES)
def test_cli_solves_bundled_scenario(name, tmp_path):
    out = tmp_path / "plan"
    result = CliRunner().invoke(
        app, ["solve", str(SCENARIOS / name), "--out", str(out), "--time-limit", "4", "--workers", "2", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert_plan_ok(SCENARIOS / name, out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] in ("OPTIMAL", "FEASIBLE")
    assert summary["best_bound"] >= summary["objective"] - 1e-6
    assert 0 <= summary["gap"] < 0.05
    # the plan serves the most urgent work first: coverage falls with priority
    by = summary["assigned_by_priority"]
    share = [by[p]["assigned"] / by[p]["tasks"] for p in "54321" if by[p]["tasks"]]
    assert share[0] >= share[-1]


def test_validate_bundled_scenarios():
    for name in NAMES:
        result = CliRunner().invoke(app, ["validate", str(SCENARIOS / name)])
        assert result.exit_code == 0, result.output
        assert "ok" in result.stdout


def test_wall_clock_search_gives_a_valid_plan(tmp_path):
    out = tmp_path / "plan"
    args = ["solve", str(SCENARIOS / "demo"), "--out", str(out), "--time-limit", "3", "--wall-clock", "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert_plan_ok(SCENARIOS / "demo", out)
    stats = json.loads((out / "summary.json").read_text())["statistics"]
    assert stats["stage1_stopped_by"] in ("optimal", "wall clock")
