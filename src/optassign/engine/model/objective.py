"""The policy's objective terms. Each term is a function giving, for the solver, integer
coefficients on variables (maximised), and, for everyone else, its value in points recomputed
from a plan's arrays in plain numpy, independently of the solver."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optassign.contract.schema import SERVICE_COMPANIONS, TERMS, Policy
from optassign.engine import days
from optassign.engine.model.variables import Variables
from optassign.engine.problem import HOUR_SCALE, POINT_SCALE, UTIL_SCALE, ProblemData, points_to_int


@dataclass(frozen=True)
class Term:
    """A linear term: sum(coef * var) in 1/POINT_SCALE points, to be maximised."""

    name: str
    var: np.ndarray
    coef: np.ndarray

    def __bool__(self) -> bool:
        return bool(len(self.var)) and bool(np.any(self.coef))


def _pair_term(name: str, var: Variables, points: np.ndarray) -> Term:
    return Term(name, var.x, points_to_int(points))


def service(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft: + priority_value[priority(t)] for each assigned task, + the pair's own value (0 for
    scenarios; a benchmark's negated cost)."""
    value = np.array([0.0] + [p.priority_value[k] for k in range(1, 6)])
    return _pair_term("service", v, value[d.priority[d.task_cand.row]] + d.task_cand.value)


def ownership(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft: + ownership_value[tier(c)] for each customer given an owner."""
    value = np.array([p.ownership_value[t] for t in "ABC"])
    return Term("ownership", v.o, points_to_int(value[d.tier[d.owner_cand.row]]))


def cross_region(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft (soft regions only): - cross_region_penalty per task, and per owned customer,
    outside its agent's regions."""
    w = p.cross_region_penalty if p.region == "soft" else 0.0
    return Term(
        "cross_region",
        np.concatenate([v.x, v.o]),
        points_to_int(-w * np.concatenate([d.task_cand.cross_region, d.owner_cand.cross_region])),
    )


def overqualification(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft: - overqualification_weight * sum over required skills of (agent level - required)."""
    return _pair_term("overqualification", v, -p.overqualification_weight * d.task_cand.overqual)


def cost(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft: - cost_weight * cost_per_hour(a) * effort_hours(t) for each assignment."""
    c = d.task_cand
    money = d.cost_per_hour[c.agent] * c.weight / HOUR_SCALE
    return _pair_term("cost", v, -p.cost_weight * money)


def _keep_task_points(d: ProblemData, p: Policy) -> np.ndarray:
    """Points per task for staying with its agent in force: weight x priority factor."""
    factor = np.array([0.0] + [p.disruption_by_priority[k] for k in range(1, 6)])
    return p.keep_assignee_weight * factor[d.priority]


def _keep_owner_points(d: ProblemData, p: Policy) -> np.ndarray:
    factor = np.array([p.disruption_by_tier[t] for t in "ABC"])
    return p.keep_customer_owner_weight * factor[d.tier]


def keep_assignee(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft: + keep_assignee_weight x disruption_by_priority[priority] for each task left with
    its assigned_to."""
    c = d.task_cand
    return _pair_term("keep_assignee", v, _keep_task_points(d, p)[c.row] * (c.agent == d.current[c.row]))


def keep_owner_tasks(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft: + keep_owner_tasks_weight for each task given to its customer's owner in force."""
    c = d.task_cand
    cust = d.task_customer[c.row]
    owner = np.where(cust >= 0, d.owner[np.maximum(cust, 0)], -1) if d.n_customers else -1
    return _pair_term("keep_owner_tasks", v, p.keep_owner_tasks_weight * ((owner >= 0) & (c.agent == owner)))


def keep_customer_owner(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft: + keep_customer_owner_weight x disruption_by_tier[tier] for each customer left with
    its owner in force."""
    c = d.owner_cand
    kept = c.agent == d.owner[c.row]
    return Term("keep_customer_owner", v.o, points_to_int(_keep_owner_points(d, p)[c.row] * kept))


def agents_per_customer(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft: - agents_per_customer_weight for each (customer, agent) with work between them."""
    return Term("agents_per_customer", v.y, points_to_int(np.full(len(v.y), -p.agents_per_customer_weight)))


def balance(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft: - balance_weight * max utilisation, or * (max - min) utilisation for `spread`."""
    if v.util_max is None:
        return Term("balance", np.zeros(0, np.int64), np.zeros(0, np.int64))
    per_unit = -p.balance_weight * POINT_SCALE / UTIL_SCALE
    if per_unit and abs(np.rint(per_unit) - per_unit) > 0.01 * abs(per_unit):
        warnings.warn(
            f"balance_weight {p.balance_weight} is below the solver's resolution "
            f"({UTIL_SCALE / POINT_SCALE:g} points per 100%); it is rounded",
            stacklevel=2,
        )
    var = [v.util_max] + ([v.util_min] if v.util_min is not None else [])
    coef = [per_unit] + ([-per_unit] if v.util_min is not None else [])
    return Term("balance", np.array(var, np.int64), np.rint(coef).astype(np.int64))


def urgency(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft (with a horizon): + urgency_weight x priority points x the share of the horizon
    left after the task's due day, for each assigned task."""
    return _pair_term("urgency", v, days.urgency_points(d, p)[d.task_cand.row])


def lateness(d: ProblemData, p: Policy, v: Variables) -> Term:
    """Soft (soft due dates): - late_penalty[priority] per hour of each late task. Which tasks
    are late follows from the plan (days.late_tasks); no solver variable carries it, the day
    rows' prices do (days.py, relax.py)."""
    return Term("lateness", np.zeros(0, np.int64), np.zeros(0, np.int64))


TERM_FUNCTIONS: dict[str, Callable[[ProblemData, Policy, Variables], Term]] = {
    "service": service,
    "ownership": ownership,
    "cross_region": cross_region,
    "overqualification": overqualification,
    "cost": cost,
    "keep_assignee": keep_assignee,
    "keep_owner_tasks": keep_owner_tasks,
    "keep_customer_owner": keep_customer_owner,
    "agents_per_customer": agents_per_customer,
    "balance": balance,
    "urgency": urgency,
    "lateness": lateness,
}
assert tuple(TERM_FUNCTIONS) == TERMS


def build_terms(d: ProblemData, p: Policy, v: Variables) -> dict[str, Term]:
    """Every term with a non-zero weight; zero-weight terms never reach the solver."""
    terms = {name: fn(d, p, v) for name, fn in TERM_FUNCTIONS.items()}
    return {name: t for name, t in terms.items() if t}


def stage_plan(p: Policy, active: list[str]) -> list[list[str]]:
    """The lexicographic stages to solve; terms not named in any stage join the last one."""
    if not p.stages:
        return [list(active)]
    stages = [[t for t in s if t in active] for s in p.stages]
    named = {t for s in p.stages for t in s}
    home = next((s for s in stages if "service" in s), stages[-1])
    home.extend(t for t in SERVICE_COMPANIONS if t in active and t not in named)
    named |= set(SERVICE_COMPANIONS)
    rest = [t for t in active if t not in named]
    if rest:
        stages[-1].extend(rest)
    return [s for s in stages if s]


# --------------------------------------------------------------------------- evaluation
def evaluate(
    d: ProblemData, p: Policy, assign: np.ndarray, owner: np.ndarray, late: np.ndarray | None = None
) -> dict[str, float]:
    """Each term's value in points for a plan given as agent per task and owner per customer
    (-1 = none), computed from the arrays alone: the solver's objective must agree. With a
    horizon, `late` says which tasks are worked after the on-time ones (days.late_tasks when
    not given), and lateness counts those that then finish after their due day."""
    t = np.flatnonzero(assign >= 0)
    a = assign[t]
    hours = d.task_cand.weight_of(assign)[t]
    chosen = d.task_cand.chosen(assign)
    c = np.flatnonzero(owner >= 0)
    oa = owner[c]
    value = np.array([0.0] + [p.priority_value[k] for k in range(1, 6)])
    tier_value = np.array([p.ownership_value[x] for x in "ABC"])
    need = d.task_skill[t].astype(np.int16)
    have = d.agent_skill[a].astype(np.int16)
    overq = np.where(need > 0, have - need, 0).sum(axis=1)
    cross = (
        d.task_cand.cross_region[chosen].sum() + d.owner_cand.cross_region[d.owner_cand.chosen(owner)].sum()
    )
    cust = d.task_customer[t]
    owner_in_force = (
        np.where(cust >= 0, d.owner[np.maximum(cust, 0)], -1) if d.n_customers else np.full(len(t), -1)
    )
    out = {
        "service": value[d.priority[t]].sum() + d.task_cand.value[chosen].sum(),
        "ownership": tier_value[d.tier[c]].sum(),
        "cross_region": -(p.cross_region_penalty if p.region == "soft" else 0.0) * cross,
        "overqualification": -p.overqualification_weight * overq.sum(),
        "cost": -p.cost_weight * (d.cost_per_hour[a] * hours / HOUR_SCALE).sum(),
        "keep_assignee": _keep_task_points(d, p)[t][a == d.current[t]].sum(),
        "keep_owner_tasks": p.keep_owner_tasks_weight * ((owner_in_force >= 0) & (a == owner_in_force)).sum(),
        "keep_customer_owner": _keep_owner_points(d, p)[c][oa == d.owner[c]].sum(),
        "agents_per_customer": -p.agents_per_customer_weight
        * len(np.unique(cust[cust >= 0].astype(np.int64) * max(1, d.n_agents) + a[cust >= 0])),
        "balance": 0.0,
    }
    if p.balance != "none":
        load = np.bincount(a, weights=hours, minlength=d.n_agents).astype(float)
        load += np.bincount(oa, weights=d.ownership_hours[c], minlength=d.n_agents)
        has_work = np.bincount(d.task_cand.agent, minlength=d.n_agents) > 0
        mask = d.active & (d.capacity > 0) & has_work
        if mask.any():
            util = load[mask] / d.capacity[mask]
            measure = util.max() - (util.min() if p.balance == "spread" else 0.0)
            out["balance"] = -p.balance_weight * measure
    if d.day_cum is not None:
        out["urgency"] = days.urgency_points(d, p)[t].sum()
        late = days.late_tasks(d, p, assign, owner) if late is None else late
        late = days.finished_late(d, assign, owner, late)
        out["lateness"] = -days.late_points(d, p)[late].sum() if not d.due_hard else 0.0
    return {k: float(v) + 0.0 for k, v in out.items()}


def points(
    d: ProblemData,
    p: Policy,
    names: list[str],
    assign: np.ndarray,
    owner: np.ndarray,
    late: np.ndarray | None = None,
) -> float:
    """A plan's value on the named terms, in points, recomputed from the arrays (`late` as in
    `evaluate`)."""
    terms = evaluate(d, p, assign, owner, late)
    return float(sum(terms.get(n, 0.0) for n in names))


def owners_have_value(p: Policy) -> bool:
    """Whether any term rewards giving a customer an owner: its tier's ownership value or
    keeping the owner in force. Without one, owning only takes hours (and may cost a
    cross-region penalty or balance), so the best plan owns nothing."""
    return any(v > 0 for v in p.ownership_value.values()) or p.keep_customer_owner_weight > 0


def primary_terms(p: Policy) -> list[str]:
    """The terms of the first stage: what the LP bound and pruning are about."""
    return stage_plan(p, list(TERMS))[0]
