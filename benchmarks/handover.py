"""Handover at scale: on the 100,000-task batch of benchmarks/crm.py, 2% of the agents leave.

    .venv/bin/python benchmarks/handover.py [--tasks 100000] [--leave-share 0.02] [--time-limit S]

The plan in force is the CRM benchmark's solved plan (benchmarks/work/plan_<tasks>, made by
crm.py first). Measured, each with wall time (the call, the scenario already read), tasks
changed against the plan in force, assigned priority and hard-rule violations (the
independent checker of tests/checker.py):
- the default handover, and the handover with --max-moves 0 (where no task in force but a
  forced one may change agent: `unforced_moved` counts those that did; open tasks may still
  be given an agent);
- a re-solve from scratch of the changed staff: no plan in force at all (no assignees, owners
  or pins), the nightly policy, 120 s;
- a re-solve of the changed staff with the plan in force as the nightly policy sees it
  (its mild continuity terms), 120 s.
Results go to benchmarks/results/handover.csv and .md; `priority_vs_scratch_pct` and
`changed_vs_scratch` compare each run with the re-solve from scratch."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import optassign
from optassign.handover.replan import handover
from optassign.plan.folder import with_plan_in_force

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from checker import check_plan  # noqa: E402  (the independent checker of the test suite)


def assigned_priority(plan) -> int:
    a = plan.assignments
    return int(a.loc[a["agent_id"].ne(""), "priority"].sum())


def changed_against(plan, in_force: pd.Series) -> pd.Series:
    """Per task: does the plan's agent differ from the plan in force's?"""
    return plan.assignments.set_index("task_id")["agent_id"].ne(in_force)


def scenario_copy(scenario_dir: Path, folder: Path, plan_dir: Path | None) -> Path:
    """The scenario with the plan in force of `plan_dir` as its assignees and owners, or with
    none at all (no assignees, pins or owners) when `plan_dir` is None: what the checker
    reads a plan against (previous_agent_id, pins)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("agents.csv", "scenario.yaml"):
        (folder / name).write_bytes((scenario_dir / name).read_bytes())
    read = lambda path: pd.read_csv(path, dtype=str, keep_default_na=False)  # noqa: E731
    tasks, customers = read(scenario_dir / "tasks.csv"), read(scenario_dir / "customers.csv")
    if plan_dir is None:
        tasks = tasks.assign(assigned_to="", pinned="false")
        customers = customers.assign(owner_id="")
    else:
        agent = read(plan_dir / "assignments.csv").set_index("task_id")["agent_id"]
        owner = read(plan_dir / "owners.csv").set_index("customer_id")["owner_id"]
        tasks = tasks.assign(assigned_to=tasks["task_id"].map(agent).fillna(""))
        customers = customers.assign(owner_id=customers["customer_id"].map(owner).fillna(""))
    tasks.to_csv(folder / "tasks.csv", index=False)
    customers.to_csv(folder / "customers.csv", index=False)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--leave-share", type=float, default=0.02)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--resolve-limit", type=float, default=120.0)
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
    in_force = pd.read_csv(plan_dir / "assignments.csv", dtype=str, keep_default_na=False).set_index(
        "task_id"
    )["agent_id"]
    tmp = Path(tempfile.mkdtemp(prefix="handover-bench-"))
    in_force_dir = scenario_copy(scenario_dir, tmp / "in_force", plan_dir)
    events = tmp / "events.yaml"
    events.write_text(yaml.safe_dump({"events": [{"leave": str(a)} for a in leavers]}))
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
        table = res.handover
        forced_tasks = set(table.loc[table["kind"].eq("task") & table["forced"], "id"])
        changed = changed_against(res.plan, in_force)
        out = res.plan.write(tmp / f"plan_{len(rows)}")
        rows.append(
            {
                "run": label,
                "wall_seconds": round(wall, 1),
                "forced": moves.get("forced"),
                "voluntary": moves.get("voluntary"),
                "tasks_changed": int(changed.sum()),
                "unforced_moved": int(
                    (
                        changed & in_force.reindex(changed.index).ne("") & ~changed.index.isin(forced_tasks)
                    ).sum()
                ),
                "assigned_priority": assigned_priority(res.plan),
                "status": res.plan.summary["status"],
                "gap_pct": round(100 * (res.plan.summary["gap"] or 0), 3),
                "violations": len(check_plan(in_force_dir, out, events=events)),
            }
        )
        print(rows[-1], flush=True)

    changed_staff = scenario.agents.copy()
    changed_staff.loc[changed_staff["agent_id"].isin(leavers), "active"] = False
    nothing_in_force = scenario.replace(
        agents=changed_staff,
        tasks=scenario.tasks.assign(assigned_to="", pinned=False),
        customers=scenario.customers.assign(owner_id=""),
    )
    with_plan = with_plan_in_force(scenario, plan_dir).replace(agents=changed_staff)
    scratch_dir = scenario_copy(scenario_dir, tmp / "scratch", None)
    for label, fresh, checked_against in (
        (f"re-solve from scratch ({args.resolve_limit:g} s)", nothing_in_force, scratch_dir),
        (f"re-solve with the plan in force ({args.resolve_limit:g} s)", with_plan, in_force_dir),
    ):
        t0 = time.perf_counter()
        full = optassign.solve(fresh, time_limit=args.resolve_limit, workers=2, seed=0)
        wall = time.perf_counter() - t0
        out = full.write(tmp / f"plan_{len(rows)}")
        rows.append(
            {
                "run": label,
                "wall_seconds": round(wall, 1),
                "forced": None,
                "voluntary": None,
                "tasks_changed": int(changed_against(full, in_force).sum()),
                "unforced_moved": None,
                "assigned_priority": assigned_priority(full),
                "status": full.summary["status"],
                "gap_pct": round(100 * full.summary["gap"], 3),
                "violations": len(check_plan(checked_against, out, events=events)),
            }
        )
        print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    scratch = frame.iloc[2]
    frame["priority_vs_scratch_pct"] = (
        100 * (frame["assigned_priority"] - scratch["assigned_priority"]) / scratch["assigned_priority"]
    ).round(3)
    frame["changed_vs_scratch"] = (frame["tasks_changed"] / scratch["tasks_changed"]).round(3)
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "handover.csv", index=False)
    (args.out / "handover.md").write_text(frame.to_string(index=False) + "\n")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
