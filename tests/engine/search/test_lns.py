"""Neighbourhood search (lns.py): CP-SAT on neighbourhoods and ejection chains neighbourhood by
neighbourhood keep the plan feasible, never lose value on the pair terms, give the same plan
for the same seed and work budget, and do nothing once the budget is spent."""

from __future__ import annotations

import numpy as np
import pytest

from optassign.engine.budget import Budget
from optassign.engine.model import points
from optassign.engine.search.greedy import greedy_plan
from optassign.engine.search.lns import chain_sweep, improve
from optassign.engine.solve import primary_terms
from optassign.scenario.policy import load_policy
from tests._cases import problem, random_frames


def _case(seed: int):
    policy = load_policy("sla_first")
    a, t, c = random_frames(seed, 150, 12, 15)
    d = problem(a, t, c, policy=policy)
    return d, policy, primary_terms(policy), *greedy_plan(d, keep_current=False)


def _fits(d, assign) -> bool:
    tc, on = d.task_cand, assign >= 0
    legal = (np.bincount(tc.row[tc.chosen(assign)], minlength=d.n_tasks) == on).all()
    hours = np.bincount(assign[on], weights=tc.weight_of(assign)[on], minlength=d.n_agents)
    return bool(legal and (hours <= np.where(d.active, d.capacity, 0)).all())


def _lp_guide(d, policy, primary):
    from optassign.engine.relax import relax

    return relax(d, policy, primary).x


@pytest.mark.parametrize("search", ["cp-sat", "chains"])
@pytest.mark.parametrize("guided", [False, True])
def test_a_sweep_keeps_the_plan_feasible_and_never_loses(search, guided):
    d, policy, primary, assign, owner = _case(3)
    run = dict(budget=Budget(30.0, max_work=2.0 if search == "cp-sat" else 5e8), seed=1)
    if guided:  # neighbourhoods where the plan and the LP disagree
        run["guide"] = _lp_guide(d, policy, primary)
    if search == "cp-sat":
        new, stats = improve(d, policy, primary, assign, owner, group_size=4, **run)
        again, _ = improve(d, policy, primary, assign, owner, group_size=4, **run)
    else:
        new, stats = chain_sweep(d, policy, primary, assign, owner, group_size=4, **run)
        again, _ = chain_sweep(d, policy, primary, assign, owner, group_size=4, **run)
    assert stats.neighbourhoods > 0
    assert _fits(d, new)
    before, after = (points(d, policy, primary, x, owner) for x in (assign, new))
    assert after >= before - 1e-9
    assert (new == again).all()  # the same seed and work budget, the same plan


def test_a_spent_budget_leaves_the_plan_as_it_was():
    d, policy, primary, assign, owner = _case(4)
    new, stats = improve(d, policy, primary, assign, owner, budget=Budget(0.0), seed=0)
    assert stats.neighbourhoods == 0 and (new == assign).all()


def test_a_guided_sweep_starts_where_the_plan_and_the_lp_disagree_most():
    """The first group is seeded from the agent whose pairs' plan values differ most (by
    priority) from the LP's, and takes as mates the agents on the other side of those pairs."""
    from optassign.engine.search.lns import Neighbourhoods

    d, policy, primary, assign, owner = _case(5)
    guide = _lp_guide(d, policy, primary)
    tc = d.task_cand
    disagree = np.abs(guide - tc.chosen(assign)) * d.priority[tc.row]
    per_agent = np.bincount(tc.agent, weights=disagree, minlength=d.n_agents)
    hoods = Neighbourhoods(d, 0, 3, 300, guide)
    _, group = hoods.next(assign)
    seed_agent = hoods.order[0]
    assert per_agent[seed_agent] == per_agent.max() > 0
    assert group[seed_agent] and group.sum() == 3
