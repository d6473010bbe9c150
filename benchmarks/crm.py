"""CRM-scale benchmark: generated batches of 1,000, 10,000 and 100,000 tasks solved end to end
by the CLI (read CSV -> plan folder), against the least-loaded routing rule.

    .venv/bin/python benchmarks/crm.py [--sizes 1000,10000,100000] [--time-limit S] [--out DIR]
    .venv/bin/python benchmarks/crm.py --profile regional [--whole]

`--profile regional` generates batches whose agents each cover one region and whose tasks all
name one (no floaters, no multi-region staff): the candidate graph falls apart by region, and
the engine solves it part by part (`--whole`: as one problem, for comparison).

For each size: wall time of `optassign solve` end to end, its peak RSS, the plan's objective,
bound and gap (summary.json), hard-rule violations found by the independent checker of
tests/checker.py, and the least-loaded greedy (tasks by priority, each to the
eligible agent with the lowest utilisation that still fits) scored on the same objective.
Results go to benchmarks/results/crm.csv and crm.md."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import optassign
from optassign.engine.model import evaluate
from optassign.engine.problem import build_problem
from optassign.engine.search.greedy import greedy_plan
from optassign.scenario.generate import Profile, generate_scenario

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from checker import check_plan  # noqa: E402  (the independent checker of the test suite)

# (tasks, agents, regions, skills, default time limit)
SIZES = {
    1_000: (50, 5, 6, 3.0),
    10_000: (400, 10, 8, 20.0),
    100_000: (2_000, 20, 12, 120.0),
}


PROFILES = {
    "default": Profile(),
    "regional": Profile(floater_share=0.0, multi_region=(0.0, 0.0), empty_region_share=0.0),
}


def run_cli(
    scenario: Path, out: Path, time_limit: float, workers: int, extra: tuple[str, ...] = ()
) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of one `optassign solve` in its own process (the peak
    as last read, at most 0.1 s before it ended)."""
    cmd = [
        sys.executable,
        "-m",
        "optassign.cli",
        "solve",
        str(scenario),
        "--out",
        str(out),
        "--time-limit",
        str(time_limit),
        "--workers",
        str(workers),
        "--quiet",
        *extra,
    ]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak_kb = 0
    while True:
        # The child's own high-water mark (VmHWM, reset at exec), read every 0.1 s: rusage's
        # ru_maxrss of a child also counts the memory of this process when it forked it.
        peak_kb = max(peak_kb, _high_water_kb(child.pid))
        pid, status = os.waitpid(child.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, cmd)
    return wall, peak_kb / 1024 / 1024


def _high_water_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def write_results(frame, out: Path, stem: str) -> None:
    """A results table as `stem`.csv and `stem`.md (a Markdown table) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / f"{stem}.csv", index=False)
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in frame.itertuples(index=False)]
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")


def priority_sum(plan_dir: Path) -> int:
    import pandas as pd

    a = pd.read_csv(plan_dir / "assignments.csv", dtype={"agent_id": str}, keep_default_na=False)
    return int(a.loc[a["agent_id"] != "", "priority"].sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--time-limit", type=float, default=None, help="override the per-size limit")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="default")
    ap.add_argument("--whole", action="store_true", help="solve without splitting into parts")
    args = ap.parse_args()
    tag = "" if args.profile == "default" else f"_{args.profile}"
    tag += "_whole" if args.whole else ""
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        agents, regions, skills, limit = SIZES[size]
        limit = args.time_limit or limit
        prefix = "crm" if args.profile == "default" else f"crm_{args.profile}"
        scenario = args.work / f"{prefix}_{size}"
        if not scenario.exists():
            generate_scenario(
                scenario,
                tasks=size,
                agents=agents,
                regions=regions,
                skills=skills,
                seed=1,
                profile=PROFILES[args.profile],
            )
        plan_dir = args.work / f"plan{tag}_{size}"
        extra = ("--whole",) if args.whole else ()
        wall, rss = run_cli(scenario, plan_dir, limit, args.workers, extra)
        summary = json.loads((plan_dir / "summary.json").read_text())
        sc = optassign.load_scenario(scenario)
        data = build_problem(sc)
        names = summary["stages"][0]["terms"]
        g_assign, g_owner = greedy_plan(data, keep_current=False)
        greedy_value = sum(evaluate(data, sc.policy, g_assign, g_owner)[n] for n in names)
        greedy_priority = int(data.priority[g_assign >= 0].sum())
        bound = summary["best_bound"]
        row = {
            "tasks": size,
            "agents": agents,
            "regions": regions,
            "time_limit": limit,
            "wall_seconds": round(wall, 1),
            "peak_rss_gb": round(rss, 2),
            "status": summary["status"],
            "objective": summary["objective"],
            "bound": bound,
            "gap_pct": round(100 * summary["gap"], 3),
            "greedy_objective": round(greedy_value, 2),
            "greedy_gap_pct": round(100 * (bound - greedy_value) / abs(bound), 3),
            "uplift_over_greedy_pct": round(
                100 * (summary["objective"] - greedy_value) / abs(greedy_value), 3
            ),
            "assigned_priority": priority_sum(plan_dir),
            "greedy_assigned_priority": greedy_priority,
            "violations": len(check_plan(scenario, plan_dir)),
            "start": summary["statistics"].get("start"),
            "search": summary["statistics"].get("search", "cp-sat"),
            # independent parts, or regions split with the multi-region agents' share fixed
            "parts": summary["statistics"].get(
                "decomposition_parts", summary["statistics"].get("regions_parts", 1)
            ),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame.to_csv(args.out / f"crm{tag}.csv", index=False)
    (args.out / f"crm{tag}.md").write_text(
        frame.to_markdown(index=False) if _has_tabulate() else frame.to_string(index=False)
    )
    print(frame.to_string(index=False))
    np.seterr(all="ignore")


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
