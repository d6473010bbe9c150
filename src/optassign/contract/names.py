"""File names from ids, for everything written per agent (handover sheets, outbox messages,
reminders): the one place an id becomes part of a path, so a CRM value never picks the path.

An id that is already a portable file name stem is kept as it is (`A00012` -> `A00012.md`), so
ordinary plans keep today's names. Any other id becomes an ASCII slug plus a short hash of the
full id (`Ågent` -> `Agent-1a2b3c4d5e`): the hash keeps distinct ids apart, the slug keeps the
name readable. Over a set of ids (`file_names`) no two names are equal ignoring case, so a
case-insensitive file system (macOS, Windows) never merges two agents' files. Readers find a
file by its id through the index written beside the files (`write_index`)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from optassign.contract.io import write_csv

__all__ = ["INDEX", "file_names", "file_stem", "inside", "write_index"]

INDEX = "index.csv"
# Kept as is: starts with a letter or digit, then letters, digits, ".", "_" or "-"; at most 64.
_KEPT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_OTHER = re.compile(r"[^A-Za-z0-9._-]+")
SLUG_CHARS = 48
HASH_CHARS = 10
# Windows refuses these as a file name, with any extension (CON.md is CON).
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{dev}{i}" for dev in ("COM", "LPT") for i in range(10)]
)


def _kept(agent_id: str) -> bool:
    """Whether the id is a file name stem on every common file system, as it is."""
    return (
        _KEPT.fullmatch(agent_id) is not None
        and not agent_id.endswith(".")
        and agent_id.split(".")[0].upper() not in _RESERVED
    )


def _hashed(agent_id: str, digits: int = HASH_CHARS) -> str:
    """An ASCII slug of the id (accents dropped, the rest `_`) and `-` + hex of its sha256."""
    decomposed = unicodedata.normalize("NFKD", agent_id)
    ascii_ = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    slug = _OTHER.sub("_", ascii_).lstrip("._-")[:SLUG_CHARS].rstrip(".")
    if not any(ch.isalnum() for ch in slug):
        slug = "id"
    if slug.split(".")[0].upper() in _RESERVED:  # nul.txt-<hash> would still be NUL on Windows
        slug = slug.replace(".", "_", 1)
    digest = hashlib.sha256(agent_id.encode("utf-8", "surrogatepass")).hexdigest()[:digits]
    return f"{slug}-{digest}"


def file_stem(agent_id: str) -> str:
    """The file name stem of one id on its own (see `file_names` for a whole set)."""
    return agent_id if _kept(agent_id) else _hashed(agent_id)


def file_names(ids: Iterable[str]) -> dict[str, str]:
    """id -> file name stem, for every id, no two stems equal ignoring case.

    Ids kept as they are but equal to another stem ignoring case (`ab` and `AB`) take the
    hashed form too; hashed stems that still meet (a 40-bit hash collision, or an id chosen to
    look like another's hashed stem) take the full hash."""
    unique = sorted(set(map(str, ids)))
    names = {i: file_stem(i) for i in unique}
    for digits in (HASH_CHARS, 64):
        seen: dict[str, list[str]] = {}
        for i, stem in names.items():
            seen.setdefault(stem.casefold(), []).append(i)
        clashes = [i for group in seen.values() if len(group) > 1 for i in group]
        if not clashes:
            break
        for i in clashes:
            names[i] = _hashed(i, digits)
    return names


def inside(folder: Path, name: str) -> Path:
    """`folder / name`, refused (ValueError) unless it stays a direct child of `folder`: the
    last check before a write, should a name ever come from anywhere but `file_names`."""
    folder = Path(folder)
    path = folder / name
    if path.name != name or path.resolve().parent != folder.resolve():
        raise ValueError(f"refusing to write {name!r} outside {folder}")
    return path


def write_index(folder: Path, files: Mapping[str, str]) -> Path:
    """`<folder>/index.csv` with agent_id,file (the file's name in `folder`), by agent_id: how
    a reader finds an agent's file whatever its id looks like."""
    rows = sorted(files.items())
    frame = pd.DataFrame(rows, columns=["agent_id", "file"], dtype=object)
    path = inside(folder, INDEX)
    write_csv(frame, path)
    return path
