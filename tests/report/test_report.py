"""The HTML report: self-contained (nothing fetched, no script), with the KPI table, the charts
and the unassigned list; the same plans give the same bytes; `optassign report` exits 0 or 2."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from optassign.api import solve
from optassign.cli.main import app
from optassign.report.html import kpi_table, render_report, write_report
from optassign.scenario.scenario import load_scenario
from tests.conftest import edit_csv, make_scenario

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory):
    folder = make_scenario(tmp_path_factory.mktemp("report") / "tiny")
    edit_csv(folder / "tasks.csv", 8, required_skills="welding:2")  # T7: nobody can take it
    return folder


@pytest.fixture(scope="module")
def plan(scenario_dir):
    return solve(load_scenario(scenario_dir), time_limit=2, workers=1, seed=0)


@pytest.fixture(scope="module")
def plan_dirs(plan, scenario_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("plans")
    other = solve(load_scenario(scenario_dir), policy="continuity", time_limit=2, workers=1, seed=0)
    return plan.write(root / "balanced"), other.write(root / "continuity")


@pytest.fixture(scope="module")
def html(plan, tmp_path_factory):
    return write_report(plan, tmp_path_factory.mktemp("html") / "r.html").read_text(encoding="utf-8")


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_report_is_self_contained(html):
    text = html
    assert text.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert not EXTERNAL.search(text)
    assert "<script" not in text.lower() and "@import" not in text
    assert text.count("<svg") >= 5  # load, utilisation, priority, region, skills (+ moves)
    assert "max-width:100%" in text.replace(" ", "") and "overflow-x:auto" in text.replace(" ", "")


def test_report_has_kpis_and_the_unassigned_list(plan, html):
    text = html
    assert '<table class="kpi">' in text
    for label in ("priority-weighted coverage", "tasks unassigned", "utilisation mean", "solver status"):
        assert label in text
    assert "Unassigned tasks (1)" in text
    row = re.search(r'<tr><td class="id">T7</td>.*?</tr>', text)
    assert row, "T7 (needs welding) is listed"
    assert "welding" in row.group(0)  # the reason names what blocked it
    reason = plan.assignments.set_index("task_id").loc["T7", "reason"]
    assert reason and ">2<" in row.group(0)  # priority 2


def test_several_plans_side_by_side(plan_dirs, scenario_dir, tmp_path):
    text = write_report(plan_dirs, tmp_path / "r.html", scenario=scenario_dir).read_text(encoding="utf-8")
    header = re.search(r'<table class="kpi"><thead><tr>(.*?)</tr>', text).group(1)
    assert "balanced" in header and "continuity" in header
    assert 'id="plan-1"' in text and 'id="plan-2"' in text
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), "element ids are unique across the inline SVGs"


def test_kpi_table_side_by_side(plan_dirs):
    kpis = kpi_table(plan_dirs)
    assert list(kpis.columns) == ["balanced", "continuity"]
    assert kpis.loc["tasks"].tolist() == [8, 8]
    assert kpis.loc["tasks unassigned"].tolist() == [1, 1]
    assert kpis.loc["policy"].tolist() == ["balanced", "continuity"]


def test_report_without_scenario_skips_region_and_skills(plan_dirs):
    text = render_report(plan_dirs[0])
    assert "pass --scenario" in text
    assert "Assigned and unassigned by region" not in text
    assert "Load per agent" in text


def test_report_is_deterministic(plan, html):
    assert render_report(plan) == html


def test_report_png(plan):
    text = render_report(plan, fmt="png")
    assert "<img" in text and "data:image/png;base64," in text and "<svg" not in text


def test_cli_report(plan_dirs, scenario_dir, tmp_path):
    out = tmp_path / "sub" / "report.html"
    result = run("report", *plan_dirs, "--scenario", scenario_dir, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.is_file() and "report written" in result.output


def test_cli_report_bad_input(plan_dirs, tmp_path):
    out = tmp_path / "r.html"
    missing = run("report", tmp_path / "nope", "--out", out)
    assert missing.exit_code == 2 and "plan folder not found" in missing.stderr
    other = make_scenario(tmp_path / "other")
    edit_csv(other / "tasks.csv", 2, task_id="X1")  # a scenario whose tasks differ from the plan's
    mismatch = run("report", plan_dirs[0], "--scenario", other, "--out", out)
    assert mismatch.exit_code == 2 and mismatch.stderr.startswith("error: ")
    assert not out.exists()


def test_dollar_signs_and_markup_in_ids_and_regions_neither_crash_nor_inject(tmp_path):
    """`$...$` in an id or a region is text, not mathtext; `<script>` is escaped in the HTML."""
    from tests.conftest import AGENTS, TASKS, make_scenario, write_csv

    folder = make_scenario(tmp_path / "s")
    agents = [dict(r) for r in AGENTS]
    agents[0]["agent_id"], agents[0]["regions"] = "$\\nosuchsymbol$", "$x_$"
    tasks = [dict(r) for r in TASKS]
    for r in tasks:
        if r["assigned_to"] == "A1":
            r["assigned_to"], r["pinned"] = "", ""
        r["region"] = "<script>alert(1)</script>" if r["task_id"] == "T6" else r["region"]
    write_csv(folder / "agents.csv", agents)
    write_csv(folder / "tasks.csv", tasks)
    customers = (folder / "customers.csv").read_text(encoding="utf-8").replace(",A1,", ",,")
    (folder / "customers.csv").write_text(customers, encoding="utf-8")
    import optassign

    plan = optassign.solve(folder, time_limit=2, workers=1)
    text = render_report(plan, folder)
    assert "<script>alert" not in text and "&lt;script&gt;" in text
