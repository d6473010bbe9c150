"""Report commands (`optassign report`, `status`): the HTML report and the monitoring view.
Parses, calls the API, renders; the logic lives in report.py and monitor.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from optassign.analysis.monitor import Status, parse_date, write_reminders
from optassign.analysis.monitor import status as monitor_status
from optassign.cli.common import EXIT_INPUT, ScenarioArg, console, err, fail_input
from optassign.contract.schema import ScenarioError
from optassign.report.html import write_report
from optassign.scenario.scenario import load_scenario

MAX_TASK_ROWS = 25


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)
    raise typer.Exit(EXIT_INPUT)


def report(
    plans: Annotated[list[Path], typer.Argument(help="plan folders; several are shown side by side")],
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="the plans' scenario folder (adds region and skill charts)"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write")] = Path("report.html"),
) -> None:
    """Write a self-contained HTML report: KPIs side by side, charts, unassigned tasks."""
    try:
        loaded = load_scenario(scenario) if scenario is not None else None
        path = write_report(plans, out, scenario=loaded)
    except ScenarioError as exc:
        fail_input(exc)
    except ValueError as exc:
        _fail(str(exc))
    console.print(f"report written to [bold]{escape(str(path))}[/]")


def status(
    scenario: ScenarioArg,
    plan: Annotated[
        Path | None, typer.Option("--plan", help="plan folder to monitor (default: assigned_to of tasks.csv)")
    ] = None,
    today: Annotated[str | None, typer.Option("--today", help="the day to look from, YYYY-MM-DD")] = None,
    days: Annotated[int, typer.Option("--days", min=0, help="horizon of 'due soon', in days")] = 7,
    outbox: Annotated[
        Path | None, typer.Option("--outbox", help="folder to write one reminder .eml per agent into")
    ] = None,
) -> None:
    """Per agent: tasks due soon, overdue and at risk (on the horizon's calendar; without one,
    capacity_hours spread over Mon-Fri)."""
    try:
        day = parse_date(today)
    except ValueError as exc:
        _fail(f"--today: {exc}")
    if plan is not None and not plan.is_dir():
        _fail(f"--plan: {plan}: plan folder not found")
    try:
        st = monitor_status(scenario, plan=plan, today=day, horizon_days=days)
    except ScenarioError as exc:
        fail_input(exc)
    except ValueError as exc:
        _fail(str(exc))

    _render_agents(st)
    _render_attention(st)
    console.print(
        "[dim]at risk = more work due by its date than the agent's hours until then "
        "(capacity_hours / 5 per working day, Mon-Fri, today included)[/]"
    )
    if outbox is not None:
        files = write_reminders(st, outbox)
        console.print(
            f"{len(files)} reminder{'s' if len(files) != 1 else ''} written to [bold]{escape(str(outbox))}[/]"
        )


def _render_agents(st: Status) -> None:
    """The agents needing attention, one row each; on a narrow terminal without names, as the
    ids and numbers matter more. The agents with nothing to look at are only counted."""
    table = Table(
        title=f"status on {st.today.isoformat()} ({st.today:%A}), due within {st.horizon_days} days"
    )
    table.box, table.show_edge = box.SIMPLE_HEAD, False  # fits 80 columns
    table.add_column("agent", no_wrap=True, min_width=int(st.agents["agent_id"].str.len().max() or 5))
    names = console.width >= 96
    if names:
        table.add_column("name", no_wrap=True, overflow="ellipsis", max_width=16)
    for col in ("tasks", "hours", "h/day", f"due≤{st.horizon_days}d", "overdue", "at risk"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    table.add_column("next due", no_wrap=True, min_width=10)
    busy = st.busy_agents
    for r in busy.itertuples(index=False):
        table.add_row(
            escape(r.agent_id) + ("" if r.active else "*"),
            *([escape(r.name)] if names else []),
            str(r.tasks),
            f"{r.hours:g}",
            f"{r.hours_per_day:g}",
            str(r.due_soon),
            f"[red]{r.overdue}[/]" if r.overdue else "0",
            f"[yellow]{r.at_risk}[/]" if r.at_risk else "0",
            r.next_due.isoformat() if hasattr(r.next_due, "isoformat") else "-",
        )
    console.print(table)
    if not busy["active"].all():
        console.print("[dim]* inactive: receives nothing, so all of its dated work is at risk[/]")
    quiet = st.quiet_agents
    if quiet:
        console.print(f"{quiet} other agent{'s' if quiet != 1 else ''}: nothing due, overdue or at risk")


def _render_attention(st: Status) -> None:
    """The overdue and at-risk tasks, at most MAX_TASK_ROWS of them, and a count of the
    unassigned tasks that are overdue or due soon."""
    attention = st.attention
    if len(attention):
        t = Table(title="overdue and at-risk tasks, by due date", box=box.SIMPLE_HEAD, show_edge=False)
        widths = {"task": int(attention["task_id"].str.len().max()), "agent": 10, "due": 10, "state": 7}
        for col in ("task", "agent", "P", "hours", "due", "state", "due/avail. h"):
            t.add_column(
                col,
                justify="right" if col in ("P", "hours") else "left",
                no_wrap=True,
                min_width=widths.get(col, len(col)),
            )
        shown, more = st.attention_rows(MAX_TASK_ROWS)
        for r in shown.itertuples(index=False):
            state = "overdue" if r.overdue else "at risk"
            hours = "" if r.agent_id == "" or r.overdue else f"{r.hours_due_by:g} / {r.hours_available_by:g}"
            t.add_row(
                escape(r.task_id),
                escape(r.agent_id) or "[dim]unassigned[/]",
                str(r.priority),
                f"{r.effort_hours:g}",
                r.due_date.isoformat(),
                state,
                hours,
            )
        console.print(t)
        if more:
            console.print(f"… and {more} more")
    open_soon = st.unassigned_soon
    if len(open_soon):
        console.print(
            f"[yellow]{len(open_soon)} unassigned tasks are overdue or due within {st.horizon_days} days[/]"
        )
