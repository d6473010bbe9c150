"""LP relaxation of the assignment model, solved with HiGHS through scipy: a valid upper bound
on the primary objective, fractional values for rounding, and reduced costs that rank every
candidate pair for pruning. Large instances are priced in rounds (column generation)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from .model.objective import TERM_FUNCTIONS
from .model.variables import Variables
from .problem import POINT_SCALE, ProblemData
from .schema import Policy

# Pairs solved at once before pricing takes over; more columns than this start restricted.
FULL_LP_PAIRS = 400_000
EPS = 1e-7


@dataclass(frozen=True)
class Relaxation:
    """The LP optimum over all candidate pairs (points), with per-pair values and reduced costs.

    `bound` is valid for the whole candidate set: pricing stops only when no pair outside the
    restricted LP has a positive reduced cost."""

    bound: float
    x: np.ndarray
    o: np.ndarray
    reduced_cost: np.ndarray
    seconds: float
    rounds: int
    columns: int
    status: str

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


def pair_coefficients(data: ProblemData, policy: Policy, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Points per task pair and per owner pair of the named terms (pair terms only; the
    balance and agents-per-customer terms are never positive, so leaving them out keeps any
    bound valid)."""
    P, Q = len(data.task_cand), len(data.owner_cand)
    var = Variables(x=np.arange(P), o=np.arange(P, P + Q))
    total = np.zeros(P + Q)
    for name in names:
        term = TERM_FUNCTIONS[name](data, policy, var)
        inside = term.var < P + Q
        np.add.at(total, term.var[inside], term.coef[inside] / POINT_SCALE)
    return total[:P], total[P:]


def relax(
    data: ProblemData,
    policy: Policy,
    names: list[str],
    *,
    time_limit: float = 60.0,
    initial_k: int = 8,
    add_k: int = 4,
    max_rounds: int = 20,
) -> Relaxation:
    """Solve the LP relaxation of the named terms over all candidate pairs."""
    started = time.perf_counter()
    d, tc = data, data.task_cand
    cx, co = pair_coefficients(d, policy, names)
    P = len(tc)
    row = tc.row
    if P <= FULL_LP_PAIRS:
        active = np.ones(P, dtype=bool)
    else:
        active = _initial_columns(d, cx, initial_k)
    rounds, status = 0, "optimal"
    x_full = np.zeros(P)
    rc = np.zeros(P)
    bound, o_val = float("nan"), np.zeros(len(co))
    while True:
        rounds += 1
        remaining = time_limit - (time.perf_counter() - started)
        sol = _solve_restricted(d, cx, co, active, max(1.0, remaining))
        if sol is None:
            status = "failed"
            break
        bound, x_r, o_val, duals = sol
        rc = cx - duals["task"][row] - duals["capacity"][tc.agent] * tc.weight - duals["tasks_cap"][tc.agent]
        x_full[:] = 0.0
        x_full[active] = x_r
        entering = ~active & (rc > EPS)
        if not entering.any():
            break
        if rounds >= max_rounds or time.perf_counter() - started > time_limit:
            status = "not converged"
            break
        active |= top_per_row(row[entering], rc[entering], np.flatnonzero(entering), add_k, P)
    return Relaxation(
        bound=float(bound),
        x=x_full,
        o=o_val,
        reduced_cost=rc,
        seconds=time.perf_counter() - started,
        rounds=rounds,
        columns=int(active.sum()),
        status=status,
    )


def top_per_row(rows: np.ndarray, score: np.ndarray, index: np.ndarray, k: int, n: int) -> np.ndarray:
    """Mask (length n) of the k highest-scoring entries of each row."""
    order = np.lexsort((-score, rows))
    r = rows[order]
    first = np.concatenate([[0], np.flatnonzero(np.diff(r)) + 1])
    rank = np.arange(len(r)) - np.repeat(first, np.diff(np.append(first, len(r))))
    out = np.zeros(n, dtype=bool)
    out[index[order[rank < k]]] = True
    return out


def _initial_columns(d: ProblemData, cx: np.ndarray, k: int) -> np.ndarray:
    """Start from each task's k best pairs by points, ties to agents whose candidate demand is
    lowest against their capacity; pins and assignees in force are always in."""
    tc = d.task_cand
    demand = np.bincount(tc.agent, weights=tc.weight, minlength=d.n_agents)
    pressure = demand / np.maximum(d.capacity, 1)
    score = cx - 1e-3 * pressure[tc.agent] * np.abs(cx).max(initial=1.0)
    mask = top_per_row(tc.row, score, np.arange(len(tc)), k, len(tc))
    mask |= tc.chosen(d.current)
    return mask


def _solve_restricted(
    d: ProblemData, cx: np.ndarray, co: np.ndarray, active: np.ndarray, time_limit: float
) -> tuple[float, np.ndarray, np.ndarray, dict[str, np.ndarray]] | None:
    tc, oc = d.task_cand, d.owner_cand
    idx = np.flatnonzero(active)
    n_x, n_o = len(idx), len(oc)
    T, C, A = d.n_tasks, d.n_customers, d.n_agents
    t_of, a_of, w_of = tc.row[idx], tc.agent[idx], tc.weight[idx]
    c_of, oa_of = oc.row, oc.agent
    capped_t = d.max_tasks >= 0
    capped_c = d.max_customers >= 0
    must = d.must_assign if d.must_assign is not None else np.zeros(T, bool)
    # Row blocks: tasks (<= 1, or -sum <= -1 for must-assign tasks also), customers, capacity,
    # max_tasks, max_customers.
    r_task = t_of
    r_cust = T + c_of
    r_cap_x = T + C + a_of
    r_cap_o = T + C + oa_of
    r_mt = T + C + A + a_of
    r_mc = T + C + 2 * A + oa_of
    must_rows = T + C + 3 * A + np.cumsum(must) - 1
    xi = np.arange(n_x)
    oi = n_x + np.arange(n_o)
    rows = [r_task, r_cap_x, r_mt[capped_t[a_of]], r_cust, r_cap_o, r_mc[capped_c[oa_of]]]
    cols = [xi, xi, xi[capped_t[a_of]], oi, oi, oi[capped_c[oa_of]]]
    vals = [
        np.ones(n_x),
        w_of.astype(float),
        np.ones(int(capped_t[a_of].sum())),
        np.ones(n_o),
        oc.weight.astype(float),
        np.ones(int(capped_c[oa_of].sum())),
    ]
    m_idx = must[t_of]
    rows.append(must_rows[t_of[m_idx]])
    cols.append(xi[m_idx])
    vals.append(-np.ones(int(m_idx.sum())))
    n_rows = T + C + 3 * A + int(must.sum())
    A_ub = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_x + n_o)
    )
    b_ub = np.concatenate(
        [
            np.ones(T),
            np.ones(C),
            np.where(d.active, d.capacity, 0).astype(float),
            np.where(capped_t, d.max_tasks, n_x).astype(float),
            np.where(capped_c, d.max_customers, n_o).astype(float),
            -np.ones(int(must.sum())),
        ]
    )
    lb = np.zeros(n_x + n_o)
    lb[:n_x][d.pinned[t_of]] = 1.0
    bounds = np.column_stack([lb, np.ones(n_x + n_o)])
    c = -np.concatenate([cx[idx], co])
    res = linprog(
        c,
        A_ub=A_ub,
        b_ub=b_ub,
        bounds=bounds,
        method="highs",
        options={"time_limit": float(time_limit), "presolve": True},
    )
    if res.status != 0:
        return None
    lam = -res.ineqlin.marginals
    duals = {
        "task": lam[:T] - np.bincount(np.flatnonzero(must), weights=lam[T + C + 3 * A :], minlength=T)
        if must.any()
        else lam[:T],
        "capacity": lam[T + C : T + C + A],
        "tasks_cap": lam[T + C + A : T + C + 2 * A],
    }
    return -res.fun, res.x[:n_x], res.x[n_x:], duals


def rounded_plan(data: ProblemData, lp: Relaxation) -> tuple[np.ndarray, np.ndarray]:
    """Each task's and customer's largest LP value if at least one half, else nobody: a start
    that greedy repair turns into a feasible plan."""
    return _round_rows(data.task_cand, lp.x, data.n_tasks), _round_rows(
        data.owner_cand, lp.o, data.n_customers
    )


def _round_rows(cand, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int32)
    big = values >= 0.5 - 1e-9
    if not big.any():
        return out
    rows, agents, vals = cand.row[big], cand.agent[big], values[big]
    order = np.lexsort((-vals, rows))
    first = np.concatenate([[True], np.diff(rows[order]) != 0])
    out[rows[order][first]] = agents[order][first]
    return out
