"""Every shape of batch, not one: the generator's profiles (scenario/generate.py PROFILES)
solved end to end by `optassign solve`, with the gap to the engine's own bound and to an
independent LP relaxation.

    .venv/bin/python benchmarks/profiles.py [--sizes 10000,100000] [--profiles crm,specialists]

For each profile and size (seed 1; 10,000 tasks x 400 agents x 10 regions in 20 s, 100,000 x
2,000 x 20 in 120 s; a profile's own region count where it has one): the default policy
(balanced) and a service-only policy (priority points only: no balance, no continuity, no
ownership value). Reported: wall time end to end, peak RSS of the solve, the engine's gap to
its bound (summary.json), and for the service-only plan its service points against the
independent LP: the relaxation of "each task to at most one eligible agent within hours and
task slots, pins held" built here from the CSV files with the test suite's independent
checker's readers and solved by HiGHS through scipy. That LP shares no code with the engine:
it leaves ownership out (owning only takes hours), so it is an upper bound on any plan's
service points. Violations are the independent checker's. Results go to
benchmarks/results/profiles.csv and profiles.md."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from optassign.scenario.generate import PROFILES, generate_scenario

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from checker import check_plan, load_agents, load_customers, load_tasks  # noqa: E402

sys.path.insert(0, str(HERE))
from crm import run_cli  # noqa: E402

# tasks -> (agents, regions, skills, time limit)
SIZES = {10_000: (400, 10, 8, 20.0), 100_000: (2_000, 20, 12, 120.0)}
PRIORITY_VALUE = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}
SERVICE_ONLY = """\
description: Priority points only (benchmarks/profiles.py), as balanced.yaml without the rest.
priority_value: {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}
region: hard
balance: none
balance_weight: 0
keep_assignee_weight: 0
keep_owner_tasks_weight: 0
keep_customer_owner_weight: 0
agents_per_customer_weight: 0
overqualification_weight: 0
cost_weight: 0
ownership_value: {A: 0, B: 0, C: 0}
"""


def independent_lp(scenario: Path) -> tuple[float, int, float]:
    """The LP bound on service points, its number of pairs and its seconds."""
    t0 = time.perf_counter()
    agents = [a for a in load_agents(scenario / "agents.csv").values() if a.active]
    customers = load_customers(scenario / "customers.csv") if (scenario / "customers.csv").exists() else {}
    tasks = list(load_tasks(scenario / "tasks.csv", customers).values())
    index = {a.agent_id: i for i, a in enumerate(agents)}
    # eligibility once per (region, required skills) signature
    eligible: dict[tuple, np.ndarray] = {}
    rows, cols, pinned = [], [], []
    for t, task in enumerate(tasks):
        if task.pinned and task.assigned_to in index:
            rows.append(t)
            cols.append(index[task.assigned_to])
            pinned.append(True)
            continue
        key = (task.region, tuple(sorted(task.skills.items())))
        if key not in eligible:
            ok = [
                i for i, a in enumerate(agents) if a.covers(task.region) and not a.missing_skills(task.skills)
            ]
            eligible[key] = np.array(ok, dtype=np.int64)
        rows += [t] * len(eligible[key])
        cols += eligible[key].tolist()
        pinned += [False] * len(eligible[key])
    r, c, pin = np.array(rows), np.array(cols), np.array(pinned, dtype=bool)
    n, T, A = len(r), len(tasks), len(agents)
    value = np.array([PRIORITY_VALUE[int(task.priority)] for task in tasks], dtype=float)[r]
    effort = np.array([float(task.effort) for task in tasks])[r]
    one = sp.csr_matrix((np.ones(n), (r, np.arange(n))), shape=(T, n))
    hours = sp.csr_matrix((effort, (c, np.arange(n))), shape=(A, n))
    capped = [i for i, a in enumerate(agents) if a.max_tasks is not None]
    slots = sp.csr_matrix((np.ones(n), (c, np.arange(n))), shape=(A, n))[capped]
    a_ub = sp.vstack([one, hours, slots]).tocsr()
    b_ub = np.concatenate(
        [np.ones(T), [float(a.capacity) for a in agents], [agents[i].max_tasks for i in capped]]
    )
    bounds = np.column_stack([pin.astype(float), np.ones(n)])
    lp = linprog(-value, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if lp.status != 0:
        raise RuntimeError(f"independent LP of {scenario}: {lp.message}")
    return -lp.fun, n, time.perf_counter() - t0


def service_points(scenario: Path, plan: Path) -> float:
    tasks = pd.read_csv(scenario / "tasks.csv", dtype=str, keep_default_na=False)
    plan_rows = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False)
    served = set(plan_rows.loc[plan_rows.agent_id != "", "task_id"])
    prio = tasks.loc[tasks.task_id.isin(served), "priority"].astype(int)
    return float(prio.map(PRIORITY_VALUE).sum())


def run(profile: str, size: int, work: Path, workers: int, limit: float | None) -> dict:
    agents, regions, skills, default_limit = SIZES[size]
    limit = limit or default_limit
    shape = PROFILES[profile]
    scenario = work / f"profile_{profile}_{size}"
    if not scenario.exists():
        generate_scenario(
            scenario,
            tasks=size,
            agents=agents,
            regions=shape.regions or regions,
            skills=shape.skills or skills,
            seed=1,
            profile=profile,
        )
    service = work / "service_only.yaml"
    service.write_text(SERVICE_ONLY)
    row: dict = {"profile": profile, "tasks": size, "agents": agents, "time_limit": limit}
    for tag, extra in (("default", ()), ("service", ("--policy", str(service)))):
        plan = work / f"plan_profile_{profile}_{size}_{tag}"
        wall, rss = run_cli(scenario, plan, limit, workers, extra)
        summary = json.loads((plan / "summary.json").read_text())
        row[f"{tag}_wall_s"] = round(wall, 1)
        row[f"{tag}_rss_gb"] = round(rss, 2)
        row[f"{tag}_gap_pct"] = round(100 * summary["gap"], 3)
        row[f"{tag}_violations"] = len(check_plan(scenario, plan))
        if tag == "service":
            bound, pairs, seconds = independent_lp(scenario)
            points = service_points(scenario, plan)
            row.update(
                service_points=points,
                lp_bound=round(bound, 2),
                lp_pairs=pairs,
                lp_seconds=round(seconds, 1),
                below_lp_pct=round(100 * (bound - points) / bound, 3),
            )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--profiles", default=",".join(PROFILES))
    ap.add_argument("--time-limit", type=float, default=None, help="override the per-size limit")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for profile in args.profiles.split(","):
            rows.append(run(profile, size, args.work, args.workers, args.time_limit))
            print(json.dumps(rows[-1]), flush=True)
    frame = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "profiles.csv", index=False)
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in frame.itertuples(index=False)]
    (args.out / "profiles.md").write_text("\n".join(lines) + "\n")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
