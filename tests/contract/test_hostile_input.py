"""Property-based tests of the contract's readers against hostile files: random cells (any
Unicode, control characters, `../`, `/tmp/x`, very long ids, huge and tiny numbers), quoting and
separators, encodings (UTF-8, BOM, Latin-1 bytes, UTF-16), empty, header-only, missing and
repeated columns, and hostile YAML.

Properties: `load_scenario` returns a Scenario or raises `ScenarioError` whose problems each
name a file and a rule (cell problems also a line that really holds the record and the cell);
its message is bounded and has no traceback; nothing is written. Through the command line a
solve either exits 2 with a located message and no plan, or exits 0 with a plan the
independent checker accepts.

Examples per run in CI (derandomized, so every run tries the same ones):
`test_reader_refuses_or_loads_and_never_writes` 300, `test_yaml_readers_refuse_or_load` 150,
`test_solve_exits_2_or_writes_a_plan_the_checker_accepts` 30 (each a solve of eight tasks)."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import optassign
from optassign import ScenarioError
from optassign.cli.main import app
from tests.checker import assert_plan_ok
from tests.conftest import make_scenario

settings.register_profile(
    "hostile",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HOSTILE = settings.get_profile("hostile")

CSVS = ("agents.csv", "tasks.csv", "customers.csv")
MESSAGE_LIMIT = 20_000

# --------------------------------------------------------------------------- strategies
SPECIAL = [
    "",
    "../x",
    "../../etc/passwd",
    "/tmp/x",
    "a/b",
    "..",
    "CON",
    "A" * 300,
    "x" * 5000,
    "1e308",
    "1e-300",
    "-0",
    "nan",
    "inf",
    "-inf",
    str(2**70),
    "0.30000000000000004",
    "1.000000000000000000001",
    "12345678901234567890",
    "1_000",
    "0x10",
    " 7 ",
    "A1",
    "A2",
    "C1",
    "T1",
    "N",
    "*",
    "billing:9",
    "billing:3;;sales",
    ":3",
    "true",
    "maybe",
    "2024-02-30",
    '=HYPERLINK("http://x")',
    '"',
    '""',
    ",",
    "a,b",
    "line\nbreak",
    "cr\rhere",
    "tab\there",
    "nul\x00here",
    "del\x7f",
    "sep\u2028",
    "\ufeffbom",
    "日本語",
    "Ågent",
    "$x$",
    "<script>",
]
CELL = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=20).map(str),
)


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]], quoting: int, newline: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=quoting, lineterminator=newline).writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


@st.composite
def mutations(draw) -> list[tuple]:
    """A few edits of the tiny scenario: cells, columns, whole files, encodings."""
    kinds = st.sampled_from(
        ["cell", "cell", "cell", "cell", "header", "drop", "repeat", "empty", "header_only", "blank", "raw"]
    )
    out = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(kinds)
        name = draw(st.sampled_from(CSVS))
        out.append((kind, name, draw(st.integers(0, 12)), draw(st.integers(0, 12)), draw(CELL)))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "bom", "latin-1", "utf-16"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return [*out, ("encode", draw(st.sampled_from(CSVS)), encoding, quoting, newline)]


def apply(folder: Path, edits: list[tuple]) -> None:
    for kind, name, a, b, value in edits[:-1]:
        path = folder / name
        if not path.exists() or path.stat().st_size == 0:
            continue
        try:
            rows = _rows(path)
        except (UnicodeDecodeError, csv.Error):
            continue
        if not rows:
            continue
        width = len(rows[0])
        if kind == "cell" and len(rows) > 1:
            row = rows[1 + a % (len(rows) - 1)]
            if row:
                row[b % len(row)] = value
        elif kind == "header":
            rows[0][b % width] = value
        elif kind == "drop":
            rows = [r[: b % width] + r[b % width + 1 :] for r in rows]
        elif kind == "repeat":
            rows = [r + [r[b % len(r)]] if r else r for r in rows]
        elif kind == "empty":
            path.write_bytes(b"")
            continue
        elif kind == "header_only":
            rows = rows[:1]
        elif kind == "blank":
            rows.insert(1 + a % len(rows), [])
        elif kind == "raw":  # bytes no csv writer would produce
            path.write_bytes(path.read_bytes() + value.encode("utf-8", "surrogatepass") + b"\n")
            continue
        _write(path, rows, csv.QUOTE_MINIMAL, "\n")
    _, name, encoding, quoting, newline = edits[-1]
    path = folder / name
    if path.exists() and path.stat().st_size:
        try:
            rows = _rows(path)
        except (UnicodeDecodeError, csv.Error):
            return
        _write(path, rows, quoting, newline)
        text = path.read_bytes().decode("utf-8", "surrogatepass")
        if encoding == "bom":
            path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        elif encoding in ("latin-1", "utf-16"):
            path.write_bytes(text.encode(encoding, "replace"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder.parent)): p.read_bytes()
        for p in sorted(folder.parent.rglob("*"))
        if p.is_file()
    }


def physical_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def assert_located(folder: Path, exc: ScenarioError) -> None:
    """Every problem names a file and a rule; a cell problem's line holds the record and the
    cell it names (its first line, for a record whose quoted cells span lines)."""
    message = str(exc)
    assert len(message) < MESSAGE_LIMIT and "Traceback" not in message
    assert exc.problems
    for p in exc.problems:
        assert p.file and p.rule, p
        if p.file not in CSVS or p.line is None or p.column is None or p.value is None:
            continue
        data = (folder / p.file).read_bytes()
        text = data.decode("utf-8-sig")
        lines = physical_lines(text)
        assert 1 <= p.line <= len(lines), p
        records = list(csv.reader(io.StringIO("\n".join(lines[p.line - 1 :]), newline="")))
        header = [h.strip() for h in next(csv.reader(io.StringIO(text, newline="")))]
        cells = records[0] if records else []
        if p.column in header and header.index(p.column) < len(cells):
            cell = cells[header.index(p.column)].strip()
            shown = p.value.rstrip("\u2026")
            assert cell.startswith(shown) or "\n" in cell or "\r" in cell, (str(p), cells)


# --------------------------------------------------------------------------- properties
@settings(HOSTILE, max_examples=300)
@given(edits=mutations())
@example(edits=[("cell", "tasks.csv", 0, 0, "T1"), ("encode", "tasks.csv", "utf-8", csv.QUOTE_ALL, "\r")])
@example(edits=[("cell", "agents.csv", 1, 1, "x\ny"), ("encode", "agents.csv", "latin-1", 0, "\n")])
@example(edits=[("header_only", "agents.csv", 0, 0, ""), ("encode", "tasks.csv", "utf-16", 0, "\n")])
def test_reader_refuses_or_loads_and_never_writes(edits):
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_scenario(Path(tmp) / "s")
        apply(folder, edits)
        before = snapshot(folder)
        try:
            scenario = optassign.load_scenario(folder)
        except ScenarioError as exc:
            assert_located(folder, exc)
        else:
            assert len(scenario.agents) >= 1
            for frame in (scenario.agents, scenario.tasks):
                assert len(frame.attrs["lines"]) == len(frame)
        assert snapshot(folder) == before


YAML_SPECIAL = [
    "polcy: sla_first\n",
    "settings: {wrkers: 2}\n",
    "settings: {seed: 99999999999}\n",
    "name: &a [*a]\n",
    "name: !!python/object:os.system [ls]\n",
    "policy: ../../../etc/passwd\n",
    "policy: /etc/hostname\n",
    "policy: ..\n",
    "policy: {balance_weight: 1e300}\n",
    'name: "a\\r\\nb"\n',
    "[" * 3000 + "\n",
    "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nname: *e\n",
]
EVENTS_SPECIAL = [
    "- leave: A1\n",
    "- leave: [A1]\n",
    "- hire: {agent_id: '../x', capacity_hours: 1e9}\n",
    '- hire: {agent_id: N1, capacity_hours: 8, email: "a\\r\\nBcc: x"}\n',
    "- capacity: {agent: A1, capacity_hours: .nan}\n",
    '- transfer: {agent: A1, regions: ["N\\u2028"]}\n',
    "events: 3\n",
    "- {}\n",
    "- leave: A1\n  leave: A2\n",
]


@settings(HOSTILE, max_examples=150)
@given(
    scenario_yaml=st.one_of(st.sampled_from(YAML_SPECIAL), st.text(max_size=200)),
    events_yaml=st.one_of(st.none(), st.sampled_from(EVENTS_SPECIAL), st.text(max_size=200)),
)
def test_yaml_readers_refuse_or_load(scenario_yaml, events_yaml):
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_scenario(Path(tmp) / "s")
        (folder / "scenario.yaml").write_bytes(scenario_yaml.encode("utf-8", "surrogatepass"))
        if events_yaml is not None:
            (folder / "events.yaml").write_bytes(events_yaml.encode("utf-8", "surrogatepass"))
        before = snapshot(folder)
        try:
            optassign.load_scenario(folder)
        except ScenarioError as exc:
            message = str(exc)
            assert len(message) < MESSAGE_LIMIT and "Traceback" not in message
            assert all(p.file and p.rule for p in exc.problems)
            assert "root:" not in message  # nothing of a foreign file is echoed
        assert snapshot(folder) == before


NUMBERS = st.one_of(
    st.sampled_from(
        ["0", "0.01", "1e-300", "2.5", "7", "1e6", "1000000.01", "1e308", "nan", str(2**70), "-0"]
    ),
    st.floats(min_value=0, max_value=50, allow_nan=False).map(repr),
    st.integers(0, 30).map(str),
)
EDITABLE = [
    ("agents.csv", "capacity_hours"),
    ("agents.csv", "max_tasks"),
    ("agents.csv", "max_customers"),
    ("customers.csv", "ownership_hours"),
    ("tasks.csv", "effort_hours"),
]


@st.composite
def number_edits(draw) -> list[tuple[str, int, str, str]]:
    return [
        (*draw(st.sampled_from(EDITABLE)), draw(st.integers(0, 7)), draw(NUMBERS))
        for _ in range(draw(st.integers(1, 4)))
    ]


@settings(HOSTILE, max_examples=30)
@given(edits=number_edits(), ids=st.lists(st.sampled_from(SPECIAL[:9] + ["Ågent", "日本語"]), max_size=2))
def test_solve_exits_2_or_writes_a_plan_the_checker_accepts(edits, ids):
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_scenario(Path(tmp) / "s")
        for name, column, row, value in edits:
            rows = _rows(folder / name)
            header = rows[0]
            rows[1 + row % (len(rows) - 1)][header.index(column)] = value
            _write(folder / name, rows, csv.QUOTE_MINIMAL, "\n")
        rows = _rows(folder / "agents.csv")
        for i, agent_id in enumerate(ids):  # a new agent with a hostile id
            rows.append([agent_id or f"Z{i}", "", "", "", "*", "billing:5;sales:5;support:5", "6"] + [""] * 5)
        _write(folder / "agents.csv", rows, csv.QUOTE_MINIMAL, "\n")
        out = Path(tmp) / "out"
        result = CliRunner().invoke(
            app, ["solve", str(folder), "--out", str(out), "--time-limit", "1", "--workers", "1", "-q"]
        )
        assert "Traceback" not in result.output, result.output
        if result.exit_code == 2:
            assert result.stderr.startswith("error: ") and ".csv" in result.stderr, result.stderr
            assert not out.exists()
        else:
            assert result.exit_code == 0, (result.output, repr(result.exception))
            assert_plan_ok(folder, out)


def test_property_profile_is_reproducible():
    """CI runs the same examples every time: a failure seen once is seen again."""
    assert HOSTILE.derandomize and HOSTILE.deadline is None and HOSTILE.print_blob


pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
