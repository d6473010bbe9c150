"""Ejection chains (chains.py), checked
against hand-computed moves and against brute force on small random instances: plans keep
every capacity, slot and pin, gain what they report, and the bound holds above the optimum."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from optassign.bench.gap import GapInstance, gap_policy, gap_problem
from optassign.engine.budget import Budget
from optassign.engine.relax import pair_coefficients
from optassign.engine.search.chains import Dense, chain_exchange, dense, descend, plan_value
from optassign.engine.solve import primary_terms

NO_OWNER = np.zeros(0, dtype=np.int32)


def gap_dense(costs, weights, capacities) -> tuple[Dense, np.ndarray]:
    inst = GapInstance(
        "t",
        np.asarray(costs, dtype=np.int64),
        np.asarray(weights, dtype=np.int64),
        np.asarray(capacities, dtype=np.int64),
    )
    d = gap_problem(inst)
    coef, _ = pair_coefficients(d, gap_policy(), primary_terms(gap_policy()))
    return dense(d, coef, NO_OWNER), coef


def random_gap(rng: np.random.Generator, A: int, T: int, tightness: float) -> Dense:
    """A small random GAP instance: costs fall as weights rise, capacities `tightness` of an
    even share of the weights (at least the heaviest item)."""
    w = rng.integers(1, 10, size=(A, T))
    c = 20 - w + rng.integers(-2, 3, size=(A, T))
    cap = np.maximum((tightness * w.sum(axis=1) / A).astype(np.int64), w.max(axis=1))
    return gap_dense(c, w, cap)[0]


def feasible(g: Dense, a: np.ndarray) -> bool:
    on = a >= 0
    t = np.flatnonzero(on)
    if not np.isfinite(g.value[t, a[on]]).all():
        return False
    load = np.bincount(a[on], weights=g.weight[t, a[on]], minlength=g.value.shape[1])
    count = np.bincount(a[on], minlength=g.value.shape[1])
    return bool((load <= g.capacity).all() and (count <= g.slots).all())


def brute_force(g: Dense) -> float:
    """The best value over every plan that assigns every task (GAP)."""
    T, A = g.value.shape
    best = -np.inf
    for combo in itertools.product(range(A), repeat=T):
        a = np.array(combo)
        if feasible(g, a):
            best = max(best, plan_value(g, a))
    return best


def test_a_cycle_of_three_moves_where_no_single_move_or_swap_can():
    # Three agents of capacity 2, three tasks of weight 2: every agent full. Each task is
    # cheapest on the next agent round the circle; no shift fits and a swap of any two tasks
    # puts one on an agent where it costs 10. Only the 3-cycle gains: 3 x (5 - 1) = 12.
    costs = [[5, 10, 1], [1, 5, 10], [10, 1, 5]]
    weights = [[2, 2, 2]] * 3
    g, _ = gap_dense(costs, weights, [2, 2, 2])
    start = np.array([0, 1, 2])
    assert plan_value(g, start) == -15
    two, _ = descend(g, start, max_len=2)
    assert (two == start).all()
    three, stats = descend(g, start, max_len=3)
    assert (three == [1, 2, 0]).all() and plan_value(g, three) == -3
    assert stats.chains == 1 and stats.moved == 3 and stats.gained == pytest.approx(12)


def test_a_path_ends_on_an_agent_with_room():
    # Agent 0 is full with task 0; task 0 is cheaper on agent 1, which is full with task 1;
    # task 1 can go to agent 2, which has room. The path 0 -> 1 -> agent 2 gains 4 + 4 - 1.
    costs = [[5, 9, 9], [1, 5, 9], [9, 2, 1]]
    weights = [[3, 3, 3], [3, 3, 3], [3, 3, 3]]
    g, _ = gap_dense(costs, weights, [3, 3, 6])
    start = np.array([0, 1, 2])
    out, stats = descend(g, start, max_len=3)
    assert (out == [1, 2, 2]).all()
    assert plan_value(g, out) == -(1 + 2 + 1)
    assert stats.gained == pytest.approx(plan_value(g, out) - plan_value(g, start))


def test_pinned_tasks_never_move_and_open_tasks_start_chains():
    costs = [[5, 10, 1], [1, 5, 10], [10, 1, 5]]
    g, _ = gap_dense(costs, [[2, 2, 2]] * 3, [2, 2, 2])
    pinned = dataclasses.replace(g, movable=np.array([True, False, True]), fixed_at=np.array([0, -1, 2]))
    out, stats = descend(pinned, np.array([0, 1, 2]), max_len=3)
    assert out[0] == 0 and out[2] == 2 and stats.chains == 0
    # an open task starts a chain: it takes task 1's place on agent 1 (+3), task 1 moves to
    # agent 2 (7 instead of 8): +2, better than placing the open task on agent 2 directly (+1)
    value = np.array([[1.0, -np.inf, -np.inf], [2.0, 8.0, 7.0], [-np.inf, 3.0, 1.0]])
    weight = np.full((3, 3), 2)
    open_start = Dense(value, weight, np.array([2, 2, 2]), np.full(3, 9), np.ones(3, bool), np.full(3, -1))
    out, stats = descend(open_start, np.array([0, 1, -1]), max_len=3)
    assert (out == [0, 2, 1]).all() and feasible(open_start, out)
    assert stats.gained == pytest.approx(2.0) and plan_value(open_start, out) == 11.0


def test_task_slots_hold_on_path_ends():
    costs = [[9, 9], [1, 1]]
    g, _ = gap_dense(costs, [[1, 1], [1, 1]], [5, 5])
    one_slot = dataclasses.replace(g, slots=np.array([5, 1]))
    out, _ = descend(one_slot, np.array([0, 0]), max_len=3)
    assert np.bincount(out, minlength=2)[1] == 1 and feasible(one_slot, out)


@pytest.mark.parametrize("seed", range(12))
def test_random_chains_stay_feasible_and_gain_what_they_report(seed):
    rng = np.random.default_rng(seed)
    A, T = 4, 12
    w = rng.integers(1, 10, size=(A, T))
    c = 30 - w + rng.integers(-3, 4, size=(A, T))
    cap = (0.8 * w.sum(axis=1) / A).astype(np.int64)
    g, _ = gap_dense(c, w, cap)
    start = np.full(T, -1)
    load = np.zeros(A, dtype=np.int64)
    for t in rng.permutation(T).tolist():  # a random first-fit plan
        fits = np.flatnonzero(load + w[:, t] <= cap)
        if len(fits):
            start[t] = rng.choice(fits)
            load[start[t]] += w[start[t], t]
    out, stats = descend(g, start, max_len=4)
    assert feasible(g, out) and ((out >= 0) | (start < 0)).all()  # nothing assigned is dropped
    assert plan_value(g, out) - plan_value(g, start) == pytest.approx(stats.gained)


def test_chain_exchange_leaves_large_or_budgeted_problems_alone():
    inst = GapInstance(
        "t", np.ones((2, 3), dtype=np.int64), np.ones((2, 3), dtype=np.int64), np.array([3, 3], np.int64)
    )
    d = gap_problem(inst).replace(move_budget=0)
    coef = np.zeros(len(d.task_cand))
    out, stats = chain_exchange(d, coef, np.array([0, 0, 1]), NO_OWNER)
    assert (out == [0, 0, 1]).all() and stats.rounds == 0


def test_chains_polish_a_cut_short_search_into_a_valid_better_plan(tmp_path):
    # A generated batch (customers, skills, regions, max_tasks, pins, a plan in force) whose
    # CP-SAT search is cut to almost nothing: the chains then have work to do, and the plan
    # they leave must pass the independent checker, score what the summary says, and be the
    # same on a second run.
    import optassign
    from optassign.engine.model import points as _value
    from optassign.engine.problem import build_problem
    from optassign.scenario.generate import generate_scenario
    from tests.checker import assert_plan_ok

    folder = generate_scenario(tmp_path / "batch", tasks=600, agents=30, regions=3, seed=5)
    scenario = optassign.load_scenario(folder)
    plans = [
        optassign.solve(scenario, time_limit=20, workers=1, seed=0, max_deterministic_time=0.001)
        for _ in range(2)
    ]
    stats = plans[0].summary["statistics"]
    assert stats["chains_applied"] > 0 and stats["chains_gain"] > 0
    plans[0].write(tmp_path / "plan")
    assert_plan_ok(folder, tmp_path / "plan")
    data = build_problem(scenario)
    first = plans[0].summary["stages"][0]
    assert first["objective"] == pytest.approx(
        _value(data, scenario.policy, first["terms"], plans[0].result.assign, plans[0].result.owner), abs=1e-3
    )
    assert plans[0].assignments.equals(plans[1].assignments)


@pytest.mark.parametrize("group_size", [5, 8])  # open work left out; also groups skipped
def test_chain_sweep_keeps_every_held_task_in_its_sub_problems(tmp_path, monkeypatch, group_size):
    # Neighbourhoods larger than the dense limit must leave out open work only: a held task
    # left out of a sub-problem would free its hours there and overload its agent.
    import optassign
    import optassign.engine.search.lns as lns
    from optassign.engine.problem import build_problem
    from optassign.engine.search.greedy import greedy_plan
    from optassign.engine.solve import primary_terms
    from optassign.scenario.generate import generate_scenario

    monkeypatch.setattr(lns, "MAX_DENSE_TASKS", 110)
    scenario = optassign.load_scenario(
        generate_scenario(tmp_path / "b", tasks=600, agents=30, regions=2, seed=2)
    )
    d = build_problem(scenario)
    assign, owner = greedy_plan(d)  # far from chain-optimal, unlike a solve's plan
    new, stats = lns.chain_sweep(
        d, scenario.policy, primary_terms(scenario.policy), assign, owner,
        budget=Budget(3.0, max_work=5e9), seed=0, group_size=group_size,
    )  # fmt: skip
    assert stats.neighbourhoods > 0 and stats.improved > 0
    tc = d.task_cand
    used = tc.chosen(new)
    hours = np.bincount(tc.agent[used], weights=tc.weight[used], minlength=d.n_agents)
    owned = owner >= 0
    hours += np.bincount(owner[owned], weights=d.ownership_hours[owned], minlength=d.n_agents)
    assert (hours <= np.where(d.active, d.capacity, 0)).all()
    count = np.bincount(new[new >= 0], minlength=d.n_agents)
    assert ((d.max_tasks < 0) | (count <= d.max_tasks)).all()
    assert (np.bincount(tc.row[used], minlength=d.n_tasks) == (new >= 0)).all()  # candidates only
    assert ((new >= 0) | (assign < 0)).all()
