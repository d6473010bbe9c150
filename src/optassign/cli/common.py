"""What every command shares: the consoles, exit codes, the options common to several commands,
how input problems and interrupted runs end, the live progress printer and the plan summary."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optassign import interrupt
from optassign.contract.schema import InputProblem, ScenarioError
from optassign.contract.writer import OutputError, check_target
from optassign.engine.params import ParamError, parse_params
from optassign.engine.solve import Progress
from optassign.plan.plan import Plan

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_INPUT = 2
EXIT_WRITE = 1

ScenarioArg = Annotated[
    Path, typer.Argument(help="scenario folder (scenario.yaml, agents.csv, tasks.csv, ...)")
]
PolicyOpt = Annotated[str | None, typer.Option("--policy", help="policy name in models/ or a YAML path")]
TimeOpt = Annotated[float | None, typer.Option("--time-limit", min=0.01, help="seconds for the solver")]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="solver threads (default: cores, max 8)")
]
SeedOpt = Annotated[
    int | None, typer.Option("--seed", min=0, help="random seed; same seed and workers, same plan")
]
PlanOpt = Annotated[
    Path | None,
    typer.Option("--plan", help="plan folder in force (assignments.csv, owners.csv); default: the input's"),
]
MaxMovesOpt = Annotated[
    int | None,
    typer.Option("--max-moves", min=0, help="at most N moves beyond the forced ones (0 = only forced moves)"),
]


def cpsat_params_option(pairs: list[str] | None) -> dict[str, object]:
    """The `--param` values as checked CP-SAT parameters; a bad one exits 2 with one message."""
    try:
        return parse_params(pairs or [])
    except ParamError as exc:
        err.print(f"[bold red]error:[/] --param: {escape(str(exc))}", markup=True, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None


ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        metavar="KEY=VALUE",
        help="CP-SAT parameter, e.g. linearization_level=2 (repeatable; checked before solving)",
    ),
]


def fail_input(exc: ScenarioError) -> None:
    err.print(f"[bold red]error:[/] {escape(exc.render())}", markup=True, soft_wrap=True)
    raise typer.Exit(EXIT_INPUT)


def warn_inputs(scenario) -> None:
    """What reading the inputs warned of (a calendar row outside the horizon), on stderr."""
    for w in scenario.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}", markup=True, soft_wrap=True)


def fail_scale(exc: ValueError, scenario) -> None:
    """Weights times hours beyond the solver's integers: an input error of the policy."""
    where = f"policy {scenario.policy.name}" if scenario is not None else "policy"
    fail_input(ScenarioError([InputProblem(where, None, None, None, str(exc))]))


def check_out(target: Path, kind: str = "plan", option: str = "--out", *, replace: bool = True) -> None:
    """Refuse, before any work, an output that may not be written or replaced (exit 2)."""
    try:
        check_target(target, kind, replace=replace)
    except OutputError as exc:
        err.print(f"[bold red]error:[/] {option}: {escape(str(exc))}", markup=True, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None


@contextmanager
def writing(target: Path) -> Iterator[None]:
    """Around a write: a target that changed since it was checked exits 2, a failed write
    (disk full, permissions) exits 1 with one line; either way nothing was replaced."""
    try:
        yield
    except OutputError as exc:
        err.print(f"[bold red]error:[/] --out: {escape(str(exc))}", markup=True, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    except OSError as exc:
        why = exc.strerror or str(exc)
        err.print(
            f"[bold red]error:[/] cannot write {escape(str(target))}: {escape(why)}; nothing was replaced",
            markup=True,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_WRITE) from None


SaveInterruptedOpt = Annotated[
    bool,
    typer.Option(
        "--save-interrupted",
        help="on Ctrl-C or SIGTERM, stop the search and write the best plan so far (marked "
        "interrupted in summary.json) instead of leaving the previous plan untouched",
    ),
]


def stop_if_interrupted(summary: dict | None = None) -> int | None:
    """After a solve in --save-interrupted mode: the signal that stopped it (recorded in the
    summary as `interrupted`), or None."""
    signum = interrupt.signal_received()
    if signum is not None and not interrupt.finishing():
        # aborting, yet the solve ran on (the signal's exception was lost in library code):
        # abort now, before anything is written, as the signal asked
        raise interrupt.Interrupted(signum)
    if signum is not None and summary is not None:
        summary["interrupted"] = signal.Signals(signum).name
    return signum


def exit_interrupted(signum: int, target: Path) -> None:
    err.print(
        interrupt.message(signum, f"best plan so far written to {target}"), markup=False, soft_wrap=True
    )
    raise typer.Exit(128 + signum)


class LiveProgress:
    """Prints phase, elapsed time, best objective and gap as a solve goes on."""

    def __init__(self, console: Console, quiet: bool):
        self.console, self.quiet, self.last = console, quiet, -1.0

    def __call__(self, p: Progress) -> None:
        if self.quiet:
            return
        if p.objective is None:
            self.console.print(f"[dim]{p.elapsed:7.1f}s[/] {p.phase}")
            return
        if p.elapsed - self.last < 1.0:
            return
        self.last = p.elapsed
        gap = f"{p.gap:.2%}" if p.gap is not None else "-"
        self.console.print(
            f"[dim]{p.elapsed:7.1f}s[/]   best {p.objective:,.1f}  bound {p.best_bound:,.1f}  gap {gap}"
        )


def render_summary(plan: Plan, out: Path | None) -> None:
    s = plan.summary
    table = Table(title=f"{s['scenario']} · policy {s['policy']}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    cov = s["priority_weighted_coverage"]
    rows = [
        ("status", s["status"]),
        ("objective", f"{s['objective']:,.3f}" if s["objective"] is not None else "-"),
        ("best bound", f"{s['best_bound']:,.3f}" if s["best_bound"] is not None else "-"),
        ("gap", f"{s['gap']:.3%}" if s["gap"] is not None else "-"),
        ("tasks assigned", f"{s['assigned']:,} / {s['tasks']:,}"),
        ("priority-weighted coverage", f"{cov:.2%}" if cov is not None else "-"),
        ("unassigned hours", f"{s['unassigned_hours']:,.2f}"),
        ("moves (vs plan in force)", f"{s['moves']:,}"),
    ]
    if s["customers"]:
        rows.append(
            (
                "customers owned",
                f"{s['owned_customers']:,} / {s['customers']:,} ({s['owner_changes']} changed)",
            )
        )
    if s["utilization_mean"] is not None:
        rows.append(("utilisation mean / max", f"{s['utilization_mean']:.1%} / {s['utilization_max']:.1%}"))
    rows.append(("solve time", f"{s['solve_seconds']:.2f} s"))
    for k, v in rows:
        table.add_row(k, str(v))
    console.print(table)
    by_p = Table(title="by priority", show_lines=False)
    for col in ("priority", "tasks", "assigned", "share"):
        by_p.add_column(col, justify="right")
    for p, row in s["assigned_by_priority"].items():
        share = row["assigned"] / row["tasks"] if row["tasks"] else 1.0
        by_p.add_row(p, str(row["tasks"]), str(row["assigned"]), f"{share:.1%}")
    console.print(by_p)
    if len(plan.unassigned):
        reasons = plan.unassigned["reason"].str.replace(r"\(.*\)|[A-Z]\d{4,}", "…", regex=True)
        top = reasons.value_counts().head(5)
        console.print("[bold]most common reasons for unassigned tasks[/]")
        for reason, n in top.items():
            console.print(f"  {n:6d}  {reason}")
    if out is not None:
        console.print(f"plan written to [bold]{out}[/]")
