"""Stopping a run on SIGINT (Ctrl-C) or SIGTERM at any moment, beside the flow: the command
line installs the handlers; searches ask `requested()`, CP-SAT solves run through `solve`.

Two ways to stop, chosen by the command line:

- abort (the default): the signal raises `Interrupted` in the main thread, the folder being
  written (if any) is removed, the previous plan stays untouched, exit code 128 + signal
  (130 for SIGINT, 143 for SIGTERM);
- finish (`--save-interrupted`): the first signal asks every search to stop as if its time
  were up, so the solve ends with the best plan so far, which is written marked as
  interrupted; a second signal aborts.

CP-SAT is told not to catch SIGINT itself (its own handler replaces Python's and restores the
default after each solve, so a later Ctrl-C would kill the process with no cleanup). Instead a
watcher thread, woken by the signal through `signal.set_wakeup_fd` even while the main thread
is inside C code, stops the running CP-SAT searches; if the main thread still has not
reacted a few seconds later (a long LP in HiGHS, say), the watcher removes the folders being
written, prints the one line and ends the process with the same exit code."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "Interrupted",
    "finishing",
    "install",
    "message",
    "requested",
    "signal_received",
    "solve",
    "writing",
]

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# How long the watcher lets the main thread react before it ends the process itself.
GRACE_SECONDS = 3.0


class Interrupted(BaseException):  # noqa: N818  (like KeyboardInterrupt: not an error of the run)
    """The run was stopped by a signal; `exit_code` is what the process should end with."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.installed = False
        self.finish = False
        self.signum: int | None = None
        self.seen = 0  # signals the watcher saw
        self.handled = 0  # signals the main thread's handler saw
        self.solvers: set = set()
        self.folders: set[Path] = set()


_STATE = _State()


def requested() -> bool:
    """Whether a signal asked the run to stop (searches end as if their time were up)."""
    return _STATE.signum is not None


def finishing() -> bool:
    """Whether a first signal ends the searches with their best plan (--save-interrupted)."""
    return _STATE.finish


def signal_received() -> int | None:
    """The first signal that asked the run to stop, if any."""
    return _STATE.signum


def message(signum: int, detail: str = "stopped") -> str:
    return f"interrupted ({signal.Signals(signum).name}): {detail}"


def install(*, finish: bool = False) -> None:
    """Handle SIGINT and SIGTERM in this process (main thread only; the command line calls it
    first thing). `finish`: the first signal ends the searches instead of aborting."""
    if threading.current_thread() is not threading.main_thread():
        return
    _STATE.finish = finish
    if _STATE.installed:
        return
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    for sig in SIGNALS:
        signal.signal(sig, _handler)
    threading.Thread(target=_watch, args=(read,), name="optassign-signals", daemon=True).start()
    _STATE.installed = True


def _stop_searches(signum: int) -> None:
    with _STATE.lock:
        if _STATE.signum is None:
            _STATE.signum = signum
        solvers = list(_STATE.solvers)
    for solver in solvers:
        solver.stop_search()


def _handler(signum: int, frame) -> None:
    """Python-level handler, in the main thread, once the interpreter gets there."""
    _stop_searches(signum)
    with _STATE.changed:
        _STATE.handled += 1
        first = _STATE.handled == 1
        _STATE.changed.notify_all()
    if _STATE.finish and first:
        return  # the searches wind down; the solve returns its best plan
    raise Interrupted(signum)


def _watch(fd: int) -> None:
    """Watcher thread, woken by the C-level handler through the wakeup fd even while the main
    thread is inside C code (HiGHS, CP-SAT, a large write)."""
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:
            return
        for signum in data:
            if signum not in SIGNALS:
                continue
            _stop_searches(signum)
            with _STATE.changed:
                _STATE.seen += 1
                seen = _STATE.seen
                if _STATE.finish and seen == 1:
                    continue
                reacted = _STATE.changed.wait_for(lambda n=seen: _STATE.handled >= n, GRACE_SECONDS)
            # Not reacted: stuck in C code. Reacted: it is cleaning up; allow it the same time.
            delay = GRACE_SECONDS if reacted else 0.0
            timer = threading.Timer(delay, _abandon, args=(signum,))
            timer.daemon = True
            timer.start()
        if not data:
            return


def _abandon(signum: int) -> None:
    """End the process now, removing what is half written (the main thread could not)."""
    with _STATE.lock:
        folders = list(_STATE.folders)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    try:
        sys.stderr.write(message(signum) + "\n")
        sys.stderr.flush()
    finally:
        os._exit(128 + signum)


@contextlib.contextmanager
def writing(folder: Path) -> Iterator[None]:
    """Mark a temporary folder as being written: removed if the process must end abruptly."""
    with _STATE.lock:
        _STATE.folders.add(folder)
    try:
        yield
    finally:
        with _STATE.lock:
            _STATE.folders.discard(folder)


def solve(solver, model, callback=None) -> int:
    """`solver.solve(model[, callback])` that a signal can stop: CP-SAT leaves SIGINT to us,
    and a search asked to stop before it starts gets no time."""
    if _STATE.installed:
        solver.parameters.catch_sigint_signal = False
    with _STATE.lock:
        _STATE.solvers.add(solver)
    try:
        if requested():
            solver.parameters.max_time_in_seconds = 0.0
        return solver.solve(model, callback) if callback is not None else solver.solve(model)
    finally:
        with _STATE.lock:
            _STATE.solvers.discard(solver)
