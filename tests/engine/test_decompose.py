"""Decomposition into independent parts: the components of the candidate graph, the parts'
problems and plans, and solves part by part against the same problem solved whole (plans
checked by the independent checker)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import optassign
from optassign import Policy, SolveStatus, build_problem, solve_problem
from optassign.cli.main import app
from optassign.engine import decompose
from optassign.engine.model import evaluate
from tests._cases import agent, problem, random_frames, task, write_scenario
from tests.checker import assert_plan_ok

HARD = Policy(name="hard regions", region="hard", balance="none", agents_per_customer_weight=0.3)
BALANCED = Policy(name="balanced", region="hard", balance="max_utilization", balance_weight=5)


def regional_frames(blocks: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """`blocks` independent random organisations in one batch: each block's agents, customers
    and tasks are in its own region only (ids and regions prefixed by the block)."""
    parts = []
    for b in range(blocks):
        agents, tasks, customers = random_frames(seed + b, 40, 6, 6, n_regions=2)
        region = f"B{b}"
        agents = agents.assign(
            agent_id="B" + str(b) + agents["agent_id"],
            regions=region,
        )
        tasks = tasks.assign(
            task_id="B" + str(b) + tasks["task_id"],
            region=region,
            customer_id=np.where(tasks["customer_id"] != "", "B" + str(b) + tasks["customer_id"], ""),
            assigned_to=np.where(tasks["assigned_to"] != "", "B" + str(b) + tasks["assigned_to"], ""),
        )
        customers = customers.assign(
            customer_id="B" + str(b) + customers["customer_id"],
            region=region,
            owner_id=np.where(customers["owner_id"] != "", "B" + str(b) + customers["owner_id"], ""),
        )
        parts.append((agents, tasks, customers))
    return tuple(pd.concat([p[i] for p in parts], ignore_index=True) for i in range(3))  # type: ignore[return-value]


def regional_problem(blocks: int = 3, policy: Policy = HARD, seed: int = 0):
    a, t, c = regional_frames(blocks, seed)
    return build_problem(optassign.scenario_from_frames(a, t, c, policy=policy), policy)


# --------------------------------------------------------------------------- components
def test_components_follow_pairs_and_customers():
    # A1 covers R1, A2 covers R2, A3 covers R3. T1 (R1), T2 (R2), T3 (R3) each have one agent;
    # T4 (R2) belongs to customer C1 of region R1: C1 and its tasks join R1 and R2 into one
    # part. R3 is a part of its own.
    agents = [agent("A1", 8, regions="R1"), agent("A2", 8, regions="R2"), agent("A3", 8, regions="R3")]
    tasks = [
        task("T1", 3, 2, region="R1", customer_id="C1"),
        task("T2", 3, 2, region="R2"),
        task("T3", 3, 2, region="R3"),
        task("T4", 3, 2, region="R2", customer_id="C1"),
    ]
    customers = [{"customer_id": "C1", "region": "R1", "tier": "A", "owner_id": "", "ownership_hours": 1}]
    d = problem(agents, tasks, customers)
    parts, n = decompose.split(d, min_pairs=0)
    assert n == 2
    named = sorted((sorted(d.task_ids[p.tasks]), sorted(d.agent_ids[p.agents])) for p in parts)
    assert named == [(["T1", "T2", "T4"], ["A1", "A2"]), (["T3"], ["A3"])]
    big = next(p for p in parts if len(p.tasks) == 3)
    assert list(d.customer_ids[big.customers]) == ["C1"]
    # every pair is in exactly one part
    assert sorted(np.concatenate([p.task_pairs for p in parts])) == list(range(len(d.task_cand)))


def test_small_components_are_packed_together():
    d = regional_problem(blocks=4)
    alone, n = decompose.split(d, min_pairs=0)
    assert n == 4 and len(alone) == 4
    packed, _ = decompose.split(d, min_pairs=10**9)
    assert len(packed) == 1
    assert len(packed[0].task_pairs) == len(d.task_cand)


def test_part_problem_keeps_pairs_values_and_a_plan_round_trips():
    d = regional_problem(blocks=3)
    parts, _ = decompose.split(d, min_pairs=0)
    rng = np.random.default_rng(4)
    tc = d.task_cand
    # a random plan over candidate pairs, and random owners over owner pairs
    assign = np.full(d.n_tasks, -1, dtype=np.int32)
    has = tc.count > 0
    pick = tc.ptr[:-1][has] + (rng.random(has.sum()) * tc.count[has]).astype(int)
    assign[np.flatnonzero(has)] = tc.agent[pick]
    owner = d.owner.astype(np.int32).copy()
    local = []
    for part in parts:
        sub = decompose.restrict(d, part)
        assert sub.n_tasks == len(part.tasks) and sub.n_agents == len(part.agents)
        assert len(sub.task_cand) == len(part.task_pairs)
        assert np.array_equal(sub.task_cand.weight, tc.weight[part.task_pairs])
        assert np.array_equal(sub.agent_ids[sub.task_cand.agent], d.agent_ids[tc.agent[part.task_pairs]])
        assert np.array_equal(sub.task_ids[sub.task_cand.row], d.task_ids[tc.row[part.task_pairs]])
        local.append(decompose.local_plan(d, part, assign, owner))
        # the part's terms of its share of the plan add up to the whole's (no balance term)
    merged = decompose.merge(d, parts, local)
    assert np.array_equal(merged[0], assign)
    whole = evaluate(d, HARD, assign, merged[1])
    summed = {k: 0.0 for k in whole}
    for part, (a, o) in zip(parts, local, strict=True):
        for k, v in evaluate(decompose.restrict(d, part), HARD, a, o).items():
            summed[k] += v
    assert summed == pytest.approx(whole)


# --------------------------------------------------------------------------- solving
@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(decompose, "MIN_PART_PAIRS", 1)


def test_parts_solved_apart_reach_the_whole_optimum(small_parts):
    d = regional_problem(blocks=3)
    apart = solve_problem(d, HARD, time_limit=20, workers=2, seed=0)
    whole = solve_problem(d, HARD, time_limit=20, workers=2, seed=0, decompose=False)
    assert apart.statistics["decomposition_parts"] == 3
    assert "decomposition_parts" not in whole.statistics
    assert whole.status == SolveStatus.OPTIMAL
    assert apart.status == SolveStatus.OPTIMAL and apart.gap == pytest.approx(0, abs=1e-9)
    assert apart.objective == pytest.approx(whole.objective)
    assert apart.total_objective == pytest.approx(whole.total_objective)
    # the parts' LP relaxations add up to the whole's
    assert apart.relaxation.bound == pytest.approx(whole.relaxation.bound, rel=1e-7)
    assert len(apart.relaxation.x) == len(d.task_cand)


def test_balance_couples_parts_and_the_bound_stays_valid(small_parts):
    d = regional_problem(blocks=3, policy=BALANCED)
    apart = solve_problem(d, BALANCED, time_limit=20, workers=2, seed=0)
    whole = solve_problem(d, BALANCED, time_limit=60, workers=2, seed=0, decompose=False)
    # bounds against bounds: true whether or not either search proved optimality in its budget
    assert whole.status.has_solution and apart.status.has_solution
    assert apart.objective <= whole.best_bound + 1e-6
    assert apart.best_bound >= whole.objective - 1e-6
    # each part evens out its own load: the merged plan is close to the whole optimum
    assert apart.objective >= whole.objective - BALANCED.balance_weight


def test_decomposed_plan_passes_the_checker_and_is_reproducible(tmp_path, small_parts):
    a, t, c = regional_frames(4, seed=10)
    folder = write_scenario(tmp_path / "scenario", a, t, c)
    policy = Policy(name="default")
    outs = []
    for run in ("a", "b"):
        plan = optassign.solve(
            optassign.load_scenario(folder, policy=policy), time_limit=10, workers=2, seed=3
        )
        assert plan.result.statistics["decomposition_parts"] == 4
        outs.append(plan.write(tmp_path / run))
        assert_plan_ok(folder, outs[-1])
    assert (outs[0] / "assignments.csv").read_bytes() == (outs[1] / "assignments.csv").read_bytes()
    assert (outs[0] / "owners.csv").read_bytes() == (outs[1] / "owners.csv").read_bytes()


def test_hint_reaches_each_part(small_parts):
    d = regional_problem(blocks=2)
    first = solve_problem(d, HARD, time_limit=10, workers=2, seed=0)
    again = solve_problem(d, HARD, time_limit=10, workers=2, seed=0, hint=(first.assign, first.owner))
    assert again.statistics["decomposition_parts"] == 2
    assert again.objective >= first.objective - 1e-6


def test_cli_solves_parts_or_whole(tmp_path, small_parts):
    a, t, c = regional_frames(2, seed=20)
    folder = write_scenario(tmp_path / "scenario", a, t, c)
    for flag, parts in (("--decompose", 2), ("--whole", None)):
        out = tmp_path / flag.strip("-")
        args = [
            "solve",
            str(folder),
            "--out",
            str(out),
            "--time-limit",
            "5",
            "--workers",
            "1",
            "--quiet",
            flag,
        ]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert_plan_ok(folder, out)
        statistics = json.loads((out / "summary.json").read_text())["statistics"]
        assert statistics.get("decomposition_parts") == parts


# --------------------------------------------------------------------------- multi-region agents
def test_fix_hubs_takes_the_multi_region_agents_share_out():
    # A1 covers R1, A2 covers R2, H covers both. The plan gives T3 (R1) and customer C1 (R1) to
    # H, T4 (no region) to A1 and leaves T5 (no region) open. With H's share fixed, R1 and R2
    # are parts of their own: T3 and C1 have no pair left, T4 only A1, T5 none, and no pair
    # to H remains.
    agents = [agent("A1", 8, regions="R1"), agent("A2", 8, regions="R2"), agent("H", 8, regions="R1;R2")]
    tasks = [
        task("T1", 3, 2, region="R1"),
        task("T2", 3, 2, region="R2", customer_id="C2"),
        task("T3", 3, 2, region="R1", customer_id="C1"),
        task("T4", 3, 2),
        task("T5", 3, 2),
    ]
    customers = [
        {"customer_id": "C1", "region": "R1", "tier": "A", "owner_id": "", "ownership_hours": 1},
        {"customer_id": "C2", "region": "R2", "tier": "B", "owner_id": "", "ownership_hours": 1},
    ]
    d = problem(agents, tasks, customers)
    assert list(decompose.hubs(d)) == [False, False, True]
    assert len(decompose.split(d, min_pairs=0)[0]) == 1  # H joins the regions
    assign = np.array([0, 1, 2, 0, -1], dtype=np.int32)
    owner = np.array([2, 1], dtype=np.int32)
    fixed, held, c_held = decompose.fix_hubs(d, assign, owner, decompose.hubs(d))
    assert list(held) == [False, False, True, False, False] and list(c_held) == [True, False]
    tc, oc = fixed.task_cand, fixed.owner_cand
    pairs = sorted(zip(d.task_ids[tc.row], d.agent_ids[tc.agent], strict=True))
    assert pairs == [("T1", "A1"), ("T2", "A2"), ("T4", "A1")]
    assert sorted(zip(d.customer_ids[oc.row], d.agent_ids[oc.agent], strict=True)) == [("C2", "A2")]
    parts, _ = decompose.split(fixed, min_pairs=0)
    named = sorted(sorted(d.agent_ids[p.agents]) for p in parts)
    assert named == [["A1"], ["A2"]]


def with_hub(blocks: int, seed: int = 0):
    """`regional_frames` joined by one agent who covers every block with every skill."""
    a, t, c = regional_frames(blocks, seed)
    skills = sorted({s.split(":")[0] for cell in t["required_skills"] for s in str(cell).split(";") if s})
    hub = agent(
        "HUB", 30, regions=";".join(f"B{b}" for b in range(blocks)), skills=";".join(f"{s}:5" for s in skills)
    )
    return pd.concat([a, pd.DataFrame([hub])[a.columns]], ignore_index=True), t, c


def test_regions_joined_by_a_hub_are_split_and_repaired_to_the_whole_optimum(small_parts):
    a, t, c = with_hub(3)
    d = build_problem(optassign.scenario_from_frames(a, t, c, policy=HARD), HARD)
    assert len(decompose.split(d)[0]) == 1
    apart = solve_problem(d, HARD, time_limit=20, workers=2, seed=0)
    whole = solve_problem(d, HARD, time_limit=20, workers=2, seed=0, decompose=False)
    assert apart.statistics["regions_parts"] == 3 and apart.statistics["regions_hubs"] == 1
    assert "regions_parts" not in whole.statistics
    assert whole.status == SolveStatus.OPTIMAL and apart.status == SolveStatus.OPTIMAL
    assert apart.objective == pytest.approx(whole.objective)
    assert apart.statistics["regions_objective"] <= apart.objective + 1e-6


def test_split_regions_plan_passes_the_checker(tmp_path, small_parts):
    a, t, c = with_hub(3, seed=30)
    folder = write_scenario(tmp_path / "scenario", a, t, c)
    plan = optassign.solve(
        optassign.load_scenario(folder, policy=Policy(name="default")), time_limit=10, workers=2
    )
    assert plan.result.statistics["regions_parts"] == 3
    assert_plan_ok(folder, plan.write(tmp_path / "plan"))
