"""Time-aware assignment: generated batches with a 10-working-day horizon (`optassign generate
--horizon 10`: due dates inside it, part-time staff and absences in calendar.csv) solved end to
end by `optassign solve` with hard and with soft due dates, against two baselines:

  (a) today's engine with due dates off (`due_dates: off`), its plan then worked earliest due
      first on the same calendars;
  (b) an earliest-due-date greedy: tasks by due date, then priority, each to the least-loaded
      eligible agent with room before the date (hours, task slots, owners as in force).

    .venv/bin/python benchmarks/time_aware.py [--sizes 1000,10000,100000] [--time-limit S]

Reported per size and run: wall time end to end and peak RSS of the solve, the gap to the
time-aware model's own bound (summary.json), service points (priority points of the assigned
tasks, 1/2/4/8/16), late tasks and late hours by priority, and the independent checker's
violations (it works each worklist on the calendar). Baseline (b) is scored by the same
checker-free arithmetic: its plan obeys the day rows by construction. Results go to
benchmarks/results/time_aware.csv and time_aware.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import optassign
from optassign.engine import days
from optassign.engine.problem import build_problem
from optassign.scenario.generate import generate_scenario

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from checker import check_plan  # noqa: E402

sys.path.insert(0, str(HERE))
from crm import run_cli, write_results  # noqa: E402

# tasks -> (agents, regions, skills, time limit)
SIZES = {1_000: (50, 5, 6, 3.0), 10_000: (400, 10, 8, 20.0), 100_000: (2_000, 20, 12, 120.0)}
PRIORITY_VALUE = np.array([0, 1, 2, 4, 8, 16])
WORKING_DAYS = 10


def policy_file(work: Path, mode: str) -> Path:
    path = work / f"balanced_{mode}.yaml"
    base = optassign.load_policy("balanced")
    fields = base.model_dump(exclude={"name", "description", "due_dates"})
    path.write_text(
        json.dumps({"name": f"balanced-{mode}", "due_dates": mode, **fields}, default=str), encoding="utf-8"
    )
    return path


def lateness(d, assign: np.ndarray, late_days: np.ndarray) -> dict:
    """Service points and late tasks and hours by priority of a plan."""
    on = assign >= 0
    late = on & (late_days > 0)
    row = {"service_points": int(PRIORITY_VALUE[d.priority[on]].sum()), "assigned": int(on.sum())}
    row["late_tasks"] = int(late.sum())
    row["late_hours"] = round(float(d.effort[late].sum()) / 100, 2)
    for p in (5, 4, 3, 2, 1):
        mine = late & (d.priority == p)
        row[f"late_p{p}"] = f"{int(mine.sum())} / {float(d.effort[mine].sum()) / 100:g} h"
    return row


def edd_greedy(d) -> np.ndarray:
    """Baseline (b): tasks by due day then priority, each to the least-loaded eligible agent
    with room before its due day (pins first, on their agent)."""
    owner = d.owner.copy()
    rooms = days.room(d, days.owned_hours(d, owner))
    H = rooms.shape[1]
    slack = rooms.copy()  # room left on time from each day on
    hours = rooms[:, -1].copy()
    count = np.zeros(d.n_agents, dtype=np.int64)
    slots = np.where(d.max_tasks >= 0, d.max_tasks, np.iinfo(np.int64).max)
    assign = np.full(d.n_tasks, -1, dtype=np.int32)
    tc = d.task_cand
    due = d.task_due
    order = np.lexsort((np.arange(d.n_tasks), -d.priority.astype(int), due, ~d.pinned))
    for t in order.tolist():
        lo, hi = tc.ptr[t], tc.ptr[t + 1]
        agents = tc.agent[lo:hi]
        if not len(agents):
            continue
        e = int(d.effort[t])
        fits = (
            (slack[agents, due[t] :].min(axis=1) >= e)
            & (hours[agents] >= e)
            & (count[agents] < slots[agents])
        )
        if d.pinned[t]:
            fits = agents == d.current[t]
        if not fits.any():
            continue
        k = np.flatnonzero(fits)
        util = 1 - hours[agents[k]] / np.maximum(rooms[agents[k], H - 1], 1)
        a = int(agents[k[np.argmin(util)]])
        assign[t] = a
        slack[a, due[t] :] -= e
        hours[a] -= e
        count[a] += 1
    return assign


def run(size: int, work: Path, workers: int, limit: float | None) -> list[dict]:
    agents, regions, skills, default_limit = SIZES[size]
    limit = limit or default_limit
    scenario = work / f"time_{size}"
    if not scenario.exists():
        generate_scenario(
            scenario, tasks=size, agents=agents, regions=regions, skills=skills, seed=1, horizon=WORKING_DAYS
        )
    rows = []
    loaded = optassign.load_scenario(scenario)
    for mode in ("hard", "soft", "off"):
        plan = work / f"plan_time_{size}_{mode}"
        wall, rss = run_cli(scenario, plan, limit, workers, ("--policy", str(policy_file(work, mode))))
        summary = json.loads((plan / "summary.json").read_text())
        frame = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False)
        policy = optassign.load_policy(str(policy_file(work, "soft" if mode == "off" else mode)))
        d = build_problem(loaded.replace(policy=policy), policy)
        index = pd.Index(d.agent_ids)
        assign = index.get_indexer(frame.agent_id.where(frame.agent_id != "", None)).astype(np.int32)
        if mode == "off":  # baseline (a): worked earliest due first on the same calendars
            owners = pd.read_csv(plan / "owners.csv", dtype=str, keep_default_na=False)
            owner = index.get_indexer(owners.owner_id.where(owners.owner_id != "", None)).astype(np.int32)
            rooms = days.room(d, days.owned_hours(d, owner))
            # work beyond the calendar's hours (the plan ignored absences) ends after the last day
            finish = days.schedule_days(d, assign, np.zeros(d.n_tasks, bool), rooms, clip=False)
            late_days = np.where(assign >= 0, np.maximum(finish - d.task_due, 0), 0)
            name = "(a) due dates off, then EDD"
        else:
            late_days = frame.late_days.astype(int).to_numpy()
            name = f"due dates {mode}"
        row = {"tasks": size, "run": name, "wall_s": round(wall, 1), "rss_gb": round(rss, 2)}
        row["gap_pct"] = (
            round(100 * summary["gap"], 3) if mode != "off" and summary["gap"] is not None else ""
        )
        row.update(lateness(d, assign, late_days))
        row["violations"] = len(check_plan(scenario, plan)) if mode != "off" else ""
        rows.append(row)
    hard = optassign.load_policy(str(policy_file(work, "hard")))
    d = build_problem(loaded.replace(policy=hard), hard)
    assign = edd_greedy(d)
    finish = days.schedule_days(
        d, assign, np.zeros(d.n_tasks, bool), days.room(d, days.owned_hours(d, d.owner))
    )
    late_days = np.where(assign >= 0, np.maximum(finish - d.task_due, 0), 0)
    rows.append({"tasks": size, "run": "(b) EDD greedy", **lateness(d, assign, late_days)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--time-limit", type=float, default=None, help="override the per-size limit")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for row in run(size, args.work, args.workers, args.time_limit):
            rows.append(row)
            print(json.dumps(row), flush=True)
    frame = pd.DataFrame(rows).astype(object).fillna("")
    write_results(frame, args.out, "time_aware")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
