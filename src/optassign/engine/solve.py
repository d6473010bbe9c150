"""The solve façade: `ProblemData` + `Policy` in, `Result` out. It builds the budget and the
options, then dispatches: independent parts (parts.solve_parts), the regional split of a batch
joined only by its multi-region agents (parts.solve_regions), or the problem whole
(whole.solve_whole: bound → start → prune → search → polish)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from optassign.contract.schema import TERMS, Policy
from optassign.engine import days
from optassign.engine.budget import Budget, default_workers
from optassign.engine.decompose import split
from optassign.engine.model import evaluate, owners_have_value, points, primary_terms, stage_plan
from optassign.engine.params import DTIME_PER_SECOND, check_params
from optassign.engine.parts import solve_parts, solve_regions
from optassign.engine.problem import ProblemData
from optassign.engine.progress import Progress, ProgressFn, relabel
from optassign.engine.relax import Relaxation, pair_coefficients, relax, rounded_plan
from optassign.engine.result import Result, SolveStatus, StageResult, gap_target, relative_gap
from optassign.engine.search.days_lns import improve_days
from optassign.engine.search.greedy import greedy_plan
from optassign.engine.whole import SolveOptions, solve_whole

__all__ = ["Progress", "ProgressFn", "SolveOptions", "default_workers", "primary_terms", "solve_problem"]


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
    """Solve to the best plan found within `time_limit` seconds (whole.py says how).

    The same data, policy, seed and workers give the same plan unless the wall clock stops
    the search before its deterministic budget (statistics say which). With
    `deterministic=False` the whole time limit is wall-clock search with CP-SAT's free
    parallel portfolio: often better within the same seconds, not reproducible. Extra keyword
    arguments go to CP-SAT's parameters (e.g. linearization_level=2), checked first:
    an unknown name or a value of the wrong type raises `ParamError` before any work.

    `lp`, `prune`, `lagrangian` (the knapsack search) and `decompose` switch steps on or off
    (whole.SolveOptions). `hint` is the plan to start from. `relaxation` skips the bound step
    with one computed before: it must bound this problem over the same candidate pairs (a
    handover's second pass passes its first pass's, raised by `relax.raised`). The one used
    is returned in `Result.relaxation`.

    A problem whose candidate graph falls apart into independent parts of some size
    (decompose.py) is solved part by part. A batch joined into one only by its multi-region
    agents is split too: the rounded LP plan's share of those agents is fixed, each region
    solved as a part within a share of the time, and the merged plan is the start of the solve
    over the whole batch. `decompose=False` solves it whole from the start.

    A batch with a horizon and due dates on (`data.day_cum`) is solved through its day rows
    (`_solve_in_time`)."""
    if data.day_cum is not None:

        def solve_priced(priced: ProblemData, seconds: float, report: ProgressFn | None) -> Result:
            return solve_problem(
                priced, policy, time_limit=seconds, workers=workers, seed=seed, hint=hint,
                progress=report, log=log, lp=lp, prune=prune, deterministic=deterministic,
                lagrangian=lagrangian, decompose=decompose, **params,
            )  # fmt: skip

        return _solve_in_time(
            data, policy, time_limit, solve_priced, lp=lp, progress=progress,
            seed=seed, workers=workers or default_workers(), deterministic=deterministic,
        )  # fmt: skip
    budget = Budget(time_limit, deterministic)
    options = SolveOptions(
        seed=seed,
        workers=workers or default_workers(),
        log=log,
        lp=lp,
        prune=prune,
        deterministic=deterministic,
        knapsacks=lagrangian,
        decompose=decompose,
        params=check_params(params),
    )
    data, hint, relaxation = _what_the_policy_uses(data, policy, hint, relaxation)
    result = None
    if options.decompose and data.move_budget is None and relaxation is None:
        parts, n_components = split(data)
        if len(parts) > 1:
            result = solve_parts(
                data, policy, parts, n_components, budget, options, hint=hint, progress=progress
            )
        elif hint is None:
            result = solve_regions(data, policy, budget, options, progress)
    if result is None:
        result = solve_whole(
            data, policy, budget, options, hint=hint, relaxation=relaxation, progress=progress
        )
    return dataclasses.replace(result, time_limit=time_limit)  # the limit given, not a step's


def _what_the_policy_uses(
    data: ProblemData,
    policy: Policy,
    hint: tuple[np.ndarray, np.ndarray] | None,
    relaxation: Relaxation | None,
) -> tuple[ProblemData, tuple[np.ndarray, np.ndarray] | None, Relaxation | None]:
    """The problem without owner pairs when the policy gives owning no value (the best plan
    then owns nothing, and the model, the relaxation and the searches are smaller for it);
    as it is under a move budget, where dropping an owner is a move. A given relaxation keeps
    its bound (one of a larger problem bounds this one) and loses its owner pairs."""
    if owners_have_value(policy) or data.move_budget is not None or not len(data.owner_cand):
        return data, hint, relaxation
    data = data.replace(owner_cand=data.owner_cand.select(np.zeros(len(data.owner_cand), dtype=bool)))
    if hint is not None:
        hint = (hint[0], np.full(data.n_customers, -1, dtype=hint[1].dtype))
    if relaxation is not None:
        none = np.zeros(0)
        relaxation = dataclasses.replace(relaxation, o=none, owner_reduced_cost=none)
    return data, hint, relaxation


# Shares of a timed batch's time limit: the LP with day rows, the neighbourhoods with day rows
# after the repair, and a reserve for the repair and the final scoring (the search of the
# priced batch gets the rest).
DAY_LP_SHARE = 0.3
DAY_SEARCH_SHARE = 0.45
TIME_PASS_SHARE = 0.03


def _solve_in_time(
    data: ProblemData,
    policy: Policy,
    time_limit: float,
    solve_priced: Callable[[ProblemData, float, ProgressFn | None], Result],
    *,
    lp: bool,
    progress: ProgressFn | None,
    seed: int,
    workers: int,
    deterministic: bool,
) -> Result:
    """A batch with day rows: (1) the LP relaxation with them (relax.py) bounds the batch and
    prices each pair's use of its agent's days; (2) the batch without day rows, each pair's
    value less that price (with soft due dates, at most the task's late points) and plus its
    urgency, is solved as any other; (3) the plan is made to obey the day rows (days.repair),
    (4) improved by neighbourhoods with the day rows in the model (search.days_lns) and scored
    on the batch itself, the lateness its schedule has included."""
    started = time.perf_counter()

    def clock() -> float:
        return time.perf_counter() - started

    if progress is not None:
        progress(Progress("LP relaxation with day rows", 0.0))
    primary = primary_terms(policy)
    relaxation = (
        relax(data, policy, primary, time_limit=max(1.0, DAY_LP_SHARE * time_limit))
        if lp and len(data.task_cand)
        else None
    )
    tc = data.task_cand
    price = np.zeros(len(tc))
    if relaxation is not None and relaxation.day_price is not None:
        price = relaxation.day_price
        if not data.due_hard:
            price = np.minimum(price, days.late_points(data, policy)[tc.row])
    urgency = days.urgency_points(data, policy)[tc.row]
    priced = data.replace(
        task_cand=dataclasses.replace(tc, value=tc.value + urgency - price),
        day_cum=None,
        task_due=None,
        day_dates=None,
        due_hard=False,
    )
    # each step's share is fixed, not what the clock left: its work budget (deterministic mode)
    # must not depend on how fast the steps before it ran
    report = None if progress is None else relabel(progress, "priced by day", clock)
    inner_share = 1.0 - DAY_LP_SHARE - DAY_SEARCH_SHARE - TIME_PASS_SHARE
    inner = solve_priced(priced, max(0.5, inner_share * time_limit), report)
    if progress is not None:
        progress(Progress("day rows: repair and neighbourhoods", clock()))
    value, _ = pair_coefficients(data, policy, primary)
    assign, fixed = days.repair(data, policy, inner.assign, inner.owner, value)
    repaired = {"repaired": assign}
    budgeted = data.move_budget is not None  # the other starts ignore the plan in force
    if not budgeted and relaxation is not None and relaxation.status != "failed":
        # the LP with day rows (or its Lagrangian dual's best pairs) rounded: often the best start
        rounded = _rounded_with_owners(data, relaxation, inner.owner, value)
        repaired["LP rounded"] = days.repair(data, policy, rounded, inner.owner, value)[0]
    # the greedy plans with the day rows may be better starts for the neighbourhoods
    starts = days.starts(data, policy, inner.owner, value, repaired, greedy=not budgeted)
    scores = {n: points(data, policy, primary, a, inner.owner, lt) for n, (a, lt) in starts.items()}
    start = max(scores, key=lambda n: scores[n])
    assign, late = starts[start]
    work = DAY_SEARCH_SHARE * time_limit * DTIME_PER_SECOND
    # deterministic: its nominal share, whatever the clock says (a busy machine takes longer)
    nominal = DAY_SEARCH_SHARE * time_limit if deterministic else time_limit - clock()
    search = Budget(
        max(0.1, nominal - TIME_PASS_SHARE * time_limit),
        deterministic,
        max_work=work if deterministic else None,
    )
    bound = relaxation.bound if relaxation is not None and relaxation.status != "failed" else float("inf")
    # the gain that proves the plan within the policy's stop_at_gap (none to make: no search)
    enough = gap_target(bound, policy.stop_at_gap) - scores[start]
    assign, late, dst = improve_days(
        data, policy, primary, assign, inner.owner, late, budget=search, seed=seed, workers=workers,
        enough=enough,
    )  # fmt: skip
    terms = evaluate(data, policy, assign, inner.owner, late)
    objective = float(sum(terms.get(n, 0.0) for n in primary))
    status = inner.status if not inner.status.has_solution else SolveStatus.FEASIBLE
    # every stage of the policy scored on the plan as repaired and searched; the first is
    # bounded by the LP with day rows, a later one by the priced batch's stage of those terms
    inner_stages = {tuple(r.terms): r for r in inner.stages}
    stages = [StageResult(primary, status, objective, bound, round(clock(), 3))]
    for names in stage_plan(policy, list(TERMS))[1:]:
        value_of = float(sum(terms.get(n, 0.0) for n in names))
        match = inner_stages.get(tuple(n for n in names if n in terms))
        later_bound = match.best_bound if match is not None else float("inf")
        stages.append(StageResult(names, status, value_of, later_bound, round(clock(), 3)))
    statistics = dict(inner.statistics)
    statistics.update(
        day_lp_status=relaxation.status if relaxation is not None else "off",
        day_lp_bound=bound,
        day_lp_seconds=relaxation.seconds if relaxation is not None else 0.0,
        day_repair_removed=fixed["removed"],
        day_repair_placed=fixed["placed"],
        day_repair_moved=fixed["moved"],
        day_start=start,
        day_start_objective=round(scores[start], 4),
        **{f"day_start_{n.replace(',', '').replace(' ', '_')}": round(v, 4) for n, v in scores.items()},
        day_lns_neighbourhoods=dst.neighbourhoods,
        day_lns_improved=dst.improved,
        day_lns_gain=round(dst.gained, 4),
        day_lns_stopped_by=dst.stopped_by,
        late_tasks=int(days.finished_late(data, assign, inner.owner, late).sum()),
    )
    return dataclasses.replace(
        inner,
        status=status,
        objective=objective,
        best_bound=bound,
        gap=relative_gap(objective, bound) if status.has_solution else float("inf"),
        runtime=clock(),
        assign=assign,
        terms=terms,
        stages=stages,
        statistics=statistics,
        time_limit=time_limit,
        relaxation=relaxation,
        late=late,
    )


def _rounded_with_owners(
    data: ProblemData, relaxation: Relaxation, owner: np.ndarray, value: np.ndarray
) -> np.ndarray:
    """The LP's tasks (rounded) completed by the greedy into an assignment that fits every
    agent's hours and task slots with `owner`'s customers kept (their hours taken first);
    `value` scores the pairs."""
    oc = data.owner_cand
    fixed = data.replace(
        capacity=np.maximum(data.capacity - days.owned_hours(data, owner), 0),
        owner_cand=oc.select(np.zeros(len(oc), dtype=bool)),
    )
    none = np.full(data.n_customers, -1, dtype=np.int32)
    return greedy_plan(fixed, pair_score=value, start=(rounded_plan(data, relaxation)[0], none))[0]
