"""CP-SAT variables of the assignment model, created straight in the model proto from array
sizes: one Boolean per candidate pair, plus the few integers the balance term needs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from optassign.engine.problem import UTIL_SCALE, ProblemData


def new_bools(model: cp_model.CpModel, n: int, fixed_true: np.ndarray | None = None) -> np.ndarray:
    """n new 0/1 variables (those flagged in `fixed_true` are fixed to 1); their proto indices."""
    proto = model.proto
    start = len(proto.variables)
    fixed = np.zeros(n, dtype=bool) if fixed_true is None else fixed_true
    for f in fixed.tolist():
        proto.variables.add().domain.extend((1, 1) if f else (0, 1))
    return np.arange(start, start + n, dtype=np.int64)


def new_int(model: cp_model.CpModel, lo: int, hi: int) -> int:
    proto = model.proto
    proto.variables.add().domain.extend((int(lo), int(hi)))
    return len(proto.variables) - 1


@dataclass
class Variables:
    """Proto indices of the model's variables.

    x[p]: task pair p is chosen; o[q]: ownership pair q is chosen; y[k]: agent `y_agent[k]`
    works for customer `y_customer[k]` (only when the agents-per-customer term is on);
    util_max / util_min: bounds on per-agent utilisation in 1/UTIL_SCALE (balance term)."""

    x: np.ndarray
    o: np.ndarray
    y: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    y_of_pair: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    y_customer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    y_agent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    util_max: int | None = None
    util_min: int | None = None

    @classmethod
    def create(
        cls, model: cp_model.CpModel, data: ProblemData, *, customer_links: bool, balance: str
    ) -> Variables:
        cand = data.task_cand
        pinned_pair = data.pinned[cand.row]
        x = new_bools(model, len(cand), pinned_pair)
        o = new_bools(model, len(data.owner_cand))
        out = cls(x=x, o=o)
        if customer_links:
            out._create_customer_links(model, data)
        if balance != "none":
            top = int(UTIL_SCALE * 10)
            out.util_max = new_int(model, 0, top)
            if balance == "spread":
                out.util_min = new_int(model, 0, top)
        return out

    def _create_customer_links(self, model: cp_model.CpModel, data: ProblemData) -> None:
        """One y per distinct (customer, agent) among task pairs of tasks that have a customer."""
        cand = data.task_cand
        cust = data.task_customer[cand.row].astype(np.int64)
        has = cust >= 0
        key = np.where(has, cust * max(1, data.n_agents) + cand.agent, -1)
        uniq, inverse = np.unique(key[has], return_inverse=True)
        self.y = new_bools(model, len(uniq))
        self.y_of_pair = np.full(len(cand), -1, dtype=np.int64)
        self.y_of_pair[has] = inverse
        self.y_customer = uniq // max(1, data.n_agents)
        self.y_agent = uniq % max(1, data.n_agents)
