"""The Lagrangian knapsack search (knapsack.py) against brute force on small random GAP
instances: its plans keep every capacity, its bound holds above the optimum, it stops on its
budget's work (the same plans again) or on its wall clock, and it applies only where it should."""

from __future__ import annotations

import numpy as np
import pytest

from optassign.bench.gap import GapInstance, gap_problem
from optassign.engine.budget import Budget
from optassign.engine.search.chains import plan_value
from optassign.engine.search.knapsack import WORK_PER_SECOND, applicable, search
from tests.engine.search.test_chains import brute_force, feasible, gap_dense, random_gap


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bound_holds_and_its_plans_are_feasible(seed):
    T = 7
    g = random_gap(np.random.default_rng(100 + seed), 3, T, 0.85)
    optimum = brute_force(g)
    must = np.ones(T, dtype=bool)
    pool, stats = search(g, must, budget=Budget(30.0, deterministic=False), seed=seed)
    assert stats.bound >= optimum - 1e-6  # an upper bound on the (maximised) value
    if np.isfinite(optimum):
        assert pool
    for value, plan in pool:  # distinct feasible plans, best first, each valued right
        assert feasible(g, plan) and (plan >= 0).all()
        assert value == pytest.approx(plan_value(g, plan)) and value <= optimum + 1e-9
    assert [v for v, _ in pool] == sorted((v for v, _ in pool), reverse=True)
    assert len({p.tobytes() for _, p in pool}) == len(pool)
    # deterministic for a seed and a work budget
    again, _ = search(g, must, budget=Budget(30.0, deterministic=False), seed=seed)
    assert len(again) == len(pool) and all((p == q).all() for (_, p), (_, q) in zip(again, pool, strict=True))


def test_gap_instance_reaches_its_optimum_and_a_bound_tighter_than_the_lp():
    # 2 agents x 3 items from test_gap.py's tiny instance (optimum 12, LP bound 11.5 there)
    g, _ = gap_dense([[4, 1, 9], [2, 6, 3]], [[2, 3, 5], [3, 2, 2]], [5, 4])
    pool, stats = search(g, np.ones(3, bool), budget=Budget(10.0, deterministic=False))
    value = pool[0][0]
    assert -value == -brute_force(g)
    assert -stats.bound <= -value


def test_the_search_applies_to_dense_problems_without_owner_decisions(tiny_scenario):
    from optassign.engine.problem import build_problem
    from optassign.scenario.scenario import load_scenario

    inst = GapInstance(
        "t",
        np.ones((2, 3), dtype=np.int64),
        np.ones((2, 3), dtype=np.int64),
        np.array([3, 3], dtype=np.int64),
    )
    assert applicable(gap_problem(inst))
    d = build_problem(load_scenario(tiny_scenario))
    assert applicable(d) == (len(d.owner_cand) == 0)


def test_a_work_budget_ends_the_search_with_the_same_plans_every_time():
    g = random_gap(np.random.default_rng(7), 4, 12, 0.8)
    must = np.zeros(12, dtype=bool)
    budget = Budget(60.0, max_work=2e4)
    pool, stats = search(g, must, budget=budget, seed=3, patience=10**6)
    again, _ = search(g, must, budget=budget, seed=3, patience=10**6)
    assert stats.stopped_by in ("iterations", "bound reached")
    assert stats.work >= 2e4 or stats.stopped_by == "bound reached"
    assert [v for v, _ in pool] == [v for v, _ in again]
    assert all((a == b).all() for (_, a), (_, b) in zip(pool, again, strict=True))


def test_a_spent_wall_clock_stops_it_before_the_first_iteration():
    g = random_gap(np.random.default_rng(8), 3, 6, 0.8)
    pool, stats = search(g, np.zeros(6, bool), budget=Budget(0.0, deterministic=False))
    assert stats.stopped_by == "wall clock" and stats.iterations == 0 and pool == []


def test_its_budget_is_its_rate_times_the_seconds_when_deterministic():
    assert Budget(2.0).work(WORK_PER_SECOND) == 2.0 * WORK_PER_SECOND
