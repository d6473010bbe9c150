"""Scenario sweeps: the cartesian product of varied settings (policy, staffing, capacity, solver
settings, any policy field), each run solved into its own plan folder and measured by the KPIs of
compare.py. Runs go through one `Executor` interface, so another backend can run them elsewhere."""

from __future__ import annotations

import itertools
import os
import re
import signal
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from optassign.analysis.compare import plan_kpis
from optassign.contract.io import write_csv
from optassign.contract.schema import InputProblem, Policy, ScenarioError
from optassign.contract.writer import check_target, claim_folder, file_mode
from optassign.scenario.policy import load_policy
from optassign.scenario.scenario import Scenario, load_scenario

__all__ = [
    "Executor",
    "LEVERS",
    "LocalProcessExecutor",
    "SerialExecutor",
    "SweepJob",
    "SweepResult",
    "apply_levers",
    "known_keys",
    "parse_vary",
    "run_job",
    "sweep",
    "sweep_jobs",
]

J = TypeVar("J")
R = TypeVar("R")

# Levers beyond the policy's own fields: what each does to a run.
LEVERS: dict[str, str] = {
    "policy": "policy name in models/ (or a YAML path); policy fields varied too apply on top",
    "capacity_scale": "multiply every agent's capacity_hours (>= 0)",
    "staff_scale": "keep the first round(n x scale) active agents by agent_id (half rounds up), "
    "deactivate the rest (0..1)",
    "time_limit": "solver seconds per run (> 0)",
    "seed": "solver seed (integer >= 0)",
    "workers": "solver threads per run (integer >= 1)",
}
# Policy fields a sweep may not vary (they are labels, not settings).
_FIXED_POLICY_FIELDS = frozenset({"name", "description"})
SWEEP_FILE = "sweep.csv"


def policy_keys() -> list[str]:
    return [k for k in Policy.model_fields if k not in _FIXED_POLICY_FIELDS]


def known_keys() -> list[str]:
    return [*LEVERS, *policy_keys()]


# --------------------------------------------------------------------------- executors
class Executor(ABC):
    """Runs a function over jobs and returns the results in the jobs' order. `fn` and the jobs
    must be picklable for executors that run elsewhere (processes, a cluster)."""

    @abstractmethod
    def map(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]: ...


class SerialExecutor(Executor):
    """One job after another, in this process (debugging, notebooks, a single core)."""

    def map(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]:
        return [fn(job) for job in jobs]


def _ignore_interrupts() -> None:
    """In a worker process: Ctrl-C reaches the whole process group, but only the parent acts
    on it (one line, no traceback per worker); the parent ends the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalProcessExecutor(Executor):
    """Jobs in parallel on this machine, in `max_workers` fresh processes ("spawn": no solver
    threads are forked mid-run). If the parent is interrupted (or a job fails), the jobs not
    started are cancelled and the running ones are ended: no worker outlives the sweep."""

    def __init__(self, max_workers: int | None = None, start_method: str = "spawn"):
        self.max_workers = max_workers
        self.start_method = start_method

    def map(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]:
        if not jobs:
            return []
        n = min(self.max_workers or os.cpu_count() or 1, len(jobs))
        ctx = get_context(self.start_method)
        pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_ignore_interrupts)
        try:
            results = list(pool.map(fn, jobs))
        except BaseException:
            _end_workers(pool)
            raise
        pool.shutdown()
        return results


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and terminate the worker processes now (3.14 has
    `terminate_workers`; before it, the pool's process table is the only handle)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)


# --------------------------------------------------------------------------- parsing --vary
def parse_vary(items: Iterable[str] | Mapping[str, Sequence]) -> dict[str, list]:
    """`KEY=V1,V2` options (or a mapping key -> values) to typed, validated values per key, in
    the order given. Every problem (unknown key, bad value, repeated key) is raised together."""
    problems: list[InputProblem] = []
    pairs: list[tuple[str, list]] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), list(v) if _is_list(v) else [v]) for k, v in items.items()]
    else:
        for item in items:
            key, sep, text = str(item).partition("=")
            key = key.strip()
            if not sep or not key:
                problems.append(InputProblem("--vary", None, None, str(item), "expected KEY=V1,V2,..."))
                continue
            pairs.append((key, [_scalar(v) for v in _split_top(text)]))
    known = known_keys()
    out: dict[str, list] = {}
    for key, values in pairs:
        if key not in known:
            problems.append(
                InputProblem(
                    "--vary",
                    None,
                    None,
                    key,
                    f"unknown key; known keys: {', '.join(LEVERS)}, "
                    f"or a policy field: {', '.join(policy_keys())}",
                )
            )
        elif key in out:
            problems.append(InputProblem("--vary", None, None, key, "key varied twice; give its values once"))
        elif not values or any(v is None or v == "" for v in values):
            problems.append(InputProblem("--vary", None, None, key, "empty value"))
        else:
            out[key] = [_typed(key, v, problems) for v in values]
    if problems:
        raise ScenarioError(problems)
    return out


def _is_list(v: object) -> bool:
    return isinstance(v, list | tuple | np.ndarray | pd.Series)


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets, so `priority_value={1: 1, 2: 5}` stays one value."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def _scalar(text: str) -> object:
    try:
        return yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text


def _typed(key: str, value: object, problems: list[InputProblem]) -> object:
    """One value checked against its key's rule; a problem is recorded when it breaks it."""

    given = value

    def bad(rule: str) -> object:
        problems.append(InputProblem("--vary", None, None, f"{key}={given}", rule))
        return given

    if key == "policy":
        name = str(value)
        try:
            load_policy(name)
        except ScenarioError as exc:
            return bad(exc.problems[0].rule)
        return name
    if key in ("capacity_scale", "staff_scale", "time_limit"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            return bad("not a number")
        value = float(value)
        if key == "capacity_scale" and value < 0:
            return bad("must be >= 0")
        if key == "staff_scale" and not 0 <= value <= 1:
            return bad("must be between 0 and 1")
        if key == "time_limit" and value <= 0:
            return bad("must be > 0")
        return value
    if key in ("seed", "workers"):
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key == "workers" else 0):
            return bad(f"must be an integer >= {1 if key == 'workers' else 0}")
        return int(value)
    try:  # a policy field: validated the way a policy file is
        Policy.model_validate({key: value})
    except ValidationError as exc:
        return bad(exc.errors()[0]["msg"])
    return value


# --------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class SweepJob:
    """One run: its id, the values of the varied keys, the base scenario and run settings, and
    the plan folder to write (None = keep nothing on disk)."""

    run_id: str
    values: dict[str, object]
    scenario: Scenario
    time_limit: float | None
    workers: int | None
    seed: int | None
    out: str | None


def apply_levers(scenario: Scenario, values: Mapping[str, object]) -> tuple[Scenario, dict[str, object]]:
    """The run's scenario (policy, capacities, staff changed) and its solve settings
    (time_limit, workers, seed where varied)."""
    policy = load_policy(values["policy"]) if "policy" in values else scenario.policy
    fields = {k: v for k, v in values.items() if k in Policy.model_fields}
    if fields:
        label = ",".join(f"{k}={_token(v)}" for k, v in fields.items())
        data = {**policy.model_dump(), **fields, "name": f"{policy.name}[{label}]"}
        policy = Policy.model_validate(data)
    agents = scenario.agents
    if "capacity_scale" in values or "staff_scale" in values:
        agents = agents.copy()
        agents.attrs = dict(scenario.agents.attrs)
        if "capacity_scale" in values:
            agents["capacity_hours"] = agents["capacity_hours"] * float(values["capacity_scale"])
        if "staff_scale" in values:
            active_ids = sorted(agents.loc[agents["active"], "agent_id"])
            n = int(np.floor(len(active_ids) * float(values["staff_scale"]) + 0.5))
            agents["active"] = agents["active"] & agents["agent_id"].isin(active_ids[:n])
    settings = {k: values[k] for k in ("time_limit", "workers", "seed") if k in values}
    return scenario.replace(policy=policy, agents=agents), settings


def run_job(job: SweepJob) -> dict[str, object]:
    """Solve one run, write its plan folder (summary.json records the run under "sweep") and
    return its sweep.csv row: run_id, the varied values, plan folder, KPIs."""
    from optassign.api import solve

    scenario, settings = apply_levers(job.scenario, job.values)
    plan = solve(
        scenario,
        time_limit=settings.get("time_limit", job.time_limit),
        workers=settings.get("workers", job.workers),
        seed=settings.get("seed", job.seed),
    )
    plan.summary["sweep"] = {"run_id": job.run_id, "values": dict(job.values)}
    if job.out is not None:
        plan.write(job.out)
    kpis = plan_kpis(plan)
    row: dict[str, object] = {"run_id": job.run_id, **job.values}
    row["plan"] = f"runs/{job.run_id}" if job.out is not None else ""
    row.update({k: v for k, v in kpis.items() if k not in row})
    return row


def _token(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", text).strip("_")[:80]


def sweep_jobs(
    scenario: Scenario,
    vary: Mapping[str, list],
    *,
    out: Path | None = None,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
) -> list[SweepJob]:
    """The runs of a sweep, in a fixed order: the cartesian product of the values, the first
    key varying slowest. Run ids are r<index>_<key>-<value>_..., the same for the same vary."""
    keys = list(vary)
    combos = list(itertools.product(*(vary[k] for k in keys)))
    width = max(3, len(str(max(len(combos) - 1, 0))))
    jobs = []
    for i, combo in enumerate(combos):
        values = dict(zip(keys, combo, strict=True))
        label = "_".join(f"{k}-{_token(v)}" for k, v in values.items())
        run_id = f"r{i:0{width}d}" + (f"_{_slug(label)}" if label else "")
        target = None if out is None else str(Path(out) / "runs" / run_id)
        jobs.append(SweepJob(run_id, values, scenario, time_limit, workers, seed, target))
    return jobs


@dataclass
class SweepResult:
    """sweep.csv as a DataFrame (one row per run) and where the runs were written."""

    table: pd.DataFrame
    out: Path | None

    @property
    def run_folders(self) -> list[Path]:
        if self.out is None:
            return []
        return [self.out / p for p in self.table["plan"]]


def sweep(
    scenario: Scenario | str | Path,
    vary: Mapping[str, Sequence] | Iterable[str],
    *,
    out: str | Path | None = None,
    jobs: int = 1,
    executor: Executor | None = None,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
) -> SweepResult:
    """Solve every combination of the varied values and measure each plan.

    sweep("scenarios/demo", {"policy": ["balanced", "sla_first"], "capacity_scale": [0.9, 1.1]},
          out="sweeps/demo", jobs=2, time_limit=10)

    Writes <out>/runs/<run_id>/ (plan folders) and <out>/sweep.csv. `executor` defaults to
    `SerialExecutor` for jobs=1, else `LocalProcessExecutor(jobs)`. Solver threads per run,
    unless given or varied: the scenario's setting, else the cores shared out between jobs."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    values = parse_vary(vary)
    if workers is None and "workers" not in values and scenario.config.settings.workers is None:
        workers = max(1, min(8, (os.cpu_count() or 1) // max(1, jobs)))
    out_path = None if out is None else Path(out)
    if out_path is not None:  # refused before any run: only a sweep folder of ours is written into
        check_target(out_path, "sweep", replace=False)
        claim_folder(out_path, "sweep")
    run_list = sweep_jobs(scenario, values, out=out_path, time_limit=time_limit, workers=workers, seed=seed)
    executor = executor or (SerialExecutor() if jobs <= 1 else LocalProcessExecutor(jobs))
    rows = executor.map(run_job, run_list)
    table = pd.DataFrame(rows)
    if out_path is not None:
        fd, tmp = tempfile.mkstemp(prefix=".sweep.", suffix=".csv.tmp", dir=out_path)
        os.close(fd)
        try:
            os.chmod(tmp, file_mode())  # mkstemp's 0600 would hide it from other users
            write_csv(table, Path(tmp))
            os.replace(tmp, out_path / SWEEP_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return SweepResult(table, out_path)
