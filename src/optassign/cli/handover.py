"""Handover commands (`optassign handover`, `optassign preview`): staffing changes as re-solves.
Parses, calls the API, renders; the logic lives in the API modules."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from optassign import interrupt
from optassign.cli.common import (
    EXIT_INPUT,
    LiveProgress,
    MaxMovesOpt,
    PlanOpt,
    PolicyOpt,
    SaveInterruptedOpt,
    ScenarioArg,
    SeedOpt,
    TimeOpt,
    WorkersOpt,
    check_out,
    console,
    err,
    exit_interrupted,
    fail_input,
    fail_scale,
    render_summary,
    stop_if_interrupted,
    warn_inputs,
    writing,
)
from optassign.contract.schema import InputProblem, ScenarioError
from optassign.engine.problem import ScaleError
from optassign.handover.notify import DEFAULT_SENDER, parse_sender, parse_smtp, send_messages
from optassign.handover.replan import handover, preview
from optassign.handover.result import HandoverResult
from optassign.handover.settings import DEFAULT_TIME_LIMIT
from optassign.scenario.scenario import Scenario, load_scenario

EXIT_SEND = 1

FrontierOpt = Annotated[
    bool,
    typer.Option(
        "--frontier",
        help="also solve for move budgets 0, 5, 10, 20, ... (frontier.csv), each in half the time limit",
    ),
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="plan folder to write")]
SmtpOpt = Annotated[
    str | None, typer.Option("--smtp", help="HOST:PORT of an SMTP relay: also send the outbox/ messages")
]
FromOpt = Annotated[str, typer.Option("--mail-from", help="sender address of the messages")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="print nothing but warnings and errors")]


def _smtp(value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    try:
        return parse_smtp(value)
    except ValueError as exc:
        fail_input(ScenarioError([InputProblem("--smtp", None, None, value, str(exc))]))


def _sender(value: str) -> str:
    """`--mail-from`, checked before any work: a bad sender found after the re-plan would cost
    the whole solve (and a CR/LF in it would inject headers)."""
    try:
        parse_sender(value)
    except ValueError as exc:
        fail_input(ScenarioError([InputProblem("--mail-from", None, None, value, str(exc))]))
    return value


# Writing the plan folder (CSV files, one sheet and one message per affected agent) takes about
# 2.5 s per 100,000 tasks: the command ends the re-plan that much (and a little more, for the
# interpreter's start before the clock starts) before its time limit.
WRITE_SECONDS_PER_TASK = 3e-5


def _limit(loaded: Scenario, time_limit: float | None, started: float) -> float:
    """The time limit for the re-plan, so that the whole command (reading the scenario, the
    re-plan and writing the folder) keeps to `--time-limit` (at least half of it re-plans)."""
    limit = time_limit or loaded.config.settings.time_limit or DEFAULT_TIME_LIMIT
    spent = time.perf_counter() - started + WRITE_SECONDS_PER_TASK * len(loaded.tasks)
    return max(0.5 * limit, limit - spent)


def _replan(
    scenario: Path,
    kind: str,
    call: Callable[[Scenario, float], HandoverResult],
    *,
    policy: str | None,
    time_limit: float | None,
    out: Path | None,
    smtp: str | None,
    mail_from: str,
    save_interrupted: bool = False,
    quiet: bool = False,
) -> None:
    """What `handover` and `preview` share: read the scenario, re-plan with `call(scenario,
    time limit)` within what is left of the limit, write the folder, send the messages."""
    started = time.perf_counter()
    relay = _smtp(smtp)
    mail_from = _sender(mail_from)
    target = out or Path("plans") / f"{scenario.resolve().name}-{kind}"
    try:
        loaded = load_scenario(scenario, policy=policy)
        warn_inputs(loaded)
        check_out(target)
        interrupt.install(finish=save_interrupted)
        res = call(loaded, _limit(loaded, time_limit, started))
    except ScenarioError as exc:
        fail_input(exc)
    except ScaleError as exc:
        fail_scale(exc, loaded)
    signum = stop_if_interrupted(res.plan.summary)
    _finish(res, target, relay, mail_from, quiet)
    if signum is not None:
        exit_interrupted(signum, target)


def _finish(res: HandoverResult, out: Path, smtp: tuple[str, int] | None, sender: str, quiet: bool) -> None:
    with writing(out):
        res.write(out, sender=sender)
    if not quiet:
        render_handover(res, out)
    if smtp is None:
        return
    host, port = smtp
    try:
        sent = send_messages(res.messages(sender=sender), host, port)
    except (OSError, smtplib.SMTPException) as exc:
        err.print(
            f"[bold red]error:[/] sending via {escape(host)}:{port} failed: {escape(str(exc))}; "
            f"the messages are in {escape(str(out / 'outbox'))}",
            markup=True,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_SEND) from None
    if not quiet:
        console.print(f"{len(sent)} message(s) sent via {host}:{port}")


def render_handover(res: HandoverResult, out: Path | None) -> None:
    """Warnings, the plan's summary, then what the handover changed against the plan in force."""
    for w in res.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}", markup=True, soft_wrap=True)
    render_summary(res.plan, None)
    k = res.kpis
    m, cov, un = k["moves"], k["coverage"], k["unassigned"]
    t = Table(title="handover against the plan in force", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.2%}"

    rows = [
        ("events", "; ".join(e for e in k["events"] if e) or "-"),
        ("moves forced / voluntary", f"{m['forced']} / {m['voluntary']}"),
        ("tasks / customers moving", f"{m['tasks']} / {m['customers']}"),
        ("could not be placed", str(m["unplaced"])),
        ("pins broken", str(m["pins_broken"])),
        ("move budget", "-" if k["move_budget"] is None else str(k["move_budget"])),
        ("coverage before -> after", f"{pct(cov['before'])} -> {pct(cov['after'])}"),
        ("unassigned tasks before -> after", f"{un['tasks_before']} -> {un['tasks_after']}"),
        ("unassigned hours before -> after", f"{un['hours_before']:g} -> {un['hours_after']:g}"),
    ]
    for key, value in rows:
        t.add_row(key, value)
    console.print(t)
    by_p = Table(title="assigned by priority, before -> after")
    for col in ("priority", "tasks", "before", "after", "delta"):
        by_p.add_column(col, justify="right")
    for p, row in k["assigned_by_priority"].items():
        by_p.add_row(p, str(row["tasks"]), str(row["before"]), str(row["after"]), f"{row['delta']:+d}")
    console.print(by_p)
    if k["receivers"]:
        rec = Table(title="receiving agents")
        for col in ("agent", "tasks", "customers", "hours before -> after", "utilisation before -> after"):
            rec.add_column(col, justify="right")
        for agent, r in k["receivers"].items():
            rec.add_row(
                agent,
                str(r["received_tasks"]),
                str(r["received_customers"]),
                f"{r['hours_before']:g} -> {r['hours_after']:g}",
                f"{pct(r['utilization_before'])} -> {pct(r['utilization_after'])}",
            )
        console.print(rec)
    if res.frontier is not None:
        f = Table(title="moves frontier (budget = voluntary moves allowed)")
        for col in ("budget", "moves", "objective", "coverage", "gap", "unassigned"):
            f.add_column(col, justify="right")
        for r in res.frontier.to_dict("records"):
            f.add_row(
                "none" if r["budget"] == "" else str(r["budget"]),
                str(r["moves"]),
                f"{r['objective']:,.3f}",
                pct(r["coverage"]),
                pct(r["gap"]),
                str(r["unassigned"]),
            )
        console.print(f)
    if out is not None:
        console.print(
            f"plan written to [bold]{escape(str(out))}[/] (handover.csv, {len(res.sheets)} "
            f"handover sheet(s), {len(res.affected_agents)} message(s) in outbox/)"
        )


def handover_cmd(
    scenario: ScenarioArg,
    leave: Annotated[list[str], typer.Option("--leave", help="agent who leaves (repeat for several)")],
    to: Annotated[
        list[str] | None, typer.Option("--to", help="hand the leavers' work over only to these agents")
    ] = None,
    plan: PlanOpt = None,
    max_moves: MaxMovesOpt = None,
    frontier: FrontierOpt = False,
    out: OutOpt = None,
    smtp: SmtpOpt = None,
    mail_from: FromOpt = DEFAULT_SENDER,
    policy: PolicyOpt = None,
    time_limit: TimeOpt = None,
    workers: WorkersOpt = None,
    seed: SeedOpt = None,
    quiet: QuietOpt = False,
    save_interrupted: SaveInterruptedOpt = False,
) -> None:
    """Agents leave: re-plan their work from the plan in force, write the new plan with
    handover.csv, handover sheets and messages."""
    _replan(
        scenario,
        "handover",
        lambda loaded, limit: handover(
            loaded,
            leave=leave,
            to=to or None,
            plan=plan,
            max_moves=max_moves,
            frontier=frontier,
            time_limit=limit,
            workers=workers,
            seed=seed,
            progress=LiveProgress(err, quiet),
        ),
        policy=policy,
        time_limit=time_limit,
        out=out,
        smtp=smtp,
        mail_from=mail_from,
        save_interrupted=save_interrupted,
        quiet=quiet,
    )


def preview_cmd(
    scenario: ScenarioArg,
    events: Annotated[
        Path | None, typer.Option("--events", help="events.yaml to preview (default: the scenario's)")
    ] = None,
    plan: PlanOpt = None,
    max_moves: MaxMovesOpt = None,
    frontier: FrontierOpt = False,
    out: OutOpt = None,
    smtp: SmtpOpt = None,
    mail_from: FromOpt = DEFAULT_SENDER,
    policy: PolicyOpt = None,
    time_limit: TimeOpt = None,
    workers: WorkersOpt = None,
    seed: SeedOpt = None,
    quiet: QuietOpt = False,
    save_interrupted: SaveInterruptedOpt = False,
) -> None:
    """Preview staffing changes (leave, hire, capacity, transfer, skills) as a re-plan from the
    plan in force; writes the plan folder with handover.csv like `handover`."""
    _replan(
        scenario,
        "preview",
        lambda loaded, limit: preview(
            loaded,
            events=events,
            plan=plan,
            max_moves=max_moves,
            frontier=frontier,
            time_limit=limit,
            workers=workers,
            seed=seed,
            progress=LiveProgress(err, quiet),
        ),
        policy=policy,
        time_limit=time_limit,
        out=out,
        smtp=smtp,
        mail_from=mail_from,
        save_interrupted=save_interrupted,
        quiet=quiet,
    )


__all__ = ["EXIT_INPUT", "EXIT_SEND", "handover_cmd", "preview_cmd", "render_handover"]
