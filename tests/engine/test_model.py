"""Hard rules of the contract (section 3), one tiny model each, solved through `optassign.solve`
and checked by the independent checker. In every case the rule binds: without it the optimum
would be different, and the comment gives both values.

Service values are PRIORITY = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}; every other weight is 0 unless
the test says otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from ortools.sat.python import cp_model

from optassign.engine.model import AssignmentModel
from tests._cases import (
    PRIORITY,
    agent,
    assigned,
    customer,
    owners,
    problem,
    solve_checked,
    task,
    zero_policy,
)

SERVICE = zero_policy(priority_value=PRIORITY)


def test_at_most_one_agent_per_task(tmp_path):
    # Two eligible agents, one task of priority 5: serving it twice would earn 16 + 16 = 32;
    # the rule allows 16.
    agents = [agent("A1"), agent("A2")]
    plan = solve_checked(tmp_path, agents, [task("T1", 5)], policy=SERVICE)
    assert plan.result.status == "OPTIMAL"
    assert plan.result.objective == pytest.approx(16)
    assert assigned(plan)["T1"] in {"A1", "A2"}

    # The model itself: exactly one x[T1, a] is 1 in the optimum.
    data = problem(agents, [task("T1", 5)], policy=SERVICE)
    m = AssignmentModel(data, SERVICE)
    m.maximize(m.stages[0])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(m.model) == cp_model.OPTIMAL
    assert sum(solver.value(int(x)) for x in m.var.x) == 1


def test_pinned_task_keeps_its_agent_even_at_a_loss(tmp_path):
    # T1 (p5 = 16, 1 h); A1 costs 20/h, A2 costs 0; cost_weight 1.
    policy = zero_policy(priority_value=PRIORITY, cost_weight=1.0)
    agents = [agent("A1", cost_per_hour=20), agent("A2", cost_per_hour=0)]
    # Not pinned: A2 is free, 16 - 1 * 0 * 1 = 16.
    free = solve_checked(tmp_path, agents, [task("T1", 5, assigned_to="A1")], policy=policy, tag="free")
    assert assigned(free) == {"T1": "A2"}
    assert free.result.objective == pytest.approx(16)
    # Pinned to A1: 16 - 1 * 20 * 1 = -4, worse than leaving it unassigned (0), kept anyway.
    pinned = solve_checked(
        tmp_path, agents, [task("T1", 5, assigned_to="A1", pinned=True)], policy=policy, tag="pinned"
    )
    assert assigned(pinned) == {"T1": "A1"}
    assert pinned.result.objective == pytest.approx(-4)


def test_pinned_task_uses_its_agents_capacity(tmp_path):
    # A1 has 4 h. T1 (p1 = 1, 3 h) pinned to A1; T2 (p5 = 16, 2 h) needs A1's skill.
    # Without the pin: T2 alone = 16 (3 + 2 = 5 h > 4). With it: T1 stays, T2 cannot fit: 1.
    agents = [agent("A1", 4, skills="tech"), agent("A2", 40)]
    tasks = [
        task("T1", 1, 3, assigned_to="A1", pinned=True),
        task("T2", 5, 2, required_skills="tech"),
    ]
    plan = solve_checked(tmp_path, agents, tasks, policy=SERVICE)
    assert assigned(plan) == {"T1": "A1", "T2": ""}
    assert plan.result.objective == pytest.approx(1)


def test_capacity_hours(tmp_path):
    # A1 has 8 h: T1 5 h (p5 = 16), T2 4 h (p4 = 8), T3 3 h (p3 = 4).
    # All three = 28 needs 12 h; best within 8 h: T1 + T3 (8 h) = 16 + 4 = 20.
    tasks = [task("T1", 5, 5), task("T2", 4, 4), task("T3", 3, 3)]
    plan = solve_checked(tmp_path, [agent("A1", 8)], tasks, policy=SERVICE)
    assert assigned(plan) == {"T1": "A1", "T2": "", "T3": "A1"}
    assert plan.result.objective == pytest.approx(20)
    assert plan.agent_load["hours"].tolist() == [8.0]


def test_capacity_with_fractional_hours(tmp_path):
    # A1 has 7.5 h, four tasks of 2.5 h (p3 = 4 each): 3 fit exactly, 3 * 4 = 12.
    tasks = [task(f"T{i}", 3, 2.5) for i in range(4)]
    plan = solve_checked(tmp_path, [agent("A1", 7.5)], tasks, policy=SERVICE)
    assert plan.result.objective == pytest.approx(12)
    assert plan.agent_load["hours"].tolist() == [7.5]


def test_capacity_counts_ownership_hours(tmp_path):
    # A1 has 8 h. T1 5 h (p5 = 16), T2 4 h (p4 = 8); owning C1 takes 4 h and earns 10.
    # Ignoring ownership hours, T1 + C1 = 16 + 10 = 26 would be best. Counting them:
    # T1 + C1 = 9 h and T1 + T2 = 9 h do not fit; T2 + C1 = 8 h earns 8 + 10 = 18 > T1 alone (16).
    policy = zero_policy(priority_value=PRIORITY, ownership_value={"A": 0, "B": 0, "C": 10})
    tasks = [task("T1", 5, 5), task("T2", 4, 4)]
    plan = solve_checked(
        tmp_path, [agent("A1", 8)], tasks, [customer("C1", ownership_hours=4)], policy=policy
    )
    assert assigned(plan) == {"T1": "", "T2": "A1"}
    assert owners(plan) == {"C1": "A1"}
    assert plan.result.objective == pytest.approx(18)
    assert plan.agent_load["hours"].tolist() == [8.0]


def test_max_tasks(tmp_path):
    # A1: max 2 tasks (plenty of hours), A2: max 0. Three 1 h tasks p5, p4, p3:
    # all = 28; the two best = 16 + 8 = 24.
    agents = [agent("A1", max_tasks=2), agent("A2", max_tasks=0)]
    tasks = [task("T1", 5), task("T2", 4), task("T3", 3)]
    plan = solve_checked(tmp_path, agents, tasks, policy=SERVICE)
    assert assigned(plan) == {"T1": "A1", "T2": "A1", "T3": ""}
    assert plan.result.objective == pytest.approx(24)


def test_max_customers(tmp_path):
    # Ownership values A = 6, B = 3. A1 may own 1 customer, A2 none.
    # Both owned would be 6 + 3 = 9; the rule allows only the tier-A one: 6.
    policy = zero_policy(ownership_value={"A": 6, "B": 3, "C": 1})
    agents = [agent("A1", max_customers=1), agent("A2", max_customers=0)]
    customers = [customer("C1", tier="B"), customer("C2", tier="A")]
    plan = solve_checked(tmp_path, agents, [task("T1")], customers, policy=policy)
    assert owners(plan) == {"C1": "", "C2": "A1"}
    assert plan.result.objective == pytest.approx(6)


def test_owner_needs_required_skills_and_region(tmp_path):
    # C1 (tier A = 6, region R2, needs sales:2): A1 is in R1, A2 has sales:1, A3 fits.
    # C2 (tier B = 3, needs sales:4): nobody has it. Without the rule 6 + 3 = 9; with it 6.
    policy = zero_policy(ownership_value={"A": 6, "B": 3, "C": 1})
    agents = [
        agent("A1", regions="R1", skills="sales:3"),
        agent("A2", regions="R2", skills="sales"),
        agent("A3", regions="R2", skills="sales:2"),
    ]
    customers = [
        customer("C1", region="R2", tier="A", required_skills="sales:2"),
        customer("C2", region="R2", tier="B", required_skills="sales:4"),
    ]
    plan = solve_checked(tmp_path, agents, [task("T1")], customers, policy=policy)
    assert owners(plan) == {"C1": "A3", "C2": ""}
    assert plan.result.objective == pytest.approx(6)


def test_inactive_agent_gets_nothing(tmp_path):
    # A1 is on leave (40 h, owner of C1 in force); A2 has 1 h. T1 p5 = 16, T2 p4 = 8, 1 h each.
    # With A1: 16 + 8 + 6 (C1, tier A) = 30. Without: A2 takes T1 and owns C1: 16 + 6 = 22.
    policy = zero_policy(
        priority_value=PRIORITY, ownership_value={"A": 6, "B": 3, "C": 1}, keep_customer_owner_weight=100
    )
    agents = [agent("A1", 40, active=False), agent("A2", 1)]
    tasks = [task("T1", 5, assigned_to="A1"), task("T2", 4, assigned_to="A1")]
    customers = [customer("C1", tier="A", owner_id="A1")]
    plan = solve_checked(tmp_path, agents, tasks, customers, policy=policy)
    assert assigned(plan) == {"T1": "A2", "T2": ""}
    assert owners(plan) == {"C1": "A2"}
    assert plan.result.objective == pytest.approx(22)
    load = plan.agent_load.set_index("agent_id")
    assert load.loc["A1", "tasks"] == 0 and load.loc["A1", "hours"] == 0


def test_zero_capacity_agent_gets_no_task(tmp_path):
    # A1 has 0 h, A2 has 1 h: of two 1 h tasks (p5 = 16, p3 = 4) only T1 is served: 16.
    plan = solve_checked(
        tmp_path, [agent("A1", 0), agent("A2", 1)], [task("T1", 5), task("T2", 3)], policy=SERVICE
    )
    assert assigned(plan) == {"T1": "A2", "T2": ""}
    assert plan.result.objective == pytest.approx(16)


def test_rules_hold_together_on_random_instance(tmp_path):
    """A random instance with every rule in play: the checker finds nothing wrong."""
    from optassign import Policy
    from tests._cases import random_frames

    agents, tasks, customers = random_frames(3, 60, 8, 10)
    policy = Policy(name="all", balance="spread", agents_per_customer_weight=0.5, cost_weight=0.01)
    plan = solve_checked(tmp_path, agents, tasks, customers, policy=policy)
    assert plan.result.status.has_solution
    assert np.all(plan.agent_load["hours"] <= plan.agent_load["capacity_hours"] + 1e-9)


def test_scenario_without_any_named_region(tmp_path):
    # One agent covering `*`, one task with no region: region_names is empty. Serving T1 (p5) = 16.
    plan = solve_checked(tmp_path, [agent("A1", regions="*")], [task("T1", 5)], policy=SERVICE)
    assert assigned(plan) == {"T1": "A1"}
    assert plan.result.objective == pytest.approx(16)
