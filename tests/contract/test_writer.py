"""The one folder writer (writer.py): what --out may replace, the atomic exchange under a lock,
leftovers of a writer that died, faults at every step of a write (a real signal sent to a real
process paused there), two writers at once, a full disk, a read-only location, the umask."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optassign.cli.main import app
from optassign.contract import writer
from tests.checker import assert_plan_ok

FAST = ["--time-limit", "2", "--workers", "1", "--seed", "0", "--quiet"]
OPTASSIGN = [sys.executable, "-m", "optassign"]


def run(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def solve(scenario: Path, out: Path, *extra: str):
    return run("solve", scenario, "--out", out, *FAST, *extra)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    hidden = (p.name for p in parent.iterdir() if p.name.startswith("."))
    return sorted(n for n in hidden if n.endswith((".tmp", ".old")))


def refused(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.fixture
def plan_in_place(tiny_scenario, tmp_path):
    out = tmp_path / "plans" / "tonight"
    assert solve(tiny_scenario, out).exit_code == 0
    return out


# --------------------------------------------------------------------------- class 4: --out
def test_out_at_the_scenario_folder_is_refused_and_the_inputs_stay(tiny_scenario):
    before = snapshot(tiny_scenario)
    refused(solve(tiny_scenario, tiny_scenario), "--out", "not a plan folder optassign wrote")
    assert snapshot(tiny_scenario) == before


def test_out_at_a_parent_of_the_scenario_is_refused(tiny_scenario):
    before = snapshot(tiny_scenario)
    refused(solve(tiny_scenario, tiny_scenario.parent), "--out")
    assert snapshot(tiny_scenario) == before


def test_out_that_is_a_regular_file_is_refused_and_kept(tiny_scenario, tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("mine", encoding="utf-8")
    refused(solve(tiny_scenario, target), "exists and is not a folder")
    assert target.read_text(encoding="utf-8") == "mine"
    assert leftovers(tmp_path) == []


def test_out_that_is_a_symbolic_link_is_refused(tiny_scenario, plan_in_place, tmp_path):
    link = tmp_path / "current"
    link.symlink_to(plan_in_place)
    before = snapshot(plan_in_place)
    refused(solve(tiny_scenario, link), "symbolic link")
    assert link.is_symlink() and snapshot(plan_in_place) == before


def test_a_plan_folder_with_a_file_of_the_users_is_not_replaced(tiny_scenario, plan_in_place):
    (plan_in_place / "notes.txt").write_text("keep me", encoding="utf-8")
    refused(solve(tiny_scenario, plan_in_place), "optassign did not write (notes.txt)")
    assert (plan_in_place / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_a_comparison_folder_is_not_taken_for_a_plan(tiny_scenario, tmp_path):
    folder = tmp_path / "cmp"
    folder.mkdir()
    (folder / writer.MARKER).write_text('{"kind": "comparison"}', encoding="utf-8")
    (folder / "kpis.csv").write_text("kpi\n", encoding="utf-8")
    refused(solve(tiny_scenario, folder), "a comparison folder")


def test_an_empty_folder_and_a_plan_of_ours_are_replaced(tiny_scenario, tmp_path, plan_in_place):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert solve(tiny_scenario, empty).exit_code == 0
    assert_plan_ok(tiny_scenario, empty)
    inode = plan_in_place.stat().st_ino
    assert solve(tiny_scenario, plan_in_place, "--seed", "1").exit_code == 0
    assert plan_in_place.stat().st_ino != inode  # a new folder took the old one's place
    assert_plan_ok(tiny_scenario, plan_in_place)
    assert json.loads((plan_in_place / writer.MARKER).read_text(encoding="utf-8"))["kind"] == "plan"
    assert leftovers(plan_in_place.parent) == []


def test_a_plan_written_before_markers_existed_is_still_replaced(tiny_scenario, plan_in_place):
    (plan_in_place / writer.MARKER).unlink()
    assert solve(tiny_scenario, plan_in_place).exit_code == 0
    assert_plan_ok(tiny_scenario, plan_in_place)


# --------------------------------------------------------------------------- class 5: the swap
def test_leftovers_of_a_writer_that_died_are_removed(tiny_scenario, plan_in_place):
    parent = plan_in_place.parent
    dead = parent / f".{plan_in_place.name}.{2**22 + 12345}.abcd1234.tmp"  # no such pid
    dead.mkdir()
    (dead / "assignments.csv").write_text("half", encoding="utf-8")
    alive = parent / f".{plan_in_place.name}.{os.getppid()}.efgh5678.tmp"  # a live process
    alive.mkdir()
    other = parent / ".another.1.abcd1234.tmp"  # not ours to judge
    other.mkdir()
    assert solve(tiny_scenario, plan_in_place).exit_code == 0
    assert not dead.exists() and alive.exists() and other.exists()


def _start_solve(
    scenario: Path, out: Path, step: str | None, *extra: str, pause: float = 20
) -> subprocess.Popen:
    env = dict(os.environ)
    if step:
        env[writer.PAUSE_ENV] = step
        env["OPTASSIGN_TEST_PAUSE_SECONDS"] = str(pause)
    return subprocess.Popen(
        [*OPTASSIGN, "solve", str(scenario), "--out", str(out), *FAST, *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
        text=True,
    )


def _wait_for(proc: subprocess.Popen, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if text in line:
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"the writer never reached {text!r}")


@pytest.mark.parametrize("step", ["locked", "written", "swapped"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_signal_at_any_step_of_the_write_leaves_the_old_plan_or_the_new_one(
    tiny_scenario, plan_in_place, step, sig
):
    before = snapshot(plan_in_place)
    proc = _start_solve(tiny_scenario, plan_in_place, step, "--seed", "3")
    _wait_for(proc, f"optassign-writer: {step}")
    proc.send_signal(sig)
    proc.wait(timeout=30)
    rest = proc.stderr.read()
    assert "Traceback" not in rest
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 128 + sig
        assert rest.strip().startswith("interrupted (") and len(rest.strip().splitlines()) == 1
        assert leftovers(plan_in_place.parent) == []
    after = snapshot(plan_in_place)
    if step == "swapped":
        assert after != before  # the new plan was complete before the signal came
    else:
        assert after == before
    assert_plan_ok(tiny_scenario, plan_in_place)
    # whatever a killed writer left behind, the next write removes
    assert solve(tiny_scenario, plan_in_place).exit_code == 0
    assert leftovers(plan_in_place.parent) == []


def test_two_writers_of_one_folder_take_turns(tiny_scenario, plan_in_place):
    first = _start_solve(tiny_scenario, plan_in_place, "locked", "--seed", "4", pause=8)
    _wait_for(first, "optassign-writer: locked")
    second = _start_solve(tiny_scenario, plan_in_place, None, "--seed", "5")
    time.sleep(5)  # the second solves, then waits for the lock the first holds
    assert second.poll() is None
    assert first.wait(timeout=60) == 0 and second.wait(timeout=60) == 0
    summary = json.loads((plan_in_place / "summary.json").read_text(encoding="utf-8"))
    assert summary["seed"] == 5  # the second wrote last, and whole
    assert_plan_ok(tiny_scenario, plan_in_place)
    assert leftovers(plan_in_place.parent) == []


def test_the_exchange_has_a_two_rename_fallback(tiny_scenario, plan_in_place, monkeypatch):
    monkeypatch.setattr(writer, "_RENAMEAT2", None)
    assert solve(tiny_scenario, plan_in_place, "--seed", "2").exit_code == 0
    assert_plan_ok(tiny_scenario, plan_in_place)
    assert leftovers(plan_in_place.parent) == []


# --------------------------------------------------------------------------- class 7: faults
def _small_files():
    """In the child: files may grow to 4 KiB; past that a write fails (EFBIG) instead of the
    process being killed by SIGXFSZ, much as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_write_that_fails_leaves_the_previous_plan_and_no_temporary_folder(tmp_path):
    from tests.conftest import make_scenario

    scenario = make_scenario(tmp_path / "s")
    out = tmp_path / "plans" / "p"
    subprocess.run([*OPTASSIGN, "solve", str(scenario), "--out", str(out), *FAST], check=True)
    before = snapshot(out)
    proc = subprocess.run(
        [*OPTASSIGN, "solve", "scenarios/service_desk", "--out", str(out), *FAST],
        capture_output=True,
        text=True,
        preexec_fn=_small_files,
        cwd=Path(__file__).resolve().parents[2],
    )
    # service_desk is another scenario: its plan folder is still a plan folder of ours
    assert proc.returncode == 1, proc.stderr
    assert "cannot write" in proc.stderr and "nothing was replaced" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(out) == before
    assert leftovers(out.parent) == []


def _mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def test_a_full_disk_leaves_the_previous_plan(tiny_scenario, tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "size=256k"):
        pytest.skip("no small file system can be mounted here (needs root)")
    try:
        out = disk / "plan"
        assert solve(tiny_scenario, out).exit_code == 0
        before = snapshot(out)
        fs = os.statvfs(disk)
        (disk / "filler").write_bytes(b"x" * max(0, fs.f_bavail * fs.f_frsize - 8192))
        result = run("solve", "scenarios/service_desk", "--out", out, *FAST)
        assert result.exit_code == 1, result.output
        assert "cannot write" in result.stderr and "Traceback" not in result.output
        assert snapshot(out) == before
        assert leftovers(disk) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_read_only_location_is_refused_before_the_solve(tiny_scenario, tmp_path):
    ro = tmp_path / "ro"
    if not _mount_tmpfs(ro, "size=64k,ro"):
        if os.geteuid() == 0:
            pytest.skip("cannot mount a read-only file system here")
        ro.chmod(0o555)
    try:
        started = time.monotonic()
        result = run("solve", tiny_scenario, "--out", ro / "plan", "--time-limit", "30", "--quiet")
        refused(result, "--out", "cannot write in")
        assert time.monotonic() - started < 25  # refused before the 30 s solve, not after it
    finally:
        subprocess.run(["umount", str(ro)], check=False, capture_output=True)


# --------------------------------------------------------------------------- class 9: modes
def test_plan_folders_and_exports_honour_the_umask(tmp_path):
    from tests.conftest import make_scenario

    scenario = make_scenario(tmp_path / "s")
    out = tmp_path / "plan"
    script = (
        "import os, sys; os.umask(0o022); sys.argv = ['optassign'] + sys.argv[1:];"
        "from optassign.__main__ import main; main()"
    )
    args = ["solve", str(scenario), "--out", str(out), *FAST, "--format", "xlsx", "--format", "parquet"]
    subprocess.run([sys.executable, "-c", script, *args], check=True)
    modes = {p.name: p.stat().st_mode & 0o777 for p in [out, *out.iterdir()]}
    assert modes.pop("plan") == 0o755
    assert modes and set(modes.values()) == {0o644}, modes
