"""Why a task went where it went, or why it went nowhere: short reasons for every row of a plan,
computed from the problem's arrays and the chosen assignment."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optassign.contract.schema import TERMS, InputProblem, ScenarioError
from optassign.engine import days
from optassign.engine.model.objective import evaluate
from optassign.engine.problem import HOUR_SCALE, ProblemData, build_problem
from optassign.engine.relax import pair_coefficients
from optassign.plan.folder import read_plan
from optassign.plan.plan import Plan
from optassign.plan.reasons import assigned_reason, free_by_day, late_reason, unassigned_reason
from optassign.scenario.levers import apply_levers
from optassign.scenario.policy import load_policy
from optassign.scenario.scenario import Scenario, load_scenario


# --------------------------------------------------------------------------- one task, in depth
@dataclass
class TaskExplanation:
    """Why one task of a plan is where it is.

    `status` is assigned, pinned, unassigned (eligible agents exist) or blocked (none does).
    `terms`: points the chosen (task, agent) pair earns, per objective term (non-zero only).
    `alternatives`: other eligible agents, best first: `worse_by` is the plan's total objective
    minus the objective with this task moved there (for an unassigned task: placed there),
    counting every term including balance; `has_room` says whether the agent has the hours
    (and task count) for it now; `lowest_priority` is the lowest priority of its work.
    `near_misses` (blocked tasks): active agents that fail the fewest eligibility rules."""

    task_id: str
    status: str
    agent_id: str
    priority: int
    effort_hours: float
    reason: str
    terms: dict[str, float] = field(default_factory=dict)
    alternatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    unassign_change: float | None = None
    near_misses: pd.DataFrame | None = None

    def __str__(self) -> str:
        return self.text()

    def text(self) -> str:
        """Plain-text rendering (what `optassign explain` shows, without colours)."""
        head = f"{self.task_id} (priority {self.priority}, {self.effort_hours:g} h): "
        head += f"{self.status}" + (f" to {self.agent_id}" if self.agent_id else "") + f": {self.reason}"
        lines = [head]
        if self.terms:
            total = sum(self.terms.values())
            lines.append(f"  points of this pair: {_terms_text(self.terms)} (total {total:+.4g})")
        if self.unassign_change is not None:
            lines.append(f"  leaving it unassigned: {-self.unassign_change:+.4g} points worse")
        for row in self.alternatives.itertuples(index=False):
            room = "has room" if row.has_room else "no room"
            lines.append(
                f"  {row.agent_id}: worse by {row.worse_by:.4g} ({room}: {row.hours_left:g} h left for "
                f"{row.effort_hours:g} h; lowest priority of its work {_text(row.lowest_priority)})"
                + (f"; {row.term_changes}" if row.term_changes else "")
            )
        if self.near_misses is not None:
            for row in self.near_misses.itertuples(index=False):
                why = []
                if not row.covers_region:
                    why.append("does not cover the region")
                if row.missing_skills:
                    why.append(f"lacks {row.missing_skills}")
                lines.append(f"  near miss {row.agent_id}: {'; '.join(why)}")
        return "\n".join(lines)


def _text(x: object) -> str:
    return "-" if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)) else str(x)


def _terms_text(terms: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:+.4g}" for k, v in terms.items())


@dataclass(frozen=True)
class _Context:
    data: ProblemData
    policy: object
    assign: np.ndarray
    owner: np.ndarray


def explain_tasks(
    plan,
    task_ids,
    *,
    scenario=None,
    policy=None,
    alternatives: int | None = 5,
) -> list[TaskExplanation]:
    """Explain tasks of a plan: a `Plan` from `solve`, or a plan folder with its `scenario`
    (a Scenario or folder; plan folders do not record theirs). The policy is the plan's (by the
    name in summary.json) unless `policy` is given. Unknown task ids raise `ScenarioError`.

    optassign.explain(plan, ["T0000012"])[0].alternatives"""
    ids = [task_ids] if isinstance(task_ids, str) else list(task_ids)
    ctx = _context(plan, scenario, policy)
    d = ctx.data
    pos = pd.Index(d.task_ids).get_indexer(pd.Index(ids, dtype=object))
    unknown = [i for i, p in zip(ids, pos, strict=True) if p < 0]
    if unknown:
        raise ScenarioError(
            [InputProblem("task_id", None, None, str(i), "not a task of this plan") for i in unknown]
        )
    state = _PlanState(ctx)
    return [state.explain(int(t), alternatives) for t in pos]


def _context(plan, scenario, policy) -> _Context:
    """Problem data, policy and assignment arrays behind a plan (rebuilt for a plan folder)."""

    if isinstance(policy, str):
        policy = load_policy(policy)
    if isinstance(plan, Plan) and plan.data is not None and plan.result is not None:
        return _Context(plan.data, policy or plan.scenario.policy, plan.result.assign, plan.result.owner)
    if scenario is not None and not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not isinstance(plan, Plan):
        folder = plan
        if scenario is None:
            recorded = _recorded_scenario(folder)
            if recorded is None:
                raise ScenarioError(
                    [
                        InputProblem(
                            str(folder),
                            None,
                            None,
                            None,
                            "explaining a plan folder needs its scenario (--scenario DIR): "
                            "plan folders do not record their scenario folder",
                        )
                    ]
                )
            scenario = load_scenario(recorded)
        plan = read_plan(folder, scenario)
    scenario = scenario if scenario is not None else plan.scenario
    if scenario is None:
        raise ScenarioError(
            [InputProblem("plan", None, None, None, "explaining needs the plan's scenario (scenario=...)")]
        )
    run = plan.summary.get("sweep")
    if isinstance(run, dict) and isinstance(run.get("values"), dict):
        scenario = apply_levers(scenario, run["values"])[0]
    if policy is None:
        policy = scenario.policy
        name = plan.summary.get("policy")
        if name and name != policy.name:
            try:
                policy = load_policy(name)
            except ScenarioError:
                raise ScenarioError(
                    [
                        InputProblem(
                            "summary.json",
                            None,
                            "policy",
                            str(name),
                            "the plan was solved with a policy that is neither the scenario's nor one "
                            "in models/; give it (--policy NAME or a YAML path)",
                        )
                    ]
                ) from None
    d = build_problem(scenario, policy)
    agents = pd.Index(d.agent_ids)
    by_task = plan.assignments.set_index("task_id")["agent_id"].reindex(d.task_ids).fillna("")
    assign = agents.get_indexer(by_task.to_numpy(dtype=object)).astype(np.int32)
    stray = by_task[(assign < 0) & by_task.ne("").to_numpy()]
    owner = np.full(d.n_customers, -1, dtype=np.int32)
    if plan.owners is not None and d.n_customers:
        by_cust = plan.owners.set_index("customer_id")["owner_id"].reindex(d.customer_ids).fillna("")
        owner = agents.get_indexer(by_cust.to_numpy(dtype=object)).astype(np.int32)
        stray = pd.concat([stray, by_cust[(owner < 0) & by_cust.ne("").to_numpy()]])
    if len(stray):
        raise ScenarioError(
            [
                InputProblem(
                    "assignments.csv",
                    None,
                    "agent_id",
                    str(v),
                    f"not an agent of scenario {scenario.name} (plan of another scenario?)",
                )
                for v in sorted(set(stray))
            ]
        )
    return _Context(d, policy, assign, owner)


def _recorded_scenario(folder) -> str | None:
    """The scenario folder a plan's summary.json records, if the engine wrote one."""
    import json
    from pathlib import Path

    path = Path(folder) / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    recorded = summary.get("scenario_folder") if isinstance(summary, dict) else None
    return recorded if recorded and Path(recorded).is_dir() else None


def input_drift(summary: dict, scenario) -> list[str]:
    """Input files whose content differs from what the plan was solved on (by summary hashes)."""
    solved = summary.get("inputs") or {}
    return sorted(k for k, v in solved.items() if k in scenario.hashes and scenario.hashes[k] != v)


class _PlanState:
    """The plan's loads and objective, computed once for explaining several tasks."""

    def __init__(self, ctx: _Context):

        self.ctx = ctx
        d, assign, owner = ctx.data, ctx.assign, ctx.owner
        self.evaluate = lambda a: evaluate(d, ctx.policy, a, owner)
        self.base = self.evaluate(assign)
        self.pair_terms = {n: pair_coefficients(d, ctx.policy, [n])[0] for n in TERMS}
        done = assign >= 0
        weight = d.task_cand.weight_of(assign)
        load = np.bincount(assign[done], weights=weight[done], minlength=d.n_agents).astype(np.int64)
        owned = owner >= 0
        load += np.bincount(owner[owned], weights=d.ownership_hours[owned], minlength=d.n_agents).astype(
            np.int64
        )
        self.load = load
        self.count = np.bincount(assign[done], minlength=d.n_agents)
        lowest = np.full(d.n_agents, 99, dtype=np.int64)
        np.minimum.at(lowest, assign[done], d.priority[done].astype(np.int64))
        lowest[self.count == 0] = 0
        self.lowest = lowest
        self.free_by = self.finish = None
        if d.day_cum is not None:  # a horizon: the days of the plan, as solve schedules them
            late = days.late_tasks(d, ctx.policy, assign, owner)
            self.free_by = free_by_day(d, assign, owner, late)
            self.finish = days.schedule_days(d, assign, late, days.room(d, days.owned_hours(d, owner)))

    def explain(self, t: int, limit: int | None) -> TaskExplanation:
        d, assign = self.ctx.data, self.ctx.assign
        a = int(assign[t])
        lo, hi = int(d.task_cand.ptr[t]), int(d.task_cand.ptr[t + 1])
        common = {
            "task_id": str(d.task_ids[t]),
            "agent_id": str(d.agent_ids[a]) if a >= 0 else "",
            "priority": int(d.priority[t]),
            "effort_hours": float(d.effort[t]) / HOUR_SCALE,
        }
        if a >= 0:
            p = lo + int(np.flatnonzero(d.task_cand.agent[lo:hi] == a)[0])
            terms = {n: round(float(v[p]), 6) for n, v in self.pair_terms.items() if abs(v[p]) > 1e-9}
            reason = assigned_reason(d, t, a, self.ctx.owner)
            if self.finish is not None and self.finish[t] > d.task_due[t]:
                reason += "; " + late_reason(d, t, a, int(self.finish[t]))
            return TaskExplanation(
                status="pinned" if d.pinned[t] else "assigned",
                reason=reason,
                terms=terms,
                alternatives=self._alternatives(t, lo, hi, limit),
                unassign_change=self._change(t, -1)[0],
                **common,
            )
        pair_value = sum(self.pair_terms.values())
        reason = unassigned_reason(d, t, self.load, self.count, self.lowest, pair_value, self.free_by)
        if hi == lo:
            return TaskExplanation(
                status="blocked", reason=reason, near_misses=self._near_misses(t, limit), **common
            )
        return TaskExplanation(
            status="unassigned", reason=reason, alternatives=self._alternatives(t, lo, hi, limit), **common
        )

    def _change(self, t: int, b: int) -> tuple[float, str]:
        """Objective change (points) and its per-term text when task t goes to agent b."""
        moved = self.ctx.assign.copy()
        moved[t] = b
        after = self.evaluate(moved)
        delta = {k: round(after[k] - self.base[k], 6) for k in self.base}
        delta = {k: v for k, v in delta.items() if abs(v) > 1e-9}
        return round(sum(delta.values()), 6) + 0.0, _terms_text(delta)

    def _alternatives(self, t: int, lo: int, hi: int, limit: int | None) -> pd.DataFrame:
        d = self.ctx.data
        cands = d.task_cand.agent[lo:hi]
        weight = d.task_cand.weight[lo:hi]
        keep = cands != self.ctx.assign[t]
        cands, weight = cands[keep], weight[keep]
        changes = [self._change(t, int(b)) for b in cands]
        left = d.capacity[cands] - self.load[cands]
        capped = (d.max_tasks[cands] >= 0) & (self.count[cands] >= d.max_tasks[cands])
        lowest = pd.array(np.where(self.count[cands] > 0, self.lowest[cands], -1), dtype="Int64")
        frame = pd.DataFrame(
            {
                "agent_id": d.agent_ids[cands].astype(object),
                "worse_by": [-c[0] + 0.0 for c in changes],
                "has_room": (left >= weight) & ~capped,
                "hours": self.load[cands] / HOUR_SCALE,
                "capacity_hours": d.capacity[cands] / HOUR_SCALE,
                "hours_left": left / HOUR_SCALE,
                "effort_hours": weight / HOUR_SCALE,
                "tasks": self.count[cands],
                "max_tasks": pd.array(
                    np.where(d.max_tasks[cands] >= 0, d.max_tasks[cands], -1), dtype="Int64"
                ),
                "lowest_priority": lowest,
                "term_changes": [c[1] for c in changes],
            }
        )
        frame["max_tasks"] = frame["max_tasks"].mask(frame["max_tasks"] < 0)
        frame["lowest_priority"] = frame["lowest_priority"].mask(frame["lowest_priority"] < 0)
        frame = frame.sort_values("worse_by", kind="stable").reset_index(drop=True)
        return frame if limit is None else frame.head(limit)

    def _near_misses(self, t: int, limit: int | None) -> pd.DataFrame:
        """Active agents by how few eligibility rules they fail (region, each missing skill), then
        by how many skill levels they lack."""
        d = self.ctx.data
        r = d.task_region[t]
        need = d.task_skill[t].astype(np.int16)
        gap = np.maximum(need[None, :] - d.agent_skill.astype(np.int16), 0)
        covers = d.agent_region[:, r] if r >= 0 else np.ones(d.n_agents, bool)
        if not d.region_hard:
            covers = np.ones(d.n_agents, bool)
        failed = (gap > 0).sum(axis=1) + (~covers)
        order = np.lexsort((np.arange(d.n_agents), gap.sum(axis=1), failed))  # fewest rules, then levels
        order = order[d.active[order]]
        if limit is not None:
            order = order[:limit]
        missing = [
            ", ".join(
                f"{d.skill_names[s]}>={need[s]} (has {d.agent_skill[a, s]})" for s in np.flatnonzero(gap[a])
            )
            for a in order
        ]
        return pd.DataFrame(
            {
                "agent_id": d.agent_ids[order].astype(object),
                "covers_region": covers[order],
                "missing_skills": missing,
                "rules_failed": failed[order],
            }
        )
