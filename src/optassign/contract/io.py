"""The edge of the flow: reads scenario and plan folders into validated DataFrames, and writes
plan folders atomically. Every input problem is collected with file, line, column and value."""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import re
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from optassign.contract.schema import (
    CONTROL_CHARS,
    FALSE_WORDS,
    SKILL_LEVELS,
    TRUE_WORDS,
    Column,
    InputProblem,
    Table,
    control_rule,
    shorten,
)

Problems = list[InputProblem]


# --------------------------------------------------------------------------- YAML
YamlLines = dict[tuple[str, ...], int]

# scenario.yaml, events.yaml and policies are hand-sized: the largest bundled one is a few kB.
MAX_YAML_BYTES = 1 << 20
# Aliases may share a node (a list of skills named once, used twice) but the document they
# stand for may not grow past twice what the largest file could spell out without them. The
# expansion is measured on the composed node graph, which holds every aliased node once, so a
# "billion laughs" file of a few hundred bytes is refused after composing a few hundred nodes,
# before anything is constructed, validated or rendered into a message. Counting the expansion
# (rather than capping the number of aliases) keeps legitimate sharing legal at any count.
MAX_YAML_EXPANSION = 2 * MAX_YAML_BYTES


class _Loader(yaml.SafeLoader):
    """The safe loader, with dates kept as their text: the contract's models read ISO dates
    themselves, so that a date such as 2026-12-32 is a located problem, not a crash."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def read_yaml(
    path: Path,
    problems: Problems,
    label: str | None = None,
    lines: YamlLines | None = None,
    max_bytes: int = MAX_YAML_BYTES,
) -> object:
    """Parse a YAML file; a syntax error becomes a located problem instead of a traceback.
    With `lines`, it is filled with the line of every key path (see `yaml_key_lines`).

    Files over `max_bytes` and documents whose aliases expand past MAX_YAML_EXPANSION are
    refused before they are built; a parser's message never quotes the file's text."""
    label = label or path.name
    text = _read_small_text(path, problems, label, max_bytes)
    if text is None:
        return None
    loader = None
    try:
        loader = _Loader(text)  # its reader refuses unprintable characters right here
        root = loader.get_single_node()
        if root is None:
            return None
        rule = _expansion_rule(root)
        if rule is not None:
            problems.append(InputProblem(label, None, None, None, rule))
            return None
        if lines is not None:
            lines.update(_key_lines(root))
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(InputProblem(label, line, None, None, f"malformed YAML: {_unquoted(what)}"))
    except RecursionError:
        problems.append(InputProblem(label, None, None, None, "malformed YAML: nested too deeply"))
    finally:
        if loader is not None:
            loader.dispose()
    return None


def _regular_file(path: Path, problems: Problems, label: str) -> bool:
    """Whether `path` is a regular file to read; else a problem naming it (missing, or a
    folder, FIFO or device)."""
    if not path.exists():
        problems.append(InputProblem(label, None, None, None, "file not found"))
        return False
    if not path.is_file():
        problems.append(InputProblem(label, None, None, None, "not a regular file"))
        return False
    return True


def _read_small_text(path: Path, problems: Problems, label: str, max_bytes: int) -> str | None:
    """The UTF-8 text of a regular file of at most `max_bytes`, else None and a problem. Reads at
    most one byte past the bound, so a huge file, a FIFO or /proc entry costs nothing."""
    if not _regular_file(path, problems, label):
        return None
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        problems.append(InputProblem(label, None, None, None, f"cannot be read: {exc.strerror or exc}"))
        return None
    if len(data) > max_bytes:
        problems.append(
            InputProblem(
                label, None, None, None, f"file larger than {_size(max_bytes)}: not a hand-made YAML file"
            )
        )
        return None
    bad = _first_bad_utf8(data)
    if bad is not None:
        problems.append(InputProblem(label, _line_at(data, bad), None, None, _not_utf8_rule(data)))
        return None
    return data.decode("utf-8")


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n:,} bytes"


def _unquoted(text: str) -> str:
    """A parser's message without the file's text it quotes (an alias name, a tag, a character):
    the file may not be the user's (a policy path pointing at a secrets file)."""
    return re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "…", str(text))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expansion_rule(root: yaml.Node) -> str | None:
    """Why the document the node graph stands for is refused, or None: its expansion (every
    node counted once per path to it, a scalar as 1 + its length) exceeds MAX_YAML_EXPANSION,
    or an alias refers to a node that contains it. Iterative and memoised: linear in the graph."""
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
        elif key in size:
            continue
        elif key in open_nodes:
            return "an alias refers to a node that contains it (recursive YAML)"
        elif isinstance(node, yaml.ScalarNode):
            size[key] = 1 + len(node.value)
        else:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in _children(node) if id(c) not in size)
        if size.get(key, 0) > MAX_YAML_EXPANSION:
            return (
                f"aliases expand the document past {_size(MAX_YAML_EXPANSION)} of values: "
                "refused before it is built"
            )
    return None


def _key_lines(root: yaml.Node) -> YamlLines:
    out: YamlLines = {}
    seen: set[int] = set()  # an alias may point back at its own anchor
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*path, str(key.value))
                out.setdefault(here, key.start_mark.line + 1)
                stack.append((value, here))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                here = (*path, str(i))
                out.setdefault(here, value.start_mark.line + 1)
                stack.append((value, here))
    return out


def yaml_key_lines(text: str) -> YamlLines:
    """The 1-based line of every key path of a YAML document, e.g. ("policy", "balance_weight")
    -> 3 and ("events", "0") -> 2 (list items by index). Empty for a text too large or broken."""
    if len(text) > MAX_YAML_BYTES:
        return {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return {}
    return {} if root is None else _key_lines(root)


def pydantic_problems(
    exc: ValidationError,
    label: str,
    prefix: str = "",
    lines: YamlLines | None = None,
    model: type[BaseModel] | None = None,
) -> Problems:
    """Turn pydantic's errors into problems naming the YAML key path as the column (and its line,
    when `lines` of the file are given). An unknown key is named with the nearest known key of
    `model` (or the list of them) and never with its value; a mapping or list value is never
    rendered, other values are shortened."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        column = prefix + loc if loc else prefix.rstrip(".") or None
        line = _key_line(lines, column)
        if err["type"] == "extra_forbidden":
            rule = _unknown_key_rule(str(err["loc"][-1]), _known_keys(model, err["loc"][:-1]))
            out.append(InputProblem(label, line, column, None, rule))
            continue
        value = err.get("input")
        shown = None if isinstance(value, dict | list | tuple | set) else shorten(value)
        out.append(InputProblem(label, line, column, shown, err["msg"]))
    return out


def _unknown_key_rule(key: str, known: list[str] | None) -> str:
    if not known:
        return "unknown key"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key: did you mean {close[0]}?"
    return f"unknown key; known keys: {', '.join(known)}"


def _known_keys(model: type[BaseModel] | None, loc: tuple) -> list[str] | None:
    """The field names of the model found at `loc` inside `model` (through optional, union,
    list and dict fields), or None."""
    current: object = model
    for part in loc:
        current = _model_in(current, part)
        if current is None:
            return None
    return list(current.model_fields) if _is_model(current) else None


def _is_model(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _model_in(tp: object, part: object) -> object:
    """The type one step down `part` (a field name, a list index or a dict key) from `tp`."""
    if _is_model(tp):
        field = tp.model_fields.get(str(part))
        return None if field is None else _unwrap(field.annotation)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple, set) and args:
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


def _unwrap(tp: object) -> object:
    """The model (or container) inside Optional[...], unions and Annotated[...]."""
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(args[0])
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in args:
            inner = _unwrap(arg)
            if _is_model(inner) or typing.get_origin(inner) in (list, dict):
                return inner
        return None
    return tp


def _key_line(lines: YamlLines | None, column: str | None) -> int | None:
    """Line of the longest prefix of a dotted key path found in `lines`."""
    if not lines or not column:
        return None
    path = tuple(column.split("."))
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


# --------------------------------------------------------------------------- encodings
_UTF8_CHUNK = 1 << 24


def _first_bad_utf8(data: bytes, start: int = 0) -> int | None:
    """Offset of the first byte that is not UTF-8, or None. Decodes in chunks and keeps no text,
    so validating a 1 GB file costs a chunk of memory, not four times the file."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for pos in range(start, len(data), _UTF8_CHUNK):
        try:
            decoder.decode(view[pos : pos + _UTF8_CHUNK], final=False)
        except UnicodeDecodeError as exc:
            return pos + exc.start - len(decoder.getstate()[0])
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return len(data) - len(decoder.getstate()[0])
    return None


def _line_at(data: bytes, offset: int) -> int:
    """The physical line (1-based; LF, CRLF and a lone CR each end one) holding byte `offset`."""
    head = data[:offset]
    return 1 + head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n")


def _not_utf8_rule(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "not UTF-8 text: the file is UTF-16; save it as UTF-8"
    return "not UTF-8 text"


# --------------------------------------------------------------------------- CSV
# A record (one row, quoted line breaks included) longer than this is not a table row: a 1 GB
# "line" is refused before pandas builds a 1 GB cell. Files themselves have no bound: a million
# tasks is a legitimate batch.
MAX_RECORD_BYTES = 1 << 20
# Contract tables have about ten columns and exports add some; ten thousand is not a table.
MAX_COLUMNS = 1000
# Beyond this many broken cells of one column, the rest is counted, not listed.
MAX_PROBLEMS_PER_COLUMN = 1000
_BLANK = frozenset(b" \t\r")


@dataclass(frozen=True)
class _Records:
    """Where the records of a CSV text are: byte ranges [start, end) and the physical line each
    starts on (blank lines dropped), as pandas' C parser splits them."""

    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray


def _scan_records(b: np.ndarray) -> _Records | None:
    """Split the bytes into records with numpy: a record ends at an LF, a CRLF or a lone CR
    outside quotes. None when quotes are used in a way this scan does not model (a quote inside
    an unquoted cell, text after a closing quote, a quote never closed): the caller then reads
    the file with the csv module, which locates such records itself."""
    n = len(b)
    if n == 0:
        empty = np.array([], dtype=np.int64)
        return _Records(empty, empty, empty)
    nl = np.flatnonzero(b == 10)
    cr = np.flatnonzero(b == 13)
    if len(cr):
        after = cr + 1
        lone = cr[(after >= n) | (b[np.minimum(after, n - 1)] != 10)]
        breaks = np.union1d(nl, lone) if len(lone) else nl
    else:
        breaks = nl
    q = np.flatnonzero(b == 34)
    if len(q):
        if len(q) % 2:
            return None
        field_edge = np.array([44, 10, 13])
        opening, closing = q[0::2], q[1::2]
        prev = np.where(opening > 0, b[np.maximum(opening - 1, 0)], 10)
        escaped_open = np.zeros(len(opening), dtype=bool)
        escaped_open[1:] = opening[1:] - 1 == closing[:-1]
        nxt = np.where(closing + 1 < n, b[np.minimum(closing + 1, n - 1)], 10)
        escaped_close = np.zeros(len(closing), dtype=bool)
        escaped_close[:-1] = closing[:-1] + 1 == opening[1:]
        if not (np.isin(prev, field_edge) | escaped_open).all():
            return None
        if not (np.isin(nxt, field_edge) | escaped_close).all():
            return None
        terms = breaks[np.searchsorted(q, breaks) % 2 == 0]
    else:
        terms = breaks
    starts = np.concatenate(([0], terms + 1))
    ends = np.concatenate((terms, [n]))
    lines = np.searchsorted(breaks, starts) + 1
    keep = ends > starts
    maybe_blank = np.flatnonzero(keep & np.isin(b[np.minimum(starts, n - 1)], list(_BLANK)))
    for i in maybe_blank:  # rare: only records that start with a space, a tab or a CR
        if set(b[starts[i] : ends[i]].tobytes()) <= _BLANK:
            keep[i] = False
    return _Records(starts[keep], ends[keep], lines[keep])


def read_table(path: Path, table: Table, problems: Problems, label: str | None = None) -> pd.DataFrame | None:
    """Read one contract CSV as text, check every column by its kind, return typed columns.

    Cells are stripped; empty means absent. Unknown columns are kept as text. Line numbers
    are physical lines of the file (the header is line 1 when nothing precedes it): a record
    whose quoted cell spans lines is numbered by its first line, blank lines are skipped, and
    `attrs["lines"]` holds the line of every row."""
    label = label or table.file
    parsed = _read_csv_text(path, problems, label)
    if parsed is None:
        return None
    header, raw, lines = parsed
    raw.columns = [str(c).strip() for c in header]
    header_index = pd.Index(raw.columns)
    dupes = header_index[header_index.duplicated()].unique().tolist()
    for name in dupes:
        problems.append(InputProblem(label, int(lines[0]), name, None, "column appears twice in the header"))
    if dupes:
        return None
    raw = raw.apply(lambda s: s.str.strip()) if len(raw.columns) else raw
    missing = [c.name for c in table.columns if c.required and c.name not in raw.columns]
    for name in missing:
        problems.append(InputProblem(label, int(lines[0]), name, None, "required column is missing"))
    if missing:
        return None
    rows = np.asarray(lines[1:], dtype=np.int64)
    out = raw.copy()
    for col in table.columns:
        if col.name not in raw.columns:
            out[col.name] = _default_series(col, len(raw))
            continue
        out[col.name] = _check_column(raw[col.name], col, rows, label, problems)
    for name, noun in table.plain_extras:
        if name in raw.columns:
            _check_column(raw[name], Column(name, plain=noun), rows, label, problems)
    out.attrs["lines"] = rows
    return out


def _read_csv_text(
    path: Path, problems: Problems, label: str
) -> tuple[list[str], pd.DataFrame, np.ndarray] | None:
    """(header, cells as text, physical line of the header and of every row), or None and a
    located problem: not a file, not UTF-8, no header, a record too long, a row with cells
    beyond the header, broken quoting."""
    if not _regular_file(path, problems, label):
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(InputProblem(label, None, None, None, f"cannot be read: {exc.strerror or exc}"))
        return None
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    bad = _first_bad_utf8(data, skip)
    if bad is not None:
        column = _column_at(data, skip, bad)
        problems.append(InputProblem(label, _line_at(data, bad), column, None, _not_utf8_rule(data)))
        return None
    body = np.frombuffer(data, dtype=np.uint8)[skip:]
    records = _scan_records(body)
    if records is not None:
        if not len(records.starts):
            problems.append(InputProblem(label, 1, None, None, "file is empty: a header row is required"))
            return None
        long = np.flatnonzero(records.ends - records.starts > MAX_RECORD_BYTES)
        if len(long):
            problems.append(_long_record(label, int(records.lines[long[0]])))
            return None
        first = data[skip + records.starts[0] : skip + records.ends[0]].decode("utf-8")
        header = next(csv.reader([first.rstrip("\r")]), [])
        if len(header) > MAX_COLUMNS:
            problems.append(_too_wide(label, int(records.lines[0]), len(header)))
            return None
        raw = _pandas_cells(data[skip:], len(records.starts) - 1)
        if raw is not None and len(raw.columns) == len(header):
            return header, raw, records.lines
    return _csv_module_cells(data[skip:].decode("utf-8"), problems, label)


def _pandas_cells(body: bytes, rows: int) -> pd.DataFrame | None:
    """The cells as pandas' C parser reads them, or None when it disagrees with the scan (a row
    with more cells than the header, a count that differs): then the csv module decides."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            raw = pd.read_csv(
                io.BytesIO(body),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8",
                skipinitialspace=False,
                index_col=False,
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, csv.Error, ValueError):
        return None
    return raw if len(raw) == rows else None


def _csv_module_cells(
    text: str, problems: Problems, label: str
) -> tuple[list[str], pd.DataFrame, np.ndarray] | None:
    """The slower, exact reading: the csv module (strict quoting) with the line each record
    starts on. Blank lines are skipped as pandas skips them; a row may have fewer cells than the
    header (the rest is empty) but never more: cells past the header mean the row is shifted."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_RECORD_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    before = len(problems)
    try:
        last = 0
        for row in reader:
            first, last = last + 1, reader.line_num
            if not row or (len(row) == 1 and row[0] and not row[0].strip(" \t")):
                continue
            if header is None:
                header = row
                lines.append(first)
                if len(header) > MAX_COLUMNS:
                    problems.append(_too_wide(label, first, len(header)))
                    return None
                continue
            if len(row) > len(header):  # even empty extras: a shifted row may end in an empty cell
                problems.append(
                    InputProblem(
                        label,
                        first,
                        None,
                        None,
                        f"{len(row)} cells but the header has {len(header)} columns: "
                        "a cell outside every column (an unquoted comma?)",
                    )
                )
                continue
            elif len(row) < len(header):
                row = row + [""] * (len(header) - len(row))
            rows.append(row)
            lines.append(first)
    except csv.Error as exc:
        rule = str(exc)
        if "field larger than field limit" in rule:
            problems.append(_long_record(label, last + 1))
        else:
            problems.append(InputProblem(label, last + 1, None, None, f"malformed CSV: {_unquoted(rule)}"))
        return None
    finally:
        csv.field_size_limit(old_limit)
    if header is None:
        problems.append(InputProblem(label, 1, None, None, "file is empty: a header row is required"))
        return None
    if len(problems) > before:
        return None
    columns = list(range(len(header)))
    raw = pd.DataFrame(rows, columns=columns, dtype=object) if rows else pd.DataFrame(columns=columns)
    return header, raw.astype(object), np.asarray(lines, dtype=np.int64)


def _long_record(label: str, line: int) -> InputProblem:
    return InputProblem(
        label,
        line,
        None,
        None,
        f"a row longer than {_size(MAX_RECORD_BYTES)} starts here: not a table row (a quote never closed?)",
    )


def _too_wide(label: str, line: int, n: int) -> InputProblem:
    return InputProblem(label, line, None, None, f"{n:,} columns: a table has at most {MAX_COLUMNS:,}")


def _column_at(data: bytes, skip: int, offset: int) -> str | None:
    """The header name of the cell holding byte `offset`; None on the header itself or when the
    text before it is not plain CSV."""
    prefix = data[skip:offset]
    try:
        rows = [r for r in csv.reader(io.StringIO(prefix.decode("utf-8"), newline="")) if r]
    except csv.Error:
        return None
    new_line = prefix.endswith((b"\n", b"\r"))
    if not rows or (len(rows) == 1 and not new_line):
        return None
    index = 0 if new_line else len(rows[-1]) - 1
    return rows[0][index].strip() if index < len(rows[0]) else None


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
    counted = [0]

    def flag(mask: pd.Series | np.ndarray, rule: str | Callable[[str], str]) -> None:
        mask = np.asarray(mask, dtype=bool) & ~bad_mask.to_numpy()
        hits = np.flatnonzero(mask)
        room = max(MAX_PROBLEMS_PER_COLUMN - counted[0], 0)
        for i in hits[:room]:
            value = s.iat[i]
            problems.append(
                InputProblem(label, int(lines[i]), col.name, value, rule(value) if callable(rule) else rule)
            )
        if len(hits) > room:
            i = hits[room]
            problems.append(
                InputProblem(
                    label,
                    int(lines[i]),
                    col.name,
                    None,
                    f"and {len(hits) - room:,} more cells of this column from here on break a rule",
                )
            )
        counted[0] += len(hits)
        bad_mask.iloc[hits] = True

    if col.nonempty:
        flag(empty, "a value is required")
    noun = col.plain_noun
    if noun is not None:
        control = s.str.contains(CONTROL_CHARS, regex=True)
        if control.any():
            flag(control, lambda v: control_rule(v, noun) or "control character not allowed")
    if col.kind == "id":
        dup = s.duplicated(keep="first") & ~empty
        if dup.any():
            first = s[~s.duplicated(keep="first")]
            first_line = dict(zip(first, lines[first.index], strict=True))
            flag(dup, lambda v: f"duplicate {col.name} (first on line {first_line[v]})")
        return s.astype(object)
    if col.kind in ("number", "integer"):
        num = pd.to_numeric(s.where(~empty), errors="coerce").astype(float)
        finite = np.isfinite(num)
        flag(~empty & ~finite, "not a number" if col.kind == "number" else "not an integer")
        if col.kind == "integer":
            flag(~empty & finite & (num != np.round(num)), "not an integer")
        if col.exact:
            num = _exact_numbers(s, num, ~empty & finite, flag)
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
        rows = np.arange(len(s))
        for i, rule in _skill_errors(s.where(~bad_mask, "")):
            flag(rows == i, rule)
        return s.astype(object)
    return s.astype(object)


# Shorter number texts always survive a float: 15 significant digits fit a double.
_EXACT_DIGITS = 15


def _exact_numbers(s: pd.Series, num: pd.Series, ok: pd.Series, flag) -> pd.Series:
    """Refuse number texts with more significant digits than a float keeps, and take the value
    of the long ones as Python parses it (correctly rounded), so the engine, which rounds to a
    1/100 h grid, and a checker reading the decimal text agree on what each number is."""
    long = np.flatnonzero(ok.to_numpy() & (s.str.len() > _EXACT_DIGITS).to_numpy())
    if not len(long):
        return num
    num = num.copy()
    lossy = np.zeros(len(s), dtype=bool)
    for i in long:
        text = s.iat[i]
        try:
            value = float(text)
            lossy[i] = Decimal(text) != Decimal(repr(value))
        except (ValueError, InvalidOperation):
            continue
        num.iat[i] = value
    flag(lossy, "more significant digits than can be kept exactly (at most 17 that round-trip)")
    return num


def _skill_errors(s: pd.Series) -> Iterator[tuple[int, str]]:
    long = explode_list(s)
    if long.empty:
        return
    name, level = _split_skill(long["item"])
    bad_name = name.eq("")
    bad_level = level.isna()
    lo, hi = SKILL_LEVELS
    out_of_range = ~bad_level & ((level < lo) | (level > hi))
    broken = np.flatnonzero((bad_name | bad_level | out_of_range).to_numpy())
    for j in broken:
        row, item = int(long["row"].iat[j]), shorten(repr(long["item"].iat[j]))
        if bad_name.iat[j]:
            yield row, f"malformed skill {item}: expected skill or skill:level"
        elif bad_level.iat[j]:
            yield row, f"malformed skill {item}: level must be an integer {lo}..{hi}"
        else:
            yield row, f"skill level in {item} must be {lo}..{hi}"


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
from optassign.contract.writer import atomic_folder  # noqa: E402, F401  (the one folder writer, for callers)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV as the contract wants it: UTF-8, header, booleans as true/false, no index."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == bool:
            out[name] = out[name].map({True: "true", False: "false"})
    out.to_csv(path, index=False, lineterminator="\n")
