"""`optassign solve`, `validate` and `generate`: a plan from a scenario, a check of one, a
synthetic one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optassign import api, interrupt
from optassign.cli.common import (
    EXIT_INPUT,
    LiveProgress,
    MaxMovesOpt,
    ParamOpt,
    PlanOpt,
    PolicyOpt,
    SaveInterruptedOpt,
    ScenarioArg,
    SeedOpt,
    TimeOpt,
    WorkersOpt,
    check_out,
    console,
    cpsat_params_option,
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
from optassign.contract.writer import atomic_folder
from optassign.engine.problem import ScaleError
from optassign.plan.export import ExportFormat, export_plan
from optassign.plan.folder import with_plan_in_force
from optassign.scenario.generate import PROFILES, generate_scenario
from optassign.scenario.scenario import load_scenario


def solve(
    scenario: ScenarioArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="plan folder to write (default: plans/<scenario>)")
    ] = None,
    policy: PolicyOpt = None,
    time_limit: TimeOpt = None,
    workers: WorkersOpt = None,
    seed: SeedOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="print nothing but warnings and errors")
    ] = False,
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
    plan_in_force: PlanOpt = None,
    max_moves: MaxMovesOpt = None,
    stop_at_gap: Annotated[
        float | None,
        typer.Option(
            "--stop-at-gap",
            min=0.0,
            max=1.0,
            help="end the search once the plan is proven within this relative gap of the bound "
            "(0.005 = 0.5%; default: the policy's stop_at_gap, 0 = the whole time limit)",
        ),
    ] = None,
) -> None:
    """Solve a scenario (the nightly batch) and write its plan folder. With `--plan` (last
    night's plan folder) that plan is the plan in force: a re-solve that gains less than the
    policy's min_relative_gain keeps it."""
    params = cpsat_params_option(param)
    try:
        loaded = load_scenario(scenario, policy=policy)
        if plan_in_force is not None:
            loaded = with_plan_in_force(loaded, plan_in_force)
    except ScenarioError as exc:
        fail_input(exc)
    warn_inputs(loaded)
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
            max_moves=max_moves,
            stop_at_gap=stop_at_gap,
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
    if not quiet:
        render_summary(plan, target)
    if signum is not None:
        exit_interrupted(signum, target)


def validate(scenario: ScenarioArg, policy: PolicyOpt = None) -> None:
    """Check a scenario folder against the data contract without solving."""
    try:
        s = load_scenario(scenario, policy=policy)
    except ScenarioError as exc:
        fail_input(exc)
    warn_inputs(s)
    n_c = 0 if s.customers is None else len(s.customers)
    console.print(
        f"[green]ok[/] {s.name}: {len(s.agents)} agents, {len(s.tasks)} tasks, "
        f"{n_c} customers, policy {s.policy.name}" + (f", {len(s.events.events)} events" if s.events else "")
    )


def generate(
    out: Annotated[Path, typer.Argument(help="new scenario folder to write")],
    tasks: Annotated[int, typer.Option("--tasks", min=0)] = 300,
    agents: Annotated[int, typer.Option("--agents", min=1)] = 20,
    regions: Annotated[
        int | None, typer.Option("--regions", min=1, help="default: the profile's, else 4")
    ] = None,
    skills: Annotated[
        int | None, typer.Option("--skills", min=1, help="default: the profile's, else 6")
    ] = None,
    customers: Annotated[int | None, typer.Option("--customers", min=0)] = None,
    load: Annotated[
        float | None, typer.Option("--load", min=0.0, help="total effort / capacity (default: 1.08)")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    profile: Annotated[str, typer.Option("--profile", help=f"shape of batch: {', '.join(PROFILES)}")] = "crm",
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            min=1,
            max=260,
            help="working days of a horizon: due dates inside it, part-time staff and absences",
        ),
    ] = None,
) -> None:
    """Write a realistic synthetic scenario (specialists, skewed customers, a plan in force)."""
    if profile not in PROFILES:
        rule = f"unknown profile; known profiles: {', '.join(PROFILES)}"
        fail_input(ScenarioError([InputProblem("--profile", None, None, profile, rule)]))
    shape = PROFILES[profile]
    try:
        path = generate_scenario(
            out,
            tasks=tasks,
            agents=agents,
            regions=regions if regions is not None else (shape.regions or 4),
            skills=skills,
            customers=customers,
            seed=seed,
            load=load,
            profile=profile,
            horizon=horizon,
        )
    except FileExistsError:
        err.print(f"[bold red]error:[/] {out}: folder exists and is not empty; choose another", markup=True)
        raise typer.Exit(EXIT_INPUT) from None
    console.print(f"scenario written to [bold]{path}[/]")
