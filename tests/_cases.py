"""Tiny hand-made cases for the engine tests: DataFrame builders with contract defaults, a policy
with every weight at zero, and a solve that writes the scenario and the plan to disk and runs
the independent checker on them.

    plan = solve_checked(tmp_path, [agent("A1", 8)], [task("T1", 5, 2)], policy=zero_policy(
        priority_value=PRIORITY))
    assert plan.result.objective == 16

Also a numpy generator of random mid-size frames (`random_frames`) and a brute-force candidate
enumeration over them (`brute_force_pairs`) that reads the frames with plain Python."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import optassign
from optassign import Policy
from tests.checker import assert_plan_ok

# The usual points per priority level (priority p earns PRIORITY[p]).
PRIORITY = {1: 1.0, 2: 2.0, 3: 4.0, 4: 8.0, 5: 16.0}
NO_VALUE = {p: 0.0 for p in range(1, 6)}

AGENT_COLUMNS = [
    "agent_id",
    "regions",
    "skills",
    "capacity_hours",
    "max_tasks",
    "max_customers",
    "active",
    "cost_per_hour",
]
TASK_COLUMNS = [
    "task_id",
    "customer_id",
    "required_skills",
    "region",
    "priority",
    "effort_hours",
    "assigned_to",
    "pinned",
]
CUSTOMER_COLUMNS = ["customer_id", "region", "tier", "owner_id", "required_skills", "ownership_hours"]


def zero_policy(**weights) -> Policy:
    """A policy where every term is off (weight 0, balance none, regions hard) except `weights`."""
    base = {
        "name": "test",
        "priority_value": dict(NO_VALUE),
        "region": "hard",
        "cross_region_penalty": 0.0,
        "balance": "none",
        "balance_weight": 0.0,
        "keep_assignee_weight": 0.0,
        "keep_owner_tasks_weight": 0.0,
        "keep_customer_owner_weight": 0.0,
        "agents_per_customer_weight": 0.0,
        "overqualification_weight": 0.0,
        "cost_weight": 0.0,
        "ownership_value": {"A": 0.0, "B": 0.0, "C": 0.0},
    }
    base.update(weights)
    return Policy(**base)


# --------------------------------------------------------------------------- rows and frames
# Agents cover the named region R0 unless told otherwise: a scenario where no region is named at
# all (only `*` and empty regions) trips an engine bug in `evaluate` (see test_model.py), which
# one dedicated test records; the others should test their own rule.
def agent(
    agent_id: str,
    capacity_hours: float = 40,
    *,
    regions: str = "R0",
    skills: str = "",
    max_tasks: int | str = "",
    max_customers: int | str = "",
    active: bool = True,
    cost_per_hour: float | str = "",
) -> dict:
    return {
        "agent_id": agent_id,
        "regions": regions,
        "skills": skills,
        "capacity_hours": capacity_hours,
        "max_tasks": max_tasks,
        "max_customers": max_customers,
        "active": "true" if active else "false",
        "cost_per_hour": cost_per_hour,
    }


def task(
    task_id: str,
    priority: int = 3,
    effort_hours: float = 1,
    *,
    customer_id: str = "",
    required_skills: str = "",
    region: str = "",
    assigned_to: str = "",
    pinned: bool = False,
) -> dict:
    return {
        "task_id": task_id,
        "customer_id": customer_id,
        "required_skills": required_skills,
        "region": region,
        "priority": priority,
        "effort_hours": effort_hours,
        "assigned_to": assigned_to,
        "pinned": "true" if pinned else "false",
    }


def customer(
    customer_id: str,
    *,
    region: str = "",
    tier: str = "C",
    owner_id: str = "",
    required_skills: str = "",
    ownership_hours: float = 0,
) -> dict:
    return {
        "customer_id": customer_id,
        "region": region,
        "tier": tier,
        "owner_id": owner_id,
        "required_skills": required_skills,
        "ownership_hours": ownership_hours,
    }


def frame(rows: list[dict] | pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if isinstance(rows, pd.DataFrame):
        return rows
    return pd.DataFrame(list(rows), columns=columns)


def frames(agents, tasks, customers=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    return (
        frame(agents, AGENT_COLUMNS),
        frame(tasks, TASK_COLUMNS),
        None if customers is None else frame(customers, CUSTOMER_COLUMNS),
    )


def scenario(agents, tasks, customers=None, *, policy: Policy | None = None) -> optassign.Scenario:
    """A validated scenario built from rows (or frames) through `scenario_from_frames`."""
    a, t, c = frames(agents, tasks, customers)
    return optassign.scenario_from_frames(a, t, c, policy=policy or zero_policy())


def problem(agents, tasks, customers=None, *, policy: Policy | None = None) -> optassign.ProblemData:
    policy = policy or zero_policy()
    return optassign.build_problem(scenario(agents, tasks, customers, policy=policy), policy)


def write_scenario(folder: Path, agents, tasks, customers=None, name: str = "x") -> Path:
    """Write rows (or frames) as a scenario folder: agents.csv, tasks.csv, customers.csv and a
    scenario.yaml holding only the name (the policy is passed when loading)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    a, t, c = frames(agents, tasks, customers)
    a.to_csv(folder / "agents.csv", index=False)
    t.to_csv(folder / "tasks.csv", index=False)
    if c is not None:
        c.to_csv(folder / "customers.csv", index=False)
    (folder / "scenario.yaml").write_text(f"name: {name}\n", encoding="utf-8")
    return folder


def solve_checked(
    tmp_path: Path,
    agents,
    tasks,
    customers=None,
    *,
    policy: Policy,
    tag: str = "case",
    time_limit: float = 5,
    workers: int = 1,
    seed: int = 0,
) -> optassign.Plan:
    """Write the case to tmp_path/<tag>/scenario, solve it with `optassign.solve`, write the plan
    to tmp_path/<tag>/plan and assert that the independent checker finds no violation."""
    folder = write_scenario(tmp_path / tag / "scenario", agents, tasks, customers)
    loaded = optassign.load_scenario(folder, policy=policy)
    plan = optassign.solve(loaded, time_limit=time_limit, workers=workers, seed=seed)
    out = plan.write(tmp_path / tag / "plan")
    assert_plan_ok(folder, out, region_hard=policy.region == "hard")
    return plan


def assigned(plan: optassign.Plan) -> dict[str, str]:
    """task_id -> agent_id ('' = unassigned)."""
    a = plan.assignments
    return dict(zip(a["task_id"], a["agent_id"], strict=True))


def owners(plan: optassign.Plan) -> dict[str, str]:
    """customer_id -> owner_id ('' = none)."""
    o = plan.owners
    return dict(zip(o["customer_id"], o["owner_id"], strict=True))


# --------------------------------------------------------------------------- random instances
SKILLS = ("billing", "sales", "support", "tech", "install", "legal")


def _skill_cell(rng: np.random.Generator, k: int, lo: int, hi: int) -> str:
    names = rng.choice(len(SKILLS), size=k, replace=False)
    parts = []
    for s in sorted(names.tolist()):
        level = int(rng.integers(lo, hi + 1))
        # a bare skill means level 1: write some level-1 skills without ":1"
        parts.append(SKILLS[s] if level == 1 and rng.random() < 0.5 else f"{SKILLS[s]}:{level}")
    return ";".join(parts)


def random_frames(
    seed: int,
    n_tasks: int,
    n_agents: int,
    n_customers: int,
    *,
    n_regions: int = 4,
    owners_in_force: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Random valid frames: mixed regions (some `*`, some empty task regions inherited from the
    customer), skills with and without levels, caps, inactive agents, plans in force; no pins."""
    rng = np.random.default_rng(seed)
    regions = [f"R{i}" for i in range(n_regions)]
    agent_ids = [f"A{i:04d}" for i in range(n_agents)]
    arows = []
    for a in agent_ids:
        if rng.random() < 0.1:
            reg = "*"
        else:
            k = int(rng.integers(1, 3))
            reg = ";".join(sorted(rng.choice(regions, size=k, replace=False).tolist()))
        arows.append(
            agent(
                a,
                float(rng.integers(8, 40 * 4 + 1)) / 4,
                regions=reg,
                skills=_skill_cell(rng, int(rng.integers(1, 4)), 1, 5),
                max_tasks=int(rng.integers(2, 12)) if rng.random() < 0.3 else "",
                max_customers=int(rng.integers(0, 4)) if rng.random() < 0.3 else "",
                active=bool(rng.random() < 0.9),
                cost_per_hour=int(rng.integers(10, 60)),
            )
        )
    customer_ids = [f"C{i:04d}" for i in range(n_customers)]
    crows = [
        customer(
            c,
            region=str(rng.choice(regions)),
            tier=str(rng.choice(["A", "B", "C"])),
            owner_id=str(rng.choice(agent_ids)) if owners_in_force and rng.random() < 0.5 else "",
            required_skills=_skill_cell(rng, int(rng.integers(0, 2)), 1, 3),
            ownership_hours=float(rng.integers(0, 9)) / 4,
        )
        for c in customer_ids
    ]
    trows = []
    for i in range(n_tasks):
        has_customer = n_customers > 0 and rng.random() < 0.8
        trows.append(
            task(
                f"T{i:05d}",
                int(rng.integers(1, 6)),
                float(rng.integers(1, 17)) / 4,
                customer_id=str(rng.choice(customer_ids)) if has_customer else "",
                required_skills=_skill_cell(rng, int(rng.integers(0, 3)), 1, 4),
                region="" if rng.random() < 0.5 else str(rng.choice(regions)),
                assigned_to=str(rng.choice(agent_ids)) if owners_in_force and rng.random() < 0.3 else "",
            )
        )
    return (
        pd.DataFrame(arows, columns=AGENT_COLUMNS),
        pd.DataFrame(trows, columns=TASK_COLUMNS),
        pd.DataFrame(crows, columns=CUSTOMER_COLUMNS),
    )


def _skills_of(cell: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in str(cell).split(";"))):
        name, _, level = part.partition(":")
        out[name] = max(out.get(name, 0), int(level or 1))
    return out


def brute_force_pairs(
    agents: pd.DataFrame, tasks: pd.DataFrame, customers: pd.DataFrame | None, *, region_hard: bool
) -> dict[tuple[str, str], tuple[bool, int]]:
    """(task_id, agent_id) -> (cross_region, overqualification) by a plain double loop over the
    frames, independent of the engine's parsing and masks."""
    cust_region = (
        {} if customers is None else dict(zip(customers["customer_id"], customers["region"], strict=True))
    )
    agent_rows = [
        (
            r["agent_id"],
            set(filter(None, str(r["regions"]).split(";"))),
            _skills_of(r["skills"]),
            str(r["active"]).lower() in ("true", "1", "yes"),
        )
        for r in agents.to_dict("records")
    ]
    out = {}
    for r in tasks.to_dict("records"):
        region = r["region"] or cust_region.get(r["customer_id"], "")
        need = _skills_of(r["required_skills"])
        for a_id, a_regions, a_skills, a_active in agent_rows:
            if not a_active:
                continue
            if any(a_skills.get(s, 0) < lvl for s, lvl in need.items()):
                continue
            covers = region == "" or "*" in a_regions or region in a_regions
            if region_hard and not covers:
                continue
            over = sum(a_skills[s] - lvl for s, lvl in need.items())
            out[(r["task_id"], a_id)] = (not covers, over)
    return out


def engine_pairs(data: optassign.ProblemData) -> dict[tuple[str, str], tuple[bool, int]]:
    """The same mapping read from a ProblemData's task candidates."""
    c = data.task_cand
    return {
        (data.task_ids[t], data.agent_ids[a]): (bool(x), int(o))
        for t, a, x, o in zip(
            c.row.tolist(), c.agent.tolist(), c.cross_region.tolist(), c.overqual.tolist(), strict=True
        )
    }
