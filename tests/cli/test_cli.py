"""The command line on good and bad input. Bad input: exit code 2, one message on stderr naming
file, line, column, value and rule, no traceback, and nothing written (no --out folder).
Good input: `solve` writes a plan folder the independent checker accepts; `validate` exits 0."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optassign.cli.main import app
from tests.checker import assert_plan_ok
from tests.conftest import AGENTS, TASKS, edit_csv, read_csv, write_csv

FAST = ["--time-limit", "2", "--workers", "1", "--seed", "0", "--quiet"]
PLAN_FILES = {"assignments.csv", "owners.csv", "agent_load.csv", "summary.json"}


def run(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def solve(scenario: Path, out: Path, *extra: str):
    return run("solve", scenario, "--out", out, *FAST, *extra)


def assert_input_error(result, out: Path | None, *expected: str) -> str:
    """Exit 2, the message on stderr holds every `expected` text, no traceback, `out` not created."""
    message = result.stderr
    assert result.exit_code == 2, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "Traceback" not in message
    assert message.startswith("error: ")
    for text in expected:
        assert text in message, f"{text!r} not in:\n{message}"
    if out is not None:
        assert not out.exists(), f"{out} was created"
    return message


# --------------------------------------------------------------------------- valid runs
def test_solve_writes_a_valid_plan(tiny_scenario, tmp_path):
    out = tmp_path / "plan"
    result = solve(tiny_scenario, out)
    assert result.exit_code == 0, result.output
    assert PLAN_FILES <= {p.name for p in out.iterdir()}
    assert_plan_ok(tiny_scenario, out)
    rows = {r["task_id"]: r for r in read_csv(out / "assignments.csv")}
    assert len(rows) == 8
    assert rows["T1"]["agent_id"] == "A1"  # pinned
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] in ("OPTIMAL", "FEASIBLE")
    assert summary["tasks"] == 8 and summary["policy"] == "balanced"
    assert not list(tmp_path.glob(".plan*"))  # no temporary folder left beside the plan


def test_solve_with_policy_option_and_star_pin(tiny_scenario, tmp_path):
    edit_csv(tiny_scenario / "tasks.csv", 7, assigned_to="A4", pinned="TRUE")  # T6 in S, A4 has `*`
    out = tmp_path / "plan"
    result = solve(tiny_scenario, out, "--policy", "continuity")
    assert result.exit_code == 0, result.output
    assert_plan_ok(tiny_scenario, out)
    rows = {r["task_id"]: r for r in read_csv(out / "assignments.csv")}
    assert rows["T6"]["agent_id"] == "A4"
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["policy"] == "continuity"


def test_solve_replaces_an_existing_plan(tiny_scenario, tmp_path):
    out = tmp_path / "plan"
    assert solve(tiny_scenario, out).exit_code == 0
    (out / "summary.json").write_text('{"optassign_version": "old"}', encoding="utf-8")
    assert solve(tiny_scenario, out).exit_code == 0
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["status"]
    assert_plan_ok(tiny_scenario, out)


def test_solve_never_replaces_a_folder_with_files_of_the_users(tiny_scenario, tmp_path):
    out = tmp_path / "plan"
    out.mkdir()
    (out / "stale.txt").write_text("old", encoding="utf-8")
    assert_input_error(solve(tiny_scenario, out), None, "--out", "not a plan folder optassign wrote")
    assert (out / "stale.txt").read_text(encoding="utf-8") == "old"


def test_the_next_night_starts_from_tonights_plan(tiny_scenario, tmp_path):
    tonight, tomorrow = tmp_path / "night1", tmp_path / "night2"
    assert solve(tiny_scenario, tonight).exit_code == 0
    result = solve(tiny_scenario, tomorrow, "--plan", tonight, "--max-moves", "2", "--stop-at-gap", "0.01")
    assert result.exit_code == 0, result.output
    assert_plan_ok(tiny_scenario, tomorrow, in_force=tonight)
    summary = json.loads((tomorrow / "summary.json").read_text(encoding="utf-8"))
    assert summary["moves"] == 0 and summary["owner_changes"] == 0  # nothing changed, nothing moves
    before = {r["task_id"]: r["agent_id"] for r in read_csv(tonight / "assignments.csv")}
    after = {r["task_id"]: r["previous_agent_id"] for r in read_csv(tomorrow / "assignments.csv")}
    assert after == before  # tonight's plan is tomorrow's plan in force
    missing = tmp_path / "nowhere"
    assert_input_error(solve(tiny_scenario, tmp_path / "x", "--plan", missing), tmp_path / "x", str(missing))


def test_quiet_prints_nothing_and_help_and_version_answer_everywhere(tiny_scenario, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "optassign", "solve", str(tiny_scenario), "--out", str(tmp_path / "p"), *FAST],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stdout + done.stderr
    version = run("--version")
    assert version.exit_code == 0 and version.stdout.startswith("optassign ")
    for command in ([], ["solve"], ["handover"], ["preview"], ["bench"], ["bench", "gap"], ["status"]):
        shown = run(*command, "-h")
        assert shown.exit_code == 0 and "Usage:" in shown.stdout, (command, shown.output)


def test_validate_ok(tiny_scenario):
    result = run("validate", tiny_scenario)
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout and "4 agents, 8 tasks, 3 customers" in result.stdout


def test_validate_with_policy_option(tiny_scenario):
    result = run("validate", tiny_scenario, "--policy", "sla_first")
    assert result.exit_code == 0, result.output
    assert "policy sla_first" in result.stdout


def _empty_plan_ok(scenario: Path, out: Path) -> None:
    result = solve(scenario, out)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert (out / "assignments.csv").read_text(encoding="utf-8").strip().count("\n") == 0  # header only
    assert read_csv(out / "assignments.csv") == []
    assert len(read_csv(out / "agent_load.csv")) == len(AGENTS)
    assert_plan_ok(scenario, out)


def test_header_only_tasks_gives_an_empty_plan_without_customers(tiny_scenario, tmp_path):
    write_csv(tiny_scenario / "tasks.csv", [], columns=list(TASKS[0]))
    (tiny_scenario / "customers.csv").unlink()
    _empty_plan_ok(tiny_scenario, tmp_path / "plan")


def test_header_only_tasks_gives_an_empty_plan(tiny_scenario, tmp_path):
    write_csv(tiny_scenario / "tasks.csv", [], columns=list(TASKS[0]))
    _empty_plan_ok(tiny_scenario, tmp_path / "plan")


def test_validate_header_only_tasks(tiny_scenario):
    write_csv(tiny_scenario / "tasks.csv", [], columns=list(TASKS[0]))
    result = run("validate", tiny_scenario)
    assert result.exit_code == 0, result.output
    assert "0 tasks" in result.stdout


# --------------------------------------------------------------------------- bad input
def _yaml(name: str, text: str) -> Callable[[Path], None]:
    return lambda d: (d / name).write_text(text, encoding="utf-8")


def _drop_column(name: str, rows: list[dict], column: str) -> Callable[[Path], None]:
    return lambda d: write_csv(d / name, [{k: v for k, v in r.items() if k != column} for r in rows])


def _cell(name: str, line: int, **cells: str) -> Callable[[Path], None]:
    return lambda d: edit_csv(d / name, line, **cells)


def _both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    return lambda d: [step(d) for step in steps]


def _policy_file(text: str) -> Callable[[Path], None]:
    return _both(_yaml("mine.yaml", text), _yaml("scenario.yaml", "policy: mine.yaml\n"))


T, A, C = "tasks.csv", "agents.csv", "customers.csv"

# id -> (how to break the tiny scenario, texts the message must contain)
BAD = {
    "missing agents.csv": (lambda d: (d / A).unlink(), ["agents.csv: file not found"]),
    "missing tasks.csv": (lambda d: (d / T).unlink(), ["tasks.csv: file not found"]),
    "missing scenario.yaml": (lambda d: (d / "scenario.yaml").unlink(), ["scenario.yaml: file not found"]),
    "missing column": (
        _drop_column(T, TASKS, "effort_hours"),
        ["tasks.csv, line 1, column effort_hours: required column is missing"],
    ),
    "duplicate agent_id": (
        _cell(A, 5, agent_id="A2"),
        ["agents.csv, line 5, column agent_id: value 'A2': duplicate agent_id (first on line 3)"],
    ),
    "duplicate task_id": (
        _cell(T, 4, task_id="T1"),
        ["tasks.csv, line 4, column task_id: value 'T1': duplicate task_id (first on line 2)"],
    ),
    "duplicate customer_id": (
        _both(_cell(C, 4, customer_id="C1"), _cell(T, 6, customer_id=""), _cell(T, 8, customer_id="")),
        ["customers.csv, line 4, column customer_id: value 'C1': duplicate customer_id (first on line 2)"],
    ),
    "unknown customer_id": (
        _cell(T, 6, customer_id="C42"),
        ["tasks.csv, line 6, column customer_id: value 'C42': not a customer_id of customers.csv"],
    ),
    "unknown assigned_to": (
        _cell(T, 9, assigned_to="A99"),
        ["tasks.csv, line 9, column assigned_to: value 'A99': not an agent_id of agents.csv"],
    ),
    "unknown owner_id": (
        _cell(C, 2, owner_id="A99"),
        ["customers.csv, line 2, column owner_id: value 'A99': not an agent_id of agents.csv"],
    ),
    "capacity not a number": (
        _cell(A, 4, capacity_hours="lots"),
        ["agents.csv, line 4, column capacity_hours: value 'lots': not a number"],
    ),
    "capacity negative": (
        _cell(A, 4, capacity_hours="-8"),
        ["agents.csv, line 4, column capacity_hours: value '-8': must be >= 0"],
    ),
    "capacity NaN": (
        _cell(A, 4, capacity_hours="NaN"),
        ["agents.csv, line 4, column capacity_hours: value 'NaN': not a number"],
    ),
    "effort not a number": (
        _cell(T, 3, effort_hours="two"),
        ["tasks.csv, line 3, column effort_hours: value 'two': not a number"],
    ),
    "effort negative": (
        _cell(T, 3, effort_hours="-1"),
        ["tasks.csv, line 3, column effort_hours: value '-1': must be > 0"],
    ),
    "effort nan": (
        _cell(T, 3, effort_hours="nan"),
        ["tasks.csv, line 3, column effort_hours: value 'nan': not a number"],
    ),
    "effort zero": (
        _cell(T, 3, effort_hours="0"),
        ["tasks.csv, line 3, column effort_hours: value '0': must be > 0"],
    ),
    "priority 0": (
        _cell(T, 4, priority="0"),
        ["tasks.csv, line 4, column priority: value '0': must be >= 1"],
    ),
    "priority 6": (
        _cell(T, 4, priority="6"),
        ["tasks.csv, line 4, column priority: value '6': must be <= 5"],
    ),
    "priority 2.5": (
        _cell(T, 4, priority="2.5"),
        ["tasks.csv, line 4, column priority: value '2.5': not an integer"],
    ),
    "priority high": (
        _cell(T, 4, priority="high"),
        ["tasks.csv, line 4, column priority: value 'high': not an integer"],
    ),
    "agent skill billing:x": (
        _cell(A, 2, skills="billing:x"),
        ["agents.csv, line 2, column skills: value 'billing:x': malformed skill 'billing:x'"],
    ),
    "task skill level 7": (
        _cell(T, 6, required_skills="billing:7"),
        ["tasks.csv, line 6, column required_skills: value 'billing:7':", "'billing:7' must be 1..5"],
    ),
    "customer skill billing:x": (
        _cell(C, 4, required_skills="billing:x"),
        ["customers.csv, line 4, column required_skills: value 'billing:x': malformed skill"],
    ),
    "zero-byte tasks.csv": (
        lambda d: (d / T).write_bytes(b""),
        ["tasks.csv, line 1: file is empty: a header row is required"],
    ),
    "unknown policy in scenario.yaml": (
        _yaml("scenario.yaml", "name: tiny\npolicy: nope\n"),
        ["scenario.yaml, line 2, column policy: value 'nope': unknown policy; known policies: balanced"],
    ),
    "malformed scenario.yaml": (
        _yaml("scenario.yaml", "name: tiny\npolicy: [balanced\n"),
        ["scenario.yaml, line", "malformed YAML"],
    ),
    "malformed events.yaml": (
        _yaml("events.yaml", "events:\n  - leave: {agent: A1\n"),
        ["events.yaml, line", "malformed YAML"],
    ),
    "malformed policy file": (_policy_file("balance_weight: [1\n"), ["mine.yaml, line", "malformed YAML"]),
    "inline policy value": (
        _yaml("scenario.yaml", "policy:\n  balance_weight: -1\n"),
        ["scenario.yaml, line 2, column policy.balance_weight: value '-1':", "greater than or equal to 0"],
    ),
    "pinned region not covered": (
        _cell(T, 5, assigned_to="A2", pinned="true"),
        ["tasks.csv, line 5, column assigned_to: value 'A2': region not covered", "region S"],
    ),
    "pinned skill too low": (
        _cell(T, 9, pinned="true"),
        ["tasks.csv, line 9, column assigned_to: value 'A2': skill level too low", "billing>=3"],
    ),
    "pinned hours above capacity": (
        _cell(T, 2, effort_hours="21"),
        ["tasks.csv, line 2, column assigned_to: value 'A1': pinned hours above the agent's capacity"],
    ),
    "more pins than max_tasks": (
        _both(
            _cell(A, 3, max_tasks="1"),
            _cell(T, 6, assigned_to="A2", pinned="yes"),
            _cell(T, 8, assigned_to="A2", pinned="yes"),
        ),
        ["tasks.csv, line 8, column assigned_to: value 'A2': more pins than max_tasks"],
    ),
    "pinned without assigned_to": (
        _cell(T, 3, pinned="yes"),
        ["tasks.csv, line 3, column pinned: value 'true': a pinned task needs assigned_to"],
    ),
    "bad boolean": (
        _cell(A, 2, active="maybe"),
        ["agents.csv, line 2, column active: value 'maybe': not a boolean"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_solve_bad_input(tiny_scenario, tmp_path, case):
    mutate, expected = BAD[case]
    mutate(tiny_scenario)
    out = tmp_path / "plan"
    message = assert_input_error(solve(tiny_scenario, out), out, *expected)
    assert message.startswith("error: 1 problem in the input:\n"), message


@pytest.mark.parametrize("case", ["duplicate task_id", "malformed events.yaml", "pinned skill too low"])
def test_validate_bad_input(tiny_scenario, case):
    mutate, expected = BAD[case]
    mutate(tiny_scenario)
    assert_input_error(run("validate", tiny_scenario), None, *expected)


def test_missing_folder(tmp_path):
    folder, out = tmp_path / "nowhere", tmp_path / "plan"
    assert_input_error(solve(folder, out), out, f"{folder}: scenario folder not found")
    assert_input_error(run("validate", folder), None, "scenario folder not found")


@pytest.mark.parametrize("command", ["solve", "validate"])
def test_unknown_policy_option(tiny_scenario, tmp_path, command):
    out = tmp_path / "plan"
    args = [command, tiny_scenario, "--policy", "nope"] + (
        ["--out", out, *FAST] if command == "solve" else []
    )
    assert_input_error(run(*args), out, "--policy: value 'nope': unknown policy; known policies: balanced")


def test_several_errors_in_different_files_in_one_run(tiny_scenario, tmp_path):
    edit_csv(tiny_scenario / "agents.csv", 3, capacity_hours="-1")
    edit_csv(tiny_scenario / "customers.csv", 2, owner_id="ghost")
    edit_csv(tiny_scenario / "tasks.csv", 4, priority="7")
    edit_csv(tiny_scenario / "tasks.csv", 5, customer_id="C9")
    (tiny_scenario / "events.yaml").write_text("events:\n  - leave: [A1\n", encoding="utf-8")
    out = tmp_path / "plan"
    message = assert_input_error(
        solve(tiny_scenario, out),
        out,
        "5 problems in the input",
        "agents.csv, line 3, column capacity_hours: value '-1'",
        "customers.csv, line 2, column owner_id: value 'ghost'",
        "events.yaml, line",
        "tasks.csv, line 4, column priority: value '7'",
        "tasks.csv, line 5, column customer_id: value 'C9'",
    )
    assert message.count("\n") == 6  # head line + 5 problems, one line each


def test_input_error_leaves_an_existing_plan_untouched(tiny_scenario, tmp_path):
    out = tmp_path / "plan"
    out.mkdir()
    (out / "assignments.csv").write_text("old\n", encoding="utf-8")
    edit_csv(tiny_scenario / "tasks.csv", 3, priority="9")
    result = solve(tiny_scenario, out)
    assert result.exit_code == 2
    assert [p.name for p in out.iterdir()] == ["assignments.csv"]
    assert (out / "assignments.csv").read_text(encoding="utf-8") == "old\n"
    assert {p.name for p in tmp_path.iterdir()} == {"plan", "tiny"}  # no temporary folder either


def test_input_error_without_out_writes_no_default_folder(tiny_scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    edit_csv(tiny_scenario / "tasks.csv", 3, effort_hours="0")
    result = run("solve", tiny_scenario, *FAST)
    assert_input_error(result, tmp_path / "plans", "tasks.csv, line 3, column effort_hours: value '0'")


def test_values_are_shown_verbatim_not_as_markup(tiny_scenario, tmp_path):
    edit_csv(tiny_scenario / "tasks.csv", 3, priority="[red]x")
    edit_csv(tiny_scenario / "tasks.csv", 4, customer_id="[/b]")
    out = tmp_path / "plan"
    assert_input_error(
        solve(tiny_scenario, out),
        out,
        "column priority: value '[red]x': not an integer",
        "column customer_id: value '[/b]': not a customer_id",
    )


def test_real_process_exit_2_without_traceback(tiny_scenario, tmp_path):
    edit_csv(tiny_scenario / "agents.csv", 2, capacity_hours="nan")
    out = tmp_path / "plan"
    script = Path(sys.executable).with_name("optassign")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "optassign.cli"]
    proc = subprocess.run(
        [*command, "solve", str(tiny_scenario), "--out", str(out), *FAST],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "agents.csv, line 2, column capacity_hours: value 'nan': not a number" in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()


def test_weights_beyond_the_solvers_integers_are_an_input_error(tiny_scenario, tmp_path):
    """cost_weight x cost_per_hour x effort_hours of 1e14 points for one task would wrap
    around CP-SAT's 64-bit integers: refused with exit 2 before the solve, nothing written."""
    (tiny_scenario / "mine.yaml").write_text("cost_weight: 100000\n", encoding="utf-8")
    (tiny_scenario / "scenario.yaml").write_text("name: tiny\npolicy: mine.yaml\n", encoding="utf-8")
    for line in range(2, 6):
        edit_csv(tiny_scenario / "agents.csv", line, cost_per_hour="1000000")
    out = tmp_path / "plan"
    assert_input_error(solve(tiny_scenario, out), out, "policy mine", "beyond the", "cost_weight")
