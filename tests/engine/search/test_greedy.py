"""The greedy start (greedy.py): pins first, then the plan in force while it fits, then work
by priority to the eligible agent with room and the best score, ties to the least utilised;
never over an agent's hours or task slots."""

from __future__ import annotations

import numpy as np

from optassign.engine.search.greedy import greedy_plan
from tests._cases import agent, problem, random_frames, task


def ids(d, assign) -> dict[str, str]:
    return {d.task_ids[t]: d.agent_ids[a] for t, a in enumerate(assign) if a >= 0}


def test_higher_priority_first_when_not_everything_fits():
    d = problem([agent("A1", 2)], [task("T1", 1, 1), task("T2", 5, 2), task("T3", 1, 1)])
    assign, _ = greedy_plan(d)
    assert ids(d, assign) == {"T2": "A1"}


def test_ties_go_to_the_least_utilised_agent():
    d = problem([agent("A1", 10), agent("A2", 10)], [task(f"T{i}", 3, 1) for i in range(4)])
    assign, _ = greedy_plan(d)
    assert np.bincount(assign, minlength=2).tolist() == [2, 2]


def test_pins_and_the_plan_in_force_are_kept_where_they_fit():
    tasks = [task("T1", 1, 2, assigned_to="A2", pinned=True), task("T2", 1, 2, assigned_to="A2")]
    tasks.append(task("T3", 5, 2))
    d = problem([agent("A1", 4), agent("A2", 4)], tasks)
    assign, _ = greedy_plan(d)
    assert ids(d, assign) == {"T1": "A2", "T2": "A2", "T3": "A1"}
    fresh, _ = greedy_plan(d, keep_current=False)
    assert ids(d, fresh)["T1"] == "A2"  # a pin holds even when the plan in force does not


def test_a_score_picks_the_agent_and_a_start_seeds_the_plan():
    d = problem([agent("A1", 10), agent("A2", 10)], [task("T1")])
    score = np.where(d.task_cand.agent == 1, 1.0, 0.0)
    assign, _ = greedy_plan(d, pair_score=score)
    assert ids(d, assign) == {"T1": "A2"}
    seeded, _ = greedy_plan(d, start=(np.array([0], np.int32), np.zeros(0, np.int32)))
    assert ids(d, seeded) == {"T1": "A1"}


def test_random_plans_keep_hours_slots_and_candidate_pairs():
    for seed in range(5):
        a, t, c = random_frames(seed, 80, 8, 10)
        d = problem(a, t, c)
        assign, owner = greedy_plan(d)
        tc, oc = d.task_cand, d.owner_cand
        on = assign >= 0
        assert (np.bincount(tc.row[tc.chosen(assign)], minlength=d.n_tasks) == on).all()
        hours = np.bincount(assign[on], weights=tc.weight_of(assign)[on], minlength=d.n_agents)
        c_on = owner >= 0
        assert (np.bincount(oc.row[oc.chosen(owner)], minlength=d.n_customers) == c_on).all()
        hours += np.bincount(owner[c_on], weights=oc.weight[oc.chosen(owner)], minlength=d.n_agents)
        assert (hours <= np.where(d.active, d.capacity, 0)).all()
        capped = d.max_tasks >= 0
        assert (np.bincount(assign[on], minlength=d.n_agents)[capped] <= d.max_tasks[capped]).all()
