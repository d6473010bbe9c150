"""Command line: parses arguments, calls one API function, renders with rich. Input problems
print as one clear message and exit with code 2; nothing is written then."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import api, interrupt
from .cpsat_params import ParamError, parse_params
from .export import ExportFormat, export_plan
from .plan import Plan
from .problem import ScaleError
from .scenario import load_scenario
from .schema import InputProblem, ScenarioError
from .solve import Progress
from .writer import REPLACED, OutputError, atomic_folder, check_target

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Assign tasks and customers to staff with CP-SAT.",
)
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
    if signum is not None and summary is not None:
        summary["interrupted"] = signal.Signals(signum).name
    return signum


def exit_interrupted(signum: int, target: Path) -> None:
    err.print(interrupt.message(signum, f"best plan so far written to {target}"), markup=False)
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


@app.command()
def solve(
    scenario: ScenarioArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="plan folder to write (default: plans/<scenario>)")
    ] = None,
    policy: PolicyOpt = None,
    time_limit: TimeOpt = None,
    workers: WorkersOpt = None,
    seed: SeedOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress lines")] = False,
    deterministic: Annotated[
        bool,
        typer.Option(
            "--deterministic/--wall-clock",
            help="reproducible plans (default), or wall-clock search: not reproducible, often better",
        ),
    ] = True,
    decompose: Annotated[
        bool,
        typer.Option(
            "--decompose/--whole",
            help="solve the batch's independent parts (regions, teams) one by one, then the "
            "whole from their plan (default), or the whole batch from the start",
        ),
    ] = True,
    formats: Annotated[
        list[ExportFormat] | None,
        typer.Option("--format", help="also write parquet / xlsx (repeatable; csv is always written)"),
    ] = None,
    param: ParamOpt = None,
    save_interrupted: SaveInterruptedOpt = False,
) -> None:
    """Solve a scenario (the nightly batch) and write its plan folder."""
    params = cpsat_params_option(param)
    try:
        loaded = load_scenario(scenario, policy=policy)
    except ScenarioError as exc:
        fail_input(exc)
    target = out or Path("plans") / scenario.resolve().name
    check_out(target)
    interrupt.install(finish=save_interrupted)
    try:
        plan = api.solve(
            loaded,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            progress=LiveProgress(err, quiet),
            deterministic=deterministic,
            decompose=decompose,
            **params,
        )
    except ScaleError as exc:
        fail_scale(exc, loaded)
    signum = stop_if_interrupted(plan.summary)
    extra = [f.value for f in formats or [] if f != ExportFormat.csv]
    with writing(target), atomic_folder(target) as tmp:
        plan.write_into(tmp)
        if extra:
            export_plan(plan, tmp, extra)
    render_summary(plan, target)
    if signum is not None:
        exit_interrupted(signum, target)


@app.command()
def validate(scenario: ScenarioArg, policy: PolicyOpt = None) -> None:
    """Check a scenario folder against the data contract without solving."""
    try:
        s = load_scenario(scenario, policy=policy)
    except ScenarioError as exc:
        fail_input(exc)
    n_c = 0 if s.customers is None else len(s.customers)
    console.print(
        f"[green]ok[/] {s.name}: {len(s.agents)} agents, {len(s.tasks)} tasks, "
        f"{n_c} customers, policy {s.policy.name}" + (f", {len(s.events.events)} events" if s.events else "")
    )


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="new scenario folder to write")],
    tasks: Annotated[int, typer.Option("--tasks", min=0)] = 300,
    agents: Annotated[int, typer.Option("--agents", min=1)] = 20,
    regions: Annotated[int, typer.Option("--regions", min=1)] = 4,
    skills: Annotated[int, typer.Option("--skills", min=1)] = 6,
    customers: Annotated[int | None, typer.Option("--customers", min=0)] = None,
    load: Annotated[float, typer.Option("--load", min=0.0, help="total effort / capacity")] = 1.08,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
) -> None:
    """Write a realistic synthetic scenario (specialists, skewed customers, a plan in force)."""
    from .generate import generate_scenario

    try:
        path = generate_scenario(
            out,
            tasks=tasks,
            agents=agents,
            regions=regions,
            skills=skills,
            customers=customers,
            seed=seed,
            load=load,
        )
    except FileExistsError:
        err.print(f"[bold red]error:[/] {out}: folder exists and is not empty; choose another", markup=True)
        raise typer.Exit(EXIT_INPUT) from None
    console.print(f"scenario written to [bold]{path}[/]")


# Commands of other areas live in their own modules and register on `app` when imported.
from . import cli_analysis, cli_bench, cli_handover, cli_report  # noqa: E402, F401


def main() -> None:
    """The command line (see optassign.__main__, which installs the signal handlers first)."""
    interrupt.install()
    try:
        app()
    except interrupt.Interrupted as exc:
        done = f"stopped after writing {REPLACED[-1]}" if REPLACED else "stopped; nothing was replaced"
        sys.stderr.write(interrupt.message(exc.signum, done) + "\n")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
