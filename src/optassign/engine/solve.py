"""The solve façade: `ProblemData` + `Policy` in, `Result` out. Builds the CP-SAT model once,
hints it with a constructive plan, and solves the policy's lexicographic stages in turn."""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from optassign import interrupt
from optassign.contract.schema import TERMS, Policy
from optassign.engine.decompose import Part, fix_hubs, hubs, local_plan, merge, restrict, split
from optassign.engine.model import AssignmentModel, evaluate, stage_plan
from optassign.engine.params import apply_params, check_params
from optassign.engine.problem import POINT_SCALE, ProblemData
from optassign.engine.relax import (
    FULL_LP_PAIRS,
    Relaxation,
    lagrangian,
    pair_coefficients,
    relax,
    relax_large,
    rounded_plan,
    top_per_row,
)
from optassign.engine.result import Result, SolveStatus, StageResult, relative_gap
from optassign.engine.search import knapsack
from optassign.engine.search.chains import WORK_PER_SECOND as CHAIN_WORK_PER_SECOND
from optassign.engine.search.chains import chain_exchange, dense, fits_dense
from optassign.engine.search.ejection import insert_with_ejection
from optassign.engine.search.greedy import greedy_plan
from optassign.engine.search.lns import chain_sweep, improve
from optassign.engine.search.relink import relink

# Instances with more candidate pairs than this are pruned to PRUNE_K pairs per task.
PRUNE_ABOVE = 50_000
PRUNE_K = 6
# Shares of the time limit the relaxation may take: the whole LP, and the dual plus restricted
# LP of batches too large for one simplex (where the start matters more than the search).
LP_SHARE = 0.4
LARGE_LP_SHARE = 0.75
# Share of the time limit the Lagrangian knapsack search may take on problems it applies to
# (knapsack.applicable).
LAGRANGIAN_SHARE = 0.4
# Share of the time limit for path relinking between the knapsack search's best plans.
RELINK_SHARE = 0.25
# Share of the time left after the relaxation for the regional parts of a batch joined only by
# its multi-region agents; the solve over the whole batch from their plan gets the rest.
REGIONS_SHARE = 0.5
# Share of the time limit for ejection chains on problems too large for one dense search.
CHAIN_SHARE = 0.3
# Models with more pairs than this are searched by neighbourhoods rather than whole.
LNS_ABOVE = 150_000
# CP-SAT gets DTIME_PER_SECOND units of deterministic work per second of its time: when that
# budget ends the search, the same inputs, seed and workers give the same plan. The wall clock
# stays a hard limit; on large instances (or a loaded machine) it may end the search first,
# and the summary statistics say so, as such a run may not be reproducible.
DTIME_PER_SECOND = 0.25


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


def primary_terms(policy: Policy) -> list[str]:
    """The terms of the first stage: what the LP bound and pruning are about."""
    return stage_plan(policy, list(TERMS))[0]


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
    lp: bool = True,
    prune: int | None = None,
    deterministic: bool = True,
    relaxation: Relaxation | None = None,
    lagrangian: bool = True,
    decompose: bool = True,
    **params,
) -> Result:
    """Solve to the best plan found within `time_limit` seconds.

    1. Bound: the LP relaxation over every candidate pair (HiGHS; the Lagrangian dual when
       the instance is too large for a whole simplex). It is the reported bound whenever it
       is tighter than CP-SAT's, and the only one when pairs were pruned.
    2. Start: the better (on the first stage's terms) of a greedy that keeps the plan in
       force and the repaired LP rounding; or the caller's `hint`. Then insertion with
       ejection (ejection.py): open work takes the place of cheaper work where it is worth more.
    3. Pruning: above PRUNE_ABOVE pairs each task and customer keeps its `prune` best pairs
       by reduced cost, plus every pair the LP uses, the pair in force and the hinted one.
    4. Search: CP-SAT on the (pruned) model, stage by stage; above LNS_ABOVE model pairs,
       neighbourhood search instead (lns.py), on the first stage's pair terms. After the
       search of a pruned model, insertion with ejection once more over every pair.

    The same data, policy, seed and workers give the same plan unless the wall clock stops
    the search before its deterministic budget (statistics say which). With
    `deterministic=False` the whole time limit is wall-clock search with CP-SAT's free
    parallel portfolio: often better within the same seconds, not reproducible. Extra keyword
    arguments go to CP-SAT's parameters (e.g. linearization_level=2), checked first:
    an unknown name or a value of the wrong type raises `ParamError` before any work.

    `relaxation` skips step 1 with one computed before: it must bound this problem over the
    same candidate pairs (a handover's second pass passes its first pass's, raised by
    `relax.raised`). The one used is returned in `Result.relaxation`.

    A problem whose candidate graph falls apart into independent parts of some size
    (decompose.py) is solved part by part, each as above. A batch joined into one only by its
    multi-region agents is split too: the rounded LP plan's share of those agents is fixed,
    each region solved as a part within REGIONS_SHARE of the time, and the merged plan is the
    start of the solve over the whole batch. `decompose=False` solves it whole from the start."""
    started = time.perf_counter()
    params = check_params(params)
    workers = workers or default_workers()
    report = progress or (lambda _p: None)
    if decompose and data.move_budget is None and relaxation is None:
        parts, n_components = split(data)
        options = dict(
            seed=seed, log=log, lp=lp, prune=prune, deterministic=deterministic, lagrangian=lagrangian
        )
        if len(parts) > 1:
            return _solve_parts(
                data, policy, parts, n_components, time_limit, workers, hint, report, started, options, params
            )
        if hint is None:
            regional = _solve_regions(data, policy, time_limit, workers, report, started, options, params)
            if regional is not None:
                return regional
    elapsed = lambda: time.perf_counter() - started  # noqa: E731
    stats: dict[str, float | int | str] = {
        "task_pairs": len(data.task_cand),
        "owner_pairs": len(data.owner_cand),
    }
    primary = primary_terms(policy)
    # points per task pair on the primary terms, for the knapsack search and the chains
    pair_values = functools.cache(lambda: pair_coefficients(data, policy, primary)[0])
    if relaxation is not None:
        stats.update(lp_status=f"given ({relaxation.status})", lp_bound=round(relaxation.bound, 6))
    elif lp and len(data.task_cand):
        report(Progress("LP relaxation", elapsed()))
        relaxation = _relaxation(data, policy, primary, time_limit, stats, warm=hint is not None)

    lag: tuple[np.ndarray, np.ndarray] | None = None
    lag_bound = np.inf
    if lagrangian and hint is None and knapsack.applicable(data):
        report(Progress("Lagrangian knapsacks", elapsed()))
        lag, lag_bound = _lagrangian(data, pair_values(), time_limit, seed, deterministic, stats)

    pairs = len(data.task_cand) + len(data.owner_cand)
    k = prune if prune is not None else (PRUNE_K if pairs > PRUNE_ABOVE else 0)
    keep = hint if hint is not None else lag
    work = _pruned(data, relaxation, k, keep) if relaxation is not None and k > 0 else data
    stats.update(model_task_pairs=len(work.task_cand), model_owner_pairs=len(work.owner_cand))
    report(Progress("start", elapsed()))
    start, stats["start"], start_value = _best_start(work, data, policy, primary, relaxation, hint, lag)
    stats["start_objective"] = round(start_value, 6)
    if (start[0] < 0).any():
        report(Progress("insertion with ejection", elapsed()))
        start, start_value = _eject(work, data, policy, primary, start, start_value, stats)

    # A last insertion pass over every pair follows the search of a pruned model: it gets a
    # moment, about a second per million candidate pairs.
    final = min(0.1 * time_limit, len(data.task_cand) / 1e6) if work is not data else 0.0
    # Ejection chains polish the searched plan of a dense problem: up to a tenth of the time,
    # about half a second per million task pairs of the task x task arc matrix.
    # Larger problems get CHAIN_SHARE of the time for chains neighbourhood by neighbourhood.
    if data.move_budget is not None or not len(data.task_cand):
        chain_time = 0.0
    elif fits_dense(data):
        chain_time = min(0.1 * time_limit, 0.5 * data.n_tasks**2 / 1e6)
    else:
        chain_time = CHAIN_SHARE * time_limit
    final += chain_time
    # CP-SAT stops a little after its limit, and the plan is scored and assembled after that:
    # keep a moment for it (half a percent of the limit, at most a quarter second), so that
    # the whole solve ends within the limit.
    final += min(0.25, 0.005 * time_limit)

    def finish(
        status: SolveStatus, stages: list[StageResult], assign: np.ndarray, owner: np.ndarray
    ) -> Result:
        if chain_time > 0 and status.has_solution:
            report(Progress("ejection chains", elapsed()))
            (assign, owner), better = _chains(
                data, policy, primary, pair_values, assign, owner, chain_time, seed, stats
            )
            if better:
                status = SolveStatus.FEASIBLE  # the search's optimum was not the optimum
                stages = _rescored(data, policy, stages, assign, owner, status)
        if work is not data and status.has_solution and (assign < 0).any():
            # Pruning keeps each task's best pairs by reduced cost, which may leave out an agent
            # with room: place such work, and re-score the stages if that changed the plan.
            report(Progress("insertion with ejection, every pair", elapsed()))
            value = _value(data, policy, primary, assign, owner)
            (assign, owner), better = _eject(
                data, data, policy, primary, (assign, owner), value, stats, "final_"
            )
            if better > value:
                status = SolveStatus.FEASIBLE  # a pruned optimum was not the optimum
                stages = _rescored(data, policy, stages, assign, owner, status)
        run = (elapsed(), stats, seed, workers, time_limit, relaxation)
        return _result(data, policy, status, stages, assign, owner, *run)

    if len(work.task_cand) + len(work.owner_cand) > LNS_ABOVE:
        report(Progress("neighbourhood search", elapsed()))
        remaining = max(0.0, time_limit - elapsed() - final)
        assign, lns_stats = improve(
            work,
            policy,
            primary,
            start[0],
            start[1],
            seed=seed,
            deterministic_time=remaining * DTIME_PER_SECOND if deterministic else np.inf,
            wall_time=remaining,
        )
        owner = start[1]
        stats.update(
            search="neighbourhood",
            lns_neighbourhoods=lns_stats.neighbourhoods,
            lns_improved=lns_stats.improved,
            lns_seconds=round(lns_stats.seconds, 3),
            stage1_stopped_by="deterministic time"
            if lns_stats.deterministic_time >= remaining * DTIME_PER_SECOND
            else "wall clock",
        )
        value = _value(data, policy, primary, assign, owner)
        bound = relaxation.bound if relaxation is not None else float("inf")
        stage_results = [StageResult(primary, SolveStatus.FEASIBLE, value, bound, round(elapsed(), 3))]
        return finish(SolveStatus.FEASIBLE, stage_results, assign, owner)

    report(Progress("build", elapsed()))
    model = AssignmentModel(work, policy)
    values = model.values_of_plan(*start)
    # A start that leaves a must-assign task open is no plan: if CP-SAT finds none, say so.
    start_ok = work.must_assign is None or bool((start[0][work.must_assign] >= 0).all())
    model.hint(values)
    stages = model.stages
    stats.update(
        variables=len(model.model.proto.variables),
        constraints=len(model.model.proto.constraints),
        build_seconds=round(elapsed(), 3),
    )
    raw: list[tuple[list[str], SolveStatus, float, float]] = []
    for i, names in enumerate(stages):
        budget = max(0.05, (time_limit - final - elapsed()) / (len(stages) - i))
        phase = f"stage {i + 1}/{len(stages)}: {'+'.join(names)}"
        report(Progress(phase, elapsed()))
        t0 = time.perf_counter()
        callback = _Reporter(phase, started, report) if progress else None
        status, values, bound, stopped = _solve_stage(
            model, names, values, budget, workers, seed, log, params, callback, deterministic, start_ok
        )
        start_ok = start_ok or status.has_solution
        stats[f"stage{i + 1}_seconds"] = round(time.perf_counter() - t0, 3)
        stats[f"stage{i + 1}_stopped_by"] = stopped
        raw.append((names, status, bound, time.perf_counter() - t0))
        if not status.has_solution:
            break
        # Helper variables (balance bounds, customer links) a stage did not optimise may be
        # slack: derive them tight from the plan before scoring and hinting the next stage.
        values = model.values_of_plan(*model.plan_of_values(values))
        # Later stages keep what this one reached (less the policy's tolerance).
        var, coef = model.stage_expr(names)
        reached = float(coef @ values[var])
        model.add_floor(names, int(np.floor(reached - policy.stage_tolerance * abs(reached))))
        model.hint(values)
    # Each stage's objective is the final plan's value on its terms.
    stage_results = []
    for names, status, bound, seconds in raw:
        var, coef = model.stage_expr(names)
        value = float(coef @ values[var]) if status.has_solution else float("nan")
        stage_results.append(
            StageResult(names, status, value / POINT_SCALE, bound / POINT_SCALE, round(seconds, 3))
        )
    if not stage_results:  # nothing to decide: no pairs and no weights
        stage_results.append(StageResult([], SolveStatus.OPTIMAL, 0.0, 0.0, 0.0))
    status = _overall([r.status for r in stage_results])
    first = stage_results[0]
    # Bounds valid for the whole problem: CP-SAT's only over an unpruned model, the LP
    # relaxation's and the Lagrangian knapsacks' always.
    whole = [first.best_bound] if work is data else []
    whole += [relaxation.bound] if relaxation is not None else []
    whole += [lag_bound] if np.isfinite(lag_bound) else []
    bound = min(whole, default=first.best_bound)
    if (
        status == SolveStatus.OPTIMAL
        and work is not data
        and first.objective < bound - 1e-6 * max(1.0, abs(bound))
    ):
        # Optimal over the pruned pairs only: nothing proves it for the whole problem.
        status = SolveStatus.FEASIBLE
    if bound != first.best_bound:
        stage_results[0] = StageResult(first.terms, first.status, first.objective, bound, first.seconds)
    assign, owner = model.plan_of_values(values)
    return finish(status, stage_results, assign, owner)


def _solve_parts(
    data: ProblemData,
    policy: Policy,
    parts: list[Part],
    n_components: int,
    time_limit: float,
    workers: int,
    hint: tuple[np.ndarray, np.ndarray] | None,
    report: ProgressFn,
    started: float,
    options: dict,
    params: dict,
) -> Result:
    """Each part solved as a problem of its own, largest first, with every worker, and the plans
    merged. A part's time limit is its share of the candidate pairs, so that together they take
    the time left (less, when the parts before it ran over); each part is reproducible on its
    own (same inputs, seed and workers), so the merged plan is too. (Parts side by side, one
    worker each, did worse on 2 cores: in threads the relaxations and chains contend for the
    interpreter, in processes one CP-SAT worker per part searches less well than two;
    benchmarks/README.md has the figures.)"""
    elapsed = lambda: time.perf_counter() - started  # noqa: E731
    available = max(0.0, time_limit - elapsed())
    total = left = sum(p.pairs for p in parts)
    results = []
    for i, part in enumerate(parts):
        # its share of the pairs; less if earlier parts ran over theirs (then the wall clock,
        # not the work budgets, decides, and the statistics say so)
        share = available * part.pairs / total
        behind = max(0.0, time_limit - elapsed()) * part.pairs / left
        left -= part.pairs
        phase = f"part {i + 1}/{len(parts)}"

        def relay(p: Progress, phase: str = phase) -> None:
            report(Progress(f"{phase}: {p.phase}", elapsed()))

        results.append(
            solve_problem(
                restrict(data, part),
                policy,
                time_limit=max(0.1, min(share, behind)),
                workers=workers,
                hint=local_plan(data, part, *hint) if hint is not None else None,
                progress=relay,
                decompose=False,
                **options,
                **params,
            )
        )
    assign, owner = merge(data, parts, [(r.assign, r.owner) for r in results])
    stages = _merged_stages(data, policy, results, assign, owner)
    status = _overall([r.status for r in stages])
    stats: dict[str, float | int | str] = {
        "task_pairs": len(data.task_cand),
        "owner_pairs": len(data.owner_cand),
        "decomposition_components": n_components,
        "decomposition_parts": len(parts),
    }
    for i, (part, r) in enumerate(zip(parts, results, strict=True)):
        stats.update(
            {
                f"part{i + 1}_tasks": len(part.tasks),
                f"part{i + 1}_agents": len(part.agents),
                f"part{i + 1}_pairs": part.pairs,
                f"part{i + 1}_status": r.status.value,
                f"part{i + 1}_gap": round(r.gap, 6),
                f"part{i + 1}_seconds": round(r.runtime, 3),
                f"part{i + 1}_stopped_by": str(r.statistics.get("stage1_stopped_by", "-")),
            }
        )
    relaxation = _merged_relaxation(data, parts, results)
    run_info = (elapsed(), stats, options["seed"], workers, time_limit, relaxation)
    return _result(data, policy, status, stages, assign, owner, *run_info)


def _solve_regions(
    data: ProblemData,
    policy: Policy,
    time_limit: float,
    workers: int,
    report: ProgressFn,
    started: float,
    options: dict,
    params: dict,
) -> Result | None:
    """The regional split (decompose.fix_hubs) of the LP relaxation's repaired rounding (the
    greedy plan without it), its parts solved in turn within REGIONS_SHARE of the time the
    relaxation leaves, then the whole batch solved from the merged plan with the same
    relaxation; None when fixing the multi-region agents' share leaves fewer than two parts."""
    # whether the split gives parts at all: the greedy plan's share fixed (cheap)
    hub = hubs(data)
    greedy = greedy_plan(data)
    if len(split(fix_hubs(data, *greedy, hub)[0])[0]) < 2:
        return None
    primary = primary_terms(policy)
    stats: dict[str, float | int | str] = {}
    report(Progress("LP relaxation", time.perf_counter() - started))
    lp = _relaxation(data, policy, primary, time_limit, stats, greedy=greedy) if options["lp"] else None
    start = _rounded_start(data, data, policy, primary, lp) if lp is not None else greedy
    fixed, held, c_held = fix_hubs(data, *start, hub)
    parts, n_components = split(fixed)
    whole = dict(workers=workers, decompose=False, relaxation=lp, **options, **params)
    if len(parts) < 2:  # the rounded plan's share joins what the greedy's did not: solve whole
        left = max(0.1, time_limit - (time.perf_counter() - started))
        return solve_problem(data, policy, time_limit=left, progress=report, **whole)
    # the parts get REGIONS_SHARE of what the relaxation left
    so_far = time.perf_counter() - started
    first = _solve_parts(
        fixed,
        policy,
        parts,
        n_components,
        so_far + REGIONS_SHARE * max(0.0, time_limit - so_far),
        workers,
        start,
        report,
        started,
        dict(options, lagrangian=False),
        params,
    )
    # the multi-region agents' share, outside the parts, joins their plans
    merged = (np.where(held, start[0], first.assign), np.where(c_held, start[1], first.owner))
    stats.update(
        regions_hubs=int(hub.sum()),
        regions_parts=len(parts),
        regions_objective=round(_value(data, policy, primary, *merged), 6),
    )
    elapsed = time.perf_counter() - started
    stats["regions_seconds"] = round(elapsed, 3)
    result = solve_problem(
        data,
        policy,
        time_limit=max(0.1, time_limit - elapsed),
        hint=merged,
        progress=lambda p: report(Progress(f"whole batch: {p.phase}", time.perf_counter() - started)),
        **whole,
    )
    stats.update(result.statistics)
    return dataclasses.replace(result, statistics=stats, runtime=time.perf_counter() - started)


def _overall(statuses: list[SolveStatus]) -> SolveStatus:
    """A solve's status from its stages': optimal if all are, else feasible if all have a
    plan, else the first failure."""
    if all(st == SolveStatus.OPTIMAL for st in statuses):
        return SolveStatus.OPTIMAL
    if all(st.has_solution for st in statuses):
        return SolveStatus.FEASIBLE
    return next(st for st in statuses if not st.has_solution)


def _merged_stages(
    data: ProblemData, policy: Policy, results: list[Result], assign: np.ndarray, owner: np.ndarray
) -> list[StageResult]:
    """The whole problem's stages from its parts': each stage's value recomputed on the merged
    plan, its bound the sum of the parts' (the first stage's also no more than the sum of their
    relaxations' bounds). The balance term measures the whole batch, once, where the parts
    count it once each: a stage with it gets `balance_weight` points of slack per part beyond
    the first (each part's measure is at most 1), and is optimal only if its value meets that
    bound."""
    active = [t for t in TERMS if any(t in st.terms for r in results for st in r.stages)]
    slack = policy.balance_weight * (len(results) - 1) if policy.balance != "none" else 0.0
    out = []
    for k, terms in enumerate(stage_plan(policy, active)):
        mine = [next((st for st in r.stages if st.terms and st.terms[0] in terms), None) for r in results]
        failing = next((st.status for st in mine if st is not None and not st.status.has_solution), None)
        bound = sum(st.best_bound for st in mine if st is not None) + (slack if "balance" in terms else 0.0)
        if k == 0 and all(r.relaxation is not None for r in results):
            bound = min(bound, sum(r.relaxation.bound for r in results))  # type: ignore[union-attr]
        if failing is not None:
            out.append(StageResult(terms, failing, float("nan"), bound, 0.0))
            continue
        value = _value(data, policy, terms, assign, owner)
        proven = all(st is None or st.status == SolveStatus.OPTIMAL for st in mine)
        proven = proven and value >= bound - 1e-6 * max(1.0, abs(bound))
        seconds = max((st.seconds for st in mine if st is not None), default=0.0)
        out.append(
            StageResult(terms, SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE, value, bound, seconds)
        )
    return out or [StageResult([], SolveStatus.OPTIMAL, 0.0, 0.0, 0.0)]


def _merged_relaxation(data: ProblemData, parts: list[Part], results: list[Result]) -> Relaxation | None:
    """The parts' relaxations as one over the whole problem's pairs (every pair is in exactly
    one part): values and reduced costs put back in place, bounds added up."""
    lps = [r.relaxation for r in results]
    if any(lp is None for lp in lps):
        return None
    x, rc = np.zeros(len(data.task_cand)), np.zeros(len(data.task_cand))
    o, rc_o = np.zeros(len(data.owner_cand)), np.zeros(len(data.owner_cand))
    for part, lp in zip(parts, lps, strict=True):
        x[part.task_pairs], rc[part.task_pairs] = lp.x, lp.reduced_cost
        o[part.owner_pairs], rc_o[part.owner_pairs] = lp.o, lp.owner_reduced_cost
    status = next((lp.status for lp in lps if lp.status != "optimal"), "optimal")
    return Relaxation(
        bound=sum(lp.bound for lp in lps),
        x=x,
        o=o,
        reduced_cost=rc,
        owner_reduced_cost=rc_o,
        seconds=sum(lp.seconds for lp in lps),
        rounds=sum(lp.rounds for lp in lps),
        columns=sum(lp.columns for lp in lps),
        status=status,
    )


def _result(
    data, policy, status, stages, assign, owner, runtime, stats, seed, workers, time_limit, lp
) -> Result:
    first = stages[0]
    return Result(
        status=status,
        objective=first.objective,
        best_bound=first.best_bound,
        gap=first.gap if status.has_solution else float("inf"),
        runtime=runtime,
        assign=assign,
        owner=owner,
        terms=evaluate(data, policy, assign, owner),
        stages=stages,
        statistics=stats,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
        relaxation=lp,
    )


def _value(
    data: ProblemData, policy: Policy, names: list[str], assign: np.ndarray, owner: np.ndarray
) -> float:
    """A plan's value on the named terms, in points, recomputed from the arrays."""
    terms = evaluate(data, policy, assign, owner)
    return float(sum(terms[n] for n in names))


def _relaxation(
    data: ProblemData,
    policy: Policy,
    names: list[str],
    time_limit: float,
    stats: dict,
    warm: bool = False,
    greedy: tuple[np.ndarray, np.ndarray] | None = None,
) -> Relaxation | None:
    """The relaxation for the bound, pruning and the rounded start (None if it failed);
    `greedy` is the greedy plan when the caller has built it (its pairs seed the columns of
    a batch too large for one simplex)."""
    if len(data.task_cand) + len(data.owner_cand) <= FULL_LP_PAIRS:
        relaxation = relax(data, policy, names, time_limit=max(1.0, LP_SHARE * time_limit))
    elif warm:
        # a warm start (e.g. a handover from the plan in force) needs no rounded start: the
        # dual alone gives the bound and the reduced costs, and the search gets the time
        relaxation = lagrangian(data, policy, names, time_limit=max(1.0, 0.5 * LP_SHARE * time_limit))
        relaxation = dataclasses.replace(relaxation, status="dual only")
    else:
        # the simplex alone cannot take these: give the dual and restricted LP more room, and
        # the greedy plan's pairs as columns (the search gets less time but a better start)
        relaxation = relax_large(
            data,
            policy,
            names,
            time_limit=max(1.0, LARGE_LP_SHARE * time_limit),
            include=greedy if greedy is not None else greedy_plan(data),
        )
    stats.update(
        lp_status=relaxation.status,
        lp_bound=round(relaxation.bound, 6),
        lp_seconds=round(relaxation.seconds, 3),
        lp_rounds=relaxation.rounds,
        lp_columns=relaxation.columns,
    )
    return relaxation if relaxation.status in ("optimal", "dual only") else None


def _solve_stage(
    model: AssignmentModel,
    names: list[str],
    values: np.ndarray,
    budget: float,
    workers: int,
    seed: int,
    log: bool,
    params: dict,
    callback: cp_model.CpSolverSolutionCallback | None,
    deterministic: bool = True,
    hint_feasible: bool = True,
) -> tuple[SolveStatus, np.ndarray, float, str]:
    """One CP-SAT solve of the named terms from the hinted `values`. Returns the status, the
    best solution vector (the hint when CP-SAT found nothing better in time: it is feasible),
    the bound (scaled points) and what stopped the search."""
    model.maximize(names)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = workers
    prm.random_seed = seed
    prm.interleave_search = deterministic and workers > 1
    if deterministic:
        prm.max_deterministic_time = budget * DTIME_PER_SECOND
    prm.max_time_in_seconds = budget
    prm.log_search_progress = log
    apply_params(prm, params)
    code = interrupt.solve(solver, model.model, callback)
    status = SolveStatus(solver.status_name(code))
    if status.has_solution:
        values = np.array(solver.response_proto.solution, dtype=np.int64)
        return status, values, solver.best_objective_bound, _stopped_by(solver, status)
    if status == SolveStatus.UNKNOWN and hint_feasible:
        # CP-SAT found nothing better than the hint in time, and proved no bound either.
        return SolveStatus.FEASIBLE, values, float("inf"), _stopped_by(solver, status)
    return status, values, float("nan"), status.value.lower()


def _stopped_by(solver: cp_model.CpSolver, status: SolveStatus) -> str:
    if status == SolveStatus.OPTIMAL:
        return "optimal"
    if solver.deterministic_time >= solver.parameters.max_deterministic_time * 0.999 > 0:
        return "deterministic time"
    return "wall clock"


def _pruned(
    data: ProblemData, lp: Relaxation, k: int, hint: tuple[np.ndarray, np.ndarray] | None
) -> ProblemData:
    """The problem with fewer pairs: each task's and customer's k best by reduced cost, every
    pair the LP uses, the pair in force and the hinted one."""
    tc, oc = data.task_cand, data.owner_cand
    keep_x = top_per_row(tc.row, lp.reduced_cost, np.arange(len(tc)), k, len(tc))
    keep_x |= (lp.x > 1e-9) | tc.chosen(data.current)
    keep_o = top_per_row(oc.row, lp.owner_reduced_cost, np.arange(len(oc)), k, len(oc))
    keep_o |= (lp.o > 1e-9) | oc.chosen(data.owner)
    if hint is not None:
        keep_x |= tc.chosen(hint[0])
        keep_o |= oc.chosen(hint[1])
    return data.replace(task_cand=tc.select(keep_x), owner_cand=oc.select(keep_o))


def _rescored(
    data: ProblemData,
    policy: Policy,
    stages: list[StageResult],
    assign: np.ndarray,
    owner: np.ndarray,
    status: SolveStatus,
) -> list[StageResult]:
    """The stages' objectives recomputed for a plan changed after the search."""
    return [
        dataclasses.replace(r, objective=_value(data, policy, r.terms, assign, owner), status=status)
        for r in stages
    ]


def _chains(
    data: ProblemData,
    policy: Policy,
    primary: list[str],
    pair_values: Callable[[], np.ndarray],
    assign: np.ndarray,
    owner: np.ndarray,
    seconds: float,
    seed: int,
    stats: dict,
) -> tuple[tuple[np.ndarray, np.ndarray], bool]:
    """The plan polished by ejection chains on the primary pair terms (`pair_values`), if
    that scores better on all primary terms (balance included); whether it did. One dense
    search where the problem fits (chains.py), else neighbourhood by neighbourhood
    (lns.chain_sweep, which values each neighbourhood's pairs itself)."""
    t0 = time.perf_counter()
    value = _value(data, policy, primary, assign, owner)
    budget = seconds * CHAIN_WORK_PER_SECOND
    if fits_dense(data):
        new, cst = chain_exchange(data, pair_values(), assign, owner, max_work=budget)
        applied = cst.chains
    else:  # too large for one dense search: neighbourhood by neighbourhood
        new, sweep = chain_sweep(
            data, policy, primary, assign, owner, work_budget=budget, wall_time=seconds, seed=seed
        )
        applied = sweep.improved
        stats.update(
            chains_neighbourhoods=sweep.neighbourhoods,
            chains_stopped_by="work" if sweep.deterministic_time >= budget else "wall clock",
        )
    new = new.astype(assign.dtype)
    new_value = _value(data, policy, primary, new, owner)
    better = new_value > value + 1e-6 * max(1.0, abs(value))
    stats.update(
        chains_applied=applied if better else 0,
        chains_gain=round(new_value - value, 6) if better else 0.0,
        chains_seconds=round(time.perf_counter() - t0, 3),
    )
    return ((new, owner), True) if better else ((assign, owner), False)


def _eject(
    work: ProblemData,
    full: ProblemData,
    policy: Policy,
    primary: list[str],
    start: tuple[np.ndarray, np.ndarray],
    start_value: float,
    stats: dict,
    prefix: str = "",
) -> tuple[tuple[np.ndarray, np.ndarray], float]:
    """The start with open work placed by making room for it (ejection.py), if that scores
    better on the primary terms (it can only lose on the load-balance term)."""
    t0 = time.perf_counter()
    coef, _ = pair_coefficients(work, policy, primary)
    assign, ej = insert_with_ejection(work, coef, start[0], start[1])
    value = _value(full, policy, primary, assign, start[1])
    stats.update(
        {
            f"{prefix}ejection_inserted": ej.inserted,
            f"{prefix}ejection_ejected": ej.ejected,
            f"{prefix}ejection_seconds": round(time.perf_counter() - t0, 3),
            f"{prefix}ejection_objective": round(value, 6),
        }
    )
    if value > start_value:
        return (assign, start[1]), value
    return start, start_value


def _best_start(
    work: ProblemData,
    full: ProblemData,
    policy: Policy,
    primary: list[str],
    lp: Relaxation | None,
    hint: tuple[np.ndarray, np.ndarray] | None,
    lagrangian: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], str, float]:
    """The plan to start from, how it was made and its value on the primary terms: the
    caller's if given, else the best of the greedy that keeps the plan in force, the repaired
    LP rounding and the Lagrangian knapsacks' plan."""
    starts = {"given": hint} if hint is not None else {"greedy": greedy_plan(work)}
    if lp is not None and hint is None:
        starts["lp rounding"] = _rounded_start(work, full, policy, primary, lp)
    if lagrangian is not None and hint is None:
        starts["lagrangian"] = lagrangian
    values = {n: _value(full, policy, primary, *plan) for n, plan in starts.items()}
    # a plan that leaves a must-assign task open is no plan, whatever it scores
    must = full.must_assign
    complete = {n: must is None or bool((plan[0][must] >= 0).all()) for n, plan in starts.items()}
    name = max(values, key=lambda n: (complete[n], values[n]))
    return starts[name], name, values[name]


def _rounded_start(
    work: ProblemData, full: ProblemData, policy: Policy, primary: list[str], lp: Relaxation
) -> tuple[np.ndarray, np.ndarray]:
    """The LP solution (over `full`'s pairs) rounded, then repaired and completed on `work` by
    the greedy that scores pairs on the primary terms."""
    score, _ = pair_coefficients(work, policy, primary)
    return greedy_plan(work, pair_score=score, start=rounded_plan(full, lp))


def _lagrangian(
    data: ProblemData,
    coef: np.ndarray,
    time_limit: float,
    seed: int,
    deterministic: bool,
    stats: dict,
) -> tuple[tuple[np.ndarray, np.ndarray] | None, float]:
    """The best plan on the pair values `coef` (owners as in force) of the Lagrangian
    knapsacks (within LAGRANGIAN_SHARE of the time) and of path relinking between their best
    plans (within RELINK_SHARE), and the knapsacks' bound: as deterministic work, or
    wall-clock seconds."""
    owner = data.owner.astype(np.int32, copy=True)
    g = dense(data, coef, owner)
    must = data.must_assign if data.must_assign is not None else np.zeros(data.n_tasks, dtype=bool)
    seconds = LAGRANGIAN_SHARE * time_limit
    pool, lst = knapsack.search(
        g,
        must,
        work_budget=seconds * knapsack.WORK_PER_SECOND if deterministic else np.inf,
        wall_time=seconds,
        seed=seed,
    )
    stats.update(
        lagrangian_iterations=lst.iterations,
        lagrangian_plans=lst.plans,
        lagrangian_bound=round(lst.bound, 6),
        lagrangian_seconds=round(lst.seconds, 3),
        lagrangian_stopped_by=lst.stopped_by,
    )
    if not pool:
        return None, lst.bound
    seconds = RELINK_SHARE * time_limit
    _value_, plan, rst = relink(
        g,
        pool,
        work_budget=seconds * CHAIN_WORK_PER_SECOND if deterministic else np.inf,
        wall_time=seconds,
        seed=seed,
        bound=lst.bound,
    )
    stats.update(
        relink_walks=rst.walks,
        relink_improved=rst.improved,
        relink_gain=round(rst.gained, 6),
        relink_seconds=round(rst.seconds, 3),
        relink_stopped_by=rst.stopped_by,
    )
    return (plan.astype(np.int32), owner), lst.bound
