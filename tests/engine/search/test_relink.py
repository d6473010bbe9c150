"""Path relinking (relink.py): walks between two plans keep every capacity, slot and pin, gain
what they report, combine what each plan does best, and never pass the brute-force optimum."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from optassign.bench.gap import gap_data_dir, gap_policy, gap_problem, plan_problems, read_gap
from optassign.engine.budget import Budget
from optassign.engine.search.chains import Dense, plan_value
from optassign.engine.search.relink import _penalties, relink, walk
from optassign.engine.solve import solve_problem
from tests.engine.search.test_chains import brute_force, feasible, gap_dense, random_gap


def first_fit(g: Dense, rng: np.random.Generator, must: np.ndarray) -> np.ndarray:
    """A random feasible plan: tasks in random order, each on a random agent with room."""
    T, A = g.value.shape
    plan = np.where(g.movable, -1, g.fixed_at)
    held = plan >= 0
    load = np.bincount(plan[held], weights=g.weight[np.flatnonzero(held), plan[held]], minlength=A)
    count = np.bincount(plan[held], minlength=A)
    for t in rng.permutation(np.flatnonzero(g.movable)).tolist():
        fits = np.flatnonzero(
            np.isfinite(g.value[t]) & (load + g.weight[t] <= g.capacity) & (count < g.slots)
        )
        if len(fits) and (must[t] or rng.random() < 0.7):
            a = int(rng.choice(fits))
            plan[t], load[a], count[a] = a, load[a] + g.weight[t, a], count[a] + 1
    return plan


def test_a_walk_combines_the_better_half_of_each_plan():
    # Agents 0, 1 and tasks 0, 1 form one group, agents 2, 3 and tasks 2, 3 another; each agent
    # holds one task (cross-group pairs weigh more than any capacity). Plan A is right in the
    # first group (cost 1 + 1) and wrong in the second (10 + 10), plan B the other way round:
    # both cost 22. The walk from A moves task 2 (over agent 3's hours, penalised), then task 3
    # (which clears it): the mix costs 4, the optimum.
    costs = [[1, 10, 9, 9], [10, 1, 9, 9], [9, 9, 10, 1], [9, 9, 1, 10]]
    weights = [[1, 1, 2, 2], [1, 1, 2, 2], [2, 2, 1, 1], [2, 2, 1, 1]]
    g, _ = gap_dense(costs, weights, [1, 1, 1, 1])
    a, b = np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2])
    assert plan_value(g, a) == plan_value(g, b) == -22
    value, plan, work = walk(g, a, b, _penalties(g), np.random.default_rng(0))
    assert (plan == [0, 1, 3, 2]).all() and value == -4 and feasible(g, plan) and work > 0
    assert -value == -brute_force(g)


@pytest.mark.parametrize("seed", range(8))
def test_walks_keep_capacities_slots_pins_and_must_assign_tasks(seed):
    rng = np.random.default_rng(seed)
    A, T = 4, 14
    w = rng.integers(1, 10, size=(A, T))
    c = 30 - w + rng.integers(-3, 4, size=(A, T))
    g, _ = gap_dense(c, w, (0.8 * w.sum(axis=1) / A).astype(np.int64))
    pins = rng.random(T) < 0.15
    fixed_at = np.where(pins, rng.integers(0, A, size=T), -1)
    value = g.value.copy()
    value[rng.random((T, A)) < 0.2] = -np.inf  # some pairs are no candidates
    value[np.flatnonzero(pins), fixed_at[pins]] = 5.0
    g = dataclasses.replace(
        g,
        value=value,
        capacity=g.capacity
        + np.bincount(fixed_at[pins], weights=g.weight[pins, fixed_at[pins]], minlength=A),
        slots=rng.integers(3, 6, size=A),
        movable=~pins,
        fixed_at=fixed_at,
    )
    must = rng.random(T) < 0.3
    a, b = first_fit(g, rng, must), first_fit(g, rng, must)
    for plan in (a, b):
        assert feasible(g, plan)
    best, plan, _ = walk(g, a, b, _penalties(g), rng)
    if plan is None:
        return
    assert feasible(g, plan) and best == pytest.approx(plan_value(g, plan))
    assert (plan[pins] == fixed_at[pins]).all()
    assert (plan[must & (a >= 0) & (b >= 0)] >= 0).all()


def test_relinking_improves_on_the_pool_and_stays_below_the_optimum():
    improved = 0
    for seed in range(6):
        rng = np.random.default_rng(200 + seed)
        T = 9
        g = random_gap(rng, 3, T, 0.9)
        optimum = brute_force(g)
        must = np.ones(T, bool)
        plans = [first_fit(g, rng, must) for _ in range(40)]
        pool = {p.tobytes(): (plan_value(g, p), p) for p in plans if (p >= 0).all()}
        pool = sorted(pool.values(), key=lambda vp: -vp[0])[:6]
        assert len(pool) >= 2
        value, plan, rst = relink(g, list(pool), budget=Budget(30.0, max_work=1e8), seed=seed, patience=50)
        assert feasible(g, plan) and (plan >= 0).all()
        assert value == pytest.approx(plan_value(g, plan))
        assert pool[0][0] <= value <= optimum + 1e-9
        assert rst.stopped_by in ("no better plan", "bound reached", "work")
        improved += value > pool[0][0]
        again = relink(g, list(pool), budget=Budget(30.0, max_work=1e8), seed=seed, patience=50)
        assert again[0] == value and (again[1] == plan).all()
    assert improved >= 3


def test_a_lone_plan_is_returned_as_it_is():
    g, _ = gap_dense([[1, 2], [2, 1]], [[1, 1], [1, 1]], [2, 2])
    plan = np.array([0, 1])
    value, out, stats = relink(g, [(plan_value(g, plan), plan)], budget=Budget(5.0, max_work=1e9))
    assert out is plan and stats.walks == 0 and stats.stopped_by == "pool"


@pytest.mark.skipif(not (gap_data_dir() / "chu1997").is_dir(), reason="no GAP data")
def test_type_d_instance_gets_a_relinked_start():
    # chu1997 d05100 (5 agents x 100 items), 6 s: the knapsack plans are relinked before CP-SAT
    inst = read_gap(gap_data_dir() / "chu1997" / "d05100")
    r = solve_problem(gap_problem(inst), gap_policy(), time_limit=6, workers=1, seed=0)
    assert r.statistics["relink_walks"] > 0
    assert r.statistics["start"] == "lagrangian"
    assert plan_problems(inst, r.assign) == []
