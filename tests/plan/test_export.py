"""export.py: Parquet files and plan.xlsx hold the plan's tables (read back and compared), the
workbook is byte-for-byte reproducible (fixed dates), and `solve --format` / `export` write them."""

from __future__ import annotations

import zipfile

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import optassign
from optassign.cli.main import app
from optassign.plan.export import export_plan, flatten_summary
from tests.checker import assert_plan_ok
from tests.conftest import read_csv

FAST = ["--time-limit", "3", "--workers", "1", "--seed", "0", "--quiet"]


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    from tests.conftest import make_scenario

    scenario = make_scenario(tmp_path_factory.mktemp("export") / "tiny")
    return optassign.solve(scenario, time_limit=3, workers=1, seed=0)


def test_flatten_summary_by_hand():
    flat = flatten_summary(
        {"status": "OPTIMAL", "by": {"5": {"tasks": 2}}, "stages": [{"terms": ["a", "b"]}]}
    )
    assert flat.to_dict("records") == [
        {"key": "status", "value": "OPTIMAL"},
        {"key": "by.5.tasks", "value": 2},
        {"key": "stages.0.terms", "value": "a;b"},
    ]


def test_parquet_and_workbook_hold_the_tables(plan, tmp_path):
    plan = optassign.Plan(
        **{**plan.__dict__, "extra_tables": {"handover.csv": pd.DataFrame({"kind": ["task"], "id": ["T8"]})}}
    )
    out = tmp_path / "plan"
    files = export_plan(plan, out, ["csv", "parquet", "xlsx"])
    assert out in files and (out / "assignments.csv").is_file()
    assert_plan_ok(plan.scenario.folder, out)
    for name, table in [
        ("assignments", plan.assignments),
        ("owners", plan.owners),
        ("agent_load", plan.agent_load),
    ]:
        back = pd.read_parquet(out / f"{name}.parquet")
        assert back.columns.tolist() == table.columns.tolist()
        assert (
            back["agent_id" if name != "owners" else "owner_id"].tolist()
            == table["agent_id" if name != "owners" else "owner_id"].tolist()
        )
    summary = pd.read_parquet(out / "summary.parquet")
    assert dict(zip(summary["key"], summary["value"], strict=True))["status"] == plan.summary["status"]
    wb = openpyxl.load_workbook(out / "plan.xlsx", read_only=True)
    assert wb.sheetnames == ["assignments", "owners", "agent_load", "summary", "handover"]
    sheet = pd.read_excel(out / "plan.xlsx", sheet_name="assignments", keep_default_na=False)
    assert sheet["task_id"].tolist() == plan.assignments["task_id"].tolist()
    assert sheet["priority"].tolist() == plan.assignments["priority"].tolist()
    flat = pd.read_excel(out / "plan.xlsx", sheet_name="summary")
    assert flat.set_index("key").loc["tasks", "value"] == 8
    assert pd.read_excel(out / "plan.xlsx", sheet_name="handover")["id"].tolist() == ["T8"]


def test_workbook_is_reproducible(plan, tmp_path):
    a = export_plan(plan, tmp_path / "a", ["xlsx"])[0].read_bytes()
    b = export_plan(plan, tmp_path / "b", ["xlsx"])[0].read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a" / "plan.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core
    props = openpyxl.load_workbook(tmp_path / "a" / "plan.xlsx").properties
    assert props.created.year == 2000 and props.modified.year == 2000


def test_export_from_a_plan_folder(plan, tmp_path):
    folder = plan.write(tmp_path / "plan")
    result = run("export", folder, "--format", "parquet")
    assert result.exit_code == 0, result.output
    assert (folder / "agent_load.parquet").is_file() and not (folder / "plan.xlsx").exists()
    back = pd.read_parquet(folder / "agent_load.parquet")
    assert back["hours"].tolist() == pytest.approx(plan.agent_load["hours"].tolist())


def test_unknown_format_is_refused(plan, tmp_path):
    with pytest.raises(ValueError, match="unknown export format"):
        export_plan(plan, tmp_path / "x", ["pdf"])


def test_cli_solve_with_formats(plan, tmp_path):
    scenario = plan.scenario.folder
    out = tmp_path / "plan"
    result = run("solve", scenario, "--out", out, *FAST, "--format", "xlsx", "--format", "parquet")
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"assignments.csv", "summary.json", "plan.xlsx", "assignments.parquet", "summary.parquet"} <= names
    assert_plan_ok(scenario, out)
    only_csv = tmp_path / "csv"
    assert run("solve", scenario, "--out", only_csv, *FAST, "--format", "csv").exit_code == 0
    assert not list(only_csv.glob("*.parquet")) and not (only_csv / "plan.xlsx").exists()
    assert len(read_csv(only_csv / "assignments.csv")) == 8


def test_cli_solve_rejects_an_unknown_format(plan, tmp_path):
    out = tmp_path / "plan"
    result = run("solve", plan.scenario.folder, "--out", out, *FAST, "--format", "pdf")
    assert result.exit_code == 2 and not out.exists()


def test_cells_that_look_like_formulas_are_stored_as_text_in_the_workbook(tmp_path):
    import zipfile

    from openpyxl import load_workbook

    import optassign
    from optassign.plan.export import export_plan

    hostile = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
    plan = optassign.Plan(
        scenario=None,
        assignments=pd.DataFrame({"task_id": hostile, "agent_id": hostile, "reason": hostile}),
        owners=None,
        agent_load=pd.DataFrame({"agent_id": hostile, "hours": [1.5] * len(hostile)}),
        summary={"scenario": "=1+1"},
    )
    (path,) = export_plan(plan, tmp_path, ["xlsx"])
    with zipfile.ZipFile(path) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in x or "<f " in x for x in sheets)
    wb = load_workbook(path)
    values = [c.value for c in wb["assignments"]["A"][1:]]
    assert [v.replace("\r", "\n") for v in values] == [v.replace("\r", "\n") for v in hostile]
    assert all(c.data_type == "s" for c in wb["assignments"]["A"][1:])
    assert wb["agent_load"]["B"][1].value == 1.5  # numbers stay numbers
