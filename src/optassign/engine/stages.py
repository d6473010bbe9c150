"""The policy's lexicographic stages on one CP-SAT model: each stage maximises its terms from
the plan of the one before, and later stages keep what it reached (less the tolerance)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.sat.python import cp_model

from optassign import interrupt
from optassign.contract.schema import Policy
from optassign.engine.budget import Budget
from optassign.engine.model import AssignmentModel
from optassign.engine.params import DTIME_PER_SECOND, apply_params
from optassign.engine.problem import POINT_SCALE
from optassign.engine.progress import Progress, ProgressFn
from optassign.engine.result import SolveStatus, StageResult
from optassign.engine.statistics import Statistics


@dataclass(frozen=True)
class CpSat:
    """How CP-SAT runs: threads, seed, its log, and extra parameters (checked before)."""

    workers: int
    seed: int = 0
    log: bool = False
    params: dict = field(default_factory=dict)


class _Reporter(cp_model.CpSolverSolutionCallback):
    def __init__(self, phase: str, budget: Budget, progress: ProgressFn):
        super().__init__()
        self.phase, self.budget, self.progress = phase, budget, progress

    def on_solution_callback(self) -> None:
        self.progress(
            Progress(
                self.phase,
                self.budget.elapsed(),
                self.objective_value / POINT_SCALE,
                self.best_objective_bound / POINT_SCALE,
            )
        )


def solve_stages(
    model: AssignmentModel,
    policy: Policy,
    values: np.ndarray,
    budget: Budget,
    cpsat: CpSat,
    stats: Statistics,
    *,
    reserve: float = 0.0,
    hint_feasible: bool = True,
    report: ProgressFn | None = None,
    first_bound: float = float("inf"),
) -> tuple[list[StageResult], np.ndarray]:
    """Every stage in turn from the hinted `values`, each with an equal share of what `budget`
    has left (less `reserve`; a stage proven optimal gives back what it did not use). Returns
    each stage's result (its objective the final plan's value on its terms) and the final
    solution vector; stops at a stage with no plan.

    With the policy's `stop_at_gap`, a stage ends once proven within that gap (CP-SAT's
    relative gap limit); the first stage's proof may use `first_bound` (points), a bound known
    from elsewhere, which the model then holds as a constraint."""
    raw: list[tuple[list[str], SolveStatus, float, float]] = []
    stages = model.stages
    if policy.stop_at_gap > 0:
        cpsat = replace(cpsat, params={"relative_gap_limit": policy.stop_at_gap, **cpsat.params})
        if stages and np.isfinite(first_bound):
            model.add_ceiling(stages[0], int(np.ceil(first_bound * POINT_SCALE)) + 1)
    for i, names in enumerate(stages):
        seconds = max(0.05, budget.left(reserve) / (len(stages) - i))
        phase = f"stage {i + 1}/{len(stages)}: {'+'.join(names)}"
        if report is not None:
            report(Progress(phase, budget.elapsed()))
        t0 = time.perf_counter()
        callback = _Reporter(phase, budget, report) if report is not None else None
        step = budget.sub(seconds)
        status, values, bound, stopped, work = solve_stage(
            model, names, values, step, cpsat, callback, hint_feasible
        )
        if stopped in ("optimal", "gap"):  # the later stages get what this one did not need
            budget.settle(step, work / DTIME_PER_SECOND)
        hint_feasible = hint_feasible or status.has_solution
        stats.record(f"stage{i + 1}", seconds=time.perf_counter() - t0, stopped_by=stopped)
        raw.append((names, status, bound, time.perf_counter() - t0))
        if not status.has_solution:
            break
        values = _keep_reached(model, policy, names, values)
    return [_stage_result(model, values, *r) for r in raw], values


def _keep_reached(model: AssignmentModel, policy: Policy, names: list[str], values: np.ndarray) -> np.ndarray:
    """The solution with its helper variables tight, the floor of what this stage reached set
    for the later ones, and the model hinted with it."""
    # Helper variables (balance bounds, customer links) a stage did not optimise may be
    # slack: derive them tight from the plan before scoring and hinting the next stage.
    values = model.values_of_plan(*model.plan_of_values(values))
    var, coef = model.stage_expr(names)
    reached = float(coef @ values[var])
    model.add_floor(names, int(np.floor(reached - policy.stage_tolerance * abs(reached))))
    model.hint(values)
    return values


def _stage_result(
    model: AssignmentModel,
    values: np.ndarray,
    names: list[str],
    status: SolveStatus,
    bound: float,
    seconds: float,
) -> StageResult:
    var, coef = model.stage_expr(names)
    value = float(coef @ values[var]) if status.has_solution else float("nan")
    return StageResult(names, status, value / POINT_SCALE, bound / POINT_SCALE, round(seconds, 3))


def solve_stage(
    model: AssignmentModel,
    names: list[str],
    values: np.ndarray,
    budget: Budget,
    cpsat: CpSat,
    callback: cp_model.CpSolverSolutionCallback | None = None,
    hint_feasible: bool = True,
) -> tuple[SolveStatus, np.ndarray, float, str, float]:
    """One CP-SAT solve of the named terms from the hinted `values`. Returns the status, the
    best solution vector (the hint when CP-SAT found nothing better in time: it is feasible),
    the bound (scaled points), what stopped the search and its deterministic time."""
    model.maximize(names)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = cpsat.workers
    prm.random_seed = cpsat.seed
    prm.interleave_search = budget.deterministic and cpsat.workers > 1
    if budget.deterministic:
        prm.max_deterministic_time = budget.work(DTIME_PER_SECOND)
    prm.max_time_in_seconds = budget.wall_left()
    prm.log_search_progress = cpsat.log
    apply_params(prm, cpsat.params)
    code = interrupt.solve(solver, model.model, callback)
    status = SolveStatus(solver.status_name(code))
    if status == SolveStatus.OPTIMAL and solver.objective_value < solver.best_objective_bound:
        status = SolveStatus.FEASIBLE  # CP-SAT says optimal at its gap limit: proven within it only
    work = solver.deterministic_time
    if status.has_solution:
        values = np.array(solver.response_proto.solution, dtype=np.int64)
        return status, values, solver.best_objective_bound, _stopped_by(solver, status, code), work
    if status == SolveStatus.UNKNOWN and hint_feasible:
        # CP-SAT found nothing better than the hint in time, and proved no bound either.
        return SolveStatus.FEASIBLE, values, float("inf"), _stopped_by(solver, status, code), work
    return status, values, float("nan"), status.value.lower(), work


def _stopped_by(solver: cp_model.CpSolver, status: SolveStatus, code: int) -> str:
    if status == SolveStatus.OPTIMAL:
        return "optimal"
    if solver.parameters.relative_gap_limit > 0 and code == cp_model.OPTIMAL:
        return "gap"
    if solver.deterministic_time >= solver.parameters.max_deterministic_time * 0.999 > 0:
        return "deterministic time"
    return "wall clock"


def overall(statuses: list[SolveStatus]) -> SolveStatus:
    """A solve's status from its stages': optimal if all are, else feasible if all have a
    plan, else the first failure."""
    if all(st == SolveStatus.OPTIMAL for st in statuses):
        return SolveStatus.OPTIMAL
    if all(st.has_solution for st in statuses):
        return SolveStatus.FEASIBLE
    return next(st for st in statuses if not st.has_solution)
