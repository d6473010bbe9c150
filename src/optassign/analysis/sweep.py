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

import pandas as pd

from optassign.api import solve
from optassign.contract.io import write_csv
from optassign.contract.writer import check_target, claim_folder, file_mode
from optassign.plan.kpis import plan_kpis
from optassign.scenario.levers import apply_levers, parse_vary, value_token
from optassign.scenario.scenario import Scenario, load_scenario

__all__ = [
    "Executor",
    "LocalProcessExecutor",
    "SerialExecutor",
    "SweepJob",
    "SweepResult",
    "run_job",
    "sweep",
    "sweep_jobs",
]

J = TypeVar("J")
R = TypeVar("R")

SWEEP_FILE = "sweep.csv"


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


def run_job(job: SweepJob) -> dict[str, object]:
    """Solve one run, write its plan folder (summary.json records the run under "sweep") and
    return its sweep.csv row: run_id, the varied values, plan folder, KPIs."""
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
        label = "_".join(f"{k}-{value_token(v)}" for k, v in values.items())
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
