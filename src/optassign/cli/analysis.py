"""Analysis commands (`optassign compare`, `sweep`, `explain`, `export`): plans side by side and
why. Parses, calls the API, renders; the logic lives in compare.py, sweep.py, explain.py, export.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from optassign.analysis.compare import compare as compare_plans
from optassign.analysis.explain import TaskExplanation, explain_tasks, input_drift
from optassign.analysis.sweep import sweep as run_sweep
from optassign.cli.common import (
    EXIT_INPUT,
    PolicyOpt,
    ScenarioArg,
    SeedOpt,
    TimeOpt,
    WorkersOpt,
    check_out,
    console,
    err,
    fail_input,
    writing,
)
from optassign.contract.schema import ScenarioError
from optassign.contract.writer import claim_folder
from optassign.plan.export import ExportFormat, export_plan
from optassign.plan.kpis import KPIS, PERCENT_KPIS
from optassign.scenario.levers import parse_vary
from optassign.scenario.scenario import load_scenario

PlanDirs = Annotated[list[Path], typer.Argument(help="plan folders (assignments.csv, summary.json, ...)")]
ScenarioOpt = Annotated[
    Path | None, typer.Option("--scenario", help="the plans' scenario folder (for region and cost KPIs)")
]


def _fmt(key: str, value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if key in PERCENT_KPIS and isinstance(value, int | float):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def compare(
    plans: PlanDirs,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="folder for kpis.csv and diff.csv (default: comparisons/<a>_vs_<b>)"),
    ] = None,
    scenario: ScenarioOpt = None,
) -> None:
    """Compare plans of one scenario: a KPI table and the tasks whose agent changed."""
    try:
        result = compare_plans(*plans, scenario=scenario)
    except ScenarioError as exc:
        fail_input(exc)
    table = Table(title="plans compared")
    table.add_column("kpi", style="bold")
    for name in result.names:
        table.add_column(escape(name), justify="right")
    for key, row in result.kpis.iterrows():
        table.add_row(key, *(_fmt(key, v) for v in row.tolist()))
    console.print(table)
    for b in result.names[1:]:
        block = result.diff[result.diff["plan_b"].eq(b)]
        console.print(f"{len(block):,} tasks changed agent between {escape(result.names[0])} and {escape(b)}")
        if len(block):
            top = Table(show_header=True)
            for col in ("task_id", "agent_a", "agent_b", "priority"):
                top.add_column(col, justify="right" if col == "priority" else "left")
            for r in block.head(10).itertuples(index=False):
                top.add_row(r.task_id, r.agent_a or "-", r.agent_b or "-", str(r.priority))
            console.print(top)
    target = out or Path("comparisons") / "_vs_".join(result.names)
    check_out(target, "comparison")
    with writing(target):
        result.write(target)
    console.print(f"kpis.csv and diff.csv written to [bold]{escape(str(target))}[/]")


def sweep(
    scenario: ScenarioArg,
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            help="KEY=V1,V2,... (repeatable): policy, capacity_scale, staff_scale, time_limit, seed, "
            "workers or any policy field (balance_weight, region, ...)",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="sweep folder (default: sweeps/<scenario>)")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="runs in parallel (processes)")] = 1,
    policy: PolicyOpt = None,
    time_limit: TimeOpt = None,
    workers: WorkersOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Solve every combination of the varied settings; one plan folder per run and sweep.csv."""
    try:
        loaded = load_scenario(scenario, policy=policy)
        values = parse_vary(vary)
    except ScenarioError as exc:
        fail_input(exc)
    n = 1
    for v in values.values():
        n *= len(v)
    target = out or Path("sweeps") / scenario.resolve().name
    check_out(target, "sweep", replace=False)
    err.print(f"{n} runs, {jobs} at a time")
    result = run_sweep(
        loaded, values, out=target, jobs=jobs, time_limit=time_limit, workers=workers, seed=seed
    )
    shown = {
        "run_id": "run",
        **{k: k for k in values},
        "status": "status",
        "assigned": "assigned",
        "priority_weighted_coverage": "coverage",
        "utilization_max": "util max",
        "objective": "objective",
    }
    table = Table(
        title=f"sweep of {escape(loaded.name)}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    rows = result.table.to_dict("records")
    for row in rows:
        row["run_id"] = row["run_id"].split("_", 1)[0]  # the values are in their own columns
    cells = [[_fmt(c, row.get(c)) for c in shown] for row in rows]
    for i, (col, header) in enumerate(shown.items()):
        left = col == "run_id" or col in values
        width = max((len(r[i]) for r in cells), default=0) if left else None
        table.add_column(escape(header), justify="left" if left else "right", min_width=width)
    for r in cells:
        table.add_row(*map(escape, r))
    console.print(table)
    console.print(f"runs and sweep.csv written to [bold]{escape(str(target))}[/]")


def _render(e: TaskExplanation) -> None:
    colour = {"assigned": "green", "pinned": "green", "unassigned": "yellow", "blocked": "red"}[e.status]
    who = f" to [bold]{escape(e.agent_id)}[/]" if e.agent_id else ""
    console.print(
        f"[bold]{escape(e.task_id)}[/] (priority {e.priority}, {e.effort_hours:g} h): "
        f"[{colour}]{e.status}[/]{who}: {escape(e.reason)}"
    )
    if e.terms:
        total = sum(e.terms.values())
        terms = ", ".join(f"{k} {v:+.4g}" for k, v in e.terms.items())
        console.print(f"  points of this pair: {terms} [dim](total {total:+.4g})[/]")
    if e.unassign_change is not None:
        console.print(f"  leaving it unassigned would be {-e.unassign_change:.4g} points worse")
    if len(e.alternatives):
        placed = e.status != "unassigned"
        t = Table(title="other eligible agents" if placed else "eligible agents", title_justify="left")
        for col in (
            "agent",
            "worse by" if placed else "gain",
            "room",
            "hours / capacity",
            "tasks",
            "lowest prio",
        ):
            t.add_column(col, justify="left" if col == "agent" else "right")
        t.add_column("term changes")
        for r in e.alternatives.itertuples(index=False):
            cap = "" if pd.isna(r.max_tasks) else f" / {r.max_tasks}"
            room = (
                f"[green]{r.hours_left:g} h left[/]"
                if r.has_room
                else f"[red]no ({r.hours_left:g} h left)[/]"
            )
            t.add_row(
                escape(r.agent_id),
                f"{r.worse_by if placed else -r.worse_by:+.4g}",
                room,
                f"{r.hours:g} / {r.capacity_hours:g}",
                f"{r.tasks}{cap}",
                "-" if pd.isna(r.lowest_priority) else str(r.lowest_priority),
                escape(r.term_changes),
            )
        console.print(t)
    elif e.status == "assigned":
        console.print("  no other eligible agent")
    if e.near_misses is not None and len(e.near_misses):
        t = Table(title="nearest agents (not eligible)", title_justify="left")
        for col in ("agent", "covers region", "missing skills"):
            t.add_column(col)
        for r in e.near_misses.itertuples(index=False):
            t.add_row(escape(r.agent_id), "yes" if r.covers_region else "no", escape(r.missing_skills) or "-")
        console.print(t)


def explain(
    plan: Annotated[Path, typer.Argument(help="plan folder")],
    task_ids: Annotated[list[str], typer.Argument(help="task ids to explain")],
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="the plan's scenario folder (required)")
    ] = None,
    policy: PolicyOpt = None,
    alternatives: Annotated[int, typer.Option("--alternatives", min=0, help="agents to show per task")] = 5,
) -> None:
    """Why tasks went to their agents (points per term, alternatives) or what blocked them."""
    try:
        loaded = load_scenario(scenario) if scenario is not None else None
        found = explain_tasks(plan, task_ids, scenario=loaded, policy=policy, alternatives=alternatives)
    except ScenarioError as exc:
        fail_input(exc)
    if loaded is not None:
        import json

        try:
            summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = {}
        drift = input_drift(summary, loaded)
        if drift:
            err.print(
                f"[yellow]note:[/] {', '.join(drift)} changed since this plan was solved; "
                "explanations use the files as they are now",
                markup=True,
            )
    for e in found:
        _render(e)


def export(
    plan: Annotated[Path, typer.Argument(help="plan folder")],
    formats: Annotated[list[ExportFormat], typer.Option("--format", help="parquet and/or xlsx (repeatable)")],
    out: Annotated[
        Path | None, typer.Option("--out", help="folder to write (default: the plan folder)")
    ] = None,
) -> None:
    """Export a plan folder as Parquet files and/or an Excel workbook."""
    target = out or plan
    check_out(target, replace=False)
    try:
        with writing(target):
            files = export_plan(plan, target, [f.value for f in formats])
            claim_folder(target, "plan")
    except ScenarioError as exc:
        fail_input(exc)
    for f in files:
        console.print(f"written [bold]{escape(str(f))}[/]")


__all__ = ["EXIT_INPUT", "KPIS", "compare", "explain", "export", "sweep"]
