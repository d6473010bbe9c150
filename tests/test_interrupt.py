"""SIGINT (Ctrl-C) and SIGTERM at any moment of a real `optassign solve` process: at start-up,
during the LP, between and during CP-SAT searches (OR-Tools would otherwise reset the handler
after its first search), with --save-interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.checker import assert_plan_ok

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "service_desk"  # sla_first: several CP-SAT stages in a row


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def plan_in_force(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("interrupt") / "plan"
    args = ["--time-limit", "2", "--workers", "1", "--quiet"]
    cmd = [sys.executable, "-m", "optassign", "solve", str(SCENARIO), "--out", str(out), *args]
    subprocess.run(cmd, check=True)
    return out


def start(out: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "optassign", "solve", str(SCENARIO), "--out", str(out)]
    cmd += ["--time-limit", "60", "--workers", "2", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_phase(proc: subprocess.Popen, phases: int) -> None:
    """Read progress lines until `phases` of them went by (each line is a phase or a better plan)."""
    seen = 0
    while seen < phases:
        line = proc.stderr.readline()
        if not line:
            pytest.fail("the solve ended before the signal")
        if "s " in line:
            seen += 1


def stop(proc: subprocess.Popen, sig: int) -> tuple[int, str]:
    """Send the signal; the exit code and the rest of stderr (a run that ignored the signal
    would go on to its 60 s limit and fail the 30 s wait)."""
    proc.send_signal(sig)
    rest = proc.communicate(timeout=30)[1]
    return proc.returncode, rest


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_at_start_up_ends_with_one_line_and_no_traceback(plan_in_force, sig):
    before = snapshot(plan_in_force)
    proc = start(plan_in_force, "--quiet")
    time.sleep(0.3)  # importing pandas and OR-Tools
    code, rest = stop(proc, sig)
    assert code == 128 + sig
    assert "Traceback" not in rest
    assert rest.strip().startswith("interrupted (") and len(rest.strip().splitlines()) == 1
    assert snapshot(plan_in_force) == before


@pytest.mark.parametrize("phases", [1, 3, 5])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_solve_stops_it_and_keeps_the_previous_plan(plan_in_force, sig, phases):
    before = snapshot(plan_in_force)
    proc = start(plan_in_force)
    wait_for_phase(proc, phases)
    code, rest = stop(proc, sig)
    assert code == 128 + sig, rest
    assert "Traceback" not in rest
    assert rest.strip().splitlines()[-1].startswith(f"interrupted ({signal.Signals(sig).name})")
    assert snapshot(plan_in_force) == before
    assert not [p for p in plan_in_force.parent.iterdir() if p.name.endswith(".tmp")]


def test_save_interrupted_writes_the_best_plan_so_far_marked_as_interrupted(tmp_path):
    out = tmp_path / "plan"
    proc = start(out, "--save-interrupted")
    wait_for_phase(proc, 4)
    code, rest = stop(proc, signal.SIGINT)
    assert code == 130, rest
    assert "Traceback" not in rest
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] == "SIGINT"
    assert_plan_ok(SCENARIO, out)


def test_a_second_signal_aborts_a_save_interrupted_run(tmp_path):
    out = tmp_path / "plan"
    proc = start(out, "--save-interrupted")
    wait_for_phase(proc, 2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    code, rest = stop(proc, signal.SIGINT)
    assert code == 130 and "Traceback" not in rest
    assert not out.exists() or (out / "summary.json").exists()  # nothing half written


def test_ortools_does_not_take_over_sigint(tmp_path):
    """Without `catch_sigint_signal = False` CP-SAT installs its own handler and restores the
    default after each search: a later Ctrl-C then kills the process with no cleanup."""
    out = tmp_path / "plan"
    proc = start(out)
    wait_for_phase(proc, 5)  # past the first CP-SAT search
    code, rest = stop(proc, signal.SIGINT)
    assert code == 130  # not -2 (killed by the signal)
    assert os.path.exists(tmp_path) and not out.exists()


def test_ctrl_c_on_a_sweep_in_processes_ends_every_worker_with_one_line(tmp_path):
    """Ctrl-C goes to the whole process group (the terminal sends it so): the workers ignore
    it, the parent prints one line, ends the workers it started and exits 130."""
    cmd = [sys.executable, "-m", "optassign", "sweep", str(SCENARIO), "--out", str(tmp_path / "sw")]
    cmd += ["--vary", "seed=1,2,3,4", "--jobs", "2", "--time-limit", "60", "--workers", "1"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stderr.readline().startswith("4 runs, 2 at a time")
    time.sleep(8)  # the workers are spawned, have imported OR-Tools and are solving
    os.killpg(proc.pid, signal.SIGINT)
    rest = proc.communicate(timeout=30)[1]
    assert proc.returncode == 130, rest
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    assert len(rest.strip().splitlines()) == 1 and rest.startswith("interrupted (SIGINT)")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the group is empty once every worker has ended
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("a sweep worker outlived the sweep")
