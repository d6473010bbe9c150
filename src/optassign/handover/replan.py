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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from optassign.contract.io import atomic_folder, read_table, yaml_key_lines
from optassign.contract.names import inside, write_index
from optassign.contract.schema import (
    CONTEXT_COLUMNS,
    PLAN_ASSIGNMENTS,
    PLAN_OWNERS,
    Capacity,
    Event,
    Events,
    Hire,
    InputProblem,
    Leave,
    Policy,
    PriorityValues,
    ScenarioError,
    Skills,
    Transfer,
)
from optassign.engine.model import evaluate
from optassign.engine.problem import HOUR_SCALE, ProblemData, build_problem
from optassign.engine.relax import raised
from optassign.engine.result import Result
from optassign.engine.search.greedy import greedy_plan
from optassign.engine.solve import ProgressFn, primary_terms, solve_problem
from optassign.handover.notify import (
    DEFAULT_SENDER,
    affected_agents,
    build_messages,
    handover_file_names,
    one_line,
    write_outbox,
)
from optassign.plan.plan import Plan, build_plan
from optassign.scenario.policy import load_policy
from optassign.scenario.scenario import Scenario, apply_events, load_scenario, read_events

__all__ = [
    "HANDOVER_COLUMNS",
    "FRONTIER_COLUMNS",
    "HandoverResult",
    "HandoverSettings",
    "handover",
    "handover_policy",
    "preview",
    "with_plan_in_force",
]

DEFAULT_TIME_LIMIT = 30.0
HANDOVER_COLUMNS = [
    "kind",
    "id",
    "customer_id",
    "from_agent_id",
    "to_agent_id",
    "forced",
    "priority",
    "effort_hours",
    "due_date",
    "reason",
]
FRONTIER_COLUMNS = ["budget", "moves", "objective", "coverage", "gap", "forced", "unassigned", "status"]
KEEP_TERMS = ("keep_assignee", "keep_customer_owner", "keep_owner_tasks")
OWNER_KEEP_TERMS = ("keep_customer_owner", "keep_owner_tasks")  # the ones reading owners in force
# The move budgets a frontier tries: 0, then FRONTIER_FIRST, doubling, at most FRONTIER_POINTS.
FRONTIER_FIRST = 5
FRONTIER_POINTS = 10
FRONTIER_TOLERANCE = 0.001  # stop when the objective improves by no more than 0.1%
FRONTIER_TIME_SHARE = 0.5  # of the time limit, for each frontier solve (small budgets solve fast)
SHOWN_TASKS = 10  # other open tasks of a customer listed on a handover sheet
# A second pass in which handed-over customers' new owners count as owners in force, so that
# keep_owner_tasks draws their open tasks along (see `_run`).
FOLLOW_OWNERS = True
FIRST_PASS_SHARE = 0.7  # of the time limit, when a second pass may follow
# What the write-up after the solves takes, per task (measured: about 2 s at 100,000 tasks);
# the solves end that much before the time limit (at most a fifth of it).
REPORT_SECONDS_PER_TASK = 2.5e-5


# --------------------------------------------------------------------------- handover policy
class HandoverSettings(BaseModel):
    """How much more continuity counts in a handover than in the nightly solve.

    A handover starts from a plan people are working on: moving what need not move costs
    calls, context and trust. So by default the scenario's policy is kept but its disruption
    terms are raised: `keep_boost` multiplies keep_assignee_weight and
    keep_customer_owner_weight, the per-priority and per-tier factors are at least the ones
    given here (moving urgent work and key accounts hurts more), and with `disruption_first`
    the keep terms join the policy's first lexicographic stage, so that a move must be worth
    its disruption against service itself rather than only break ties after it.

    The factors are floors (max with the policy's), so a policy that already weights disruption
    by priority and tier, such as models/handover.yaml (`--policy handover`), is not raised
    twice; the keep weights are multiplied whatever the policy. Pass
    `HandoverSettings(keep_boost=1, disruption_by_priority={}, disruption_by_tier={},
    disruption_first=False)` to re-plan with the policy exactly as it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_boost: float = Field(2.0, ge=0, description="factor on the policy's keep weights")
    disruption_by_priority: PriorityValues = Field(
        default_factory=lambda: {1: 1.0, 2: 1.0, 3: 1.5, 4: 2.0, 5: 3.0},
        description="lower bound on the policy's disruption_by_priority",
    )
    disruption_by_tier: dict[Literal["A", "B", "C"], float] = Field(
        default_factory=lambda: {"A": 3.0, "B": 2.0, "C": 1.0},
        description="lower bound on the policy's disruption_by_tier",
    )
    disruption_first: bool = Field(True, description="keep terms join the first lexicographic stage")


def handover_policy(policy: Policy, settings: HandoverSettings | None = None) -> Policy:
    """The scenario's policy with its disruption terms raised as `settings` say."""
    s = settings or HandoverSettings()
    by_priority = {
        p: max(policy.disruption_by_priority[p], s.disruption_by_priority.get(p, 1.0)) for p in range(1, 6)
    }
    by_tier = {t: max(policy.disruption_by_tier[t], s.disruption_by_tier.get(t, 1.0)) for t in "ABC"}
    stages = policy.stages
    if stages and s.disruption_first:
        rest = [[t for t in st if t not in KEEP_TERMS] for st in stages[1:]]
        first = [t for t in stages[0] if t not in KEEP_TERMS] + list(KEEP_TERMS)
        stages = [first] + [st for st in rest if st]
    return Policy.model_validate(
        {
            **policy.model_dump(),
            "name": f"{policy.name}+handover",
            "keep_assignee_weight": policy.keep_assignee_weight * s.keep_boost,
            "keep_customer_owner_weight": policy.keep_customer_owner_weight * s.keep_boost,
            "disruption_by_priority": by_priority,
            "disruption_by_tier": by_tier,
            "stages": stages,
        }
    )


# --------------------------------------------------------------------------- plan in force
def with_plan_in_force(scenario: Scenario, folder: str | Path) -> Scenario:
    """The scenario whose `assigned_to` / `owner_id` are the agent_id / owner_id of a plan folder.

    The plan must be of this scenario: the same task ids (and customer ids), agents that exist.
    A pin stays only where the plan kept the pinned agent (a pin broken earlier is history)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError([InputProblem(str(folder), None, None, None, "plan folder not found")])
    problems: list[InputProblem] = []
    label = str(folder / "assignments.csv")
    plan = read_table(folder / "assignments.csv", PLAN_ASSIGNMENTS, problems, label)
    owners = None
    if scenario.customers is not None:
        owners = read_table(folder / "owners.csv", PLAN_OWNERS, problems, str(folder / "owners.csv"))
    if problems:
        raise ScenarioError(problems)
    agent_ids = set(scenario.agents["agent_id"])

    def same_ids(frame: pd.DataFrame, key: str, expected: pd.Series, file: str, source: str) -> None:
        missing = sorted(set(expected) - set(frame[key]))
        unknown = sorted(set(frame[key]) - set(expected))
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"{len(missing)} of {source} missing ({_some(missing)})")
            if unknown:
                parts.append(f"{len(unknown)} not in {source} ({_some(unknown)})")
            problems.append(
                InputProblem(
                    file,
                    None,
                    key,
                    None,
                    f"{key}s do not match the scenario: {'; '.join(parts)}; "
                    "--plan needs a plan folder written for this scenario",
                )
            )

    def known_agents(frame: pd.DataFrame, column: str, file: str) -> None:
        lines = frame.attrs.get("lines", np.arange(len(frame)) + 2)
        bad = ~frame[column].isin(agent_ids) & frame[column].ne("")
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                InputProblem(
                    file,
                    int(lines[i]),
                    column,
                    str(frame[column].iat[i]),
                    f"not an agent_id of {scenario.config.agents}",
                )
            )

    same_ids(plan, "task_id", scenario.tasks["task_id"], label, scenario.config.tasks)
    known_agents(plan, "agent_id", label)
    if owners is not None and scenario.customers is not None:
        cust_file = str(folder / "owners.csv")
        same_ids(owners, "customer_id", scenario.customers["customer_id"], cust_file, "customers.csv")
        known_agents(owners, "owner_id", cust_file)
    if problems:
        raise ScenarioError(problems)
    tasks = scenario.tasks.copy()
    agent = tasks["task_id"].map(plan.set_index("task_id")["agent_id"]).astype(object)
    tasks["pinned"] = tasks["pinned"].to_numpy(dtype=bool) & (agent == tasks["assigned_to"]).to_numpy()
    tasks["assigned_to"] = agent
    customers = scenario.customers
    if owners is not None and customers is not None:
        customers = customers.copy()
        new_owner = customers["customer_id"].map(owners.set_index("customer_id")["owner_id"])
        customers["owner_id"] = new_owner.astype(object)
    return scenario.replace(tasks=tasks, customers=customers)


def _some(ids: Sequence[str], n: int = 5) -> str:
    shown = ", ".join(map(str, ids[:n]))
    return shown + (f" and {len(ids) - n} more" if len(ids) > n else "")


# --------------------------------------------------------------------------- result
@dataclass
class HandoverResult:
    """A handover or preview: the new plan (with handover.csv among its tables), the handover
    rows, the KPI deltas against the plan in force, the frontier (when asked) and warnings."""

    plan: Plan
    handover: pd.DataFrame
    kpis: dict
    frontier: pd.DataFrame | None
    warnings: list[str]
    scenario: Scenario  # after the events; assigned_to / owner_id are the plan in force
    events: list[Event]
    sheets: dict[str, str] = field(default_factory=dict)  # receiving agent -> markdown

    @property
    def affected_agents(self) -> list[str]:
        """Everyone who hands over or receives, sorted."""
        return affected_agents(self.handover)

    def messages(self, *, sender: str | None = None, date=None, stems=None) -> dict:
        """One e-mail per affected agent (see notify.build_messages)."""
        return build_messages(
            self.handover,
            self.scenario.agents,
            scenario_name=self.scenario.name,
            events=self.kpis.get("events", []),
            sender=sender or DEFAULT_SENDER,
            date=date,
            stems=stems,
        )

    def write(self, out: str | Path, *, sender: str | None = None, date=None) -> Path:
        """The plan folder (with handover.csv, frontier.csv), one handover sheet per receiving
        agent in handover/<name>.md and one message per affected agent in outbox/<name>.eml,
        written atomically together. <name> is the agent_id when it is a plain file name, else
        a slug and hash of it (names.file_names); handover/index.csv and outbox/index.csv say
        whose file is which, for every agent."""
        out = Path(out)
        stems = handover_file_names(
            [*self.scenario.agents["agent_id"].astype(str), *self.affected_agents, *self.sheets]
        )
        messages = self.messages(sender=sender, date=date, stems=stems)
        with atomic_folder(out) as tmp:
            self.plan.write(tmp)
            sheets = tmp / "handover"
            sheets.mkdir()
            files = {agent: f"{stems[agent]}.md" for agent in self.sheets}
            for agent, text in sorted(self.sheets.items()):
                inside(sheets, files[agent]).write_text(text, encoding="utf-8")
            write_index(sheets, files)
            write_outbox(messages, tmp / "outbox", stems)
        return out


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
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, policy=policy)
    elif policy is not None:
        scenario = scenario.replace(policy=policy if isinstance(policy, Policy) else load_policy(policy))
    if max_moves is not None and max_moves < 0:
        raise ScenarioError([InputProblem("--max-moves", None, None, str(max_moves), "must be >= 0")])
    # The plan in force and the events are both input: report their problems together.
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

    cfg = scenario.config.settings
    time_limit = time_limit or cfg.time_limit or DEFAULT_TIME_LIMIT
    seed = seed if seed is not None else (cfg.seed or 0)
    workers = workers or cfg.workers
    hpolicy = handover_policy(scenario.policy, settings)
    prep = _prepare(before, after, events, hpolicy, max_moves, warnings)
    data = prep.data

    # Customers handed over take their open tasks along (keep_owner_tasks): the engine scores
    # tasks against the owner in force, so a second, shorter pass makes the owner the first
    # pass chose the owner in force of each handed-over customer and re-solves from the first
    # plan. Only tasks free to move (forced, or without an agent in force) can follow at no
    # disruption, so the pass runs only when one of them is not with its customer's new owner.
    free_task = prep.forced | (data.current < 0)
    cust = data.task_customer
    of_forced = (cust >= 0) & prep.owner_forced[np.maximum(cust, 0)] if data.n_customers else cust < -1
    follow = FOLLOW_OWNERS and hpolicy.keep_owner_tasks_weight > 0 and bool((free_task & of_forced).any())
    # The time limit covers the whole handover: what preparing took comes off the solves.
    # So does writing up the result (the plan, the handover table, the sheets): keep it room.
    end = time_limit - min(0.2 * time_limit, REPORT_SECONDS_PER_TASK * data.n_tasks)
    budget = max(1.0, end - (time.perf_counter() - started))
    first_limit = budget * (FIRST_PASS_SHARE if follow else 1.0)
    run = dict(workers=workers, seed=seed)
    # The frontier first: its best plan within the move budget is a start for the main solve
    # (a plan meeting a smaller budget meets a larger one, and no budget at all).
    front, points = None, []
    if frontier:
        front, points = _frontier(
            prep, data, hpolicy, time_limit * FRONTIER_TIME_SHARE, workers, seed, progress
        )
    hint = prep.hint
    usable = [r for b, r in points if r.status.has_solution and (max_moves is None or b <= max_moves)]
    if usable:
        best = max(usable, key=lambda r: r.objective)
        hint = (best.assign, best.owner)
    result = solve_problem(
        data, hpolicy, time_limit=first_limit, hint=hint, progress=_phase(progress, "handover"), **run
    )
    passes = 1
    if follow and result.status.has_solution:
        new_owner = np.where(prep.owner_forced & (result.owner >= 0), result.owner, data.owner)
        task_owner = np.where(of_forced, new_owner[np.maximum(cust, 0)], -1)
        tc = data.task_cand
        could = np.bincount(tc.row[tc.chosen(task_owner)], minlength=data.n_tasks) > 0
        if (free_task & of_forced & could & (result.assign != task_owner)).any():
            first = data
            data = data.replace(owner=new_owner.astype(np.int32))
            bound = None
            if result.relaxation is not None:  # the first pass's, raised for the new owners
                # only the keep terms read the owners in force: the other points do not change
                owner_terms = [t for t in primary_terms(hpolicy) if t in OWNER_KEEP_TERMS]
                bound = raised(result.relaxation, first, data, hpolicy, owner_terms)
            result = solve_problem(
                data,
                hpolicy,
                time_limit=max(1.0, end - (time.perf_counter() - started)),
                hint=(result.assign, result.owner),
                relaxation=bound,
                progress=_phase(progress, "handover, owners' tasks follow"),
                **run,
            )
            passes = 2
    new_plan = build_plan(after.replace(policy=hpolicy), data, result)  # the policy solved
    table = _handover_table(prep, new_plan, result, hpolicy)
    moved = table[table["kind"].eq("task")]
    reason = new_plan.assignments["reason"].to_numpy(dtype=object).copy()
    pos = pd.Index(after.tasks["task_id"]).get_indexer(moved["id"])
    reason[pos] = moved["reason"].to_numpy(dtype=object)
    new_plan.assignments["reason"] = reason

    if front is not None:
        if max_moves is None:  # the handover itself, without a budget, for comparison
            front = pd.concat(
                [front, pd.DataFrame([_frontier_row(None, result, prep, hpolicy)])], ignore_index=True
            )
        new_plan.extra_tables["frontier.csv"] = front
    kpis = _kpis(prep, new_plan, result, table, events, warnings, hpolicy, max_moves, plan, passes)
    kpis["seconds"] = round(time.perf_counter() - started, 3)
    new_plan.summary["handover"] = kpis
    new_plan.extra_tables["handover.csv"] = table
    out = HandoverResult(new_plan, table, kpis, front, warnings, after, list(events))
    out.sheets = _sheets(out, prep)
    return out


def _phase(progress: ProgressFn | None, name: str) -> ProgressFn | None:
    if progress is None:
        return None
    return lambda p: progress(dataclasses.replace(p, phase=f"{name}: {p.phase}"))


# --------------------------------------------------------------------------- the changed problem
@dataclass
class _Prepared:
    """The changed problem and what the reports need to explain it."""

    before: Scenario
    after: Scenario
    data: ProblemData
    free: ProblemData  # candidates before pins and `to:` restrictions (legality)
    hint: tuple[np.ndarray, np.ndarray]
    forced: np.ndarray  # bool[T]
    owner_forced: np.ndarray  # bool[C]
    task_cause: np.ndarray  # object[T]: why a forced task must move ("" if not forced)
    owner_cause: np.ndarray  # object[C]
    restricted: np.ndarray  # bool[T]: candidates cut to a leave's `to:` agents
    owner_restricted: np.ndarray  # bool[C]
    receivers: dict[str, list[str]]  # leaver -> `to:` agents
    hired: set[str]
    pin_broken: np.ndarray  # bool[T]
    cause: np.ndarray  # object[T]: kind of forced move ("" if not forced), for the KPIs
    owner_cause_kind: np.ndarray  # object[C]


def _prepare(
    before: Scenario,
    after: Scenario,
    events: list[Event],
    policy: Policy,
    max_moves: int | None,
    warnings: list[str],
) -> _Prepared:
    """Derive the changed problem: legality of the plan in force after the events, forced rows,
    candidates of a leaver's work cut to its `to:` agents, pins, and a hint that keeps
    everything unforced and places the rest greedily.

    A pin holds while its agent is active and may legally keep the task. A pin whose agent is
    still active but may no longer hold it (a transfer, a skills change, a capacity cut below
    the pinned hours) is broken like a leaver's, and a warning says so: the contract's hard
    rules cannot all hold for it, and the manual decision behind it needs a look."""
    free = build_problem(after.replace(tasks=after.tasks.assign(pinned=False)), policy)
    d = free
    T, C = d.n_tasks, d.n_customers
    tc, oc = d.task_cand, d.owner_cand
    cur, own = d.current, d.owner
    ids = d.agent_ids
    legal = np.bincount(tc.row[tc.chosen(cur)], minlength=T) > 0
    legal_o = np.bincount(oc.row[oc.chosen(own)], minlength=C) > 0
    was_active = dict(zip(before.agents["agent_id"], before.agents["active"].astype(bool), strict=True))
    task_cause = np.full(T, "", dtype=object)
    owner_cause = np.full(C, "", dtype=object)

    def why_illegal(row_skill: np.ndarray, region: int, a: int) -> str:
        name = ids[a]
        if not d.active[a]:
            return f"{name} leaves" if was_active.get(name, True) else f"{name} is inactive"
        if d.region_hard and region >= 0 and not d.agent_region[a, region]:
            return f"{name} does not cover region {d.region_names[region]}"
        short = [f"{d.skill_names[s]}>={row_skill[s]}" for s in np.flatnonzero(row_skill > d.agent_skill[a])]
        if short:
            return f"{name} lacks {' and '.join(short)}"
        return f"{name} may not hold it"

    for t in np.flatnonzero((cur >= 0) & ~legal).tolist():
        task_cause[t] = why_illegal(d.task_skill[t], int(d.task_region[t]), int(cur[t]))
    for c in np.flatnonzero((own >= 0) & ~legal_o).tolist():
        owner_cause[c] = why_illegal(d.customer_skill[c], int(d.customer_region[c]), int(own[c]))

    pinned_raw = after.tasks["pinned"].to_numpy(dtype=bool) & (cur >= 0)
    kept = (cur >= 0) & legal
    kept_o = (own >= 0) & legal_o
    _force_overloads(before, after, d, policy, kept, kept_o, pinned_raw, task_cause, owner_cause)
    forced = task_cause != ""
    owner_forced = owner_cause != ""
    pin_broken = pinned_raw & forced
    pinned = pinned_raw & ~forced
    task_ids = after.tasks["task_id"].to_numpy(dtype=object)
    for t in np.flatnonzero(pin_broken).tolist():
        if d.active[cur[t]]:
            warnings.append(
                f"{task_ids[t]} is pinned to {ids[cur[t]]}, who is still active but may not keep it "
                f"after the changes ({task_cause[t]}): the pin is broken and the task re-planned"
            )
        task_cause[t] = f"pin broken: {task_cause[t]}"

    # Candidates: a kept pin only with its agent; a leaver's work only to its `to:` agents.
    receivers: dict[str, list[str]] = {}
    for e in events:
        if isinstance(e, Leave):
            targets = [a for a in e.to or [] if a != e.leave]  # naming oneself was warned about
            if targets:
                receivers[e.leave] = targets
            else:
                receivers.pop(e.leave, None)
    agent_pos = pd.Index(ids)
    keep = ~pinned[tc.row] | (tc.agent == cur[tc.row])
    keep_o = np.ones(len(oc), dtype=bool)
    restricted = np.zeros(T, dtype=bool)
    owner_restricted = np.zeros(C, dtype=bool)
    for leaver, targets in sorted(receivers.items()):
        li = agent_pos.get_loc(leaver)
        allowed = agent_pos.get_indexer(targets)
        rows = cur == li
        restricted |= rows
        keep &= ~rows[tc.row] | np.isin(tc.agent, allowed)
        rows_o = own == li
        owner_restricted |= rows_o
        keep_o &= ~rows_o[oc.row] | np.isin(oc.agent, allowed)
    data = d.replace(
        task_cand=tc.select(keep),
        owner_cand=oc.select(keep_o),
        pinned=pinned,
        pin_broken=pin_broken,
        forced=forced,
        owner_forced=owner_forced,
        move_budget=max_moves,
    )
    hired = {str(e.hire["agent_id"]).strip() for e in events if isinstance(e, Hire)}
    hint = _hint(data, kept & ~forced, kept_o & ~owner_forced)
    return _Prepared(
        before,
        after,
        data,
        free,
        hint,
        forced,
        owner_forced,
        task_cause,
        owner_cause,
        restricted,
        owner_restricted,
        receivers,
        hired,
        pin_broken,
        _kinds(forced, pin_broken, cur, d.active, legal),
        _kinds(owner_forced, np.zeros(C, dtype=bool), own, d.active, legal_o),
    )


def _kinds(
    forced: np.ndarray, pin_broken: np.ndarray, agent: np.ndarray, active: np.ndarray, legal: np.ndarray
) -> np.ndarray:
    """Kind of each forced move: pin broken, agent left, not eligible, over capacity."""
    out = np.full(len(forced), "", dtype=object)
    gone = ~active[np.maximum(agent, 0)]
    out[forced & legal] = "over capacity"
    out[forced & ~legal & ~gone] = "not eligible"
    out[forced & gone] = "agent left"
    out[pin_broken] = "pin broken"
    return out


def _force_overloads(
    before: Scenario,
    after: Scenario,
    d: ProblemData,
    policy: Policy,
    kept: np.ndarray,
    kept_o: np.ndarray,
    pinned: np.ndarray,
    task_cause: np.ndarray,
    owner_cause: np.ndarray,
) -> None:
    """Mark as forced, per agent whose limits the work it legally keeps exceeds (a capacity cut,
    or a plan in force already over its limits), the lowest-value items until the rest fits:
    unpinned tasks first (lowest priority value, then latest due date, then largest effort, then
    id), then owned customers (lowest tier first), then pinned tasks (their pins break).
    Changes `kept`, `kept_o`, `task_cause` and `owner_cause` in place."""
    tasks = after.tasks
    T = d.n_tasks
    cur, own = d.current, d.owner
    hours = np.bincount(cur[kept], weights=d.effort[kept], minlength=d.n_agents).astype(np.int64)
    hours += np.bincount(own[kept_o], weights=d.ownership_hours[kept_o], minlength=d.n_agents).astype(
        np.int64
    )
    count = np.bincount(cur[kept], minlength=d.n_agents)
    owned = np.bincount(own[kept_o], minlength=d.n_agents)
    cap_t = np.where(d.max_tasks >= 0, d.max_tasks, np.iinfo(np.int64).max)
    cap_c = np.where(d.max_customers >= 0, d.max_customers, np.iinfo(np.int64).max)
    over = (hours > d.capacity) | (count > cap_t) | (owned > cap_c)
    if not over.any():
        return
    value = np.array([0.0] + [policy.priority_value[p] for p in range(1, 6)])[d.priority]
    due = tasks["due_date"].to_numpy(dtype="datetime64[D]").astype(np.int64).astype(float)
    due = np.where(tasks["due_date"].isna().to_numpy(), np.inf, due)
    # lowest value first: value asc, due desc, effort desc, position asc
    order = np.lexsort((np.arange(T), -d.effort, -due, value, pinned.astype(int)))
    tier_value = np.array([policy.ownership_value[t] for t in "ABC"])[d.tier]
    order_o = np.lexsort((np.arange(d.n_customers), -d.ownership_hours, tier_value))
    old_cap = dict(zip(before.agents["agent_id"], before.agents["capacity_hours"], strict=True))
    for a in np.flatnonzero(over).tolist():
        name = d.agent_ids[a]
        cap = float(after.agents["capacity_hours"].iat[a])
        load = hours[a] / HOUR_SCALE
        if hours[a] > d.capacity[a]:
            was = old_cap.get(name)
            if was is not None and cap < was:
                why = (
                    f"{name}'s capacity is cut from {was:g} h to {cap:g} h, below the {load:g} h it "
                    "holds in force; its lowest-value work moves first"
                )
            else:
                why = (
                    f"{name} holds {load:g} h in the plan in force, above its {cap:g} h capacity; "
                    "its lowest-value work moves first"
                )
        elif count[a] > cap_t[a]:
            why = (
                f"{name} holds {count[a]} tasks in force, above its max_tasks {d.max_tasks[a]}; "
                "its lowest-value tasks move first"
            )
        else:
            why = (
                f"{name} owns {owned[a]} customers in force, above its max_customers "
                f"{d.max_customers[a]}; its lowest-tier customers move first"
            )
        mine = order[kept[order] & (cur[order] == a)]
        mine_o = order_o[kept_o[order_o] & (own[order_o] == a)]
        loose, pins = mine[~pinned[mine]], mine[pinned[mine]]

        # Drop in this order until the rest fits: customers over max_customers, unpinned
        # tasks, customers (hours), pinned tasks.
        queue_o = mine_o.tolist()
        steps = [("c", c, "count") for c in queue_o] + [("t", t, "any") for t in loose.tolist()]
        steps += [("c", c, "hours") for c in queue_o] + [("t", t, "any") for t in pins.tolist()]
        dropped_o: set[int] = set()
        for kind, i, need in steps:
            over_h = hours[a] > d.capacity[a]
            if kind == "c":
                if i in dropped_o or not (owned[a] > cap_c[a] if need == "count" else over_h):
                    continue
                dropped_o.add(i)
                kept_o[i] = False
                owner_cause[i] = why
                hours[a] -= d.ownership_hours[i]
                owned[a] -= 1
            elif over_h or count[a] > cap_t[a]:
                kept[i] = False
                task_cause[i] = why
                hours[a] -= d.effort[i]
                count[a] -= 1


def _hint(data: ProblemData, kept: np.ndarray, kept_o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plan in force minus what must move, completed greedily in the room that is left
    (greedy_plan on the residual problem), so the hint keeps every unforced item and so meets
    every move budget."""
    d = data
    tc, oc = d.task_cand, d.owner_cand
    start = np.where(kept, d.current, -1).astype(np.int32)
    start_o = np.where(kept_o, d.owner, -1).astype(np.int32)
    used = tc.weight_of(start)
    load = np.bincount(start[kept], weights=used[kept], minlength=d.n_agents).astype(np.int64)
    load += np.bincount(start_o[kept_o], weights=d.ownership_hours[kept_o], minlength=d.n_agents).astype(
        np.int64
    )
    count = np.bincount(start[kept], minlength=d.n_agents)
    owned = np.bincount(start_o[kept_o], minlength=d.n_agents)
    residual = d.replace(
        capacity=np.maximum(d.capacity - load, 0),
        max_tasks=np.where(d.max_tasks >= 0, np.maximum(d.max_tasks - count, 0), -1),
        max_customers=np.where(d.max_customers >= 0, np.maximum(d.max_customers - owned, 0), -1),
        task_cand=tc.select(~kept[tc.row]),
        owner_cand=oc.select(~kept_o[oc.row]),
        pinned=np.zeros(d.n_tasks, dtype=bool),
        move_budget=None,
    )
    rest, rest_o = greedy_plan(residual, keep_current=False)
    return np.where(kept, start, rest).astype(np.int32), np.where(kept_o, start_o, rest_o).astype(np.int32)


# --------------------------------------------------------------------------- reports
def _names(items: Sequence[str]) -> str:
    return ", ".join(items)


def _handover_table(prep: _Prepared, plan: Plan, result: Result, policy: Policy) -> pd.DataFrame:
    """handover.csv: one row per task or customer whose agent changes, with why it moved and why
    to this agent; the input's notes / history / special_notes carried along."""
    d, after = prep.data, prep.after
    tasks, customers = after.tasks, after.customers
    ids = np.append(d.agent_ids, "")
    assign, owner = result.assign, result.owner
    frm = tasks["assigned_to"].to_numpy(dtype=object)
    to = ids[assign]
    rows_t = np.flatnonzero((frm != "") & (to != frm))
    keep_points = policy.keep_assignee_weight * np.array(
        [0.0] + [policy.disruption_by_priority[p] for p in range(1, 6)]
    )
    owner_changed = owner != prep.free.owner  # against the owner in force, not a second pass's
    cust_ids = np.append(d.customer_ids, "")
    records = []
    for t in rows_t.tolist():
        a, c = int(assign[t]), int(d.task_customer[t])
        if prep.forced[t]:
            why = prep.task_cause[t]
        else:
            pts = keep_points[d.priority[t]]
            why = f"voluntary: the new plan gains more from it than its disruption costs ({pts:g} points)"
        if prep.restricted[t] and frm[t] in prep.receivers:
            why += f" (handover only to {_names(prep.receivers[frm[t]])})"
        if a < 0:
            where = "not placed: " + _unplaced(prep, t, plan.assignments["reason"].iat[t])
        else:
            n = int(d.task_cand.ptr[t + 1] - d.task_cand.ptr[t])
            bits = []
            if c >= 0 and owner[c] == a:
                bits.append("the customer's new owner" if owner_changed[c] else "the customer's owner")
            if to[t] in prep.hired:
                bits.append("new hire")
            if prep.restricted[t] and frm[t] in prep.receivers:
                bits.append(f"best of {n} named receivers" if n > 1 else "the only named receiver who can")
            elif not bits:
                bits.append("the only eligible agent" if n == 1 else f"best of {n} eligible agents")
            where = f"to {to[t]}: " + ", ".join(bits)
        records.append(
            {
                "kind": "task",
                "id": tasks["task_id"].iat[t],
                "customer_id": tasks["customer_id"].iat[t],
                "from_agent_id": frm[t],
                "to_agent_id": to[t],
                "forced": bool(prep.forced[t]),
                "priority": int(d.priority[t]),
                "effort_hours": float(tasks["effort_hours"].iat[t]),
                "due_date": _date(tasks["due_date"].iat[t]),
                "reason": f"{why}; {where}",
                "_row": t,
            }
        )
    if customers is not None:
        frm_o = customers["owner_id"].to_numpy(dtype=object)
        to_o = ids[owner]
        for c in np.flatnonzero((frm_o != "") & (to_o != frm_o)).tolist():
            a = int(owner[c])
            if prep.owner_forced[c]:
                why = prep.owner_cause[c]
            else:
                pts = policy.keep_customer_owner_weight * policy.disruption_by_tier["ABC"[d.tier[c]]]
                why = f"voluntary: the new plan gains more from it than its disruption costs ({pts:g} points)"
            if prep.owner_restricted[c] and frm_o[c] in prep.receivers:
                why += f" (handover only to {_names(prep.receivers[frm_o[c]])})"
            if a < 0:
                where = "not placed: " + _unowned(prep, c)
            else:
                n = int(d.owner_cand.ptr[c + 1] - d.owner_cand.ptr[c])
                bits = ["new hire"] if to_o[c] in prep.hired else []
                if prep.owner_restricted[c] and frm_o[c] in prep.receivers:
                    bits.append(
                        "the only named receiver who can" if n == 1 else f"best of {n} named receivers"
                    )
                else:
                    bits.append("the only eligible owner" if n == 1 else f"best of {n} eligible owners")
                was = prep.free.owner[c]  # the owner in force
                along = int(((d.task_customer == c) & (assign == a) & (d.current == was)).sum())
                if along:
                    bits.append(f"{along} of its open tasks go along")
                where = f"to {to_o[c]}: " + ", ".join(bits)
            records.append(
                {
                    "kind": "customer",
                    "id": cust_ids[c],
                    "customer_id": cust_ids[c],
                    "from_agent_id": frm_o[c],
                    "to_agent_id": to_o[c],
                    "forced": bool(prep.owner_forced[c]),
                    "priority": None,
                    "effort_hours": None,
                    "due_date": "",
                    "reason": f"{why}; {where}",
                    "_row": c,
                }
            )
    table = pd.DataFrame(records, columns=[*HANDOVER_COLUMNS, "_row"])
    table["priority"] = table["priority"].astype("Int64")
    table["effort_hours"] = table["effort_hours"].astype(float)
    table["forced"] = table["forced"].astype(bool)
    for name in CONTEXT_COLUMNS:
        in_t = name in tasks.columns
        in_c = customers is not None and name in customers.columns
        if not (in_t or in_c):
            continue
        col = pd.Series("", index=table.index, dtype=object)
        is_t = table["kind"].eq("task")
        if in_t and is_t.any():
            col[is_t] = _text(tasks[name]).to_numpy()[table.loc[is_t, "_row"].to_numpy(dtype=int)]
        if in_c and (~is_t).any():
            col[~is_t] = _text(customers[name]).to_numpy()[table.loc[~is_t, "_row"].to_numpy(dtype=int)]
        table[name] = col
    table = table.sort_values(["from_agent_id", "kind", "id"], kind="stable").reset_index(drop=True)
    return table.drop(columns="_row")


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str)


def _date(value) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _unplaced(prep: _Prepared, t: int, reason: str) -> str:
    """Why a task that had to move found nobody; for a leave with `to:` the named agents."""
    d = prep.data
    frm = prep.after.tasks["assigned_to"].iat[t]
    if prep.restricted[t] and frm in prep.receivers:
        named = prep.receivers[frm]
        f = prep.free.task_cand
        lo, hi = f.ptr[t], f.ptr[t + 1]
        legal = set(d.agent_ids[f.agent[lo:hi]]) & set(named)
        if not legal:
            who = _names(named) or "the named agents"
            return f"none of {who} may legally take it (active, region, skills)"
        return f"{_names(sorted(legal))} may take it but have no room for it"
    return reason


def _unowned(prep: _Prepared, c: int) -> str:
    d = prep.data
    n = int(d.owner_cand.ptr[c + 1] - d.owner_cand.ptr[c])
    frm = prep.after.customers["owner_id"].iat[c]
    if prep.owner_restricted[c] and frm in prep.receivers and n == 0:
        return f"none of {_names(prep.receivers[frm])} may legally own it (active, region, skills)"
    if n == 0:
        return "no active agent may own it (region, skills)"
    return "every eligible owner is full or at max_customers, or owning it is worth less than its load"


def _coverage(priority: np.ndarray, done: np.ndarray) -> float | None:
    total = priority.sum()
    return None if total == 0 else round(float(priority[done].sum() / total), 6)


def _kpis(
    prep: _Prepared,
    plan: Plan,
    result: Result,
    table: pd.DataFrame,
    events: list[Event],
    warnings: list[str],
    policy: Policy,
    max_moves: int | None,
    plan_dir: str | Path | None,
    passes: int,
) -> dict:
    """KPI deltas against the plan in force: coverage by priority, unassigned work, load of
    every receiving agent before and after, moves forced and voluntary."""
    d, before, after = prep.data, prep.before, prep.after
    prio = d.priority.astype(int)
    done_before = d.current >= 0
    done_after = result.assign >= 0
    effort = after.tasks["effort_hours"].to_numpy(dtype=float)
    by_p = {}
    for p in range(5, 0, -1):
        m = prio == p
        by_p[str(p)] = {
            "tasks": int(m.sum()),
            "before": int((m & done_before).sum()),
            "after": int((m & done_after).sum()),
            "delta": int((m & done_after).sum() - (m & done_before).sum()),
        }
    cov_b, cov_a = _coverage(prio, done_before), _coverage(prio, done_after)
    # load in force: on the staffing before the events
    b_ids = before.agents["agent_id"].to_numpy(dtype=object)
    b_cap = dict(zip(b_ids, before.agents["capacity_hours"].astype(float), strict=True))
    b_hours: dict[str, float] = {}
    for a, h in zip(before.tasks["assigned_to"], effort, strict=True):
        if a:
            b_hours[a] = b_hours.get(a, 0.0) + h
    if before.customers is not None:
        own_hours = before.customers["ownership_hours"].astype(float)
        for a, h in zip(before.customers["owner_id"], own_hours, strict=True):
            if a:
                b_hours[a] = b_hours.get(a, 0.0) + h
    load = plan.agent_load.set_index("agent_id")
    receivers = {}
    placed = table[table["to_agent_id"].ne("")]
    for agent, group in placed.groupby("to_agent_id", sort=True):
        cap_b = b_cap.get(agent)
        hb = round(b_hours.get(agent, 0.0), 6)
        row = load.loc[agent]
        receivers[agent] = {
            "received_tasks": int(group["kind"].eq("task").sum()),
            "received_customers": int(group["kind"].eq("customer").sum()),
            "hours_before": hb,
            "hours_after": round(float(row["hours"]), 6),
            "capacity_before": cap_b,
            "capacity_after": float(row["capacity_hours"]),
            "utilization_before": round(hb / cap_b, 6) if cap_b else None,
            "utilization_after": round(float(row["utilization"]), 6),
        }
    causes: dict[str, int] = {}
    forced = table[table["forced"]]
    for kind, ids, kinds in (
        ("task", d.task_ids, prep.cause),
        ("customer", d.customer_ids, prep.owner_cause_kind),
    ):
        rows = pd.Index(ids).get_indexer(forced.loc[forced["kind"].eq(kind), "id"])
        for key in kinds[rows]:
            causes[key] = causes.get(key, 0) + 1
    return {
        "events": [_describe(e, before) for e in events],
        "plan_in_force": str(plan_dir) if plan_dir is not None else "assigned_to and owner_id of the input",
        "policy": policy.name,
        "move_budget": max_moves,
        "passes": passes,
        "moves": {
            "forced": int(table["forced"].sum()),
            "voluntary": int((~table["forced"]).sum()),
            "tasks": int(table["kind"].eq("task").sum()),
            "customers": int(table["kind"].eq("customer").sum()),
            "unplaced": int(table["to_agent_id"].eq("").sum()),
            "pins_broken": int(prep.pin_broken.sum()),
            "forced_by_cause": dict(sorted(causes.items())),
        },
        "coverage": {
            "before": cov_b,
            "after": cov_a,
            "delta": None if cov_b is None or cov_a is None else round(cov_a - cov_b, 6),
        },
        "assigned_by_priority": by_p,
        "unassigned": {
            "tasks_before": int((~done_before).sum()),
            "tasks_after": int((~done_after).sum()),
            "hours_before": round(float(effort[~done_before].sum()), 6),
            "hours_after": round(float(effort[~done_after].sum()), 6),
        },
        "receivers": receivers,
        "warnings": list(warnings),
    }


def _describe(e: Event, before: Scenario) -> str:
    agents = before.agents.set_index("agent_id")
    if isinstance(e, Leave):
        return f"leave {e.leave}" + (f" (to {_names(e.to)})" if e.to else "")
    if isinstance(e, Hire):
        h = e.hire
        return f"hire {h.get('agent_id')} ({h.get('capacity_hours')} h, regions {h.get('regions', '')})"
    if isinstance(e, Capacity):
        ch = e.capacity
        was = agents["capacity_hours"].get(ch.agent)
        return f"capacity {ch.agent}: {was:g} h -> {ch.capacity_hours:g} h" if was is not None else ""
    if isinstance(e, Transfer):
        ch = e.transfer
        regions = ";".join(ch.regions) if isinstance(ch.regions, list) else ch.regions
        return f"transfer {ch.agent}: regions {agents['regions'].get(ch.agent, '')} -> {regions}"
    if isinstance(e, Skills):
        ch = e.skills
        skills = ";".join(ch.skills) if isinstance(ch.skills, list) else ch.skills
        return f"skills {ch.agent}: {agents['skills'].get(ch.agent, '')} -> {skills}"
    return str(e)


# --------------------------------------------------------------------------- frontier
def _frontier(
    prep: _Prepared,
    data: ProblemData,
    policy: Policy,
    time_limit: float,
    workers: int | None,
    seed: int,
    progress: ProgressFn | None,
) -> tuple[pd.DataFrame, list[tuple[int, Result]]]:
    """Objective against move budget: budgets 0, 5, 10, 20, ... doubling until the objective
    improves by no more than 0.1% (or every movable item may move), each solve given
    `time_limit` and started from the previous one's plan, which meets the larger budget
    too. Returns frontier.csv's rows and each budget's result."""
    movable = int((data.task_cand.chosen(data.current) & ~prep.forced[data.task_cand.row]).sum())
    movable += int((data.owner_cand.chosen(data.owner) & ~prep.owner_forced[data.owner_cand.row]).sum())
    rows, points = [], []
    hint = prep.hint
    previous = None
    budget = 0
    for _ in range(FRONTIER_POINTS):
        r = solve_problem(
            data.replace(move_budget=budget),
            policy,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            hint=hint,
            progress=_phase(progress, f"frontier, budget {budget}"),
        )
        rows.append(_frontier_row(budget, r, prep, policy))
        points.append((budget, r))
        if r.status.has_solution:
            hint = (r.assign, r.owner)
        if budget >= movable:
            break
        value = rows[-1]["objective"]
        if previous is not None and value - previous <= FRONTIER_TOLERANCE * max(1.0, abs(previous)):
            break
        previous = value
        budget = FRONTIER_FIRST if budget == 0 else budget * 2
    return pd.DataFrame(rows, columns=FRONTIER_COLUMNS), points


def _frontier_row(budget: int | None, r: Result, prep: _Prepared, policy: Policy) -> dict:
    """One frontier point. The objective is the policy's first stage recomputed from the plan on
    the first pass's problem, so points stay comparable when a second pass re-scored owners;
    the gap is that stage's."""
    d = prep.data
    moved = (d.current >= 0) & (r.assign != d.current)
    moved_o = (d.owner >= 0) & (r.owner != d.owner)
    terms = evaluate(d, policy, r.assign, r.owner)
    gap = r.stages[0].gap if r.stages else r.gap
    return {
        "budget": "" if budget is None else budget,
        "moves": int((moved & ~prep.forced).sum() + (moved_o & ~prep.owner_forced).sum()),
        "objective": round(sum(terms[t] for t in primary_terms(policy)), 6),
        "coverage": _coverage(d.priority.astype(int), r.assign >= 0),
        "gap": round(float(gap), 6) if np.isfinite(gap) else None,
        "forced": int((moved & prep.forced).sum() + (moved_o & prep.owner_forced).sum()),
        "unassigned": int((r.assign < 0).sum()),
        "status": r.status.value,
    }


# --------------------------------------------------------------------------- sheets
# What turns text into markup when a sheet is rendered: raw HTML (<), links and images ([ ]),
# code (`) and the escape itself. Emphasis (* _) is left alone: harmless, and common in ids.
_MARKUP = str.maketrans({c: "\\" + c for c in "\\`<[]"})


def _md(value: object) -> str:
    """A CRM value as Markdown text: on one line (a note's line break would start a heading or
    a list item of its own) and with the characters that start markup escaped, so a value never
    becomes a link, an image or raw HTML when the sheet is rendered."""
    return one_line(value).translate(_MARKUP)


def _sheets(res: HandoverResult, prep: _Prepared) -> dict[str, str]:
    """A readable markdown sheet per receiving agent: what it receives, from whom, why, with
    the customer's other open tasks and the notes. Every value from the input goes through
    `_md`."""
    table = res.handover
    if table.empty:
        return {}
    after = prep.after
    tasks = after.tasks
    names = dict(zip(after.agents["agent_id"], after.agents["name"].astype(str), strict=True))
    customers = after.customers if after.customers is not None else pd.DataFrame(columns=["customer_id"])
    wanted = set(table["customer_id"]) | set(table.loc[table["kind"].eq("customer"), "id"])
    cust = customers[customers["customer_id"].isin(wanted)].set_index("customer_id").to_dict("index")
    moved = tasks[tasks["task_id"].isin(table.loc[table["kind"].eq("task"), "id"])]
    task_info = moved.set_index("task_id")[["type", "required_skills"]].to_dict("index")
    owners = res.plan.owners.set_index("customer_id")["owner_id"] if res.plan.owners is not None else None
    # the other open tasks of every customer concerned, briefly, in task order
    theirs = tasks[tasks["customer_id"].isin(cust)]
    who = (
        theirs["task_id"]
        .map(res.plan.assignments.set_index("task_id")["agent_id"])
        .map(_md)
        .replace("", "unassigned")
    )
    # built as text even when no task is concerned (an empty map keeps the datetime dtype)
    due = pd.Series([_date(v) or "none" for v in theirs["due_date"]], index=theirs.index, dtype=object)
    brief = (
        theirs["task_id"].map(_md)
        + " (P"
        + theirs["priority"].astype(int).astype(str)
        + ", due "
        + due
        + ", "
        + who
        + ")"
    )
    by_customer: dict[str, list[tuple[str, str]]] = {}
    for c, t, b in zip(theirs["customer_id"], theirs["task_id"], brief, strict=True):
        by_customer.setdefault(c, []).append((t, b))
    load = res.kpis["receivers"]
    context = [c for c in CONTEXT_COLUMNS if c in table.columns]
    out = {}
    received = table[table["to_agent_id"].ne("")].sort_values(["to_agent_id", "id"], kind="stable")
    per_agent: dict[str, list[dict]] = {}
    for r in received.to_dict("records"):
        per_agent.setdefault(r["to_agent_id"], []).append(r)
    for agent, group in per_agent.items():
        who = f"{_md(agent)} ({_md(names[agent])})" if names.get(agent) else _md(agent)
        k = load.get(agent, {})
        lines = [f"# Handover to {who}", ""]
        if res.kpis["events"]:
            lines += ["Staffing changes: " + "; ".join(_md(e) for e in res.kpis["events"] if e) + ".", ""]
        util_b = k.get("utilization_before")
        util_a = k.get("utilization_after")
        lines += [
            f"Your load: {k.get('hours_before', 0):g} h -> {k.get('hours_after', 0):g} h of "
            f"{k.get('capacity_after', 0):g} h"
            + (f" ({util_b:.0%} -> {util_a:.0%})" if util_b is not None and util_a is not None else "")
            + f"; you receive {len(group)} item(s).",
            "",
        ]
        for kind, title in (("customer", "Customers"), ("task", "Tasks")):
            part = [r for r in group if r["kind"] == kind]
            if not part:
                continue
            lines += [f"## {title} received ({len(part)})", ""]
            for r in part:
                frm = r["from_agent_id"]
                frm_text = f"{_md(frm)} ({_md(names[frm])})" if names.get(frm) else _md(frm)
                if kind == "task":
                    t = task_info[r["id"]]
                    head = (
                        f"### {_md(r['id'])} · priority {r['priority']} · "
                        f"due {_md(r['due_date']) or 'none'} · {r['effort_hours']:g} h"
                    )
                    lines += [head, "", f"- from: {frm_text}" + (" (forced)" if r["forced"] else "")]
                    if t["type"]:
                        skills = _md(t["required_skills"]) or "none"
                        lines.append(f"- type: {_md(t['type'])}; required skills: {skills}")
                else:
                    c = cust[r["id"]]
                    lines += [
                        f"### {_md(r['id'])} {_md(c['name'])} · tier {_md(c['tier'])}",
                        "",
                        f"- from: {frm_text}" + (" (forced)" if r["forced"] else ""),
                    ]
                customer = r["customer_id"]
                if customer and customer in cust:
                    c = cust[customer]
                    now = owners.get(customer, "") if owners is not None else ""
                    if kind == "task":
                        lines.append(
                            f"- customer: {_md(customer)} {_md(c['name'])} "
                            f"(tier {_md(c['tier'])}, owner {_md(now) or 'none'})"
                        )
                    others = [b for x, b in by_customer.get(customer, []) if x != r["id"]]
                    if others:
                        shown = others[:SHOWN_TASKS]
                        more = len(others) - SHOWN_TASKS
                        lines.append(
                            "- the customer's other open tasks: "
                            + ", ".join(shown)
                            + (f" and {more} more" if more > 0 else "")
                        )
                for name in context:
                    if r[name]:
                        lines.append(f"- {name}: {_md(r[name])}")
                lines += [f"- why: {_md(r['reason'])}", ""]
        out[agent] = "\n".join(lines).rstrip() + "\n"
    return out
