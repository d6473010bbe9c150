"""Handover and staffing-change previews: the plan in force re-solved under events (leave, hire,
capacity, transfer, skills). Sits beside api.py: Scenario --events--> changed Scenario --problem-->
ProblemData with forced moves and a move budget --solve--> Result --plan--> Plan + handover.csv.

It is a re-solve, not a second engine (CONVENTIONS 13): the changed problem is a `replace()` on
the problem data (forced rows, restricted candidates of a leaver's work, pins, `move_budget`),
the hint is the plan in force minus what must move, completed by the greedy, and disruption is
the policy's own keep terms, raised for handovers (see `HandoverSettings`)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from optassign.contract.io import yaml_key_lines
from optassign.contract.schema import Event, Events, InputProblem, Leave, Policy, ScenarioError
from optassign.engine.budget import Budget
from optassign.engine.solve import ProgressFn
from optassign.handover.frontier import FRONTIER_TIME_SHARE, frontier_row, solve_frontier
from optassign.handover.passes import Passes, solve_passes
from optassign.handover.prepare import Prepared, prepare
from optassign.handover.result import HandoverResult
from optassign.handover.settings import (
    DEFAULT_TIME_LIMIT,
    HandoverSettings,
    handover_policy,
)
from optassign.handover.sheets import handover_sheets
from optassign.handover.tables import handover_kpis, handover_table
from optassign.plan.folder import with_plan_in_force
from optassign.plan.plan import agent_load_table, build_plan
from optassign.plan.reasons import reasons as why_assigned
from optassign.scenario.events import apply_events, read_events
from optassign.scenario.policy import load_policy
from optassign.scenario.scenario import Scenario, load_scenario

__all__ = ["handover", "preview"]

# What the write-up after the solves takes, per task (measured: about 2 s at 100,000 tasks);
# the solves end that much before the time limit (at most a fifth of it).
REPORT_SECONDS_PER_TASK = 2.5e-5


# --------------------------------------------------------------------------- API
def handover(
    scenario: Scenario | str | Path,
    leave: Sequence[str],
    to: Sequence[str] | None = None,
    plan: str | Path | None = None,
    max_moves: int | None = None,
    *,
    frontier: bool = False,
    policy: Policy | str | None = None,
    settings: HandoverSettings | None = None,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    progress: ProgressFn | None = None,
) -> HandoverResult:
    """Agents leave: re-plan their work from the plan in force (tasks.csv `assigned_to`, or the
    plan folder `plan`), optionally only to the agents `to`, moving at most `max_moves` other
    items (None = as the policy finds worth it, 0 = only what must move)."""
    events = [Leave(leave=a, to=list(to) if to else None) for a in leave]
    return _run(
        scenario,
        events,
        label="--leave",
        lines=None,
        plan=plan,
        max_moves=max_moves,
        frontier=frontier,
        policy=policy,
        settings=settings,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        progress=progress,
    )


def preview(
    scenario: Scenario | str | Path,
    events: Events | Sequence[Event] | str | Path | None = None,
    plan: str | Path | None = None,
    max_moves: int | None = None,
    *,
    frontier: bool = False,
    policy: Policy | str | None = None,
    settings: HandoverSettings | None = None,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    progress: ProgressFn | None = None,
) -> HandoverResult:
    """Preview staffing changes (an events.yaml path, parsed `Events`, or None for the
    scenario's own events.yaml) as a re-plan from the plan in force."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, policy=policy)
        policy = None
    label, lines = "events.yaml", None
    if events is None:
        if scenario.events is None:
            raise ScenarioError(
                [
                    InputProblem(
                        "events.yaml",
                        None,
                        None,
                        None,
                        "no events to preview: give --events or add events.yaml to the scenario",
                    )
                ]
            )
        label = scenario.config.events or "events.yaml"
        if scenario.folder is not None and (scenario.folder / label).is_file():
            lines = yaml_key_lines((scenario.folder / label).read_text(encoding="utf-8"))
        items = list(scenario.events.events)
    elif isinstance(events, str | Path):
        path = Path(events)
        problems: list[InputProblem] = []
        label = str(events)
        parsed = read_events(path, problems, label)
        if problems or parsed is None:
            raise ScenarioError(problems or [InputProblem(label, None, None, None, "no events found")])
        lines = yaml_key_lines(path.read_text(encoding="utf-8"))
        items = list(parsed.events)
    else:
        items = list(events.events if isinstance(events, Events) else events)
    return _run(
        scenario,
        items,
        label=label,
        lines=lines,
        plan=plan,
        max_moves=max_moves,
        frontier=frontier,
        policy=policy,
        settings=settings,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        progress=progress,
    )


def _run(
    scenario: Scenario | str | Path,
    events: list[Event],
    *,
    label: str,
    lines: dict | None,
    plan: str | Path | None,
    max_moves: int | None,
    frontier: bool,
    policy: Policy | str | None,
    settings: HandoverSettings | None,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    progress: ProgressFn | None,
) -> HandoverResult:
    started = time.perf_counter()
    scenario, before, after, warnings = _inputs(scenario, events, plan, policy, max_moves, label, lines)
    cfg = scenario.config.settings
    time_limit = time_limit or cfg.time_limit or DEFAULT_TIME_LIMIT
    seed = seed if seed is not None else (cfg.seed or 0)
    workers = workers or cfg.workers
    hpolicy = handover_policy(scenario.policy, settings)
    prep = prepare(before, after, events, hpolicy, max_moves, warnings)
    # The time limit covers the whole handover: writing up the result (the plan, the handover
    # table, the sheets) keeps room. The solves follow a nominal schedule (what each was given,
    # not what the clock left), so that a busy machine takes longer but finds the same plan.
    schedule = Budget(
        max(1.0, time_limit - min(0.2 * time_limit, REPORT_SECONDS_PER_TASK * prep.data.n_tasks))
    )
    # The frontier first: its best plan within the move budget is a start for the main solve
    # (a plan meeting a smaller budget meets a larger one, and no budget at all).
    front, points = None, []
    if frontier:
        front, points = solve_frontier(
            prep, prep.data, hpolicy, time_limit * FRONTIER_TIME_SHARE, workers, seed, progress
        )
        schedule.charge(time_limit * FRONTIER_TIME_SHARE * len(points))
    usable = [r for b, r in points if r.status.has_solution and (max_moves is None or b <= max_moves)]
    hint = prep.hint
    if usable:
        best = max(usable, key=lambda r: r.objective)
        hint = (best.assign, best.owner)
    passes = solve_passes(prep, hpolicy, hint, schedule, workers=workers, seed=seed, progress=progress)
    if front is not None and max_moves is None:  # the handover itself, without a budget, for comparison
        row = frontier_row(None, passes.result, prep, hpolicy)
        front = pd.concat([front, pd.DataFrame([row])], ignore_index=True)
    return write_up(
        prep, after, passes, hpolicy, front, events, warnings, max_moves, plan, started, time_limit
    )


def _inputs(
    scenario: Scenario | str | Path,
    events: list[Event],
    plan: str | Path | None,
    policy: Policy | str | None,
    max_moves: int | None,
    label: str,
    lines: dict | None,
) -> tuple[Scenario, Scenario, Scenario, list[str]]:
    """The scenario, the scenario with the plan in force (before) and after the events, and the
    events' warnings. The plan in force and the events are both input: their problems are
    reported together."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, policy=policy)
    elif policy is not None:
        scenario = scenario.replace(policy=policy if isinstance(policy, Policy) else load_policy(policy))
    if max_moves is not None and max_moves < 0:
        raise ScenarioError([InputProblem("--max-moves", None, None, str(max_moves), "must be >= 0")])
    problems: list[InputProblem] = []
    before = scenario
    if plan is not None:
        try:
            before = with_plan_in_force(scenario, plan)
        except ScenarioError as exc:
            problems.extend(exc.problems)
    warnings: list[str] = []
    try:
        after = apply_events(before, events, label=label, lines=lines, warnings=warnings)
    except ScenarioError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return scenario, before, after, warnings


def write_up(
    prep: Prepared,
    after: Scenario,
    passes: Passes,
    policy: Policy,
    front: pd.DataFrame | None,
    events: list[Event],
    warnings: list[str],
    max_moves: int | None,
    plan_dir: str | Path | None,
    started: float,
    time_limit: float,
) -> HandoverResult:
    """The complete result of the solves: the new plan (scored under the policy solved, with
    the handover's reasons for what moved, handover.csv, frontier.csv and the KPI deltas in
    its summary), the handover rows and a sheet per receiver. The summary records the
    handover's `time_limit`, not its last pass's."""
    data, result = passes.data, dataclasses.replace(passes.result, time_limit=time_limit)
    scenario = after.replace(policy=policy)  # the policy solved
    reasons = why_assigned(data, result.assign, result.owner)
    table = handover_table(prep, reasons, result, policy)
    moved = table[table["kind"].eq("task")]
    reasons = reasons.astype(object).copy()
    reasons[pd.Index(after.tasks["task_id"]).get_indexer(moved["id"])] = moved["reason"].to_numpy(
        dtype=object
    )
    load = agent_load_table(scenario, data, result.assign, result.owner)
    kpis = handover_kpis(
        prep, load, result, table, events, warnings, policy, max_moves, plan_dir, passes.count
    )
    kpis["seconds"] = round(time.perf_counter() - started, 3)
    extra = {"frontier.csv": front} if front is not None else {}
    extra["handover.csv"] = table
    new_plan = build_plan(
        scenario, data, result, reasons=reasons, extra_tables=extra, summary_extra={"handover": kpis}
    )
    sheets = handover_sheets(table, new_plan, kpis, prep)
    return HandoverResult(new_plan, table, kpis, front, warnings, after, list(events), sheets)
