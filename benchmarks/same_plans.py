"""Same inputs, same plans: solve a fixed set of runs and compare the plan folders byte by byte.

    .venv/bin/python benchmarks/same_plans.py --record DIR     # write the reference plans
    .venv/bin/python benchmarks/same_plans.py --against DIR    # solve again, compare with DIR

The runs: `solve` on every scenario in scenarios/, a `handover` and two `preview`s (one with a
frontier) on them, and `solve` on a generated 10,000-task batch, all with a fixed seed, two
workers and deterministic budgets. Every file of every plan folder must be identical, except
the timings in summary.json (keys naming seconds), whose key set must still be the same. A run
that the wall clock stopped is flagged: it may differ from run to run by design.

Used to check that a change which should not change any plan (a refactor) indeed does not."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
COMMON = ["--seed", "0", "--workers", "2", "-q"]

# name -> optassign arguments ({out} is the run's plan folder, {batch} the generated batch)
RUNS: dict[str, list[str]] = {
    "solve-demo": ["solve", str(SCENARIOS / "demo"), "--out", "{out}"],
    "solve-service_desk": ["solve", str(SCENARIOS / "service_desk"), "--out", "{out}"],
    "solve-b2b_sales": ["solve", str(SCENARIOS / "b2b_sales"), "--out", "{out}"],
    "handover-demo": ["handover", str(SCENARIOS / "demo"), "--leave", "A00003", "--out", "{out}"],
    "preview-service_desk": [
        "preview",
        str(SCENARIOS / "service_desk"),
        "--events",
        str(SCENARIOS / "service_desk" / "events.yaml"),
        "--out",
        "{out}",
    ],
    "preview-b2b_sales-frontier": ["preview", str(SCENARIOS / "b2b_sales"), "--frontier", "--out", "{out}"],
    "solve-10000": ["solve", "{batch}", "--time-limit", "20", "--out", "{out}"],
}
BATCH = ["--tasks", "10000", "--agents", "400", "--regions", "10", "--seed", "1"]


def optassign(*args: str) -> None:
    cmd = [sys.executable, "-m", "optassign", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr.strip()}")


def solve_all(into: Path, only: list[str]) -> None:
    batch = into / "_batch-10000"
    if any(name.endswith("10000") for name in only) and not batch.exists():
        optassign("generate", str(batch), *BATCH)
    for name in only:
        args = [a.format(out=into / name, batch=batch) for a in RUNS[name]]
        if "--out" in args and "-q" not in args:
            args += COMMON
        print(f"  {name}", flush=True)
        optassign(*args)


def _timing(key: str) -> bool:
    return "seconds" in key or key.endswith("_s") or key == "time_limit_used"


def _untimed(value: object, path: str = "") -> tuple[object, list[str]]:
    """The summary without its timings, and the paths of every key (timings included)."""
    if isinstance(value, dict):
        kept, keys = {}, []
        for k, v in value.items():
            keys.append(f"{path}.{k}")
            if _timing(k):
                continue
            kept[k], sub = _untimed(v, f"{path}.{k}")
            keys += sub
        return kept, keys
    if isinstance(value, list):
        items, keys = [], []
        for i, v in enumerate(value):
            item, sub = _untimed(v, f"{path}[{i}]")
            items.append(item)
            keys += sub
        return items, keys
    return value, []


def _wall_clock(summary: dict) -> list[str]:
    stats = summary.get("statistics", {})
    return [k for k, v in stats.items() if k.endswith("stopped_by") and v == "wall clock"]


def compare(reference: Path, fresh: Path, name: str) -> list[str]:
    a, b = reference / name, fresh / name
    files_a = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    problems = [f"{name}: files differ: {sorted(set(files_a) ^ set(files_b))}"] if files_a != files_b else []
    for rel in sorted(set(files_a) & set(files_b)):
        if rel.endswith("summary.json"):
            sa, ka = _untimed(json.loads((a / rel).read_text()))
            sb, kb = _untimed(json.loads((b / rel).read_text()))
            if ka != kb:
                problems.append(f"{name}/{rel}: keys differ: {sorted(set(ka) ^ set(kb))[:10]}")
            elif sa != sb:
                diff = [k for k in sa if sa.get(k) != sb.get(k)]  # type: ignore[union-attr]
                problems.append(f"{name}/{rel}: values differ under {diff[:10]}")
            stopped = _wall_clock(json.loads((b / rel).read_text()))
            if stopped:
                print(f"  note: {name}: the wall clock stopped {stopped}; such a run may differ")
        elif (a / rel).read_bytes() != (b / rel).read_bytes():
            problems.append(f"{name}/{rel}: bytes differ")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--record", type=Path, help="write the reference plans here")
    group.add_argument("--against", type=Path, help="solve again and compare with these plans")
    parser.add_argument("--only", default=",".join(RUNS), help="comma-separated run names")
    args = parser.parse_args()
    only = [n for n in args.only.split(",") if n]
    unknown = sorted(set(only) - set(RUNS))
    if unknown:
        sys.exit(f"unknown runs {unknown}; known: {', '.join(RUNS)}")
    if args.record:
        args.record.mkdir(parents=True, exist_ok=True)
        solve_all(args.record, only)
        print(f"reference plans in {args.record}")
        return
    with tempfile.TemporaryDirectory(prefix="same-plans-") as tmp:
        solve_all(Path(tmp), only)
        problems = [p for name in only for p in compare(args.against, Path(tmp), name)]
    for p in problems:
        print("  DIFFERS", p)
    print(f"{len(only)} runs: {'all plans identical' if not problems else f'{len(problems)} differences'}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
