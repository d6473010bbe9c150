"""The CP-SAT model of a `ProblemData` under a `Policy`: variables, hard rules and objective
terms, plus the solver-side operations a solve needs (objective of a stage, floors, hints)."""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from optassign.contract.schema import Policy
from optassign.engine.model.constraints import INT_MAX, Constraints, add_linear
from optassign.engine.model.objective import (
    Term,
    build_terms,
    evaluate,
    owners_have_value,
    points,
    primary_terms,
    stage_plan,
)
from optassign.engine.model.variables import Variables
from optassign.engine.problem import UTIL_SCALE, ProblemData

__all__ = [
    "AssignmentModel",
    "Term",
    "evaluate",
    "owners_have_value",
    "points",
    "primary_terms",
    "stage_plan",
]


class AssignmentModel:
    """Builds once; a solve then sets the objective of each stage and reads values back."""

    def __init__(self, data: ProblemData, policy: Policy):
        self.data, self.policy = data, policy
        self.model = cp_model.CpModel()
        links = policy.agents_per_customer_weight > 0 and data.n_customers > 0
        self.var = Variables.create(self.model, data, customer_links=links, balance=policy.balance)
        Constraints(self.model, data, self.var).add_constraints()
        self.terms = build_terms(data, policy, self.var)

    @property
    def stages(self) -> list[list[str]]:
        return stage_plan(self.policy, list(self.terms))

    def stage_expr(self, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Variables and coefficients of the sum of the named terms, duplicates merged."""
        ts = [self.terms[n] for n in names if n in self.terms]
        if not ts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        var = np.concatenate([t.var for t in ts])
        coef = np.concatenate([t.coef for t in ts])
        uniq, inv = np.unique(var, return_inverse=True)
        merged = np.zeros(len(uniq), dtype=np.int64)
        np.add.at(merged, inv, coef)
        keep = merged != 0
        return uniq[keep], merged[keep]

    def maximize(self, names: list[str]) -> None:
        """Set the objective to maximise the named terms (CP-SAT minimises -expr, scaled by -1)."""
        var, coef = self.stage_expr(names)
        proto = self.model.proto
        proto.clear_objective()
        obj = proto.objective
        obj.vars.extend(var.tolist())
        obj.coeffs.extend((-coef).tolist())
        obj.scaling_factor = -1.0

    def add_floor(self, names: list[str], value: int) -> None:
        """Keep an earlier stage's achievement: sum of the named terms >= value."""
        var, coef = self.stage_expr(names)
        if len(var):
            add_linear(self.model, var, coef, int(value), INT_MAX)

    def add_ceiling(self, names: list[str], value: int) -> None:
        """A bound known from elsewhere (the relaxation): sum of the named terms <= value."""
        var, coef = self.stage_expr(names)
        if len(var):
            add_linear(self.model, var, coef, -INT_MAX, int(value))

    def hint(self, values: np.ndarray) -> None:
        """Hint every variable with a full solution vector (clears earlier hints)."""
        proto = self.model.proto
        proto.clear_solution_hint()
        h = proto.solution_hint
        h.vars.extend(range(len(values)))
        h.values.extend(np.asarray(values, dtype=np.int64).tolist())

    def hint_plan(self, assign: np.ndarray, owner: np.ndarray) -> None:
        """Hint from a plan (agent per task, owner per customer; -1 = none)."""
        self.hint(self.values_of_plan(assign, owner))

    def values_of_plan(self, assign: np.ndarray, owner: np.ndarray) -> np.ndarray:
        """A complete variable vector for a plan: pairs, links and balance bounds derived."""
        d, v = self.data, self.var
        vals = np.zeros(len(self.model.proto.variables), dtype=np.int64)
        tc, oc = d.task_cand, d.owner_cand
        x = tc.chosen(assign).astype(np.int64)
        vals[v.x] = x
        vals[v.o] = (oc.agent == owner[oc.row]).astype(np.int64)
        if len(v.y):
            used = np.zeros(len(v.y), dtype=np.int64)
            chosen = (x == 1) & (v.y_of_pair >= 0)
            used[v.y_of_pair[chosen]] = 1
            vals[v.y] = used
        if v.util_max is not None:
            a = assign[assign >= 0]
            load = np.bincount(a, weights=tc.weight_of(assign)[assign >= 0], minlength=d.n_agents).astype(
                float
            )
            own = owner >= 0
            load += np.bincount(owner[own], weights=d.ownership_hours[own], minlength=d.n_agents)
            has_work = np.bincount(tc.agent, minlength=d.n_agents) > 0
            mask = d.active & (d.capacity > 0) & has_work
            if mask.any():
                util = load[mask] * UTIL_SCALE / d.capacity[mask]
                vals[v.util_max] = int(np.ceil(util.max()))
                if v.util_min is not None:
                    vals[v.util_min] = int(np.floor(util.min()))
        return vals

    def plan_of_values(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Agent per task and owner per customer (-1 = none) from a solution vector."""
        d, v = self.data, self.var
        assign = np.full(d.n_tasks, -1, dtype=np.int32)
        chosen = values[v.x] > 0
        assign[d.task_cand.row[chosen]] = d.task_cand.agent[chosen]
        owner = np.full(d.n_customers, -1, dtype=np.int32)
        owned = values[v.o] > 0
        owner[d.owner_cand.row[owned]] = d.owner_cand.agent[owned]
        return assign, owner
