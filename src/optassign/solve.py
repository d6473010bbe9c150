"""The solve façade: `ProblemData` + `Policy` in, `Result` out. Builds the CP-SAT model once,
hints it with a constructive plan, and solves the policy's lexicographic stages in turn."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .greedy import greedy_plan
from .model import AssignmentModel, evaluate
from .problem import POINT_SCALE, ProblemData
from .result import Result, SolveStatus, StageResult, relative_gap
from .schema import Policy


@dataclass(frozen=True)
class Progress:
    """A live report during a solve, for progress displays."""

    phase: str
    elapsed: float
    objective: float | None = None
    best_bound: float | None = None

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.best_bound is None:
            return None
        return relative_gap(self.objective, self.best_bound)


ProgressFn = Callable[[Progress], None]


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class _Reporter(cp_model.CpSolverSolutionCallback):
    def __init__(self, phase: str, started: float, progress: ProgressFn):
        super().__init__()
        self.phase, self.started, self.progress = phase, started, progress

    def on_solution_callback(self) -> None:
        self.progress(
            Progress(
                self.phase,
                time.perf_counter() - self.started,
                self.objective_value / POINT_SCALE,
                self.best_objective_bound / POINT_SCALE,
            )
        )


def solve_problem(
    data: ProblemData,
    policy: Policy,
    *,
    time_limit: float = 30.0,
    workers: int | None = None,
    seed: int = 0,
    hint: tuple[np.ndarray, np.ndarray] | None = None,
    progress: ProgressFn | None = None,
    log: bool = False,
    **params,
) -> Result:
    """Solve to the best plan found within `time_limit` seconds.

    The same data, policy, seed and workers give the same plan: CP-SAT runs its workers in a
    deterministic interleaved schedule and stops on deterministic time. Extra keyword arguments
    go straight to CP-SAT's parameters (e.g. linearization_level=2)."""
    started = time.perf_counter()
    workers = workers or default_workers()
    report = progress or (lambda _p: None)
    report(Progress("build", 0.0))
    model = AssignmentModel(data, policy)
    start = hint if hint is not None else greedy_plan(data, policy)
    values = model.values_of_plan(*start)
    model.hint(values)
    stages = model.stages
    stage_results: list[StageResult] = []
    stats: dict[str, float | int | str] = {
        "variables": len(model.model.proto.variables),
        "constraints": len(model.model.proto.constraints),
        "task_pairs": len(data.task_cand),
        "owner_pairs": len(data.owner_cand),
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    have_solution = True  # the hint is feasible by construction
    for i, names in enumerate(stages):
        remaining = time_limit - (time.perf_counter() - started)
        budget = max(0.05, remaining / (len(stages) - i))
        model.maximize(names)
        solver = cp_model.CpSolver()
        prm = solver.parameters
        prm.num_workers = workers
        prm.random_seed = seed
        prm.interleave_search = workers > 1
        prm.max_deterministic_time = budget
        prm.max_time_in_seconds = max(budget * 4, budget + 30)
        prm.log_search_progress = log
        for key, value in params.items():
            setattr(prm, key, value)
        phase = f"stage {i + 1}/{len(stages)}: {'+'.join(names)}"
        report(Progress(phase, time.perf_counter() - started))
        t0 = time.perf_counter()
        cb = _Reporter(phase, started, report) if progress else None
        code = solver.solve(model.model, cb) if cb else solver.solve(model.model)
        status = SolveStatus(solver.status_name(code))
        if status.has_solution:
            values = np.array(solver.response_proto.solution, dtype=np.int64)
            obj = solver.objective_value
            bound = solver.best_objective_bound
            floor = obj - policy.stage_tolerance * abs(obj)
            model.add_floor(names, int(np.floor(floor)))
            model.hint(values)
        else:
            # No better plan in this stage's time: the hinted plan stands (it is feasible).
            var, coef = model.stage_expr(names)
            obj = float(coef @ values[var])
            bound = solver.best_objective_bound if code != cp_model.MODEL_INVALID else float("nan")
            have_solution = code == cp_model.UNKNOWN
            if have_solution:
                status = SolveStatus.FEASIBLE
        stage_results.append(
            StageResult(
                names, status, obj / POINT_SCALE, bound / POINT_SCALE, round(time.perf_counter() - t0, 3)
            )
        )
        stats[f"stage{i + 1}_branches"] = solver.num_branches
        stats[f"stage{i + 1}_conflicts"] = solver.num_conflicts
        if not have_solution:
            break
    assign, owner = model.plan_of_values(values)
    if not stages:  # nothing to decide: no pairs and no weights
        stage_results.append(StageResult([], SolveStatus.OPTIMAL, 0.0, 0.0, 0.0))
    statuses = [s.status for s in stage_results]
    if all(s == SolveStatus.OPTIMAL for s in statuses):
        status = SolveStatus.OPTIMAL
    elif have_solution:
        status = SolveStatus.FEASIBLE
    else:
        status = next(s for s in statuses if not s.has_solution)
    primary = stage_results[0]
    return Result(
        status=status,
        objective=primary.objective,
        best_bound=primary.best_bound,
        gap=max(s.gap for s in stage_results) if have_solution else float("inf"),
        runtime=time.perf_counter() - started,
        assign=assign,
        owner=owner,
        terms=evaluate(data, policy, assign, owner),
        stages=stage_results,
        statistics=stats,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
    )
