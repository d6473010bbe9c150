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
from crm import run_cli, write_results  # noqa: E402

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


# Above this many pairs the independent LP is solved by its own column generation.
WHOLE_LP_PAIRS = 1_500_000


def independent_lp(scenario: Path, plan: Path | None = None) -> tuple[float, int, float]:
    """The LP bound on service points, its number of pairs and its seconds.

    Up to WHOLE_LP_PAIRS pairs one linprog over all of them; beyond, column generation: the LP
    over some pairs (each task's pair in `plan` when one is given, and 6 spread over its list),
    then every pair priced against its duals and the most profitable ones added, until none
    prices out. The bound reported is then the Lagrangian dual function at
    the last duals (each task its best pair against the hours and slot duals), which is an
    upper bound whatever the columns, and equals the LP optimum at convergence."""
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
            ok = np.array([index[task.assigned_to]], dtype=np.int32)
        else:
            key = (task.region, tuple(sorted(task.skills.items())))
            if key not in eligible:
                eligible[key] = np.array(
                    [
                        i
                        for i, a in enumerate(agents)
                        if a.covers(task.region) and not a.missing_skills(task.skills)
                    ],
                    dtype=np.int32,
                )
            ok = eligible[key]
        rows.append(np.full(len(ok), t, dtype=np.int32))
        cols.append(ok)
        pinned.append(np.full(len(ok), bool(task.pinned and task.assigned_to in index)))
    r, c, pin = np.concatenate(rows), np.concatenate(cols), np.concatenate(pinned)
    T, A = len(tasks), len(agents)
    task_value = np.array([PRIORITY_VALUE[int(task.priority)] for task in tasks], dtype=float)
    task_effort = np.array([float(task.effort) for task in tasks])
    cap = np.array([float(a.capacity) for a in agents])
    slots = np.array([a.max_tasks if a.max_tasks is not None else np.inf for a in agents], dtype=float)
    if len(r) <= WHOLE_LP_PAIRS:
        value, _ = _restricted_lp(r, c, pin, task_value, task_effort, cap, slots, T, A)
        return value, len(r), time.perf_counter() - t0
    # column generation: start from each task's 6 eligible agents spread over its list
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    rank = np.arange(len(r)) - np.repeat(starts, np.diff(np.r_[starts, len(r)]))
    count = np.bincount(r, minlength=T)[r]
    active = (rank % np.maximum(1, count // 6) == 0) | pin
    if plan is not None:
        # a feasible start: the plan's own pairs (only where they are eligible pairs here)
        chosen = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False)
        task_index = {task.task_id: t for t, task in enumerate(tasks)}
        planned = np.full(T, -1, dtype=np.int64)
        for task_id, agent_id in zip(chosen.task_id, chosen.agent_id, strict=True):
            if agent_id in index and task_id in task_index:
                planned[task_index[task_id]] = index[agent_id]
        active |= planned[r] == c
    bound = np.inf
    while True:
        ix = np.flatnonzero(active)
        _, duals = _restricted_lp(r[ix], c[ix], pin[ix], task_value, task_effort, cap, slots, T, A)
        task_dual, lam, mu = duals
        reduced = task_value[r] - lam[c] * task_effort[r] - mu[c]
        best = np.full(T, -np.inf)
        np.maximum.at(best, r, reduced)
        free = np.ones(T, bool)
        free[r[pin]] = False
        best = np.where(free, np.maximum(best, 0.0), best)
        bound = min(bound, float(best.sum() + lam @ cap + mu[np.isfinite(slots)] @ slots[np.isfinite(slots)]))
        gain = reduced - task_dual[r]
        new = (gain > 1e-7) & ~active
        if not new.any():
            return bound, len(r), time.perf_counter() - t0
        # each task's 3 most profitable new pairs
        order = np.lexsort((-gain[new], r[new]))
        picked = np.flatnonzero(new)[order]
        first = np.r_[True, r[picked][1:] != r[picked][:-1]]
        place = np.arange(len(picked)) - np.maximum.accumulate(np.where(first, np.arange(len(picked)), 0))
        active[picked[place < 3]] = True


def _restricted_lp(r, c, pin, task_value, task_effort, cap, slots, T, A):
    """max service points over the given pairs: its optimum and (task, hours, slot) duals."""
    n = len(r)
    capped = np.flatnonzero(np.isfinite(slots))
    one = sp.csr_matrix((np.ones(n), (r, np.arange(n))), shape=(T, n))
    hours = sp.csr_matrix((task_effort[r], (c, np.arange(n))), shape=(A, n))
    slot_rows = sp.csr_matrix((np.ones(n), (c, np.arange(n))), shape=(A, n))[capped]
    a_ub = sp.vstack([one, hours, slot_rows]).tocsr()
    b_ub = np.concatenate([np.ones(T), cap, slots[capped]])
    bounds = np.column_stack([pin.astype(float), np.ones(n)])
    lp = linprog(-task_value[r], A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if lp.status != 0:
        raise RuntimeError(f"independent LP: {lp.message}")
    y = -lp.ineqlin.marginals
    mu = np.zeros(A)
    mu[capped] = y[T + A :]
    return -lp.fun, (y[:T], np.maximum(y[T : T + A], 0.0), np.maximum(mu, 0.0))


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
            bound, pairs, seconds = independent_lp(scenario, plan)
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
    write_results(frame, args.out, "profiles")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
