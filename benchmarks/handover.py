"""Handover at scale: on the 100,000-task batch of benchmarks/crm.py, 2% of the agents leave.

    .venv/bin/python benchmarks/handover.py [--tasks 100000] [--leave-share 0.02] [--time-limit S]

The plan in force is the CRM benchmark's solved plan (benchmarks/work/plan_<tasks>, made by
crm.py first). Measured: the default handover, the handover with --max-moves 0, and a full
re-solve of the changed staff from scratch (no plan in force): wall time, moves (forced and
voluntary), and assigned priority. Results go to benchmarks/results/handover.csv and .md."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import optassign
from optassign.handover import handover

HERE = Path(__file__).resolve().parent


def assigned_priority(plan) -> int:
    a = plan.assignments
    return int(a.loc[a["agent_id"].ne(""), "priority"].sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--leave-share", type=float, default=0.02)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    scenario_dir = args.work / f"crm_{args.tasks}"
    plan_dir = args.work / f"plan_{args.tasks}"
    if not plan_dir.exists():
        raise SystemExit(f"{plan_dir} not found: run benchmarks/crm.py --sizes {args.tasks} first")
    scenario = optassign.load_scenario(scenario_dir)
    active = scenario.agents.loc[scenario.agents["active"], "agent_id"].to_numpy()
    rng = np.random.default_rng(0)
    leavers = sorted(rng.choice(active, size=max(1, round(args.leave_share * len(active))), replace=False))
    rows = []
    for label, max_moves in (("handover", None), ("handover --max-moves 0", 0)):
        t0 = time.perf_counter()
        res = handover(
            scenario,
            leave=leavers,
            plan=plan_dir,
            max_moves=max_moves,
            time_limit=args.time_limit,
            workers=2,
            seed=0,
        )
        wall = time.perf_counter() - t0
        moves = res.kpis["moves"]
        rows.append(
            {
                "run": label,
                "wall_seconds": round(wall, 1),
                "forced": moves.get("forced"),
                "voluntary": moves.get("voluntary"),
                "tasks_changed": int(res.plan.assignments["changed"].sum()),
                "assigned_priority": assigned_priority(res.plan),
                "status": res.plan.summary["status"],
                "gap_pct": round(100 * (res.plan.summary["gap"] or 0), 3),
            }
        )
        print(rows[-1], flush=True)
    changed = scenario.agents.copy()
    changed.loc[changed["agent_id"].isin(leavers), "active"] = False
    fresh = scenario.replace(agents=changed)
    t0 = time.perf_counter()
    full = optassign.solve(fresh, time_limit=120, workers=2, seed=0)
    wall = time.perf_counter() - t0
    in_force = pd.read_csv(plan_dir / "assignments.csv", dtype=str, keep_default_na=False).set_index(
        "task_id"
    )
    moved = full.assignments.set_index("task_id")["agent_id"].ne(in_force["agent_id"]).sum()
    rows.append(
        {
            "run": "full re-solve (120 s)",
            "wall_seconds": round(wall, 1),
            "forced": None,
            "voluntary": None,
            "tasks_changed": int(moved),
            "assigned_priority": assigned_priority(full),
            "status": full.summary["status"],
            "gap_pct": round(100 * full.summary["gap"], 3),
        }
    )
    print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    best = frame["assigned_priority"].iloc[-1]
    frame["priority_vs_full_pct"] = (100 * (frame["assigned_priority"] - best) / best).round(3)
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "handover.csv", index=False)
    (args.out / "handover.md").write_text(frame.to_string(index=False) + "\n")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
