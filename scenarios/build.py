"""Rebuild the bundled scenarios (demo, service_desk, b2b_sales) from fixed seeds.

Run from the repository root:  .venv/bin/python scenarios/build.py
Each folder is deleted and written again; the output is the same on every run.
"""

from __future__ import annotations

import pathlib
import shutil
import sys

import numpy as np
import pandas as pd
import yaml

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from optassign.scenario.generate import (  # noqa: E402
    BASE_DATE,
    AgentTier,
    Profile,
    TaskType,
    generate_scenario,
    add_time,
    generate_tables,
    write_scenario,
)

# The example scenarios plan two working weeks from the day their due dates count from.
HORIZON_DAYS = 10


def _skills(text: str) -> dict[str, int]:
    out = {}
    for part in filter(None, text.split(";")):
        name, _, level = part.partition(":")
        out[name] = int(level or 1)
    return out


def _plan_hours(tables: dict[str, pd.DataFrame]) -> pd.Series:
    tasks = tables["tasks"]
    hours = tasks["effort_hours"].astype(float)
    return hours.groupby(tasks["assigned_to"]).sum().drop("", errors="ignore")


# --------------------------------------------------------------------------- demo


def build_demo(out: pathlib.Path) -> None:
    generate_scenario(out, tasks=300, agents=20, regions=4, skills=6, seed=7, name="demo", horizon=10)
    meta_path = out / "scenario.yaml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    meta["description"] = (
        "Nightly-batch demo: 300 open CRM tasks for 20 agents in 4 regions with 6 skills, "
        "slightly more work than capacity, re-planned in one run over two working weeks, "
        "with due dates, part-time staff and absences."
    )
    meta_path.write_text(
        "# rebuilt by scenarios/build.py (generate_scenario, seed 7)\n"
        + yaml.safe_dump(meta, sort_keys=False, width=1000),
        encoding="utf-8",
    )


# --------------------------------------------------------------------------- service desk

SERVICE_DESK = Profile(
    skill_names=("billing", "network", "hardware", "software", "security", "onboarding"),
    roles={"service": 0.8, "field": 0.2},
    role_skills={
        "service": ("billing", "software", "network", "security", "onboarding"),
        "field": ("hardware", "network", "security"),
    },
    # L1 handles the bulk at levels 1-2, L2 is the 3-4 specialist layer, L3 the experts
    agent_tiers=(
        AgentTier("L1", 0.50, (0.30, 0.62, 0.08, 0.0, 0.0), (0.10, 0.50, 0.40)),
        AgentTier("L2", 0.35, (0.0, 0.10, 0.60, 0.30, 0.0), (0.30, 0.50, 0.20), 8.0),
        AgentTier("L3", 0.15, (0.0, 0.0, 0.10, 0.50, 0.40), (0.50, 0.40, 0.10), 18.0),
    ),
    task_types=(
        TaskType(
            "ticket", 0.55, 0.75,
            {"billing": 1, "software": 1, "network": 0.8, "onboarding": 0.6, "security": 0.3},
            priority=(0.30, 0.42, 0.23, 0.05, 0.0), levels=(0.65, 0.30, 0.05),
        ),
        TaskType(
            "incident", 0.15, 2.0,
            {"network": 1.2, "security": 1, "software": 1, "hardware": 0.6},
            priority=(0.0, 0.10, 0.42, 0.36, 0.12), levels=(0.15, 0.35, 0.35, 0.15),
        ),
        TaskType(
            "complaint", 0.15, 1.0, {"billing": 1.2, "onboarding": 0.5, "software": 0.3},
            priority=(0.05, 0.35, 0.40, 0.20, 0.0), levels=(0.50, 0.40, 0.10),
        ),
        TaskType(
            "installation", 0.15, 3.0, {"hardware": 1.5, "network": 1},
            priority=(0.40, 0.40, 0.20, 0.0, 0.0), levels=(0.40, 0.40, 0.20),
        ),
    ),  # fmt: skip
    # SLA response windows: priority 5 (P1, critical) is due the next day
    due_days={5: (1, 1), 4: (1, 2), 3: (2, 4), 2: (3, 7), 1: (5, 14)},
    capped_roles=(),
    owner_role_weight={"service": 1.0},
    owned_share={"A": 1.0, "B": 0.3, "C": 0.0},  # key accounts have a named service manager
    ownership_hours={"A": 1.5, "B": 0.5, "C": 0.0},
    tier_a_required=(),
    tier_priority_bump={"A": 0.35, "B": 0.10},  # premium SLA contracts escalate faster
    assigned_share=0.65,
    owner_assign_share=0.3,
    max_tasks_share=0.2,
)


def _leave_to(agents: pd.DataFrame, leaver: pd.Series, k: int = 2) -> list[str]:
    """The k active colleagues sharing a region with the leaver and most of their skills."""
    mine = _skills(leaver["skills"])
    regions = set(leaver["regions"].split(";"))
    scores = []
    for _, row in agents.iterrows():  # a few dozen staff
        if row["agent_id"] == leaver["agent_id"] or row["active"] != "true":
            continue
        theirs = _skills(row["skills"])
        if row["regions"] != "*" and not regions & set(row["regions"].split(";")):
            continue
        overlap = sum(min(level, theirs.get(s, 0)) for s, level in mine.items())
        if overlap:
            scores.append((-overlap, row["agent_id"]))
    return [a for _, a in sorted(scores)[:k]]


def build_service_desk(out: pathlib.Path) -> None:
    tables = generate_tables(
        tasks=800, agents=40, regions=3, skills=6, customers=120, seed=11, load=1.08,
        profile=SERVICE_DESK,
    )
    tasks = tables["tasks"]
    # the desk's SLA label next to the contract's priority (P1 = priority 5 = critical)
    tasks.insert(tasks.columns.get_loc("priority") + 1, "sla",
                 "P" + (6 - tasks["priority"].astype(int)).astype(str))

    agents = tables["agents"]
    hours = _plan_hours(tables)
    active = agents[agents["active"] == "true"].assign(
        plan=lambda d: d["agent_id"].map(hours).fillna(0.0)
    )
    senior = active[active["support_tier"].isin(["L2", "L3"]) & (active["regions"] != "*")]
    leaver = senior.sort_values(["plan", "agent_id"], ascending=[False, True]).iloc[0]
    to = _leave_to(agents, leaver)
    rest = active[~active["agent_id"].isin([leaver["agent_id"], *to])]
    cut = rest[rest["capacity_hours"].astype(float) >= 36].sort_values(
        ["plan", "agent_id"], ascending=[False, True]).iloc[0]
    home = leaver["regions"].split(";")[0]
    new_skills = ";".join(
        f"{s}:{max(1, lv - 1)}" for s, lv in _skills(leaver["skills"]).items()
    )
    events = [
        {"leave": leaver["agent_id"], "to": to},
        {"capacity": {"agent": cut["agent_id"],
                      "capacity_hours": int(float(cut["capacity_hours"]) // 2)}},
        {"hire": {
            "agent_id": "N0001", "name": "Mira Lindqvist", "team": leaver["team"],
            "role": "service", "support_tier": "L2", "regions": home, "skills": new_skills,
            "capacity_hours": 38, "active": True, "cost_per_hour": 52,
        }},
    ]  # fmt: skip
    n_p1 = int((tasks["priority"].astype(int) == 5).sum())
    window = add_time(tables, HORIZON_DAYS, 11, start=BASE_DATE, due_dates=False)
    write_scenario(
        out, tables, name="service_desk", policy="sla_first", events=events, horizon=window,
        description=(
            f"IT/telecom service desk: {len(tasks)} tickets, incidents, complaints and "
            f"installations ({n_p1} critical P1) for {len(agents)} L1/L2/L3 agents in 3 regions, "
            "due dates set by SLA priority, over two working weeks with part-time staff and "
            "absences; events preview a leave, a capacity cut and a hire."
        ),
        comment="rebuilt by scenarios/build.py (service desk profile, seed 11)",
    )


# --------------------------------------------------------------------------- B2B sales

B2B_SALES = Profile(
    skill_names=("sales", "renewals", "enterprise", "onboarding"),
    roles={"sales": 0.75, "customer_success": 0.25},
    role_skills={
        "sales": ("sales", "enterprise", "renewals"),
        "customer_success": ("onboarding", "renewals"),
    },
    agent_tiers=(AgentTier("all", 1.0, (0.05, 0.25, 0.35, 0.25, 0.10), (0.10, 0.50, 0.40)),),
    task_types=(
        TaskType("follow_up", 0.35, 0.75, {"sales": 1, "renewals": 0.5, "onboarding": 0.4}),
        TaskType("demo", 0.15, 2.0, {"sales": 1.5, "enterprise": 0.5},
                 stages=("lead", "prospect")),
        TaskType("proposal", 0.15, 4.0, {"sales": 1, "enterprise": 1},
                 stages=("prospect", "customer"), levels=(0.20, 0.40, 0.30, 0.10),
                 priority=(0.05, 0.25, 0.35, 0.25, 0.10)),
        TaskType("renewal", 0.20, 2.0, {"renewals": 1.5, "enterprise": 0.4},
                 stages=("customer",), priority=(0.05, 0.20, 0.35, 0.30, 0.10)),
        TaskType("qbr", 0.15, 3.0, {"enterprise": 1, "renewals": 0.8},
                 stages=("customer",), tiers=("A", "B")),
    ),  # fmt: skip
    capped_roles=("sales", "customer_success"),
    owner_role_weight={"sales": 4.0, "customer_success": 1.0},
    tier_probs=(0.15, 0.35, 0.50),
    owned_share={"A": 1.0, "B": 0.95, "C": 0.80},
    ownership_hours={"A": 2.0, "B": 1.0, "C": 0.25},
    tier_a_required=("enterprise:3",),
    tier_a_required_share=1.0,
    tier_priority_bump={"A": 0.25},
    task_weight_by_tier={"A": 4.0, "B": 2.0, "C": 1.0},
    floater_share=0.0,
    assigned_share=0.75,
    owner_assign_share=0.95,
)


def build_b2b_sales(out: pathlib.Path) -> None:
    tables = generate_tables(
        tasks=500, agents=30, regions=5, skills=4, customers=150, seed=5, load=1.08,
        profile=B2B_SALES,
    )
    agents, customers = tables["agents"], tables["customers"]
    active = agents[agents["active"] == "true"]
    tier_a = customers[customers["tier"] == "A"]["owner_id"].value_counts()
    owners = active.assign(a=lambda d: d["agent_id"].map(tier_a).fillna(0))
    leaver = owners.sort_values(["a", "agent_id"], ascending=[False, True]).iloc[0]
    mover = owners[(owners["agent_id"] != leaver["agent_id"]) & ~owners["regions"].str.contains(";")
                   & (owners["regions"] != "*")].sort_values("agent_id").iloc[0]
    codes = [f"R{i:02d}" for i in range(1, 6)]
    new_region = codes[(codes.index(mover["regions"]) + 1) % len(codes)]
    events = [
        {"leave": leaver["agent_id"]},
        {"transfer": {"agent": mover["agent_id"], "regions": new_region}},
    ]
    owned = int((customers["owner_id"] != "").sum())
    window = add_time(tables, HORIZON_DAYS, 5, start=BASE_DATE, due_dates=False)
    write_scenario(
        out, tables, name="b2b_sales", policy="continuity", events=events, horizon=window,
        description=(
            f"B2B sales team: {len(agents)} account executives and customer success managers "
            f"across 5 regions owning {owned} of {len(customers)} accounts (tier A needs "
            f"enterprise:3), with {len(tables['tasks'])} follow-ups, demos, proposals, renewals "
            "and QBRs over two working weeks; events preview a leave and a transfer."
        ),
        comment="rebuilt by scenarios/build.py (B2B sales profile, seed 5)",
    )


BUILDERS = {"demo": build_demo, "service_desk": build_service_desk, "b2b_sales": build_b2b_sales}


def main() -> None:
    for name, build in BUILDERS.items():
        out = HERE / name
        if out.exists():
            shutil.rmtree(out)
        build(out)
        tasks = pd.read_csv(out / "tasks.csv", dtype=str, keep_default_na=False)
        agents = pd.read_csv(out / "agents.csv", dtype=str, keep_default_na=False)
        cap = agents.loc[agents["active"] == "true", "capacity_hours"].astype(float).sum()
        effort = tasks["effort_hours"].astype(float).sum()
        print(f"{name:13s} {len(tasks):5d} tasks {len(agents):4d} agents  "
              f"effort {effort:7.1f} h / capacity {cap:7.1f} h = {effort / cap:.2f}  "
              f"assigned {np.mean(tasks['assigned_to'] != ''):.0%}")


if __name__ == "__main__":
    main()
