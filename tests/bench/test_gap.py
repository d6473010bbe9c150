"""GAP benchmarks through the engine: the OR-Library reader (good and malformed files), the
adapter to `ProblemData`, the independent plan check, small cattrysse1994 instances solved to
their proven optimum, and `optassign bench gap` writing its results CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from optassign.bench.gap import (
    RESULT_COLUMNS,
    GapFormatError,
    GapInstance,
    gap_data_dir,
    gap_problem,
    instance_group,
    instance_name,
    instance_paths,
    plan_cost,
    plan_problems,
    read_best_known,
    read_gap,
    results_frame,
    solve_gap,
    summary_frame,
)
from optassign.cli.main import app
from optassign.contract.schema import ScenarioError

DATA = gap_data_dir()
needs_data = pytest.mark.skipif(not (DATA / "cattrysse1994").is_dir(), reason=f"no GAP data in {DATA}")

# 2 agents, 3 items, wrapped across lines on purpose: costs c[agent][item] are (4, 1, 9) and
# (2, 6, 3), weights (2, 3, 5) and (3, 2, 2), capacities 5 and 4. Of the 8 plans (agent per
# item) only two fit: (1, 1, 2) with loads 2 + 3 = 5 and 2, cost 4 + 1 + 3 = 8, and (1, 2, 2)
# with loads 2 and 2 + 2 = 4, cost 4 + 6 + 3 = 13; every other plan overloads an agent
# (e.g. (2, 1, 2): agent 2 carries 3 + 2 = 5 > 4). The optimum is 8.
TINY = """ 2 3
 4 1 9
 2 6 3
 2 3 5 3 2
 2
 5 4
"""
TINY_OPTIMUM = 8
TINY_PLAN = np.array([0, 0, 1])


def write(tmp_path: Path, text: str, name: str = "inst") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- reader
def test_reader_accepts_arbitrary_wrapping(tmp_path):
    inst = read_gap(write(tmp_path, TINY))
    assert (inst.n_agents, inst.n_items) == (2, 3)
    assert inst.costs.tolist() == [[4, 1, 9], [2, 6, 3]]
    assert inst.weights.tolist() == [[2, 3, 5], [3, 2, 2]]
    assert inst.capacities.tolist() == [5, 4]
    assert inst.name == "inst"  # outside the data folder: the file stem
    with pytest.raises(ValueError):
        inst.costs[0, 0] = 1  # read-only


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty file"),
        ("2 3\n4 1 x9\n", "line 2: value 'x9': not an integer"),
        ("2 3\n4 1 9 2 6 3\n2 3 5 3 2 2\n5\n", "expected 16 numbers for m=2 agents and n=3 items"),
        (TINY + "7\n", "line 7: value '7': 1 number after the 2 capacities"),
        (TINY.replace(" 5 4\n", " 5 4444444444444444444\n"), "integer out of range"),
        ("0 3\n", "agents and items must be at least 1"),
        (TINY.replace(" 5 4\n", " 5 -4\n"), "line 6: value '-4': negative capacity"),
        (TINY.replace(" 2 3 5 3 2\n", " 2 3 5 -3 2\n"), "line 4: value '-3': negative weight"),
    ],
)
def test_reader_rejects_malformed_files(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(GapFormatError) as info:
        read_gap(path)
    message = str(info.value)
    assert str(path) in message and expected in message, message
    assert isinstance(info.value, ScenarioError)  # the CLI reports it like any input problem


def test_reader_lists_every_bad_token_and_missing_files(tmp_path):
    with pytest.raises(GapFormatError) as info:
        read_gap(write(tmp_path, "2 3\na 1 9\n2 6 b\n"))
    assert [(p.line, p.value) for p in info.value.problems] == [(2, "a"), (3, "b")]
    with pytest.raises(GapFormatError, match="file not found"):
        read_gap(tmp_path / "nope")


@needs_data
def test_names_and_best_known_follow_the_data_folder():
    assert instance_name(DATA / "cattrysse1994" / "gap1-0") == "cattrysse1994/gap1-0"
    best = read_best_known()
    assert best["cattrysse1994/gap1-0"].optimum == 261
    assert best["chu1997/d20200"].optimum is None and best["chu1997/d20200"].value == 12244
    assert len([k for k in best if k.startswith("cattrysse1994/")]) == 60


def test_the_tightest_shapes_are_a_set_of_their_own():
    # yagiura2004: types C, D and E (E: weights and costs negatively correlated, capacity near
    # its lower limit), every file readable and with its best known value, grouped by type
    paths = instance_paths("yagiura2004")
    best = read_best_known()
    names = [instance_name(p) for p in paths]
    assert len(paths) == 28 and all(n in best for n in names)
    assert {instance_group(n) for n in names} == {"yagiura2004/C", "yagiura2004/D", "yagiura2004/E"}
    inst = read_gap(DATA / "yagiura2004" / "e05100")
    assert (inst.n_agents, inst.n_items) == (5, 100)
    r = solve_gap(inst, time_limit=3, workers=1)
    assert r.feasible and r.value >= best["yagiura2004/e05100"].value


# --------------------------------------------------------------------------- adapter
def test_adapter_builds_one_pair_per_fitting_item_agent(tmp_path):
    inst = read_gap(write(tmp_path, TINY))
    d = gap_problem(inst)
    tc = d.task_cand
    # Every pair fits (item 3 weighs 5 on agent 1, exactly its capacity): 3 items x 2 agents.
    assert len(tc) == 6
    assert tc.ptr.tolist() == [0, 2, 4, 6]
    assert tc.agent.tolist() == [0, 1, 0, 1, 0, 1]
    assert tc.weight.tolist() == [2, 3, 3, 2, 5, 2]  # w[agent, item], unscaled
    assert tc.value.tolist() == [-4, -2, -1, -6, -9, -3]  # -c[agent, item]
    assert d.capacity.tolist() == [5, 4] and d.must_assign.all() and d.active.all()
    assert (d.n_tasks, d.n_agents, d.n_customers) == (3, 2, 0)
    assert len(d.owner_cand) == 0 and d.task_skill.shape == (3, 0) and d.agent_region.shape == (2, 0)


def test_adapter_drops_pairs_heavier_than_the_capacity():
    # Item 2 weighs 6 on agent 1 (capacity 5): that pair cannot be in any plan.
    inst = GapInstance("x", np.array([[1, 1], [1, 1]]), np.array([[1, 6], [1, 1]]), np.array([5, 5]))
    tc = gap_problem(inst).task_cand
    assert len(tc) == 3 and tc.ptr.tolist() == [0, 2, 3] and tc.agent.tolist() == [0, 1, 1]


# --------------------------------------------------------------------------- check and solve
def test_plan_check_finds_missing_items_and_overloads(tmp_path):
    inst = read_gap(write(tmp_path, TINY))
    assert plan_problems(inst, TINY_PLAN) == [] and plan_cost(inst, TINY_PLAN) == TINY_OPTIMUM
    assert plan_problems(inst, np.array([0, 0, 0])) == ["agent 1 carries 10 > capacity 5"]
    assert plan_problems(inst, np.array([0, -1, 1]))[0].startswith("1 items without an agent")


def test_tiny_instance_solves_to_its_hand_computed_optimum(tmp_path):
    inst = read_gap(write(tmp_path, TINY))
    r = solve_gap(inst, time_limit=5, workers=1)
    assert r.status == "OPTIMAL" and r.feasible
    assert r.value == TINY_OPTIMUM == r.bound
    assert r.assign.tolist() == TINY_PLAN.tolist()
    assert -r.result.objective == r.value  # the engine's objective equals the recomputed cost


def test_an_instance_without_a_fitting_plan_reports_no_value():
    # Agent 2 takes nothing (9 > 5); agent 1 takes one item of weight 3, not both (6 > 5).
    inst = GapInstance("x", np.array([[1, 1], [1, 1]]), np.array([[3, 3], [9, 9]]), np.array([5, 5]))
    r = solve_gap(inst, time_limit=2, workers=1)
    assert r.status == "INFEASIBLE" and not r.feasible
    assert np.isnan(r.value) and np.isnan(r.bound)


@needs_data
@pytest.mark.parametrize("name", ["gap1-0", "gap2-3", "gap4-2", "gap5-1"])
def test_cattrysse_instances_reach_their_proven_optimum(name):
    inst = read_gap(DATA / "cattrysse1994" / name)
    optimum = read_best_known()[inst.name].optimum
    r = solve_gap(inst, time_limit=10, workers=1, seed=0)
    assert plan_problems(inst, r.assign) == [] and r.feasible
    assert r.value == optimum and plan_cost(inst, r.assign) == optimum
    assert r.status == "OPTIMAL" and r.bound == optimum
    # Warm-started from its own optimum, the engine returns it unchanged.
    again = solve_gap(inst, time_limit=10, workers=1, seed=0, hint=(r.assign, np.zeros(0, np.int64)))
    assert again.value == optimum


@needs_data
def test_a_pruned_model_claims_no_proof():
    # gap1-0: optimum 261, LP bound 254.4. Over 2 agents per item CP-SAT may finish its search,
    # but only the LP's and the Lagrangian knapsacks' bounds hold for the whole instance (the
    # knapsacks' is the tighter, 260 here): the plan is not proven optimal.
    inst = read_gap(DATA / "cattrysse1994" / "gap1-0")
    r = solve_gap(inst, time_limit=5, workers=1, prune=2)
    assert r.feasible and 255 <= r.bound <= 261 <= r.value
    assert r.status == "FEASIBLE"
    without = solve_gap(inst, time_limit=5, workers=1, prune=2, lagrangian=False)
    assert without.bound == 255 and without.status == "FEASIBLE"


def test_results_frame_and_summary(tmp_path):
    inst = read_gap(write(tmp_path, TINY))
    r = solve_gap(inst, time_limit=5, workers=1)
    frame = results_frame([r], {})
    assert list(frame.columns[:7]) == RESULT_COLUMNS
    assert frame.loc[0, "value"] == 8 and frame.loc[0, "bound"] == 8
    s = summary_frame(frame)
    assert s.loc[0, "set"] == "other" and s.loc[0, "proven_optimal"] == 1


# --------------------------------------------------------------------------- CLI
@needs_data
def test_cli_writes_results_csv(tmp_path):
    out = tmp_path / "res" / "results.csv"
    files = [DATA / "cattrysse1994" / "gap1-0", write(tmp_path, TINY, "tiny")]
    args = ["bench", "gap", *map(str, files), "--time-limit", "5", "--workers", "2", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:7] == RESULT_COLUMNS
    assert [r["instance"] for r in rows] == ["cattrysse1994/gap1-0", "tiny"]
    assert rows[0]["value"] == rows[0]["best_known"] == "261" and rows[0]["status"] == "OPTIMAL"
    assert rows[1]["value"] == "8" and rows[1]["best_known"] == ""
    assert "cattrysse1994/gap1-0" in result.stdout


def test_cli_malformed_file_exits_2_without_traceback(tmp_path):
    out = tmp_path / "results.csv"
    bad = write(tmp_path, "2 3\n4 1 9\n")
    result = CliRunner().invoke(app, ["bench", "gap", str(bad), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ") and "file ends early" in result.stderr
    assert not out.exists()


def test_optimum_of_a_pruned_model_is_not_reported_as_proven():
    # gap1-0 keeping 2 agents per item: the pruned model may be solved to its optimum, but only
    # the LP over every pair bounds the instance, and it is not reached.
    inst = read_gap(DATA / "cattrysse1994" / "gap1-0")
    r = solve_gap(inst, time_limit=5, workers=1, seed=0, prune=2)
    assert r.feasible and r.value == 261 and r.bound < 261  # 261 is optimal, but unproven here
    assert r.status == "FEASIBLE"


def test_no_plan_in_time_is_not_called_feasible():
    # 0.2 s on a 20 x 200 type-D instance: the start leaves items open; unless CP-SAT finds a
    # full plan, the status must not claim one.
    inst = read_gap(DATA / "chu1997" / "d20200")
    r = solve_gap(inst, time_limit=0.2, workers=1, seed=0)
    assert r.status == "FEASIBLE" if r.feasible else r.status in ("UNKNOWN", "NO_VALID_PLAN")
