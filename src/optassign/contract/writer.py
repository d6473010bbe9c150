"""The one way optassign writes a folder (a plan, a comparison, a sweep): checked before any
work, built beside its target, swapped in with one atomic exchange under a lock, never over
anything optassign did not write, with the user's umask. The edge opposite io.py's readers.

A folder optassign writes holds a small marker file, `.optassign`, naming its kind. A target
may be replaced only when it is missing, an empty folder, or a folder of the same kind that
holds nothing but what optassign writes there; anything else (a scenario folder, a regular
file, a symbolic link, a folder with files of the user's) is refused before any work.

The swap is Linux's `renameat2(RENAME_EXCHANGE)`: one system call trades the new folder for
the old, so at every moment `--out` is the complete old plan or the complete new one. Where
that call is missing (another OS, a file system without it), two renames run with SIGINT and
SIGTERM blocked between them. Writers of one target take turns (an exclusive `flock` on the
parent folder, which leaves no file behind), and hidden leftovers of a writer that died
(`.<name>.<pid>.*.tmp`) are removed by the next one."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from optassign import interrupt

__all__ = [
    "MARKER",
    "FolderKind",
    "OutputError",
    "atomic_folder",
    "check_target",
    "claim_folder",
    "file_mode",
    "folder_mode",
    "KINDS",
]

MARKER = ".optassign"
# Targets this process replaced, so that a run stopped by a signal can say whether it did.
REPLACED: list[Path] = []
# A test hook: the writer pauses at this step (see `_step`), so that a test can send a signal
# to a real process at that very moment. Steps: locked, written, swapped, cleaned.
PAUSE_ENV = "OPTASSIGN_TEST_PAUSE_AT"


class OutputError(Exception):
    """A folder that may not be written or replaced; the message says which and why."""


@dataclass(frozen=True)
class FolderKind:
    """What optassign writes in one kind of folder: files by exact name or by suffix, and
    sub-folders (whose content is optassign's too)."""

    name: str
    files: frozenset[str]
    suffixes: tuple[str, ...] = ()
    folders: frozenset[str] = frozenset()
    # files that show an older optassign wrote the folder, before the marker existed
    legacy: Callable[[Path], bool] | None = None

    def owns(self, entry: Path) -> bool:
        if entry.name == MARKER:
            return entry.is_file() and not entry.is_symlink()
        if entry.is_symlink():
            return False
        if entry.is_dir():
            return entry.name in self.folders
        return entry.name in self.files or entry.name.endswith(self.suffixes)


def _legacy_plan(folder: Path) -> bool:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and "optassign_version" in summary


def _legacy_files(*names: str) -> Callable[[Path], bool]:
    return lambda folder: all((folder / n).is_file() for n in names)


KINDS = {
    "plan": FolderKind(
        "plan",
        frozenset(
            {
                "assignments.csv",
                "owners.csv",
                "agent_load.csv",
                "summary.json",
                "handover.csv",
                "frontier.csv",
                "worklists.csv",
                "agent_days.csv",
                "plan.xlsx",
            }
        ),
        suffixes=(".parquet",),
        folders=frozenset({"handover", "outbox"}),
        legacy=_legacy_plan,
    ),
    "comparison": FolderKind(
        "comparison",
        frozenset({"kpis.csv", "diff.csv"}),
        legacy=_legacy_files("kpis.csv", "diff.csv"),
    ),
    "sweep": FolderKind(
        "sweep",
        frozenset({"sweep.csv"}),
        folders=frozenset({"runs"}),
        legacy=_legacy_files("sweep.csv"),
    ),
}


# --------------------------------------------------------------------------- modes
@contextlib.contextmanager
def _quiet_signals() -> Iterator[None]:
    """SIGINT and SIGTERM held back (delivered on exit) around steps that must not be split."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_UMASK: int | None = None


def umask() -> int:
    """The process's umask, read once (reading it means setting it: done with signals held)."""
    global _UMASK
    if _UMASK is None:
        with _quiet_signals():
            _UMASK = os.umask(0o022)
            os.umask(_UMASK)
    return _UMASK


def folder_mode() -> int:
    """The mode `mkdir` would give a folder: what a CRM loader running as another user needs."""
    return 0o777 & ~umask()


def file_mode() -> int:
    return 0o666 & ~umask()


# --------------------------------------------------------------------------- checks
def _nearest_existing(path: Path) -> Path:
    for p in (path, *path.parents):
        if p.exists():
            return p
    return Path("/")


def check_target(target: str | Path, kind: str = "plan", *, replace: bool = True) -> None:
    """Refuse, before any work, a target that may not be written: see the module's rules. Also
    proves the location writable by creating (and removing) a hidden folder there.

    `replace=False` is for writing files into a folder of that kind without replacing it
    (exports, a sweep's runs): files of the user's there are then left alone, not refused."""
    target = Path(target)
    spec = KINDS[kind]
    if target.is_symlink():
        raise OutputError(f"{target}: is a symbolic link; give the folder itself or another path")
    if target.exists():
        if not target.is_dir():
            raise OutputError(
                f"{target}: exists and is not a folder; optassign replaces only a {kind} folder it wrote"
            )
        entries = sorted(target.iterdir())
        if entries:
            marker = _read_marker(target)
            ours = marker == kind or (marker is None and spec.legacy is not None and spec.legacy(target))
            if not ours:
                what = f"a {marker} folder" if marker else f"not a {kind} folder optassign wrote"
                raise OutputError(
                    f"{target}: {what}; optassign replaces only a {kind} folder it wrote "
                    "(choose another path, or an empty or new folder)"
                )
            foreign = [e.name for e in entries if not spec.owns(e)] if replace else []
            if foreign:
                shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
                raise OutputError(
                    f"{target}: holds files optassign did not write ({shown}); replacing the folder "
                    "would delete them: move them away or choose another path"
                )
    _probe_writable(target)


def claim_folder(folder: str | Path, kind: str) -> Path:
    """Create `folder` if needed and mark it as optassign's (for folders filled file by file,
    such as a sweep's); call `check_target(folder, kind, replace=False)` first."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if _read_marker(folder) is None:
        _write_marker(folder, kind)
    return folder


def _read_marker(folder: Path) -> str | None:
    path = folder / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def _probe_writable(target: Path) -> None:
    """Create and remove a hidden folder where the temporary folder will go (the target's
    parent, or the nearest folder that exists), so a read-only or missing location fails now."""
    base = _nearest_existing(target.parent)
    if not base.is_dir():
        raise OutputError(f"{target}: {base} is not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=f".{target.name[:64]}.probe.", dir=base)
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write in {base}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- the swap
def _libc_renameat2() -> Callable[[str, str, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd = -100

    def call(src: str, dst: str, flags: int) -> int:
        if fn(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), flags) == 0:
            return 0
        return ctypes.get_errno()

    return call


RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
_RENAMEAT2 = _libc_renameat2()


def _swap(new: Path, target: Path) -> None:
    """Put the complete folder `new` at `target`; the old folder (if any) ends up at `new`."""
    if _RENAMEAT2 is not None:
        flags = RENAME_EXCHANGE if target.exists() else RENAME_NOREPLACE
        code = _RENAMEAT2(str(new), str(target), flags)
        if code == 0:
            return
        if code not in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), str(target))
    # Fallback: two renames that no signal can split.
    with _quiet_signals():
        if target.exists():
            parked = new.with_name(new.name + ".old")
            os.rename(target, parked)
            os.rename(new, target)
            os.rename(parked, new)
        else:
            os.rename(new, target)


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp(\.old)?$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a leftover of ours is from an earlier, finished attempt
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_leftovers(parent: Path, name: str) -> None:
    """Hidden temporary folders of earlier writers of `name` that died before cleaning up."""
    for entry in parent.iterdir():
        m = _LEFTOVER.match(entry.name)
        if m and m["name"] == name and not _alive(int(m["pid"])):
            shutil.rmtree(entry, ignore_errors=True)


def _step(name: str) -> None:
    """Testing hook: with OPTASSIGN_TEST_PAUSE_AT=<step>, announce the step on stderr and wait,
    so that a test can signal or kill the process exactly there."""
    if os.environ.get(PAUSE_ENV) == name:
        print(f"optassign-writer: {name}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("OPTASSIGN_TEST_PAUSE_SECONDS", "30")))


_HELD = threading.local()  # parents this thread holds locked (a write may nest another)


@contextlib.contextmanager
def _locked(parent: Path) -> Iterator[None]:
    """An exclusive lock on the folder `parent` (flock on the folder itself: nothing is left
    behind), re-entrant within a thread: a handover writes its plan inside its own folder."""
    key = os.path.realpath(parent)
    held = _HELD.__dict__.setdefault("parents", set())
    if key in held:
        yield
        return
    fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
    finally:
        os.close(fd)  # closing releases the lock


def _write_marker(folder: Path, kind: str) -> None:
    from importlib import metadata

    try:
        version = metadata.version("optassign")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    text = json.dumps({"kind": kind, "written_by": f"optassign {version}"}) + "\n"
    (folder / MARKER).write_text(text, encoding="utf-8")


@contextlib.contextmanager
def atomic_folder(target: str | Path, kind: str = "plan") -> Iterator[Path]:
    """Yield a fresh hidden folder beside `target` to write into; on success it takes the
    place of `target` in one atomic exchange (readers see the old folder or the complete new
    one, never a mix), and the old folder is removed. On any exception or signal the new
    folder is removed and `target` is left untouched."""
    target = Path(target)
    check_target(target, kind)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    with _locked(parent):
        _step("locked")
        check_target(target, kind)  # another writer may have changed it while we waited
        _clean_leftovers(parent, target.name[:100])
        stem = target.name[:100]
        tmp = Path(tempfile.mkdtemp(prefix=f".{stem}.{os.getpid()}.", suffix=".tmp", dir=parent))
        try:
            with interrupt.writing(tmp):
                os.chmod(tmp, folder_mode())
                yield tmp
                _write_marker(tmp, kind)
                _step("written")
                _swap(tmp, target)
                REPLACED.append(target)
                _step("swapped")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # the new folder on failure, else the old one
        _step("cleaned")
