"""Insertion with ejection (ejection.py): open work placed by pushing out cheaper work, with the
arithmetic of each case in its comment, and the rules it must never break."""

from __future__ import annotations

import numpy as np
import pytest

from optassign.engine.relax import pair_coefficients
from optassign.engine.search.ejection import insert_with_ejection
from tests._cases import PRIORITY, agent, problem, random_frames, task, zero_policy

POLICY = zero_policy(priority_value=PRIORITY)


def run(d, assign, owner=None, policy=POLICY):
    coef, _ = pair_coefficients(d, policy, ["service"])
    owner = np.full(d.n_customers, -1, np.int32) if owner is None else owner
    return insert_with_ejection(d, coef, np.asarray(assign, np.int32), owner)


def ids(d, assign):
    return [d.agent_ids[a] if a >= 0 else "" for a in assign]


def test_urgent_task_pushes_out_cheap_one_which_moves_elsewhere():
    # A1 (4 h) holds T1 (p1, 4 h); T2 (p5, 4 h) only fits A1 (skill); B1 has 4 h free.
    # Placing T2 on A1 pushes T1 out (+16 - 1), then T1 goes to B1 (+1): 16 points in all.
    d = problem(
        [agent("A1", 4, skills="x:1"), agent("B1", 4)],
        [task("T1", 1, 4), task("T2", 5, 4, required_skills="x:1")],
    )
    assign, stats = run(d, [0, -1])
    assert ids(d, assign) == ["B1", "A1"]
    assert stats.inserted == 2 and stats.ejected == 1
    assert stats.gained == pytest.approx(16.0)


def test_no_ejection_when_what_would_go_is_worth_more():
    # A1 holds T1 and T3 (p4, 2 h each, 8 points each); T2 (p5, 4 h) needs both out: 16 - 16 = 0.
    d = problem([agent("A1", 4)], [task("T1", 4, 2), task("T2", 5, 4), task("T3", 4, 2)])
    assign, stats = run(d, [0, -1, 0])
    assert ids(d, assign) == ["A1", "", "A1"]
    assert stats.inserted == 0


def test_takes_the_cheapest_room_and_only_what_it_needs():
    # A1 (6 h) holds T1 (p1, 2 h), T2 (p2, 2 h), T3 (p3, 2 h). T4 (p5, 3 h) needs 3 h:
    # the two cheapest per hour (T1, T2) free 4 h for a loss of 3; T3 stays. 16 - 3 = 13.
    d = problem(
        [agent("A1", 6)],
        [task("T1", 1, 2), task("T2", 2, 2), task("T3", 3, 2), task("T4", 5, 3)],
    )
    assign, stats = run(d, [0, 0, 0, -1])
    assert ids(d, assign) == ["", "", "A1", "A1"]
    assert stats.gained == pytest.approx(13.0)


def test_trims_a_needless_ejection():
    # A1 (5 h) holds T1 (p1, 1 h: 1 point/h) and T2 (p2, 4 h: 0.5 point/h); T3 (p5, 4 h).
    # Cheapest per hour first takes T2 (4 h) and that is enough: T1 stays. 16 - 2 = 14.
    d = problem([agent("A1", 5)], [task("T1", 1, 1), task("T2", 2, 4), task("T3", 5, 4)])
    assign, stats = run(d, [0, 0, -1])
    assert ids(d, assign) == ["A1", "", "A1"]
    assert stats.gained == pytest.approx(14.0)


def test_pinned_tasks_stay():
    d = problem(
        [agent("A1", 4)],
        [task("T1", 1, 4, assigned_to="A1", pinned=True), task("T2", 5, 4)],
    )
    assign, stats = run(d, [0, -1])
    assert ids(d, assign) == ["A1", ""]


def test_max_tasks_makes_room_by_count():
    # A1 may hold one task: T2 (p5) takes the slot of T1 (p1).
    d = problem([agent("A1", 40, max_tasks=1)], [task("T1", 1, 1), task("T2", 5, 1)])
    assign, _ = run(d, [0, -1])
    assert ids(d, assign) == ["", "A1"]


def test_move_budget_bounds_what_leaves_its_agent_in_force():
    # T1 and T3 (p1) are with A1 in force; T2 (p5, forced off a leaver) needs 4 h of A1's 4 h.
    # With a budget of 0 nothing in force may go; with 2 both may.
    d = problem(
        [agent("A1", 4)],
        [task("T1", 1, 2, assigned_to="A1"), task("T2", 5, 4), task("T3", 1, 2, assigned_to="A1")],
    )
    forced = np.zeros(3, bool)
    for budget, expected in ((0, ["A1", "", "A1"]), (1, ["A1", "", "A1"]), (2, ["", "A1", ""])):
        data = d.replace(move_budget=budget, forced=forced)
        assign, _ = run(data, [0, -1, 0])
        assert ids(data, assign) == expected, budget


def test_random_cases_stay_feasible_and_never_lose_value():
    policy = zero_policy(priority_value=PRIORITY)
    for seed in range(5):
        agents, tasks, _ = random_frames(seed, 60, 6, 0)
        d = problem(agents, tasks, policy=policy)
        coef, _ = pair_coefficients(d, policy, ["service"])
        tc = d.task_cand
        # a poor start: every other task left open, the rest greedily where they fit
        start = np.full(d.n_tasks, -1, np.int32)
        load = np.zeros(d.n_agents, np.int64)
        slots = np.where(d.max_tasks >= 0, d.max_tasks, 10**9)
        for t in range(0, d.n_tasks, 2):
            for p in range(tc.ptr[t], tc.ptr[t + 1]):
                a = tc.agent[p]
                if load[a] + tc.weight[p] <= d.capacity[a] and slots[a] > 0:
                    start[t], load[a] = a, load[a] + tc.weight[p]
                    slots[a] -= 1
                    break
        assign, stats = insert_with_ejection(d, coef, start, np.full(d.n_customers, -1, np.int32))
        pick, pick0 = tc.chosen(assign), tc.chosen(start)
        assert (np.bincount(tc.row[pick], minlength=d.n_tasks) == (assign >= 0)).all()  # legal pairs
        used = np.bincount(tc.agent[pick], weights=tc.weight[pick], minlength=d.n_agents)
        assert (used <= d.capacity).all()
        count = np.bincount(tc.agent[pick], minlength=d.n_agents)
        assert ((d.max_tasks < 0) | (count <= d.max_tasks)).all()
        assert stats.inserted > 0
        assert coef[pick].sum() == pytest.approx(coef[pick0].sum() + stats.gained)
        assert stats.gained >= 0


def test_a_plan_outside_the_candidates_is_refused():
    # T1 needs skill x, which B1 lacks: a plan giving it to B1 is not one the search can read.
    d = problem([agent("A1", 4, skills="x:1"), agent("B1", 4)], [task("T1", 5, 1, required_skills="x:1")])
    with pytest.raises(ValueError, match="not among its candidate pairs"):
        run(d, [1])
