"""Input rules against hostile values at the edge: scenario keys, YAML cost, policy resolution,
line numbers and encodings, control characters, empty staff, number bounds and exactness.

Each test is named after the rule it protects; every refusal is one located `InputProblem`
(file, line, column, value, rule), exit code 2 on the command line, nothing written. Lines count
physical lines of the file; in the `tiny_scenario` fixture (conftest.py) agents.csv lines 2..5
are A1..A4 and tasks.csv lines 2..9 are T1..T8."""

from __future__ import annotations

import csv
import os
import tracemalloc
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import optassign
from optassign import ScenarioError
from optassign.cli.main import app
from optassign.contract.schema import InputProblem, ScenarioConfig
from optassign.scenario.events import apply_events, read_events
from tests.conftest import AGENTS, TASKS, edit_csv, read_csv, write_csv

ROOT = Path(__file__).resolve().parents[2]


def problems_of(folder: Path, **kw) -> list[InputProblem]:
    with pytest.raises(ScenarioError) as info:
        optassign.load_scenario(folder, **kw)
    return info.value.problems


def only(folder: Path, **kw) -> InputProblem:
    problems = problems_of(folder, **kw)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def where(p: InputProblem) -> tuple:
    return (p.file, p.line, p.column, p.value)


def cli(*args) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_exit_2(result, out: Path | None = None) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    if out is not None:
        assert not out.exists()
    return result.stderr


# --------------------------------------------------------------------------- 1. unknown keys
def test_unknown_scenario_key_is_refused_with_the_nearest_known_key(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("name: tiny\npolcy: sla_first\n", encoding="utf-8")
    p = only(tiny_scenario)
    assert where(p) == ("scenario.yaml", 2, "polcy", None)
    assert p.rule == "unknown key: did you mean policy?"


def test_unknown_settings_key_is_refused_with_the_nearest_known_key(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text(
        "settings:\n  time_limit: 5\n  wrkers: 2\n", encoding="utf-8"
    )
    p = only(tiny_scenario)
    assert where(p) == ("scenario.yaml", 3, "settings.wrkers", None)
    assert p.rule == "unknown key: did you mean workers?"


def test_unknown_key_far_from_every_known_key_lists_the_known_keys(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("name: tiny\nzzz: 1\n", encoding="utf-8")
    p = only(tiny_scenario)
    assert where(p) == ("scenario.yaml", 2, "zzz", None)
    assert p.rule.startswith("unknown key; known keys: name, description, policy, settings")


def test_unknown_policy_key_offers_the_nearest_key(tiny_scenario, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("region: hard\nbalanse_weight: 2\n", encoding="utf-8")
    p = only(tiny_scenario, policy=str(path))
    assert where(p) == (str(path), 2, "balanse_weight", None)
    assert p.rule == "unknown key: did you mean balance_weight?"


def test_unknown_event_key_offers_the_nearest_key(tiny_scenario):
    (tiny_scenario / "events.yaml").write_text("- leave: A1\n  too: A4\n", encoding="utf-8")
    p = only(tiny_scenario)
    assert where(p) == ("events.yaml", 2, "events.0.too", None)
    assert p.rule == "unknown key: did you mean to?"


def test_every_key_the_bundled_and_generated_scenarios_write_is_known(tmp_path):
    from optassign.scenario.generate import generate_scenario

    generated = generate_scenario(tmp_path / "g", tasks=20, agents=4, regions=2, seed=1)
    folders = [*sorted((ROOT / "scenarios").glob("*/scenario.yaml")), generated / "scenario.yaml"]
    assert len(folders) >= 4
    for path in folders:
        ScenarioConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    build = (ROOT / "scenarios" / "build.py").read_text(encoding="utf-8")
    assert 'meta["description"]' in build  # the one key build.py sets beyond generate's


# --------------------------------------------------------------------------- 2. YAML cost
def _billion_laughs() -> str:
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        prev, name = chr(96 + i), chr(97 + i)
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    return text + "events: *i\n"


def test_alias_bomb_is_one_short_message_in_bounded_memory(tiny_scenario):
    text = _billion_laughs()
    assert len(text.encode()) < 400
    (tiny_scenario / "events.yaml").write_text(text, encoding="utf-8")
    problems: list[InputProblem] = []
    tracemalloc.start()
    try:
        read_events(tiny_scenario / "events.yaml", problems)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert len(problems) == 1 and "aliases expand" in problems[0].rule
    message = str(ScenarioError(problems_of(tiny_scenario)))
    assert len(message) < 300, message


def test_yaml_file_over_one_mib_is_refused_before_parsing(tiny_scenario):
    (tiny_scenario / "events.yaml").write_text("# pad\n" * 200_000 + "- leave: A1\n", encoding="utf-8")
    p = only(tiny_scenario)
    assert where(p) == ("events.yaml", None, None, None)
    assert p.rule.startswith("file larger than 1 MiB")


def test_yaml_nested_too_deeply_is_a_problem_not_a_crash(tiny_scenario):
    (tiny_scenario / "events.yaml").write_text("[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    p = only(tiny_scenario)
    assert p.file == "events.yaml" and "nested too deeply" in p.rule


def test_echoed_values_are_shortened_and_mappings_never_rendered(tiny_scenario):
    edit_csv(tiny_scenario / "tasks.csv", 3, priority="9" * 5000)
    p = only(tiny_scenario)
    assert (p.file, p.line, p.column) == ("tasks.csv", 3, "priority")
    assert len(p.value) == 80 and p.value.endswith("\u2026")
    (tiny_scenario / "tasks.csv").unlink()
    write_csv(tiny_scenario / "tasks.csv", TASKS)
    (tiny_scenario / "scenario.yaml").write_text(
        "name: {" + ", ".join(f"k{i}: v{i}" for i in range(2000)) + "}\n", encoding="utf-8"
    )
    p = only(tiny_scenario)
    assert (p.file, p.line, p.column, p.value) == ("scenario.yaml", 1, "name", None)


def test_yaml_parser_messages_never_quote_the_file(tiny_scenario, tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: *sk-SECRET-alias\n", encoding="utf-8")
    message = str(ScenarioError(problems_of(tiny_scenario, policy=str(path))))
    assert "malformed YAML" in message and "SECRET" not in message


# --------------------------------------------------------------------------- 3. --policy
SECRET = "region: us-east-1\napi_key: sk-live-SECRET\ndescription: prod\n"


@pytest.mark.parametrize("suffix", ["", ".yaml"])
def test_policy_path_to_a_foreign_file_never_echoes_its_values(tiny_scenario, tmp_path, suffix):
    path = tmp_path / f"credentials{suffix}"
    path.write_text(SECRET, encoding="utf-8")
    problems = problems_of(tiny_scenario, policy=str(path))
    assert [where(p) for p in problems] == [(str(path), 2, "api_key", None)]
    message = str(ScenarioError(problems))
    assert "SECRET" not in message and "us-east-1" not in message and "prod" not in message


def test_policy_path_to_a_foreign_file_on_the_command_line_never_echoes_its_values(tiny_scenario, tmp_path):
    path = tmp_path / "env"
    path.write_text(SECRET, encoding="utf-8")
    out = tmp_path / "plan"
    message = assert_exit_2(cli("solve", tiny_scenario, "--out", out, "--policy", path, "-q"), out)
    assert f"{path}, line 2, column api_key: unknown key" in message
    assert "SECRET" not in message and "us-east-1" not in message


@pytest.mark.parametrize("name", ["..", "../models/balanced", "balanced.json", "a b", "~root"])
def test_policy_name_is_a_plain_stem_looked_up_in_models_only(tiny_scenario, name):
    p = only(tiny_scenario, policy=name)
    assert p.file in ("--policy", "../models/balanced")
    if "/" in name:  # a path, explicitly: relative to the working directory, and not there
        assert p.rule == "file not found"
    else:
        assert (p.file, p.value) == ("--policy", name) and p.rule.startswith("not a policy name")


def test_unknown_policy_name_lists_the_known_policy_names(tiny_scenario):
    p = only(tiny_scenario, policy="balansed")
    assert where(p) == ("--policy", None, None, "balansed")
    assert p.rule == "unknown policy; known policies: balanced, continuity, handover, sla_first"


def test_policy_path_must_name_an_existing_regular_file(tiny_scenario, tmp_path):
    assert only(tiny_scenario, policy=str(tmp_path)).rule == "not a regular file"
    assert only(tiny_scenario, policy=str(tmp_path / "gone")).rule == "file not found"
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.yaml"
        os.mkfifo(fifo)
        assert only(tiny_scenario, policy=str(fifo)).rule == "not a regular file"


def test_scenario_yaml_policy_path_is_relative_to_the_scenario_folder(tiny_scenario, tmp_path, monkeypatch):
    (tiny_scenario / "pol").mkdir()
    (tiny_scenario / "pol" / "mine").write_text("balance_weight: 3\n", encoding="utf-8")
    (tiny_scenario / "scenario.yaml").write_text("policy: pol/mine\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    s = optassign.load_scenario(tiny_scenario)
    assert (s.policy.name, s.policy.balance_weight) == ("mine", 3.0)
    (tiny_scenario / "scenario.yaml").write_text("policy: ../secret\n", encoding="utf-8")
    (tiny_scenario.parent / "secret").write_text(SECRET, encoding="utf-8")
    message = str(ScenarioError(problems_of(tiny_scenario)))
    assert "api_key: unknown key" in message and "SECRET" not in message


def test_scenario_yaml_policy_name_is_looked_up_in_models_only(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text("policy: ..\n", encoding="utf-8")
    p = only(tiny_scenario)
    assert where(p) == ("scenario.yaml", 1, "policy", "..") and p.rule.startswith("not a policy name")


# --------------------------------------------------------------------------- 4. lines, encodings
def _lines_of(folder: Path, name: str = "tasks.csv") -> list[int]:
    s = optassign.load_scenario(folder)
    frame = {"tasks.csv": s.tasks, "agents.csv": s.agents}[name]
    return [int(n) for n in frame.attrs["lines"]]


def test_line_numbers_count_quoted_multiline_cells_and_blank_lines(tiny_scenario):
    rows = read_csv(tiny_scenario / "tasks.csv")
    rows[0]["notes"] = "first line\nsecond line\n\nfourth"  # T1 spans 4 lines
    write_csv(tiny_scenario / "tasks.csv", rows)
    path = tiny_scenario / "tasks.csv"
    text = path.read_text(encoding="utf-8").split("\n")
    text.insert(8, "")  # a blank line after T4 (line 9 in the new file), one of spaces (line 10)
    text.insert(9, "   ")
    path.write_text("\n".join(text), encoding="utf-8")
    assert _lines_of(tiny_scenario) == [2, 6, 7, 8, 11, 12, 13, 14]
    edit = path.read_text(encoding="utf-8").replace(
        "T5,C3,installation,billing,,1,", "T5,C3,installation,billing,,7,"
    )
    path.write_text(edit, encoding="utf-8")
    p = only(tiny_scenario)
    assert where(p) == ("tasks.csv", 11, "priority", "7")
    assert path.read_text(encoding="utf-8").split("\n")[10].startswith("T5,")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_files_number_lines_like_lf_files(tiny_scenario, newline):
    path = tiny_scenario / "tasks.csv"
    rows = read_csv(path)
    rows[1]["notes"] = "two\nlines"  # T2 spans lines 3-4
    write_csv(path, rows)
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.replace("\n", newline).encode())
    assert _lines_of(tiny_scenario) == [2, 3, 5, 6, 7, 8, 9, 10]
    assert optassign.load_scenario(tiny_scenario).tasks["notes"].iat[1] == f"two{newline}lines"


def test_bom_file_numbers_lines_from_the_header(tiny_scenario):
    path = tiny_scenario / "agents.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    edit = path.read_bytes().replace(
        b"A3,Cleo,south,service,S,support:4;sales,24", b"A3,Cleo,south,service,S,support:4;sales,x"
    )
    path.write_bytes(edit)
    assert where(only(tiny_scenario)) == ("agents.csv", 4, "capacity_hours", "x")


def test_a_latin1_byte_names_its_line_and_column_and_the_rule_not_utf8(tiny_scenario):
    path = tiny_scenario / "tasks.csv"
    path.write_bytes(path.read_bytes().replace(b"walk-in", b"walk-in caf\xe9"))
    p = only(tiny_scenario)
    assert where(p) == ("tasks.csv", 7, "notes", None) and p.rule == "not UTF-8 text"


def test_a_utf16_file_is_refused_as_utf16_not_utf8(tiny_scenario):
    path = tiny_scenario / "agents.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    p = only(tiny_scenario)
    assert (p.file, p.line) == ("agents.csv", 1) and "UTF-16" in p.rule


def test_a_row_with_a_cell_beyond_the_header_is_refused_not_shifted(tiny_scenario):
    path = tiny_scenario / "agents.csv"
    text = path.read_text(encoding="utf-8").replace("A2,Bob,", "A2,Bob,Jr,")  # an unquoted comma
    path.write_text(text, encoding="utf-8")
    p = only(tiny_scenario)
    assert (p.file, p.line, p.column) == ("agents.csv", 3, None)
    assert "13 cells but the header has 12 columns" in p.rule


def test_a_row_with_empty_cells_beyond_the_header_is_refused_too(tiny_scenario):
    path = tiny_scenario / "agents.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] += ","  # cannot be told from a shifted row whose last cell is empty
    path.write_text("\n".join(lines), encoding="utf-8")
    p = only(tiny_scenario)
    assert (p.file, p.line) == ("agents.csv", 2) and "13 cells but the header has 12 columns" in p.rule


def test_a_quote_never_closed_is_located_where_it_opens(tiny_scenario):
    path = tiny_scenario / "tasks.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",walk-in", ',"walk-in'), encoding="utf-8")
    p = only(tiny_scenario)
    assert (p.file, p.line) == ("tasks.csv", 7) and "malformed CSV" in p.rule


def test_a_record_over_one_mib_is_refused_before_it_is_parsed(tiny_scenario):
    edit_csv(tiny_scenario / "tasks.csv", 4, notes="x" * (1 << 20))
    p = only(tiny_scenario)
    assert (p.file, p.line) == ("tasks.csv", 4) and "longer than 1 MiB" in p.rule


def test_a_table_of_ten_thousand_columns_is_refused(tiny_scenario):
    extra = {f"c{i}": "" for i in range(10_000)}
    write_csv(tiny_scenario / "tasks.csv", [dict(r, **extra) for r in TASKS])
    p = only(tiny_scenario)
    assert (p.file, p.line) == ("tasks.csv", 1) and "at most 1,000" in p.rule


def test_a_tasks_csv_that_is_not_a_regular_file_is_refused(tiny_scenario):
    (tiny_scenario / "tasks.csv").unlink()
    (tiny_scenario / "tasks.csv").mkdir()
    assert where(only(tiny_scenario)) == ("tasks.csv", None, None, None)


# --------------------------------------------------------------------------- 5. control characters
CONTROL = {
    "\n": "U+000A (line break)",
    "\r": "U+000D (carriage return)",
    "\t": "U+0009 (tab)",
    "\x00": "U+0000 (NUL)",
    "\x7f": "U+007F (DEL)",
    "\x85": "U+0085 (next line)",
    "\u2028": "U+2028 (line separator)",
}
PLAIN = [
    ("agents.csv", 3, "agent_id", "an id"),
    ("agents.csv", 3, "name", "a name"),
    ("agents.csv", 3, "team", "a team"),
    ("agents.csv", 3, "role", "a role"),
    ("agents.csv", 3, "regions", "a region"),
    ("agents.csv", 3, "skills", "a skill"),
    ("agents.csv", 3, "email", "an email address"),
    ("customers.csv", 3, "customer_id", "an id"),
    ("customers.csv", 3, "name", "a name"),
    ("customers.csv", 3, "region", "a region"),
    ("customers.csv", 3, "owner_id", "an id"),
    ("customers.csv", 3, "required_skills", "a skill"),
    ("tasks.csv", 3, "task_id", "an id"),
    ("tasks.csv", 3, "customer_id", "an id"),
    ("tasks.csv", 3, "type", "a task type"),
    ("tasks.csv", 3, "region", "a region"),
    ("tasks.csv", 3, "required_skills", "a skill"),
    ("tasks.csv", 3, "assigned_to", "an id"),
]


@pytest.mark.parametrize(("name", "line", "column", "noun"), PLAIN, ids=[f"{n}:{c}" for n, _, c, _ in PLAIN])
@pytest.mark.parametrize("char", list(CONTROL), ids=[c.split()[0] for c in CONTROL.values()])
def test_control_characters_are_not_allowed_in_ids_and_names(tiny_scenario, name, line, column, noun, char):
    rows = read_csv(tiny_scenario / name)
    value = f"X{char}Y"
    rows[line - 2][column] = value
    with (tiny_scenario / name).open("w", newline="", encoding="utf-8") as fh:  # a CR is quoted too
        writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys([*rows[0], column])), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    problems = problems_of(tiny_scenario)
    hit = [p for p in problems if (p.file, p.line, p.column) == (name, line, column)]
    assert len(hit) == 1, "\n".join(map(str, problems))
    assert hit[0].value == value
    assert hit[0].rule == f"control character {CONTROL[char]} not allowed in {noun}"


@pytest.mark.parametrize("column", ["notes", "history", "special_notes", "anything_else"])
def test_free_text_context_columns_keep_their_line_breaks(tiny_scenario, column):
    write_csv(tiny_scenario / "tasks.csv", [dict(r, **{column: "line one\nline two\ttab"}) for r in TASKS])
    s = optassign.load_scenario(tiny_scenario)
    assert s.tasks[column].iat[0] == "line one\nline two\ttab"


def test_scenario_name_with_a_line_break_is_refused(tiny_scenario):
    (tiny_scenario / "scenario.yaml").write_text('name: "tiny\\r\\nBcc: x"\n', encoding="utf-8")
    p = only(tiny_scenario)
    assert (p.file, p.line, p.column) == ("scenario.yaml", 1, "name")
    assert "control character U+000D (carriage return) not allowed in a name" in p.rule


def test_event_agent_ids_refuse_control_characters(tiny_scenario):
    (tiny_scenario / "events.yaml").write_text(
        '- leave: "A1\\n"\n- leave: A2\n  to: ["A3\\u2028"]\n'
        '- capacity: {agent: "A4\\t", capacity_hours: 3}\n',
        encoding="utf-8",
    )
    problems = problems_of(tiny_scenario)
    assert [(p.line, p.column) for p in problems] == [
        (1, "events.0.leave"),
        (3, "events.1.to"),
        (4, "events.2.capacity.agent"),
    ]
    assert all("not allowed in an id" in p.rule for p in problems)


def test_hires_and_transfers_refuse_control_characters_like_agents_csv(tiny_scenario):
    s = optassign.load_scenario(tiny_scenario)
    events = [
        {"hire": {"agent_id": "N\r\n1", "capacity_hours": 8}},
        {"hire": {"agent_id": "N2", "name": "Eve\nBcc: x", "email": "e@x\r\nBcc: y", "capacity_hours": 8}},
        {"transfer": {"agent": "A1", "regions": ["N", "S\x00"]}},
    ]
    from optassign.contract.schema import Events

    with pytest.raises(ScenarioError) as info:
        apply_events(s, Events.model_validate({"events": events}))
    got = sorted((p.column, p.rule.split(" not allowed")[0]) for p in info.value.problems)
    assert got == [
        ("events.0.hire.agent_id", "control character U+000D (carriage return)"),
        ("events.1.hire.email", "control character U+000D (carriage return)"),
        ("events.1.hire.name", "control character U+000A (line break)"),
        ("events.2.transfer.regions", "control character U+0000 (NUL)"),
    ]


def test_a_header_name_with_an_escape_sequence_is_printed_escaped(tiny_scenario):
    write_csv(tiny_scenario / "tasks.csv", [dict(r, **{"\x1b[2J": "x"}) for r in TASKS])
    path = tiny_scenario / "tasks.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[0] += ",\x1b[2J"
    path.write_text("\n".join(lines), encoding="utf-8")
    message = str(ScenarioError(problems_of(tiny_scenario)))
    assert "\x1b" not in message and "\\x1b[2J" in message


# --------------------------------------------------------------------------- 6. no agents
def test_header_only_agents_csv_is_refused_at_the_edge(tiny_scenario, tmp_path):
    write_csv(tiny_scenario / "agents.csv", [], columns=list(AGENTS[0]))
    write_csv(tiny_scenario / "tasks.csv", [dict(r, assigned_to="", pinned="") for r in TASKS])
    (tiny_scenario / "customers.csv").unlink()
    p = only(tiny_scenario)
    assert str(p) == "agents.csv, line 1: no agent rows: at least one agent is required"
    out = tmp_path / "plan"
    message = assert_exit_2(cli("solve", tiny_scenario, "--out", out, "-q"), out)
    assert "agents.csv, line 1: no agent rows: at least one agent is required" in message


# --------------------------------------------------------------------------- 7. numbers
@pytest.mark.parametrize(
    ("name", "column", "value", "rule"),
    [
        ("agents.csv", "capacity_hours", "1000000.01", "must be <= 1e+06"),
        ("agents.csv", "capacity_hours", "1e308", "must be <= 1e+06"),
        ("agents.csv", "capacity_hours", "1e400", "not a number"),
        ("agents.csv", "max_tasks", str(2**70), "must be <= 1e+09"),
        ("agents.csv", "max_customers", "1e10", "must be <= 1e+09"),
        ("agents.csv", "cost_per_hour", "2000000", "must be <= 1e+06"),
        ("tasks.csv", "effort_hours", "1e7", "must be <= 1e+06"),
        ("tasks.csv", "effort_hours", "-0", "must be > 0"),
        ("customers.csv", "ownership_hours", "inf", "not a number"),
    ],
)
def test_numbers_beyond_what_the_solver_holds_are_input_errors(tiny_scenario, name, column, value, rule):
    edit_csv(tiny_scenario / name, 3, **{column: value})
    p = only(tiny_scenario)
    assert (where(p), p.rule) == ((name, 3, column, value), rule)


@pytest.mark.parametrize(
    "value", ["1.000000000000000001", "0.1000000000000000055511151231257827", "3.14159265358979323846"]
)
def test_hours_with_more_digits_than_a_float_keeps_are_refused(tiny_scenario, value):
    edit_csv(tiny_scenario / "tasks.csv", 4, effort_hours=value)
    p = only(tiny_scenario)
    assert where(p) == ("tasks.csv", 4, "effort_hours", value[:79] + ("\u2026" if len(value) > 80 else ""))
    assert p.rule.startswith("more significant digits than can be kept exactly")


@pytest.mark.parametrize("value", ["0.30000000000000004", "1.5000000000000000000", "123456.78901234567"])
def test_hours_that_round_trip_through_a_float_stay_legal(tiny_scenario, value):
    edit_csv(tiny_scenario / "tasks.csv", 4, effort_hours=value)
    s = optassign.load_scenario(tiny_scenario)
    assert s.tasks["effort_hours"].iat[2] == float(value)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("balance_weight: 1000001\n", "balance_weight"),
        ("cost_weight: .inf\n", "cost_weight"),
        ("priority_value: {1: 1, 2: 2, 3: 3, 4: 4, 5: 2000000}\n", "priority_value.5"),
        ("ownership_value: {A: 1e7}\n", "ownership_value.A"),
        ("disruption_by_priority: {5: 1e9}\n", "disruption_by_priority.5"),
        ("disruption_by_tier: {A: 1.5e6}\n", "disruption_by_tier.A"),
    ],
)
def test_policy_weights_are_at_most_a_million_points(tiny_scenario, tmp_path, text, column):
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    p = only(tiny_scenario, policy=str(path))
    assert (p.file, p.line, p.column) == (str(path), 1, column)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("settings:\n  time_limit: 1e7\n", "settings.time_limit"),
        ("settings:\n  workers: 257\n", "settings.workers"),
        ("settings:\n  seed: 2147483648\n", "settings.seed"),
    ],
)
def test_settings_stay_within_what_the_solver_accepts(tiny_scenario, text, column):
    (tiny_scenario / "scenario.yaml").write_text(text, encoding="utf-8")
    p = only(tiny_scenario)
    assert (p.file, p.line, p.column) == ("scenario.yaml", 2, column)


def test_event_capacity_is_at_most_a_million_hours(tiny_scenario):
    (tiny_scenario / "events.yaml").write_text(
        "- capacity: {agent: A1, capacity_hours: 2e6}\n", encoding="utf-8"
    )
    p = only(tiny_scenario)
    assert (p.line, p.column) == (1, "events.0.capacity.capacity_hours") and "1000000" in p.rule
