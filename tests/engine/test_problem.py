"""Tests of `build_problem`: candidate pairs (active, regions hard/soft, `*`, skills with levels,
regions inherited from customers), per-pair overqualification, pins, and the integer scaling of
hours. Each case is tiny and its candidate set is written out by hand."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import optassign
from optassign.engine.problem import HOUR_SCALE, candidates
from tests._cases import (
    agent,
    brute_force_pairs,
    customer,
    engine_pairs,
    problem,
    random_frames,
    task,
    zero_policy,
)


def cands(data: optassign.ProblemData, task_id: str) -> dict[str, tuple[bool, int]]:
    """agent_id -> (cross_region, overqual) of one task's candidates."""
    return {a: v for (t, a), v in engine_pairs(data).items() if t == task_id}


def owner_cands(data: optassign.ProblemData, customer_id: str) -> list[str]:
    c = data.owner_cand
    row = list(data.customer_ids).index(customer_id)
    return [data.agent_ids[a] for a in c.agent[c.ptr[row] : c.ptr[row + 1]]]


# --------------------------------------------------------------------------- eligibility
def test_inactive_agent_is_never_a_candidate():
    data = problem([agent("A1", active=False), agent("A2")], [task("T1")])
    assert cands(data, "T1") == {"A2": (False, 0)}
    assert data.active.tolist() == [False, True]


def test_hard_region_keeps_only_covering_agents_and_star():
    # T1 is in R1: A1 covers R1, A2 only R2, A3 every region (`*`), A4 R2 and R1.
    agents = [
        agent("A1", regions="R1"),
        agent("A2", regions="R2"),
        agent("A3", regions="*"),
        agent("A4", regions="R2;R1"),
    ]
    data = problem(agents, [task("T1", region="R1"), task("T2")])
    assert cands(data, "T1") == {"A1": (False, 0), "A3": (False, 0), "A4": (False, 0)}
    # A task without a region (and without a customer) can go anywhere.
    assert set(cands(data, "T2")) == {"A1", "A2", "A3", "A4"}
    assert data.region_hard


def test_soft_region_admits_everyone_and_flags_cross_region():
    agents = [agent("A1", regions="R1"), agent("A2", regions="R2"), agent("A3", regions="*")]
    data = problem(agents, [task("T1", region="R1")], policy=zero_policy(region="soft"))
    assert cands(data, "T1") == {"A1": (False, 0), "A2": (True, 0), "A3": (False, 0)}
    assert not data.region_hard


def test_skill_levels_and_bare_skill_means_level_one():
    # A1 has bare `billing` (= level 1), A2 billing:2, A3 billing:4 and bare sales (= 1).
    agents = [
        agent("A1", skills="billing"),
        agent("A2", skills="billing:2"),
        agent("A3", skills="billing:4;sales"),
    ]
    tasks = [
        task("T1", required_skills="billing:2"),
        task("T2", required_skills="billing"),
        task("T3", required_skills="billing:1;sales"),
        task("T4", required_skills="sales:2"),
    ]
    data = problem(agents, tasks)
    # T1 needs billing>=2: A1 (1) is out; overqual A2 2-2 = 0, A3 4-2 = 2.
    assert cands(data, "T1") == {"A2": (False, 0), "A3": (False, 2)}
    # T2 needs billing>=1: everyone; overqual 1-1 = 0, 2-1 = 1, 4-1 = 3.
    assert cands(data, "T2") == {"A1": (False, 0), "A2": (False, 1), "A3": (False, 3)}
    # T3 needs billing>=1 and sales>=1: only A3; overqual (4-1) + (1-1) = 3.
    assert cands(data, "T3") == {"A3": (False, 3)}
    # T4 needs sales>=2: A3's bare sales is level 1, so nobody.
    assert cands(data, "T4") == {}


def test_overqualification_counts_only_required_skills():
    # A1: billing:4, sales:3, tech:5; T1 needs billing:2, sales:1 -> (4-2) + (3-1) = 4 (tech ignored).
    data = problem(
        [agent("A1", skills="billing:4;sales:3;tech:5")], [task("T1", required_skills="billing:2;sales")]
    )
    assert cands(data, "T1") == {"A1": (False, 4)}


def test_task_region_is_inherited_from_its_customer():
    # C1 is in R2. T1 (no region) inherits R2; T2 has its own region R1, which wins;
    # T3 belongs to C2 which has no region either: anywhere.
    agents = [agent("A1", regions="R1"), agent("A2", regions="R2")]
    customers = [customer("C1", region="R2"), customer("C2")]
    tasks = [
        task("T1", customer_id="C1"),
        task("T2", customer_id="C1", region="R1"),
        task("T3", customer_id="C2"),
    ]
    data = problem(agents, tasks, customers)
    assert set(cands(data, "T1")) == {"A2"}
    assert set(cands(data, "T2")) == {"A1"}
    assert set(cands(data, "T3")) == {"A1", "A2"}
    # Soft regions: the inherited region drives the cross-region flag.
    soft = problem(agents, tasks, customers, policy=zero_policy(region="soft"))
    assert cands(soft, "T1") == {"A1": (True, 0), "A2": (False, 0)}


def test_owner_candidates_honour_required_skills_region_and_active():
    # C1 (R1, needs sales:2): A1 covers R1 with sales:3; A2 is in R2; A3 has sales:1; A4 inactive.
    agents = [
        agent("A1", regions="R1", skills="sales:3"),
        agent("A2", regions="R2", skills="sales:5"),
        agent("A3", regions="R1", skills="sales"),
        agent("A4", regions="*", skills="sales:5", active=False),
        agent("A5", regions="*", skills="sales:2"),
    ]
    customers = [customer("C1", region="R1", required_skills="sales:2"), customer("C2")]
    data = problem(agents, [task("T1")], customers)
    assert owner_cands(data, "C1") == ["A1", "A5"]
    assert owner_cands(data, "C2") == ["A1", "A2", "A3", "A5"]


# --------------------------------------------------------------------------- pins
def test_pinned_task_has_only_its_agent():
    agents = [agent("A1"), agent("A2"), agent("A3")]
    tasks = [task("T1", assigned_to="A2", pinned=True), task("T2", assigned_to="A2")]
    data = problem(agents, tasks)
    assert set(cands(data, "T1")) == {"A2"}
    # assigned_to without a pin changes nothing.
    assert set(cands(data, "T2")) == {"A1", "A2", "A3"}
    assert data.pinned.tolist() == [True, False]
    assert data.pin_broken.tolist() == [False, False]
    assert data.current.tolist() == [1, 1]


def test_pin_to_inactive_agent_is_broken_and_keeps_normal_candidates():
    agents = [agent("A1", active=False), agent("A2"), agent("A3")]
    data = problem(agents, [task("T1", assigned_to="A1", pinned=True)])
    assert data.pinned.tolist() == [False]
    assert data.pin_broken.tolist() == [True]
    assert set(cands(data, "T1")) == {"A2", "A3"}


# --------------------------------------------------------------------------- scaling
def test_hours_are_scaled_to_hundredths():
    # 0.25 h -> 25, 7.5 h -> 750, 1.25 h -> 125, 0.01 h -> 1, 12 h -> 1200.
    assert HOUR_SCALE == 100
    agents = [agent("A1", 7.5), agent("A2", 12)]
    tasks = [task("T1", effort_hours=0.25), task("T2", effort_hours=0.01)]
    data = problem(agents, tasks, [customer("C1", ownership_hours=1.25)])
    assert data.effort.tolist() == [25, 1]
    assert data.capacity.tolist() == [750, 1200]
    assert data.ownership_hours.tolist() == [125]
    assert data.effort.dtype.kind == "i" and data.capacity.dtype.kind == "i"


def test_capacity_rounds_down_and_effort_up_off_the_grid():
    # 7.996 h of capacity -> 799 units (not 800); 1.004 h of effort -> 101 (not 100); on the
    # grid values stay exact (0.07 -> 7, although 0.07 * 100 is 7.000000000000001 in binary).
    agents = [agent("A1", 7.996), agent("A2", 40), agent("A3", 0.07)]
    tasks = [task("T1", effort_hours=1.004), task("T2", effort_hours=8), task("T3", effort_hours=0.07)]
    data = problem(agents, tasks, [customer("C1", ownership_hours=0.001)])
    assert data.capacity.tolist() == [799, 4000, 7]
    assert data.effort.tolist() == [101, 800, 7]
    assert data.ownership_hours.tolist() == [1]  # positive hours never round to nothing


def test_caps_and_tiers_are_mapped():
    agents = [agent("A1", max_tasks=3, max_customers=0), agent("A2")]
    customers = [customer("C1", tier="A"), customer("C2", tier="B"), customer("C3")]
    data = problem(agents, [task("T1")], customers)
    assert data.max_tasks.tolist() == [3, -1]
    assert data.max_customers.tolist() == [0, -1]
    assert data.tier.tolist() == [0, 1, 2]


# --------------------------------------------------------------------------- vectorisation
@pytest.mark.parametrize("region", ["hard", "soft"])
def test_candidates_equal_brute_force_on_random_instance(region):
    """3,000 tasks x 200 agents: the vectorised candidate set (with cross-region flags and
    overqualification) equals a plain double loop over the frames."""
    agents, tasks, customers = random_frames(7, 3000, 200, 300)
    policy = zero_policy(region=region)
    data = optassign.build_problem(
        optassign.scenario_from_frames(agents, tasks, customers, policy=policy), policy
    )
    expected = brute_force_pairs(agents, tasks, customers, region_hard=region == "hard")
    assert len(expected) > 10_000  # the instance is not trivially sparse
    assert engine_pairs(data) == expected
    # CSR invariants: agents sorted within each task, pointers consistent.
    c = data.task_cand
    assert c.ptr[0] == 0 and c.ptr[-1] == len(c.agent) and np.all(np.diff(c.ptr) >= 0)
    row = c.row
    same = row[1:] == row[:-1]
    assert np.all(c.agent[1:][same] > c.agent[:-1][same])


def test_candidate_chunking_does_not_change_the_pairs():
    agents, tasks, customers = random_frames(11, 400, 30, 40)
    policy = zero_policy(region="soft")
    d = optassign.build_problem(
        optassign.scenario_from_frames(agents, tasks, customers, policy=policy), policy
    )
    args = (d.task_skill, d.task_region, d.agent_skill, d.agent_region, d.active, False)
    extra = {}
    if "weight" in inspect.signature(candidates).parameters:  # per-pair hours, newer engines
        extra["weight"] = d.effort
    whole = candidates(*args, **extra)
    tiny = candidates(*args, **extra, chunk_cells=1)  # one signature per chunk
    for name in ("ptr", "agent", "cross_region", "overqual"):
        assert np.array_equal(getattr(whole, name), getattr(tiny, name)), name
    assert np.array_equal(whole.agent, d.task_cand.agent)
