"""Hard rules of the contract (section 3) as CP-SAT constraints, one private method per rule,
written straight into the proto from the problem's arrays."""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from optassign.engine.model.variables import Variables
from optassign.engine.problem import UTIL_SCALE, ProblemData


def add_linear(model: cp_model.CpModel, var: np.ndarray, coef: np.ndarray, lo: int, hi: int) -> int:
    """lo <= sum(coef * var) <= hi; returns the constraint's index."""
    ct = model.proto.constraints.add()
    ct.linear.vars.extend(np.asarray(var, dtype=np.int64).tolist())
    ct.linear.coeffs.extend(np.asarray(coef, dtype=np.int64).tolist())
    ct.linear.domain.extend((int(lo), int(hi)))
    return len(model.proto.constraints) - 1


def add_at_most_one(model: cp_model.CpModel, lits: np.ndarray) -> None:
    model.proto.constraints.add().at_most_one.literals.extend(np.asarray(lits, np.int64).tolist())


def groups(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable order of positions grouped by key, and CSR pointers into it."""
    order = np.argsort(keys, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=n))])
    return order, ptr


INT_MAX = np.iinfo(np.int64).max // 4


class Constraints:
    def __init__(self, model: cp_model.CpModel, data: ProblemData, var: Variables):
        self.model, self.data, self.var = model, data, var
        cand = data.task_cand
        self.pair_order, self.pair_ptr = groups(cand.agent, data.n_agents)
        self.own_order, self.own_ptr = groups(data.owner_cand.agent, data.n_agents)

    def add_constraints(self) -> None:
        self._one_agent_per_task()
        self._must_assign()
        self._one_owner_per_customer()
        self._capacity_hours()
        self._max_tasks()
        self._max_customers()
        self._customer_links()
        self._utilisation_bounds()
        self._move_budget()

    def agent_load(self, a: int) -> tuple[np.ndarray, np.ndarray]:
        """Variables and scaled hours of agent a's load: task efforts plus ownership hours."""
        d, v = self.data, self.var
        pairs = self.pair_order[self.pair_ptr[a] : self.pair_ptr[a + 1]]
        owns = self.own_order[self.own_ptr[a] : self.own_ptr[a + 1]]
        vars_ = np.concatenate([v.x[pairs], v.o[owns]])
        hours = np.concatenate([d.task_cand.weight[pairs], d.owner_cand.weight[owns]])
        return vars_, hours

    def _one_agent_per_task(self) -> None:
        """Hard: each task has at most one agent, sum_a x[t,a] <= 1 (pins are fixed to 1)."""
        ptr = self.data.task_cand.ptr
        must = self.data.must_assign if self.data.must_assign is not None else np.zeros(len(ptr) - 1, bool)
        for t in np.flatnonzero((np.diff(ptr) > 1) & ~must).tolist():
            add_at_most_one(self.model, self.var.x[ptr[t] : ptr[t + 1]])

    def _must_assign(self) -> None:
        """Hard, where the data asks for it (e.g. GAP benchmarks): sum_a x[t,a] = 1."""
        ptr, must = self.data.task_cand.ptr, self.data.must_assign
        if must is None:
            return
        for t in np.flatnonzero(must).tolist():
            n = int(ptr[t + 1] - ptr[t])
            add_linear(self.model, self.var.x[ptr[t] : ptr[t + 1]], np.ones(n), 1, 1)

    def _one_owner_per_customer(self) -> None:
        """Hard: each customer has at most one owner, sum_a o[c,a] <= 1."""
        ptr = self.data.owner_cand.ptr
        for c in np.flatnonzero(np.diff(ptr) > 1).tolist():
            add_at_most_one(self.model, self.var.o[ptr[c] : ptr[c + 1]])

    def _capacity_hours(self) -> None:
        """Hard: sum_t hours[t,a] x[t,a] + sum_c own_hours[c] o[c,a] <= capacity[a] (1/100 h)."""
        for a in range(self.data.n_agents):
            vars_, hours = self.agent_load(a)
            if len(vars_) and hours.sum() > self.data.capacity[a]:
                add_linear(self.model, vars_, hours, 0, self.data.capacity[a])

    def _max_tasks(self) -> None:
        """Hard: sum_t x[t,a] <= max_tasks[a] where a cap is set."""
        for a in np.flatnonzero(self.data.max_tasks >= 0).tolist():
            pairs = self.pair_order[self.pair_ptr[a] : self.pair_ptr[a + 1]]
            if len(pairs) > self.data.max_tasks[a]:
                add_linear(self.model, self.var.x[pairs], np.ones(len(pairs)), 0, self.data.max_tasks[a])

    def _max_customers(self) -> None:
        """Hard: sum_c o[c,a] <= max_customers[a] where a cap is set."""
        for a in np.flatnonzero(self.data.max_customers >= 0).tolist():
            owns = self.own_order[self.own_ptr[a] : self.own_ptr[a + 1]]
            if len(owns) > self.data.max_customers[a]:
                add_linear(self.model, self.var.o[owns], np.ones(len(owns)), 0, self.data.max_customers[a])

    def _customer_links(self) -> None:
        """Definition: x[t,a] <= y[customer(t),a], so y marks every agent working for a customer."""
        v = self.var
        if len(v.y) == 0:
            return
        proto = self.model.proto
        for p in np.flatnonzero(v.y_of_pair >= 0).tolist():
            ct = proto.constraints.add()
            ct.enforcement_literal.append(int(v.x[p]))
            ct.bool_and.literals.append(int(v.y[v.y_of_pair[p]]))

    def _utilisation_bounds(self) -> None:
        """Definition: util_min * cap[a] <= UTIL_SCALE * load[a] <= util_max * cap[a] for every
        active agent with capacity who could receive a task (util in 1/UTIL_SCALE)."""
        v, d = self.var, self.data
        if v.util_max is None:
            return
        has_work = np.bincount(d.task_cand.agent, minlength=d.n_agents) > 0
        for a in np.flatnonzero(d.active & (d.capacity > 0) & has_work).tolist():
            vars_, hours = self.agent_load(a)
            cap = int(d.capacity[a])
            add_linear(
                self.model, np.append(vars_, v.util_max), np.append(hours * UTIL_SCALE, -cap), -INT_MAX, 0
            )
            if v.util_min is not None:
                add_linear(
                    self.model, np.append(vars_, v.util_min), np.append(hours * UTIL_SCALE, -cap), 0, INT_MAX
                )

    def _move_budget(self) -> None:
        """Hard, in handovers: sum over unforced tasks and customers whose agent in force is a
        candidate of (1 - x[t, current(t)]) + (1 - o[c, owner(c)]) <= move_budget."""
        d, v = self.data, self.var
        if d.move_budget is None:
            return
        tc, oc = d.task_cand, d.owner_cand
        forced = d.forced if d.forced is not None else np.zeros(d.n_tasks, bool)
        owner_forced = d.owner_forced if d.owner_forced is not None else np.zeros(d.n_customers, bool)
        keep_x = np.flatnonzero(tc.chosen(d.current) & ~forced[tc.row])
        keep_o = np.flatnonzero(oc.chosen(d.owner) & ~owner_forced[oc.row])
        kept = np.concatenate([v.x[keep_x], v.o[keep_o]])
        # sum(1 - keep) <= budget  <=>  sum(keep) >= len(keep) - budget
        add_linear(self.model, kept, np.ones(len(kept)), max(0, len(kept) - int(d.move_budget)), INT_MAX)
