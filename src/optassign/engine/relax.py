"""LP relaxation of the assignment model: a validated upper bound on the primary objective,
fractional values for rounding, and reduced costs that rank every candidate pair for pruning.

The LP is solved by column generation with HiGHS (highspy, re-solved warm as pairs are priced
in); its bound is the Lagrangian dual function at the LP's duals, valid whatever the pricing
reached. The Lagrangian dual alone (`lagrangian`) seeds the columns of large batches and bounds
a warm start."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np

from optassign import interrupt
from optassign.contract.schema import Policy
from optassign.engine.days import effective_due, late_points
from optassign.engine.model.objective import TERM_FUNCTIONS
from optassign.engine.model.variables import Variables
from optassign.engine.problem import POINT_SCALE, Candidates, ProblemData


@dataclass(frozen=True)
class Relaxation:
    """The LP optimum over all candidate pairs (points), with per-pair values and reduced costs.

    `bound` is valid for the whole candidate set: a Lagrangian dual value (any multipliers give
    an upper bound), the LP optimum once pricing converged (status "optimal")."""

    bound: float
    x: np.ndarray
    o: np.ndarray
    reduced_cost: np.ndarray
    owner_reduced_cost: np.ndarray
    seconds: float
    rounds: int
    columns: int
    status: str
    # With a horizon: per task pair the points its day rows charge for doing it on time (the
    # hours times the day duals of its agent from its due day on); None without one.
    day_price: np.ndarray | None = None
    # The Lagrangian dual's multipliers of the day rows, per agent and due day (seeding only).
    day_multipliers: np.ndarray | None = None
    # Its nominal seconds on the reference machine, from the work it counted (simplex rounds
    # over its columns, dual evaluations over every pair); its whole time limit when the clock
    # ended it (then it may differ run to run). A deterministic schedule charges this.
    nominal_seconds: float = 0.0

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


def raised(
    lp: Relaxation, old: ProblemData, new: ProblemData, policy: Policy, names: list[str]
) -> Relaxation:
    """`lp`, a relaxation of `old`, made a valid one of `new`: the same candidate pairs with
    some points changed (e.g. new owners in force earn keep terms). Each task and customer row
    takes at most one pair, so raising its dual by the largest rise among its pairs keeps the
    dual feasible: the bound rises by that much per row (falls are ignored, which keeps it
    valid), and the reduced costs change by each pair's own change."""
    before_x, before_o = pair_coefficients(old, policy, names)
    after_x, after_o = pair_coefficients(new, policy, names)
    rise_x, rise_o = after_x - before_x, after_o - before_o
    row_x, row_o = np.zeros(new.n_tasks), np.zeros(new.n_customers)
    up_x, up_o = np.flatnonzero(rise_x > 0), np.flatnonzero(rise_o > 0)
    np.maximum.at(row_x, np.repeat(np.arange(new.n_tasks), new.task_cand.count)[up_x], rise_x[up_x])
    np.maximum.at(row_o, np.repeat(np.arange(new.n_customers), new.owner_cand.count)[up_o], rise_o[up_o])
    return dataclasses.replace(
        lp,
        bound=lp.bound + float(row_x.sum() + row_o.sum()),
        reduced_cost=lp.reduced_cost + rise_x,
        owner_reduced_cost=lp.owner_reduced_cost + rise_o,
    )


# Pairs the restricted LP starts with when the batch has up to this many: all of them.
FULL_LP_PAIRS = 100_000
# Above FULL_LP_PAIRS: each row's best pairs (by the Lagrangian dual's reduced costs) that seed
# the restricted LP, the share of its time that dual gets, and each row's best pairs with a
# positive reduced cost that a round of pricing adds.
SEED_K = 3
SEED_SHARE = 0.3
PRICE_K = 3
# Reduced cost (points) a pair needs to enter the restricted LP.
PRICE_TOL = 1e-6
# Pricing stops once the validated bound is this close (relative) to the restricted LP's
# optimum: the LP optimum lies between them, and the last rounds gain least.
PRICE_GAP = 2e-4
# Evaluations of the seeding dual (it stops on these, not on the clock, unless time runs out).
SEED_EVALUATIONS = 100
# Nominal seconds on the reference machine: of one simplex round per column in play, and of
# one evaluation of the Lagrangian dual per pair (Relaxation.nominal_seconds).
LP_SECONDS_PER_COLUMN_ROUND = 2e-5
DUAL_SECONDS_PER_PAIR_EVALUATION = 3e-8


def relax(
    data: ProblemData,
    policy: Policy,
    names: list[str],
    *,
    time_limit: float = 60.0,
    include: tuple[np.ndarray, np.ndarray] | None = None,
) -> Relaxation:
    """The LP relaxation of the named terms over every candidate pair, by column generation.

    HiGHS solves the LP over the pairs in play and re-solves it warm each round after pricing
    adds the pairs whose reduced cost is positive. Up to FULL_LP_PAIRS pairs every pair is in
    play from the start; above, each row's SEED_K best pairs by the Lagrangian dual's reduced
    costs, the pairs in force, the pairs of the plan `include` (agent per task, owner per
    customer) and every pair of a must-assign task.

    The bound is validated, not estimated: the Lagrangian dual function at each round's hours
    and slot duals is an upper bound for every pair, priced or not, and the least of them (and
    of the seeding dual's) is kept. Once no pair prices out it equals the LP optimum (status
    "optimal"); when pricing stops first (the bound within PRICE_GAP of the restricted LP's
    optimum, or the time out) it is still valid ("priced"). Values come from the
    restricted LP; reduced costs from the last round's duals, r = points - task dual - hours
    dual x hours - slot dual, for every pair."""
    started = time.perf_counter()
    deadline = started + time_limit
    timed = _DayRows(data, policy, names) if data.day_cum is not None else None
    if timed is not None:
        data = timed.data
    tc, oc = data.task_cand, data.owner_cand
    t_row, o_row = tc.row, oc.row
    cx, co = pair_coefficients(data, policy, names) if timed is None else (timed.cx, timed.co)
    dual = _Dual(data, cx, co, timed)
    bound = np.inf
    seed: Relaxation | None = None
    if len(tc) + len(oc) <= FULL_LP_PAIRS:
        act_x, act_o = np.ones(len(tc), bool), np.ones(len(oc), bool)
    else:
        seed = lagrangian(
            data,
            policy,
            names,
            time_limit=SEED_SHARE * time_limit,
            max_evaluations=SEED_EVALUATIONS,
            dual=dual,
        )
        bound = seed.bound
        act_x = top_per_row(t_row, seed.reduced_cost, np.arange(len(tc)), SEED_K, len(tc))
        act_o = top_per_row(o_row, seed.owner_reduced_cost, np.arange(len(oc)), SEED_K, len(oc))
        act_x |= tc.chosen(data.current)
        act_o |= oc.chosen(data.owner)
        if data.must_assign is not None:
            act_x |= data.must_assign[t_row]
        if include is not None:
            act_x |= tc.chosen(include[0])
            act_o |= oc.chosen(include[1])
    lp = _RestrictedLp(data, cx, co, timed)
    lp.add(act_x, act_o)
    rounds, converged, priced, timed_out = 0, False, None, False
    values = (np.zeros(len(tc)), np.zeros(len(oc)))
    while True:
        rounds += 1
        if not lp.solve(max(0.5, deadline - time.perf_counter())):
            if lp.infeasible and not lp.complete:
                # the pairs in play cannot hold every must-assign task: the LP needs them all
                lp.add(np.ones(len(tc), bool), np.ones(len(oc), bool))
                continue
            timed_out = not lp.infeasible
            break
        lam, mu, nu, task_dual, customer_dual = lp.duals()
        day = lp.day_duals()
        values = lp.values()  # of this round: a later one cut short by the clock has none
        rt, ro = dual.pair_values(lam, mu, nu, day)
        bound = min(bound, dual.value(rt, ro, lam, mu, nu, day))
        priced = (rt - task_dual[t_row], ro - customer_dual[o_row])
        new_x = (priced[0] > PRICE_TOL) & ~lp.has_x
        new_o = (priced[1] > PRICE_TOL) & ~lp.has_o
        if not (new_x.any() or new_o.any()):
            converged = True
            break
        if bound - lp.objective <= PRICE_GAP * max(1.0, abs(bound)):
            break
        if time.perf_counter() >= deadline or interrupt.requested():
            timed_out = True
            break
        lp.add(
            top_per_row(t_row[new_x], priced[0][new_x], np.flatnonzero(new_x), PRICE_K, len(tc)),
            top_per_row(o_row[new_o], priced[1][new_o], np.flatnonzero(new_o), PRICE_K, len(oc)),
        )
    seconds = time.perf_counter() - started
    nominal = time_limit if timed_out else LP_SECONDS_PER_COLUMN_ROUND * lp.columns * rounds
    nominal = min(time_limit, nominal + (seed.nominal_seconds if seed is not None else 0.0))
    if priced is None:
        if seed is not None:  # no LP round finished: the dual alone
            out = dataclasses.replace(seed, seconds=seconds, status="dual only", nominal_seconds=nominal)
            return out if timed is None else timed.folded(out, seed.day_multipliers)
        nothing_x, nothing_o = np.zeros(len(tc)), np.zeros(len(oc))
        out = Relaxation(
            float("nan"), nothing_x, nothing_o, nothing_x, nothing_o, seconds, rounds, lp.columns, "failed",
            nominal_seconds=nominal,
        )  # fmt: skip
        return out if timed is None else timed.folded(out, None)
    out = Relaxation(
        bound=float(bound),
        x=values[0],
        o=values[1],
        reduced_cost=priced[0],
        owner_reduced_cost=priced[1],
        seconds=seconds,
        rounds=rounds,
        columns=lp.columns,
        status="optimal" if converged else "priced",
        nominal_seconds=nominal,
    )
    return out if timed is None else timed.folded(out, day)


def _highs() -> highspy.Highs:
    """A silent HiGHS instance. Its first construction in a process prints a banner on the
    standard output from below Python, so the descriptor points at /dev/null meanwhile."""
    sys.stdout.flush()
    try:
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    except OSError:
        h = highspy.Highs()
    else:
        try:
            os.dup2(null, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
    h.setOptionValue("output_flag", False)
    return h


class _RestrictedLp:
    """max points over the pairs in play, in one HiGHS instance so that each round re-solves
    warm from the last basis. Rows: each task (<= 1; = 1 when it must be assigned), each
    customer (<= 1), and per agent its hours, task slots and customer slots. Pinned pairs are
    held at 1."""

    def __init__(self, data: ProblemData, cx: np.ndarray, co: np.ndarray, timed: _DayRows | None = None):
        d = self.data = data
        self.cx, self.co = cx, co
        self.timed = timed
        T, C, A = d.n_tasks, d.n_customers, d.n_agents
        self.must = d.must_assign if d.must_assign is not None else np.zeros(T, bool)
        inf = highspy.kHighsInf
        lower = np.concatenate([np.where(self.must, 1.0, -inf), np.full(C + 3 * A, -inf)])
        upper = np.concatenate(
            [
                np.ones(T + C),
                np.where(d.active, d.capacity, 0).astype(float),
                np.where(d.max_tasks >= 0, d.max_tasks, inf).astype(float),
                np.where(d.max_customers >= 0, d.max_customers, inf).astype(float),
            ]
        )
        self.h = _highs()
        none = np.zeros(0, dtype=np.int32)
        self.h.addRows(len(lower), lower, upper, 0, none, none, np.zeros(0))
        self.h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.day_base = len(lower)
        if timed is not None:
            timed.add_rows(self.h, self.day_base)
        self.has_x, self.has_o = np.zeros(len(d.task_cand), bool), np.zeros(len(d.owner_cand), bool)
        self.order: list[tuple[bool, np.ndarray]] = []  # (task pairs?, pair indices) per block of columns
        self.columns = 0
        self.infeasible = False

    @property
    def complete(self) -> bool:
        return bool(self.has_x.all() and self.has_o.all())

    def add(self, x: np.ndarray, o: np.ndarray) -> None:
        """Bring the pairs of the masks `x` (task pairs) and `o` (owner pairs) into play."""
        d = self.data
        T, C, A = d.n_tasks, d.n_customers, d.n_agents
        blocks = ((True, x, self.has_x, d.task_cand), (False, o, self.has_o, d.owner_cand))
        for tasks, mask, has, cand in blocks:
            idx = np.flatnonzero(mask & ~has)
            if not len(idx):
                continue
            has[idx] = True
            self.order.append((tasks, idx))
            agent = cand.agent[idx]
            row = cand.row[idx] + (0 if tasks else T)
            slot_row = T + C + (A if tasks else 2 * A) + agent
            slotted = (d.max_tasks if tasks else d.max_customers)[agent] >= 0
            per = 2 + slotted.astype(np.int64)
            starts = np.concatenate([[0], np.cumsum(per)[:-1]])
            index = np.empty(int(per.sum()), dtype=np.int32)
            value = np.ones(len(index))
            index[starts], index[starts + 1] = row, T + C + agent
            value[starts + 1] = cand.weight[idx]
            index[starts[slotted] + 2] = slot_row[slotted]
            if self.timed is not None:  # one more entry: the pair's (agent, due day) balance row
                starts, index, value = self.timed.column_entries(
                    tasks, idx, agent, cand.weight[idx], starts, index, value, self.day_base
                )
            lower = d.pinned[cand.row[idx]].astype(float) if tasks else np.zeros(len(idx))
            cost = (self.cx if tasks else self.co)[idx]
            self.h.addCols(len(idx), cost, lower, np.ones(len(idx)), len(index), starts, index, value)
            self.columns += len(idx)

    def solve(self, seconds: float) -> bool:
        """Re-solve within `seconds`; whether it reached the optimum."""
        self.h.setOptionValue("time_limit", self.h.getRunTime() + seconds)
        self.h.run()
        status = self.h.getModelStatus()
        self.infeasible = status == highspy.HighsModelStatus.kInfeasible
        return status == highspy.HighsModelStatus.kOptimal

    @property
    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)

    def duals(self) -> tuple[np.ndarray, ...]:
        """Hours, task-slot and customer-slot duals (>= 0) per agent, then task and customer duals."""
        d = self.data
        T, C, A = d.n_tasks, d.n_customers, d.n_agents
        y = np.asarray(self.h.getSolution().row_dual)
        agents = np.maximum(y[T + C : T + C + 3 * A], 0.0)
        return agents[:A], agents[A : 2 * A], agents[2 * A :], y[:T], y[T : T + C]

    def day_duals(self) -> np.ndarray | None:
        """The day rows' duals (>= 0) per agent and due day, None without day rows."""
        if self.timed is None:
            return None
        y = np.asarray(self.h.getSolution().row_dual)
        return self.timed.duals(y, self.day_base)

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        """The LP's value of every task pair and owner pair (0 out of play)."""
        col = np.asarray(self.h.getSolution().col_value)
        x, o = np.zeros(len(self.has_x)), np.zeros(len(self.has_o))
        at = 0 if self.timed is None else self.timed.n_columns
        for tasks, idx in self.order:
            (x if tasks else o)[idx] = col[at : at + len(idx)]
            at += len(idx)
        return x, o


def top_per_row(rows: np.ndarray, score: np.ndarray, index: np.ndarray, k: int, n: int) -> np.ndarray:
    """Mask (length n) of the k highest-scoring entries of each row."""
    # One float sort instead of a two-key lexsort (10x faster on millions of pairs): the score
    # scaled into [0, 0.5] is taken off the row number, so rows stay apart and, within a row,
    # higher scores come first; ties (to about 1e-9 of the score range) keep index order.
    s = np.asarray(score, dtype=float)
    s = np.where(np.isnan(s), -np.inf, s)
    finite = np.isfinite(s)
    lo, hi = (s[finite].min(), s[finite].max()) if finite.any() else (0.0, 0.0)
    norm = np.full(len(s), 0.5)  # finite scores in [0.1, 0.9], -inf at 0, +inf at 1
    if hi > lo:
        norm[finite] = 0.1 + 0.8 * (s[finite] - lo) / (hi - lo)
    norm[s == -np.inf], norm[s == np.inf] = 0.0, 1.0
    order = np.argsort(rows - 0.5 * norm, kind="stable")
    r = rows[order]
    first = np.concatenate([[0], np.flatnonzero(np.diff(r)) + 1])
    rank = np.arange(len(r)) - np.repeat(first, np.diff(np.append(first, len(r))))
    out = np.zeros(n, dtype=bool)
    out[index[order[rank < k]]] = True
    return out


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


# --------------------------------------------------------------------------- Lagrangian dual
def lagrangian(
    data: ProblemData,
    policy: Policy,
    names: list[str],
    *,
    time_limit: float = 60.0,
    temperatures: tuple[float, ...] = (0.3, 0.1, 0.03, 0.01),
    max_evaluations: int = 400,
    dual: _Dual | None = None,
) -> Relaxation:
    """The LP bound through its Lagrangian dual (`_Dual`), minimised with L-BFGS-B on a
    log-sum-exp smoothing at falling temperatures (in points) and evaluated exactly at the end,
    so the reported bound is always valid. Values: each row's best pair by reduced value. With
    day rows (a `dual` built with them) their multipliers are minimised over too, and returned
    in `day_multipliers`.
    `dual`, when the caller has built it for this problem and these terms, is used as is."""
    from scipy.optimize import minimize

    started = time.perf_counter()
    d, tc, oc = data, data.task_cand, data.owner_cand
    dual = dual if dual is not None else _Dual(d, *pair_coefficients(d, policy, names))
    cx, co, A = dual.cx, dual.co, d.n_agents
    tw, ow = tc.weight.astype(float), oc.weight.astype(float)
    timed = dual.timed if dual.timed is not None and dual.timed.K else None
    K = timed.K if timed is not None else 0

    def split(z: np.ndarray) -> tuple[np.ndarray, ...]:
        day = z[3 * A :].reshape(A, K) if timed is not None else None
        return z[:A], z[A : 2 * A], z[2 * A : 3 * A], day

    def day_gradient(pt: np.ndarray, po: np.ndarray) -> np.ndarray:
        """rhs less each day row's activity: on-time hours due by that day, owned hours pro rata."""
        on = timed.bucket >= 0
        due_on = np.bincount(
            tc.agent[on].astype(np.int64) * K + timed.bucket[on], pt[on] * tw[on], A * K
        ).reshape(A, K)
        owned = np.bincount(oc.agent, po * ow, A)
        return (timed.rhs - np.cumsum(due_on, axis=1) - timed.share * owned[:, None]).ravel()

    deadline = time.perf_counter() + time_limit
    last: dict[str, np.ndarray] = {}

    def value_and_grad(z: np.ndarray, tau: float) -> tuple[float, np.ndarray]:
        if time.perf_counter() > deadline or interrupt.requested():
            raise _OutOfTime
        last["z"] = z.copy()
        lam, mu, nu, day = split(z)
        rt, ro = dual.pair_values(lam, mu, nu, day)
        vt, pt = dual.t_rows.soft_max(rt, tau)
        vo, po = dual.o_rows.soft_max(ro, tau)
        g_lam = dual.cap - np.bincount(tc.agent, pt * tw, A) - np.bincount(oc.agent, po * ow, A)
        g_mu = (dual.mt - np.bincount(tc.agent, pt, A)) * dual.capped_t
        g_nu = (dual.mc - np.bincount(oc.agent, po, A)) * dual.capped_c
        total = vt + vo + lam @ dual.cap + (mu * dual.capped_t) @ dual.mt + (nu * dual.capped_c) @ dual.mc
        if timed is None:
            return total, np.concatenate([g_lam, g_mu, g_nu])
        total += float((day * timed.rhs).sum())
        return total, np.concatenate([g_lam, g_mu, g_nu, day_gradient(pt, po)])

    def exact(z: np.ndarray) -> float:
        lam, mu, nu, day = split(z)
        return dual.value(*dual.pair_values(lam, mu, nu, day), lam, mu, nu, day)

    z = np.zeros(3 * A + A * K)
    scale = max(1e-9, float(np.abs(cx).max(initial=0.0)), float(np.abs(co).max(initial=0.0)))
    best_z, best = z, exact(z)
    evaluations, timed_out = 0, False
    for temp in temperatures:
        remaining = time_limit - (time.perf_counter() - started)
        if remaining <= 0 or evaluations >= max_evaluations:
            break
        tau = temp * scale / 16.0
        try:
            res = minimize(
                value_and_grad,
                z,
                args=(tau,),
                jac=True,
                method="L-BFGS-B",
                bounds=[(0.0, None)] * len(z),
                options={
                    "maxfun": max(5, (max_evaluations - evaluations) // max(1, len(temperatures))),
                    "maxiter": 1000,
                },
            )
            evaluations += res.nfev
            z = res.x
        except _OutOfTime:
            timed_out = True
            z = last.get("z", z)
            value = exact(z)
            if value < best:
                best_z, best = z, value
            break
        value = exact(z)
        if value < best:
            best_z, best = z, value
    *multipliers, day = split(best_z)
    rt, ro = dual.pair_values(*multipliers, day)
    t_rows, o_rows = dual.t_rows, dual.o_rows
    return Relaxation(
        bound=float(best),
        x=t_rows.argmax_mask(rt).astype(float),
        o=o_rows.argmax_mask(ro).astype(float),
        reduced_cost=rt - t_rows.row_best(rt)[tc.row],
        owner_reduced_cost=ro - o_rows.row_best(ro)[oc.row],
        seconds=time.perf_counter() - started,
        rounds=evaluations,
        columns=len(tc) + len(oc),
        status="optimal",
        day_multipliers=day,
        nominal_seconds=time_limit
        if timed_out
        else min(time_limit, DUAL_SECONDS_PER_PAIR_EVALUATION * (len(tc) + len(oc)) * evaluations),
    )


class _Dual:
    """The Lagrangian dual function of the LP. Hours, task-slot and customer-slot rows get
    multipliers (lam, mu, nu) >= 0; then each task and customer independently takes its best
    pair by reduced value r = points - lam[a] * hours - mu[a] (nu[a] for owner pairs), or
    nobody when every r < 0 and it may stay open, and

        L = sum_rows max(0, max r) + sum_a lam_a cap_a + mu_a max_tasks_a + nu_a max_customers_a

    is an upper bound on the LP, hence on every plan, for any multipliers. Its minimum equals
    the LP optimum (the row subproblems have integral optima)."""

    def __init__(self, data: ProblemData, cx: np.ndarray, co: np.ndarray, timed: _DayRows | None = None):
        d = data
        self.cx, self.co = cx, co
        self.timed = timed
        self.t_agent, self.o_agent = d.task_cand.agent, d.owner_cand.agent
        self.tw, self.ow = d.task_cand.weight.astype(float), d.owner_cand.weight.astype(float)
        must = d.must_assign if d.must_assign is not None else np.zeros(d.n_tasks, bool)
        self.t_rows = _Rows(d.task_cand.ptr, ~(must | d.pinned))
        self.o_rows = _Rows(d.owner_cand.ptr, np.ones(d.n_customers, bool))
        self.capped_t, self.capped_c = d.max_tasks >= 0, d.max_customers >= 0
        self.cap = np.where(d.active, d.capacity, 0).astype(float)
        self.mt = np.where(self.capped_t, d.max_tasks, 0).astype(float)
        self.mc = np.where(self.capped_c, d.max_customers, 0).astype(float)

    def pair_values(
        self, lam: np.ndarray, mu: np.ndarray, nu: np.ndarray, day: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Reduced values r of every task pair and owner pair (slot multipliers only where
        capped; `day`, the day rows' multipliers per agent and due day, where there are some)."""
        mu, nu = mu * self.capped_t, nu * self.capped_c
        rt = self.cx - lam[self.t_agent] * self.tw - mu[self.t_agent]
        ro = self.co - lam[self.o_agent] * self.ow - nu[self.o_agent]
        if day is not None and self.timed is not None:
            price_t, price_o = self.timed.prices(day)
            rt, ro = rt - price_t, ro - price_o
        return rt, ro

    def value(
        self,
        rt: np.ndarray,
        ro: np.ndarray,
        lam: np.ndarray,
        mu: np.ndarray,
        nu: np.ndarray,
        day: np.ndarray | None = None,
    ) -> float:
        """L at the multipliers that gave the reduced values `rt`, `ro`."""
        slots = (mu * self.capped_t) @ self.mt + (nu * self.capped_c) @ self.mc
        rows = float((day * self.timed.rhs).sum()) if day is not None and self.timed is not None else 0.0
        return (
            self.t_rows.hard_max(rt) + self.o_rows.hard_max(ro) + float(lam @ self.cap) + float(slots) + rows
        )


class _OutOfTime(Exception):
    """Raised inside the dual's evaluation when its time is up; the best point so far stands."""


class _Rows:
    """Segment operations over CSR rows of pairs; `optional` rows may also pick nothing (0)."""

    def __init__(self, ptr: np.ndarray, optional: np.ndarray):
        self.counts = np.diff(ptr)
        self.nonempty = np.flatnonzero(self.counts > 0)
        self.starts = ptr[:-1][self.nonempty]
        self.row = np.repeat(np.arange(len(self.counts)), self.counts)
        self.optional = optional

    def row_best(self, r: np.ndarray) -> np.ndarray:
        """Per row: the best pair value, or 0 when the row may pick nothing and that is better."""
        best = np.zeros(len(self.counts))
        if len(r):
            best[self.nonempty] = np.maximum.reduceat(r, self.starts)
        return np.where(self.optional, np.maximum(best, 0.0), best)

    def hard_max(self, r: np.ndarray) -> float:
        return float(self.row_best(r)[self.counts > 0].sum())

    def soft_max(self, r: np.ndarray, tau: float) -> tuple[float, np.ndarray]:
        """Smoothed sum of row maxima (>= the exact one) and each pair's weight in it."""
        if not len(r):
            return 0.0, np.zeros(0)
        m = self.row_best(r)
        e = np.exp((r - m[self.row]) / tau)
        z = np.zeros(len(self.counts))
        z[self.nonempty] = np.add.reduceat(e, self.starts)
        z += np.exp(np.where(self.optional, -m / tau, -np.inf))
        live = self.counts > 0
        value = float((m[live] + tau * np.log(z[live])).sum())
        return value, e / z[self.row]

    def argmax_mask(self, r: np.ndarray) -> np.ndarray:
        """Mask of each row's best pair when it beats picking nothing."""
        best = self.row_best(r)
        hit = (r >= best[self.row]) & ((r > 0) | ~self.optional[self.row])
        # keep only the first hit per row
        first = np.zeros(len(r), bool)
        idx = np.flatnonzero(hit)
        _, pos = np.unique(self.row[idx], return_index=True)
        first[idx[pos]] = True
        return first


# --------------------------------------------------------------------------- day rows
class _DayRows:
    """The day rows of a batch with a horizon (days.py), as the LP holds them.

    For agent a and each due day k before the last (the last is the hours row): a balance row
    says s[a, k] is the hours of a's on-time pairs due on day k, another that g[a] is its owned
    hours, and the day row says sum_{j <= k} s[a, j] + share[a, k] g[a] <= day_cum[a, k] (share:
    the part of its hours it has by day k). Each pair column gains one entry. With soft due
    dates every task due before the last day also has a late copy of each pair: in no day row,
    worth its points less its late points. `data` is the problem over these extended pairs;
    `folded` maps a relaxation of it back onto the problem's own pairs."""

    def __init__(self, data: ProblemData, policy: Policy, names: list[str]):
        d = self.original = data
        tc = d.task_cand
        H = d.day_cum.shape[1]
        due = effective_due(d)
        self.days = np.unique(due[due < H - 1])
        K = self.K = len(self.days)
        A = d.n_agents
        task_bucket = np.where(due < H - 1, np.searchsorted(self.days, np.minimum(due, H - 1)), -1)
        cum = np.where(d.active[:, None], d.day_cum, 0).astype(float)
        self.rhs = cum[:, self.days] if K else np.zeros((A, 0))
        total = cum[:, -1:]
        self.share = np.divide(self.rhs, total, out=np.zeros_like(self.rhs), where=total > 0)
        late_rows = (task_bucket >= 0) & ~d.pinned & (not d.due_hard)
        late_pairs = np.flatnonzero(late_rows[tc.row])
        origin = np.concatenate([np.arange(len(tc)), late_pairs])
        late = np.concatenate([np.zeros(len(tc), bool), np.ones(len(late_pairs), bool)])
        order = np.argsort(tc.row[origin], kind="stable")  # each row: its pairs, then their late copies
        self.origin, self.late = origin[order], late[order]
        counts = np.bincount(tc.row[self.origin], minlength=d.n_tasks)
        ext = Candidates(
            np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            tc.agent[self.origin],
            tc.cross_region[self.origin],
            tc.overqual[self.origin],
            tc.weight[self.origin],
            tc.value[self.origin],
        )
        self.data = d.replace(task_cand=ext)
        self.bucket = np.where(self.late, -1, task_bucket[ext.row])
        self.cx, self.co = pair_coefficients(self.data, policy, names)
        if "lateness" in names:
            self.cx = self.cx - np.where(self.late, late_points(d, policy)[ext.row], 0.0)
        self.n_columns = A * K + A if K else 0

    def add_rows(self, h: highspy.Highs, base: int) -> None:
        """The balance and day rows from row `base` on, and the s and g columns."""
        if not self.K:
            return
        A, K = self.original.n_agents, self.K
        inf = highspy.kHighsInf
        none = np.zeros(0, dtype=np.int32)
        lower = np.concatenate([np.zeros(A * K + A), np.full(A * K, -inf)])
        upper = np.concatenate([np.zeros(A * K + A), self.rhs.ravel()])
        h.addRows(len(lower), lower, upper, 0, none, none, np.zeros(0))
        day_row = base + A * K + A + np.arange(A * K).reshape(A, K)
        # s[a, k]: -1 in its balance row, +1 in the day rows of a from k on
        a_idx, k_idx = np.divmod(np.arange(A * K), K)
        per_s = 1 + (K - k_idx)
        # g[a]: -1 in its balance row, + share in each of a's day rows
        per = np.concatenate([per_s, np.full(A, 1 + K)])
        starts = np.concatenate([[0], np.cumsum(per)[:-1]])
        index = np.empty(int(per.sum()), dtype=np.int32)
        value = np.empty(len(index))
        index[starts[: A * K]] = base + np.arange(A * K)
        value[starts[: A * K]] = -1.0
        later = np.arange(K)[None, :] >= k_idx[:, None]  # (A*K, K): day rows k' >= k
        rows_s = np.where(later, day_row[a_idx], -1)
        fill = np.flatnonzero(rows_s.ravel() >= 0)
        pos_s = (starts[: A * K, None] + 1 + np.cumsum(later, axis=1) - 1).ravel()[fill]
        index[pos_s] = rows_s.ravel()[fill]
        value[pos_s] = 1.0
        g_starts = starts[A * K :]
        index[g_starts] = base + A * K + np.arange(A)
        value[g_starts] = -1.0
        index[(g_starts[:, None] + 1 + np.arange(K)[None, :]).ravel()] = day_row.ravel()
        value[(g_starts[:, None] + 1 + np.arange(K)[None, :]).ravel()] = self.share.ravel()
        n = len(per)
        h.addCols(n, np.zeros(n), np.zeros(n), np.full(n, inf), len(index), starts, index, value)

    def column_entries(
        self,
        tasks: bool,
        idx: np.ndarray,
        agent: np.ndarray,
        weight: np.ndarray,
        starts: np.ndarray,
        index: np.ndarray,
        value: np.ndarray,
        base: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pair columns' entries (CSR by column) with each one's balance row added: its
        agent's row for its due day (on-time task pairs due before the last day), or its
        agent's owned-hours row (owner pairs)."""
        if not self.K:
            return starts, index, value
        A, K = self.original.n_agents, self.K
        if tasks:
            bucket = self.bucket[idx]
            extra = np.flatnonzero(bucket >= 0)
            rows = base + agent[extra].astype(np.int64) * K + bucket[extra]
        else:
            extra = np.arange(len(idx))
            rows = base + A * K + agent.astype(np.int64)
        col = np.repeat(np.arange(len(idx)), np.diff(np.append(starts, len(index))))
        col = np.concatenate([col, extra])
        index = np.concatenate([index, rows.astype(np.int32)])
        value = np.concatenate([value, weight[extra].astype(float)])
        order = np.argsort(col, kind="stable")
        counts = np.bincount(col, minlength=len(idx))
        return np.concatenate([[0], np.cumsum(counts)[:-1]]), index[order], value[order]

    def duals(self, y: np.ndarray, base: int) -> np.ndarray:
        A, K = self.original.n_agents, self.K
        return np.maximum(y[base + A * K + A : base + 2 * A * K + A], 0.0).reshape(A, K)

    def prices(self, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points the day rows at multipliers `day` charge each (extended) task pair and owner
        pair: its hours times its agent's multipliers from its due day on (owner pairs: times
        their shares)."""
        d = self.data
        if not self.K:
            return np.zeros(len(d.task_cand)), np.zeros(len(d.owner_cand))
        suffix = np.cumsum(day[:, ::-1], axis=1)[:, ::-1]
        tc, oc = d.task_cand, d.owner_cand
        on = self.bucket >= 0
        price_t = np.zeros(len(tc))
        price_t[on] = tc.weight[on] * suffix[tc.agent[on], self.bucket[on]]
        price_o = oc.weight * (day * self.share).sum(axis=1)[oc.agent]
        return price_t, price_o

    def folded(self, lp: Relaxation, day: np.ndarray | None) -> Relaxation:
        """A relaxation of the extended problem as one of the original: values summed over a
        pair and its late copy, reduced costs the better of the two, and each pair's day price."""
        P = len(self.original.task_cand)
        x = np.bincount(self.origin, weights=lp.x, minlength=P) if len(lp.x) else lp.x
        reduced = np.full(P, -np.inf)
        if len(lp.reduced_cost):
            np.maximum.at(reduced, self.origin, lp.reduced_cost)
        else:
            reduced = lp.reduced_cost
        price = np.zeros(P)
        if day is not None:
            on = ~self.late
            price[self.origin[on]] = self.prices(day)[0][on]
        return dataclasses.replace(lp, x=x, reduced_cost=reduced, day_price=price)
