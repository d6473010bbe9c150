"""The edge of the flow: reads scenario and plan folders into validated DataFrames, and writes
plan folders atomically. Every input problem is collected with file, line, column and value."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from .schema import (
    FALSE_WORDS,
    SKILL_LEVELS,
    TRUE_WORDS,
    Column,
    InputProblem,
    Table,
)

Problems = list[InputProblem]


# --------------------------------------------------------------------------- YAML
YamlLines = dict[tuple[str, ...], int]


def read_yaml(
    path: Path, problems: Problems, label: str | None = None, lines: YamlLines | None = None
) -> object:
    """Parse a YAML file; a syntax error becomes a located problem instead of a traceback.
    With `lines`, it is filled with the line of every key path (see `yaml_key_lines`)."""
    label = label or path.name
    if not path.is_file():
        problems.append(InputProblem(label, None, None, None, "file not found"))
        return None
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        if lines is not None:
            lines.update(yaml_key_lines(text))
        return data
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(InputProblem(label, line, None, None, f"malformed YAML: {what}"))
    except UnicodeDecodeError:
        problems.append(InputProblem(label, None, None, None, "not UTF-8 text"))
    return None


def yaml_key_lines(text: str) -> YamlLines:
    """The 1-based line of every key path of a YAML document, e.g. ("policy", "balance_weight")
    -> 3 and ("events", "0") -> 2 (list items by index)."""
    out: YamlLines = {}
    seen: set[int] = set()  # an alias may point back at its own anchor

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*path, str(key.value))
                out[here] = key.start_mark.line + 1
                walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                here = (*path, str(i))
                out[here] = value.start_mark.line + 1
                walk(value, here)

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return out
    if root is not None:
        walk(root, ())
    return out


def pydantic_problems(
    exc: ValidationError, label: str, prefix: str = "", lines: YamlLines | None = None
) -> Problems:
    """Turn pydantic's errors into problems naming the YAML key path as the column (and its line,
    when `lines` of the file are given)."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        column = prefix + loc if loc else prefix.rstrip(".") or None
        value = err.get("input")
        shown = None if isinstance(value, dict | list) else str(value)
        out.append(InputProblem(label, _key_line(lines, column), column, shown, err["msg"]))
    return out


def _key_line(lines: YamlLines | None, column: str | None) -> int | None:
    """Line of the longest prefix of a dotted key path found in `lines`."""
    if not lines or not column:
        return None
    path = tuple(column.split("."))
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


# --------------------------------------------------------------------------- CSV
def read_table(path: Path, table: Table, problems: Problems, label: str | None = None) -> pd.DataFrame | None:
    """Read one contract CSV as text, check every column by its kind, return typed columns.

    Cells are stripped; empty means absent. Unknown columns are kept as text. Line numbers
    count the header as line 1."""
    label = label or table.file
    if not path.is_file():
        problems.append(InputProblem(label, None, None, None, "file not found"))
        return None
    try:
        raw = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skipinitialspace=False,
        )
        with path.open(encoding="utf-8-sig", newline="") as fh:  # pandas renames repeats to x.1
            header = pd.Index([c.strip() for c in next(csv.reader(fh), [])])
    except pd.errors.EmptyDataError:
        problems.append(InputProblem(label, 1, None, None, "file is empty: a header row is required"))
        return None
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(InputProblem(label, None, None, None, f"not a readable CSV: {exc}".strip()))
        return None
    raw.columns = [str(c).strip() for c in raw.columns]
    dupes = header[header.duplicated()].unique().tolist()
    for name in dupes:
        problems.append(InputProblem(label, 1, name, None, "column appears twice in the header"))
    if dupes:
        return None
    raw = raw.apply(lambda s: s.str.strip()) if len(raw.columns) else raw
    missing = [c.name for c in table.columns if c.required and c.name not in raw.columns]
    for name in missing:
        problems.append(InputProblem(label, 1, name, None, "required column is missing"))
    if missing:
        return None
    lines = np.arange(len(raw)) + 2
    out = raw.copy()
    for col in table.columns:
        if col.name not in raw.columns:
            out[col.name] = _default_series(col, len(raw))
            continue
        out[col.name] = _check_column(raw[col.name], col, lines, label, problems)
    out.attrs["lines"] = lines
    return out


def _default_series(col: Column, n: int) -> pd.Series:
    if col.kind in ("number", "integer"):
        return pd.Series(np.full(n, np.nan if col.default is None else col.default, dtype=float))
    if col.kind == "bool":
        return pd.Series(np.full(n, bool(col.default)), dtype=bool)
    if col.kind == "date":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    return pd.Series([col.default if col.default is not None else ""] * n, dtype=object)


def _check_column(s: pd.Series, col: Column, lines: np.ndarray, label: str, problems: Problems) -> pd.Series:
    empty = s.eq("")
    bad_mask = pd.Series(False, index=s.index)

    def flag(mask: pd.Series | np.ndarray, rule: str | Callable[[str], str]) -> None:
        mask = np.asarray(mask, dtype=bool) & ~bad_mask.to_numpy()
        for i in np.flatnonzero(mask):
            value = s.iat[i]
            problems.append(
                InputProblem(label, int(lines[i]), col.name, value, rule(value) if callable(rule) else rule)
            )
        bad_mask.iloc[np.flatnonzero(mask)] = True

    if col.nonempty:
        flag(empty, "a value is required")
    if col.kind == "id":
        dup = s.duplicated(keep="first") & ~empty
        if dup.any():
            first = s[~s.duplicated(keep="first")]
            first_line = dict(zip(first, lines[first.index], strict=True))
            flag(dup, lambda v: f"duplicate {col.name} (first on line {first_line[v]})")
        return s.astype(object)
    if col.kind in ("number", "integer"):
        num = pd.to_numeric(s.where(~empty), errors="coerce").astype(float)
        flag(~empty & ~np.isfinite(num), "not a number" if col.kind == "number" else "not an integer")
        if col.kind == "integer":
            flag(~empty & np.isfinite(num) & (num != np.round(num)), "not an integer")
        if col.minimum is not None:
            if col.exclusive_minimum:
                flag(~empty & (num <= col.minimum), f"must be > {col.minimum:g}")
            else:
                flag(~empty & (num < col.minimum), f"must be >= {col.minimum:g}")
        if col.maximum is not None:
            flag(~empty & (num > col.maximum), f"must be <= {col.maximum:g}")
        if col.default is not None:
            num = num.fillna(col.default)
        return num
    if col.kind == "bool":
        low = s.str.lower()
        flag(~empty & ~low.isin(TRUE_WORDS | FALSE_WORDS), "not a boolean (true/false, 1/0, yes/no)")
        return low.isin(TRUE_WORDS).where(~empty, bool(col.default)).astype(bool)
    if col.kind == "tier":
        up = s.str.upper()
        flag(~empty & ~up.isin(["A", "B", "C"]), "tier must be A, B or C")
        return up.where(~empty, col.default).astype(object)
    if col.kind == "date":
        dates = pd.to_datetime(s.where(~empty), errors="coerce", format="ISO8601")
        flag(~empty & dates.isna(), "not an ISO date (YYYY-MM-DD)")
        return dates
    if col.kind == "skills":
        for i, rule in _skill_errors(s):
            flag(np.arange(len(s)) == i, rule)
        return s.astype(object)
    return s.astype(object)


def _skill_errors(s: pd.Series) -> Iterator[tuple[int, str]]:
    long = explode_list(s)
    if long.empty:
        return
    name, level = _split_skill(long["item"])
    bad_name = name.eq("")
    bad_level = level.isna()
    lo, hi = SKILL_LEVELS
    out_of_range = ~bad_level & ((level < lo) | (level > hi))
    for row, item, bn, bl, oor in zip(
        long["row"], long["item"], bad_name, bad_level, out_of_range, strict=True
    ):
        if bn:
            yield int(row), f"malformed skill {item!r}: expected skill or skill:level"
        elif bl:
            yield int(row), f"malformed skill {item!r}: level must be an integer {lo}..{hi}"
        elif oor:
            yield int(row), f"skill level in {item!r} must be {lo}..{hi}"


def explode_list(s: pd.Series) -> pd.DataFrame:
    """`a;b;c` cells to a long frame (row, item): row is the positional index of the cell."""
    parts = s.astype(str).str.split(";")
    long = parts.explode()
    long = long.str.strip()
    rows = np.repeat(np.arange(len(s)), parts.str.len().to_numpy())
    frame = pd.DataFrame({"row": rows, "item": long.to_numpy()})
    return frame[frame["item"].ne("")].reset_index(drop=True)


def _split_skill(items: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = items.str.split(":", n=1, expand=True)
    name = parts[0].str.strip()
    if parts.shape[1] == 1:
        level_text = pd.Series("1", index=items.index)
    else:
        level_text = parts[1].fillna("1").str.strip()
    level = pd.to_numeric(level_text.where(level_text.str.fullmatch(r"\d+")), errors="coerce")
    return name, level


def parse_skills(s: pd.Series) -> pd.DataFrame:
    """Skill cells (already validated) to a long frame (row, skill, level); a repeated skill
    keeps its highest level."""
    long = explode_list(s)
    if long.empty:
        return pd.DataFrame(
            {
                "row": np.array([], dtype=np.int64),
                "skill": np.array([], dtype=object),
                "level": np.array([], dtype=np.int64),
            }
        )
    name, level = _split_skill(long["item"])
    frame = pd.DataFrame(
        {"row": long["row"].to_numpy(), "skill": name.to_numpy(), "level": level.to_numpy().astype(np.int64)}
    )
    return frame.groupby(["row", "skill"], as_index=False, sort=True)["level"].max()


# --------------------------------------------------------------------------- hashing
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- atomic output
@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside `target`; on success it replaces `target` in one
    rename, so a reader sees either the old folder or the complete new one, never a mix."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = target.parent / f".{target.name}.{os.getpid()}.old"
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV as the contract wants it: UTF-8, header, booleans as true/false, no index."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == bool:
            out[name] = out[name].map({True: "true", False: "false"})
    out.to_csv(path, index=False, lineterminator="\n")
