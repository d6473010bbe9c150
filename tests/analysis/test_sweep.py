"""sweep.py: --vary parsing (typed values, every bad key or value reported together), the levers
by hand on the tiny scenario, deterministic run ids, the executors, and sweeps end to end whose
plans the independent checker accepts (against the agents as the run changed them)."""

from __future__ import annotations

import operator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import optassign
from optassign.analysis.sweep import Executor, LocalProcessExecutor, SerialExecutor, sweep, sweep_jobs
from optassign.cli.main import app
from optassign.scenario.levers import LEVERS, apply_levers, parse_vary
from tests.checker import assert_plan_ok
from tests.conftest import AGENTS, read_csv, write_csv


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def agents_file(folder: Path, capacity_scale: float = 1.0, inactive: tuple[str, ...] = ()) -> Path:
    """agents.csv as a run changed it, written from the fixture's rows (not by the engine)."""
    rows = [dict(a) for a in AGENTS]
    for r in rows:
        r["capacity_hours"] = str(float(r["capacity_hours"]) * capacity_scale)
        if r["agent_id"] in inactive:
            r["active"] = "false"
    folder.mkdir(parents=True, exist_ok=True)
    return write_csv(folder / "agents.csv", rows)


# --------------------------------------------------------------------------- parsing
def test_parse_vary_types_values_in_order():
    got = parse_vary(
        [
            "policy=balanced,continuity",
            "capacity_scale=0.8,1",
            "seed=0,1",
            "balance_weight=1,5",
            "region=hard,soft",
            "priority_value={1: 1, 2: 2, 3: 4, 4: 8, 5: 32}",
        ]
    )
    assert list(got) == ["policy", "capacity_scale", "seed", "balance_weight", "region", "priority_value"]
    assert got["capacity_scale"] == [0.8, 1.0] and got["seed"] == [0, 1]
    assert got["region"] == ["hard", "soft"]
    assert got["priority_value"] == [{1: 1, 2: 2, 3: 4, 4: 8, 5: 32}]
    assert parse_vary({"staff_scale": 0.5, "workers": [1, 2]}) == {"staff_scale": [0.5], "workers": [1, 2]}


def test_parse_vary_reports_every_problem():
    with pytest.raises(optassign.ScenarioError) as info:
        parse_vary(
            ["foo=1", "capacity_scale=a,-1", "staff_scale=1.5", "policy=nope", "seed=x", "balance=odd", "x"]
        )
    text = str(info.value)
    assert "8 problems" in text  # capacity_scale has two bad values
    assert "'foo': unknown key; known keys: policy, capacity_scale, staff_scale" in text
    assert "balance_weight" in text  # policy fields are listed too
    for part in ("capacity_scale=a", "capacity_scale=-1", "staff_scale=1.5", "policy=nope", "seed=x"):
        assert part in text
    assert "expected KEY=V1,V2" in text


def test_repeated_key_is_an_error():
    with pytest.raises(optassign.ScenarioError, match="varied twice"):
        parse_vary(["seed=1", "seed=2"])


# --------------------------------------------------------------------------- levers
def test_levers_change_capacity_staff_and_policy(tiny_scenario):
    s = optassign.load_scenario(tiny_scenario)
    changed, settings = apply_levers(
        s, {"capacity_scale": 0.5, "staff_scale": 0.5, "balance_weight": 9.0, "seed": 3, "time_limit": 1.0}
    )
    assert changed.agents["capacity_hours"].tolist() == [10.0, 8.0, 12.0, 6.0]  # 20 16 24 12 halved
    # 4 active agents x 0.5 = 2 kept, the first by agent_id
    assert changed.agents["active"].tolist() == [True, True, False, False]
    assert changed.policy.balance_weight == 9.0 and changed.policy.name == "balanced[balance_weight=9]"
    assert settings == {"seed": 3, "time_limit": 1.0}
    assert s.agents["capacity_hours"].tolist() == [20.0, 16.0, 24.0, 12.0]  # the base is untouched
    # 4 x 0.625 = 2.5 rounds half up to 3; 4 x 0.6 = 2.4 rounds to 2
    assert apply_levers(s, {"staff_scale": 0.625})[0].agents["active"].sum() == 3
    assert apply_levers(s, {"staff_scale": 0.6})[0].agents["active"].sum() == 2
    assert apply_levers(s, {"policy": "continuity"})[0].policy.name == "continuity"


def test_run_ids_and_order_are_deterministic(tiny_scenario, tmp_path):
    s = optassign.load_scenario(tiny_scenario)
    vary = parse_vary(["policy=balanced,continuity", "capacity_scale=0.8,1"])
    jobs = sweep_jobs(s, vary, out=tmp_path)
    assert [j.run_id for j in jobs] == [
        "r000_policy-balanced_capacity_scale-0.8",
        "r001_policy-balanced_capacity_scale-1",
        "r002_policy-continuity_capacity_scale-0.8",
        "r003_policy-continuity_capacity_scale-1",
    ]
    assert [j.run_id for j in sweep_jobs(s, vary, out=tmp_path)] == [j.run_id for j in jobs]
    assert jobs[2].out == str(tmp_path / "runs" / jobs[2].run_id)


# --------------------------------------------------------------------------- executors
def test_executors_keep_the_jobs_order():
    jobs = [3, -1, 2, 0, -5]
    assert SerialExecutor().map(operator.neg, jobs) == [-3, 1, -2, 0, 5]
    assert LocalProcessExecutor(2).map(operator.neg, jobs) == [-3, 1, -2, 0, 5]
    assert LocalProcessExecutor(2).map(operator.neg, []) == []


class RecordingExecutor(Executor):
    """A stand-in backend: runs serially and records the run ids it was given."""

    def __init__(self):
        self.seen: list[str] = []

    def map(self, fn, jobs):
        self.seen.extend(j.run_id for j in jobs)
        return [fn(j) for j in jobs]


# --------------------------------------------------------------------------- end to end
def test_sweep_writes_runs_and_table(tiny_scenario, tmp_path):
    out = tmp_path / "sweep"
    backend = RecordingExecutor()
    result = sweep(
        tiny_scenario,
        ["capacity_scale=0.5,1", "staff_scale=0.5,1"],
        out=out,
        executor=backend,
        time_limit=3,
        workers=1,
        seed=0,
    )
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 4 and backend.seen == table["run_id"].tolist()
    assert table.columns[:4].tolist() == ["run_id", "capacity_scale", "staff_scale", "plan"]
    assert table["capacity_scale"].tolist() == [0.5, 0.5, 1.0, 1.0]
    assert {"status", "assigned", "utilization_gini", "moves"} <= set(table.columns)
    assert result.run_folders == [out / p for p in table["plan"]]
    for row in read_csv(out / "sweep.csv"):
        folder = out / row["plan"]
        inactive = ("A3", "A4") if row["staff_scale"] == "0.5" else ()
        agents = agents_file(tmp_path / "agents" / row["run_id"], float(row["capacity_scale"]), inactive)
        assert_plan_ok(tiny_scenario, folder, agents_override=agents)
        used = {r["agent_id"] for r in read_csv(folder / "assignments.csv")}
        assert not used & set(inactive)
    summary = pd.read_json(out / result.table["plan"][0] / "summary.json", typ="series")
    assert summary["sweep"]["run_id"] == result.table["run_id"][0]


def test_sweep_of_policy_fields_in_processes(tiny_scenario, tmp_path):
    """Two runs on two processes give the plans a serial sweep gives (tiny is solved to optimum)."""
    vary = ["region=hard,soft"]
    par = sweep(tiny_scenario, vary, out=tmp_path / "par", jobs=2, time_limit=3, workers=1, seed=0)
    ser = sweep(tiny_scenario, vary, time_limit=3, workers=1, seed=0)
    assert ser.out is None and ser.table["plan"].tolist() == ["", ""]
    cols = ["run_id", "region", "status", "objective", "assigned", "moves"]
    assert par.table[cols].equals(ser.table[cols])
    assert par.table["status"].tolist() == ["OPTIMAL", "OPTIMAL"]
    for row in par.table.itertuples():
        assert_plan_ok(tiny_scenario, par.out / row.plan, region_hard=row.region == "hard")


# --------------------------------------------------------------------------- CLI
def test_cli_sweep(tiny_scenario, tmp_path):
    out = tmp_path / "sw"
    result = run(
        "sweep", tiny_scenario, "--vary", "policy=balanced,continuity", "--out", out,
        "--time-limit", "3", "--workers", "1", "--seed", "0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_csv(out / "sweep.csv")
    assert [r["policy"] for r in rows] == ["balanced", "continuity"]
    for r in rows:
        assert_plan_ok(tiny_scenario, out / r["plan"])
    assert "continuity" in result.stdout


def test_cli_sweep_unknown_key_exits_2(tiny_scenario, tmp_path):
    out = tmp_path / "sw"
    result = run("sweep", tiny_scenario, "--vary", "colour=red", "--out", out)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    for key in LEVERS:
        assert key in result.stderr
    assert "unknown key" in result.stderr and "'colour'" in result.stderr
    assert not out.exists()


def test_cli_sweep_bad_value_exits_2(tiny_scenario, tmp_path):
    out = tmp_path / "sw"
    result = run("sweep", tiny_scenario, "--vary", "capacity_scale=lots", "--out", out)
    assert (
        result.exit_code == 2 and "capacity_scale=lots" in result.stderr and "not a number" in result.stderr
    )
    assert not out.exists()
