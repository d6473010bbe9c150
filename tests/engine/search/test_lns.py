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


@pytest.mark.parametrize("search", ["cp-sat", "chains"])
def test_a_sweep_keeps_the_plan_feasible_and_never_loses(search):
    d, policy, primary, assign, owner = _case(3)
    run = dict(budget=Budget(30.0, max_work=2.0 if search == "cp-sat" else 5e8), seed=1)
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
