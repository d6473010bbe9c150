"""One problem solved whole: bound → start → prune → search → polish.

1. Bound: the LP relaxation over every candidate pair (HiGHS; the Lagrangian dual when the
   instance is too large for a whole simplex). It is the reported bound whenever it is tighter
   than CP-SAT's, and the only one when pairs were pruned.
2. Start: the better (on the first stage's terms) of a greedy that keeps the plan in force,
   the repaired LP rounding and the Lagrangian knapsacks' plan; or the caller's `hint`. Then
   insertion with ejection: open work takes the place of cheaper work where it is worth more.
3. Pruning: above PRUNE_ABOVE pairs each task and customer keeps its PRUNE_K best pairs by
   reduced cost, plus every pair the LP uses, the pair in force and the hinted one.
4. Search: CP-SAT on the (pruned) model, stage by stage; above LNS_ABOVE model pairs,
   neighbourhood search instead, on the first stage's pair terms.
5. Polish: ejection chains, then, after the search of a pruned model, insertion with ejection
   once more over every pair."""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass, field

import numpy as np

from optassign.contract.schema import Policy
from optassign.engine.budget import (
    CHAIN_SHARE,
    KNAPSACK_SHARE,
    LARGE_LP_SHARE,
    LP_SHARE,
    RELINK_SHARE,
    Budget,
)
from optassign.engine.model import AssignmentModel, evaluate, points, primary_terms
from optassign.engine.params import DTIME_PER_SECOND
from optassign.engine.problem import POINT_SCALE, ProblemData
from optassign.engine.progress import Progress, ProgressFn, silent
from optassign.engine.relax import (
    FULL_LP_PAIRS,
    Relaxation,
    lagrangian,
    pair_coefficients,
    relax,
    rounded_plan,
    top_per_row,
)
from optassign.engine.result import Result, SolveStatus, StageResult, gap_target
from optassign.engine.search import chains, knapsack, relink
from optassign.engine.search.ejection import insert_with_ejection
from optassign.engine.search.greedy import greedy_plan
from optassign.engine.search.lns import chain_sweep, improve
from optassign.engine.stages import CpSat, overall, solve_stages
from optassign.engine.statistics import Statistics

# Instances with more candidate pairs than this are pruned to PRUNE_K pairs per task.
PRUNE_ABOVE = 50_000
PRUNE_K = 6
# Models with more pairs than this are searched by neighbourhoods rather than whole.
LNS_ABOVE = 150_000
# Nominal seconds on the reference machine, per candidate pair, of the starts, the pruning and
# the model's build (a deterministic schedule counts these, not the clock).
START_SECONDS_PER_PAIR = 1e-6

Plan = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SolveOptions:
    """The steps a solve takes and how CP-SAT runs: the relaxation (`lp`), pruning to `prune`
    pairs per task (None: PRUNE_K above PRUNE_ABOVE pairs), the Lagrangian knapsack search
    (`knapsacks`), splitting into parts (`decompose`), deterministic budgets."""

    seed: int = 0
    workers: int = 1
    log: bool = False
    lp: bool = True
    prune: int | None = None
    deterministic: bool = True
    knapsacks: bool = True
    decompose: bool = True
    params: dict = field(default_factory=dict)

    @property
    def cpsat(self) -> CpSat:
        return CpSat(self.workers, self.seed, self.log, self.params)


@dataclass
class _Solve:
    """What the steps of one solve share: the problem, the policy, the budget and the record."""

    data: ProblemData
    policy: Policy
    budget: Budget
    options: SolveOptions
    stats: Statistics
    report: ProgressFn
    primary: list[str]
    watched: bool  # whether anyone watches: CP-SAT then reports each better plan
    guide: np.ndarray | None = None  # the LP's value of each task pair, to steer neighbourhoods
    bound: float = float("inf")  # the least bound known before the search (LP, knapsacks)

    @property
    def target(self) -> float:
        """The first stage's value at which the policy's `stop_at_gap` ends the search."""
        return gap_target(self.bound, self.policy.stop_at_gap)

    def reached(self, plan: Plan) -> bool:
        """Whether `plan` meets the target (never scored when there is none)."""
        return np.isfinite(self.target) and self.value(*plan) >= self.target

    def value(self, assign: np.ndarray, owner: np.ndarray, names: list[str] | None = None) -> float:
        return points(self.data, self.policy, self.primary if names is None else names, assign, owner)

    def phase(self, name: str) -> None:
        self.report(Progress(name, self.budget.elapsed()))

    @functools.cached_property
    def pair_values(self) -> np.ndarray:
        """Points per task pair on the primary terms, for the knapsack search and the chains."""
        return pair_coefficients(self.data, self.policy, self.primary)[0]


def solve_whole(
    data: ProblemData,
    policy: Policy,
    budget: Budget,
    options: SolveOptions,
    *,
    hint: Plan | None = None,
    relaxation: Relaxation | None = None,
    progress: ProgressFn | None = None,
) -> Result:
    """The best plan found within `budget`, without splitting the problem. `relaxation`, when
    given, bounds this problem over the same candidate pairs and replaces the bound step."""
    stats = Statistics(task_pairs=len(data.task_cand), owner_pairs=len(data.owner_cand))
    s = _Solve(
        data, policy, budget, options, stats, progress or silent, primary_terms(policy), progress is not None
    )
    relaxation = _bound(s, relaxation, warm=hint is not None)
    if relaxation is not None and relaxation.status in ("optimal", "priced"):
        s.guide = relaxation.x
    lag, lag_bound = _knapsack_start(s) if hint is None else (None, np.inf)
    s.bound = min(lag_bound, relaxation.bound if relaxation is not None else np.inf)
    work = _prune(s, relaxation, hint if hint is not None else lag)
    start = _start(s, work, relaxation, hint, lag)
    # the start and the model's build, in the schedule by their size (the clock may differ)
    budget.charge(START_SECONDS_PER_PAIR * (len(data.task_cand) + len(data.owner_cand)))
    chain_seconds, reserve = _polish_time(s, work)
    if len(work.task_cand) + len(work.owner_cand) > LNS_ABOVE:
        status, stages, plan = _search_lns(s, work, start, relaxation, reserve)
    else:
        status, stages, plan = _search_cpsat(s, work, start, relaxation, lag_bound, reserve)
    status, stages, plan = _polish(s, work, status, stages, plan, chain_seconds)
    budget.charge(reserve - chain_seconds)  # the last pass and the result's assembly
    return result_of(data, policy, status, stages, plan, budget, options, stats, relaxation)


def _bound(s: _Solve, given: Relaxation | None, warm: bool) -> Relaxation | None:
    if given is not None:
        s.stats.update(lp_status=f"given ({given.status})", lp_bound=given.bound)
        return given
    if not (s.options.lp and len(s.data.task_cand)):
        return None
    s.phase("LP relaxation")
    return relaxation_of(s.data, s.policy, s.primary, s.budget, s.stats, warm=warm)


def relaxation_of(
    data: ProblemData,
    policy: Policy,
    names: list[str],
    budget: Budget,
    stats: Statistics,
    warm: bool = False,
    greedy: Plan | None = None,
) -> Relaxation | None:
    """The relaxation for the bound, pruning and the rounded start (None if it failed);
    `greedy` is the greedy plan when the caller has built it (its pairs seed the columns of a
    batch too large for one simplex)."""
    if len(data.task_cand) + len(data.owner_cand) <= FULL_LP_PAIRS:
        limit = max(1.0, LP_SHARE * budget.seconds)
        relaxation = relax(data, policy, names, time_limit=limit)
    elif warm:
        # a warm start (e.g. a handover from the plan in force) needs no rounded start: the
        # dual alone gives the bound and the reduced costs, and the search gets the time
        limit = max(1.0, 0.5 * LP_SHARE * budget.seconds)
        relaxation = lagrangian(data, policy, names, time_limit=limit)
        relaxation = dataclasses.replace(relaxation, status="dual only")
    else:
        # pricing needs more room than one simplex, and the greedy plan's pairs among the
        # columns keep the restricted LP at least as good as that plan from the first round
        limit = max(1.0, LARGE_LP_SHARE * budget.seconds)
        relaxation = relax(
            data, policy, names, time_limit=limit, include=greedy if greedy is not None else greedy_plan(data)
        )
    # the schedule counts the relaxation's nominal seconds (its counted work), not its wall clock
    budget.charge(min(limit, relaxation.nominal_seconds))
    stats.record(
        "lp",
        status=relaxation.status,
        bound=relaxation.bound,
        seconds=relaxation.seconds,
        rounds=relaxation.rounds,
        columns=relaxation.columns,
    )
    return relaxation if relaxation.status in ("optimal", "priced", "dual only") else None


def _knapsack_start(s: _Solve) -> tuple[Plan | None, float]:
    """The best plan on the primary pair values (owners as in force) of the Lagrangian
    knapsacks and of path relinking between their best plans, and the knapsacks' bound."""
    if not (s.options.knapsacks and knapsack.applicable(s.data)):
        return None, np.inf
    s.phase("Lagrangian knapsacks")
    data = s.data
    owner = data.owner.astype(np.int32, copy=True)
    g = chains.dense(data, s.pair_values, owner)
    must = data.must_assign if data.must_assign is not None else np.zeros(data.n_tasks, dtype=bool)
    pool, lst = knapsack.search(g, must, budget=s.budget.share(KNAPSACK_SHARE), seed=s.options.seed)
    s.stats.record(
        "lagrangian",
        iterations=lst.iterations,
        plans=lst.plans,
        bound=lst.bound,
        seconds=lst.seconds,
        stopped_by=lst.stopped_by,
    )
    if not pool:
        return None, lst.bound
    _, plan, rst = relink.relink(
        g, pool, budget=s.budget.share(RELINK_SHARE), seed=s.options.seed, bound=lst.bound
    )
    s.stats.record(
        "relink",
        walks=rst.walks,
        improved=rst.improved,
        gain=rst.gained,
        seconds=rst.seconds,
        stopped_by=rst.stopped_by,
    )
    return (plan.astype(np.int32), owner), lst.bound


def _prune(s: _Solve, lp: Relaxation | None, keep: Plan | None) -> ProblemData:
    """The problem with fewer pairs, when it is large: each task's and customer's k best by
    reduced cost, every pair the LP uses, the pair in force and the `keep` plan's."""
    data = s.data
    pairs = len(data.task_cand) + len(data.owner_cand)
    k = s.options.prune if s.options.prune is not None else (PRUNE_K if pairs > PRUNE_ABOVE else 0)
    work = data
    if lp is not None and k > 0:
        tc, oc = data.task_cand, data.owner_cand
        keep_x = top_per_row(tc.row, lp.reduced_cost, np.arange(len(tc)), k, len(tc))
        keep_x |= (lp.x > 1e-9) | tc.chosen(data.current)
        keep_o = top_per_row(oc.row, lp.owner_reduced_cost, np.arange(len(oc)), k, len(oc))
        keep_o |= (lp.o > 1e-9) | oc.chosen(data.owner)
        if keep is not None:
            keep_x |= tc.chosen(keep[0])
            keep_o |= oc.chosen(keep[1])
        work = data.replace(task_cand=tc.select(keep_x), owner_cand=oc.select(keep_o))
    s.stats.update(model_task_pairs=len(work.task_cand), model_owner_pairs=len(work.owner_cand))
    return work


def _start(
    s: _Solve, work: ProblemData, lp: Relaxation | None, hint: Plan | None, lag: Plan | None
) -> tuple[Plan, float]:
    """The plan to start from and its value on the primary terms: the caller's if given, else
    the best of the greedy that keeps the plan in force, the repaired LP rounding and the
    knapsacks' plan; then open work placed by making room for it."""
    s.phase("start")
    starts = {"given": hint} if hint is not None else {"greedy": greedy_plan(work)}
    if lp is not None and hint is None:
        starts["lp rounding"] = rounded_start(work, s.data, s.policy, s.primary, lp)
    if lag is not None and hint is None:
        starts["lagrangian"] = lag
    values = {n: s.value(*plan) for n, plan in starts.items()}
    # a plan that leaves a must-assign task open is no plan, whatever it scores
    must = s.data.must_assign
    complete = {n: must is None or bool((plan[0][must] >= 0).all()) for n, plan in starts.items()}
    name = max(values, key=lambda n: (complete[n], values[n]))
    start, start_value = starts[name], values[name]
    s.stats.update(start=name, start_objective=start_value)
    if (start[0] < 0).any():
        s.phase("insertion with ejection")
        start, start_value = _eject(s, work, start, start_value)
    return start, start_value


def rounded_start(
    work: ProblemData, full: ProblemData, policy: Policy, primary: list[str], lp: Relaxation
) -> Plan:
    """The LP solution (over `full`'s pairs) rounded, then repaired and completed on `work` by
    the greedy that scores pairs on the primary terms."""
    score, _ = pair_coefficients(work, policy, primary)
    return greedy_plan(work, pair_score=score, start=rounded_plan(full, lp))


def _eject(
    s: _Solve, work: ProblemData, start: Plan, start_value: float, step: str = "ejection"
) -> tuple[Plan, float]:
    """The plan with open work placed by making room for it (ejection.py), if that scores
    better on the primary terms (it can only lose on the load-balance term)."""
    t0 = time.perf_counter()
    coef, _ = pair_coefficients(work, s.policy, s.primary)
    assign, ej = insert_with_ejection(work, coef, start[0], start[1])
    value = s.value(assign, start[1])
    s.stats.record(
        step, inserted=ej.inserted, ejected=ej.ejected, seconds=time.perf_counter() - t0, objective=value
    )
    if value > start_value:
        return (assign, start[1]), value
    return start, start_value


def _on_pairs(work: ProblemData, data: ProblemData, x: np.ndarray) -> np.ndarray:
    """Per-pair values of `data` on the pairs of `work`, a pruning of it (same rows, fewer
    pairs; pairs sorted by row, then agent, in both)."""
    if work is data:
        return x
    n = np.int64(data.n_agents)
    full = data.task_cand.row.astype(np.int64) * n + data.task_cand.agent
    kept = work.task_cand.row.astype(np.int64) * n + work.task_cand.agent
    return x[np.searchsorted(full, kept)]


def _polish_time(s: _Solve, work: ProblemData) -> tuple[float, float]:
    """Seconds for the ejection chains, and the reserve the search leaves for the polish and
    for assembling the result."""
    data, limit = s.data, s.budget.seconds
    # A last insertion pass over every pair follows the search of a pruned model: it gets a
    # moment, about a second per million candidate pairs.
    reserve = min(0.1 * limit, len(data.task_cand) / 1e6) if work is not data else 0.0
    # Ejection chains polish the searched plan of a dense problem: up to a tenth of the time,
    # about half a second per million task pairs of the task x task arc matrix. Larger
    # problems get CHAIN_SHARE of the time for chains neighbourhood by neighbourhood.
    if data.move_budget is not None or not len(data.task_cand):
        chain_seconds = 0.0
    elif chains.fits_dense(data):
        chain_seconds = min(0.1 * limit, 0.5 * data.n_tasks**2 / 1e6)
    else:
        chain_seconds = CHAIN_SHARE * limit
    # CP-SAT stops a little after its limit, and the plan is scored and assembled after that:
    # keep a moment for it (half a percent of the limit, at most a quarter second), so that
    # the whole solve ends within the limit.
    return chain_seconds, reserve + chain_seconds + min(0.25, 0.005 * limit)


def _search_lns(
    s: _Solve, work: ProblemData, start: tuple[Plan, float], lp: Relaxation | None, reserve: float
) -> tuple[SolveStatus, list[StageResult], Plan]:
    """Neighbourhood search on the first stage's pair terms (owners stay as started)."""
    s.phase("neighbourhood search")
    (assign, owner), start_value = start
    budget = s.budget.sub(s.budget.left(reserve))
    guide = _on_pairs(work, s.data, s.guide) if s.guide is not None else None
    # the gain that proves the plan within the policy's stop_at_gap (scaled, as the search counts)
    enough = (s.target - start_value) * POINT_SCALE
    assign, lns = improve(
        work, s.policy, s.primary, assign, owner, budget=budget, seed=s.options.seed, guide=guide,
        enough=enough,
    )  # fmt: skip
    reached = lns.gained >= enough
    if reached:  # ended on its own: the polish gets what it did not use
        s.budget.settle(budget, lns.deterministic_time / DTIME_PER_SECOND)
    s.stats.update(
        search="neighbourhood",
        lns_neighbourhoods=lns.neighbourhoods,
        lns_improved=lns.improved,
        lns_seconds=lns.seconds,
        stage1_stopped_by="gap" if reached else budget.stopped_by(lns.deterministic_time, DTIME_PER_SECOND),
    )
    bound = lp.bound if lp is not None else float("inf")
    stages = [
        StageResult(
            s.primary, SolveStatus.FEASIBLE, s.value(assign, owner), bound, round(s.budget.elapsed(), 3)
        )
    ]
    return SolveStatus.FEASIBLE, stages, (assign, owner)


def _search_cpsat(
    s: _Solve,
    work: ProblemData,
    start: tuple[Plan, float],
    lp: Relaxation | None,
    lag_bound: float,
    reserve: float,
) -> tuple[SolveStatus, list[StageResult], Plan]:
    """CP-SAT on the (pruned) model from the start, stage by stage; the first stage's bound
    the tightest of those valid for the whole problem."""
    s.phase("build")
    model = AssignmentModel(work, s.policy)
    values = model.values_of_plan(*start[0])
    # A start that leaves a must-assign task open is no plan: if CP-SAT finds none, say so.
    start_ok = work.must_assign is None or bool((start[0][0][work.must_assign] >= 0).all())
    model.hint(values)
    s.stats.update(
        variables=len(model.model.proto.variables),
        constraints=len(model.model.proto.constraints),
        build_seconds=s.budget.elapsed(),
    )
    stages, values = solve_stages(
        model, s.policy, values, s.budget, s.options.cpsat, s.stats,
        reserve=reserve, hint_feasible=start_ok, report=s.report if s.watched else None, first_bound=s.bound,
    )  # fmt: skip
    if not stages:  # nothing to decide: no pairs and no weights
        stages.append(StageResult([], SolveStatus.OPTIMAL, 0.0, 0.0, 0.0))
    status = overall([r.status for r in stages])
    first = stages[0]
    # Bounds valid for the whole problem: CP-SAT's only over an unpruned model, the LP
    # relaxation's and the Lagrangian knapsacks' always.
    whole = [first.best_bound] if work is s.data else []
    whole += [lp.bound] if lp is not None else []
    whole += [lag_bound] if np.isfinite(lag_bound) else []
    bound = min(whole, default=first.best_bound)
    if (
        status == SolveStatus.OPTIMAL
        and work is not s.data
        and first.objective < bound - 1e-6 * max(1.0, abs(bound))
    ):
        status = SolveStatus.FEASIBLE  # optimal over the pruned pairs only: nothing proves it whole
    if bound != first.best_bound:
        stages[0] = StageResult(first.terms, first.status, first.objective, bound, first.seconds)
    return status, stages, model.plan_of_values(values)


def _polish(
    s: _Solve,
    work: ProblemData,
    status: SolveStatus,
    stages: list[StageResult],
    plan: Plan,
    chain_seconds: float,
) -> tuple[SolveStatus, list[StageResult], Plan]:
    """Ejection chains on the searched plan, then, after the search of a pruned model,
    insertion with ejection over every pair; the stages re-scored if either changed it."""
    if chain_seconds > 0 and status.has_solution and not s.reached(plan):
        s.phase("ejection chains")
        plan, better = _chains(s, plan, s.budget.sub(chain_seconds).always_by_work())
        if better:
            status = SolveStatus.FEASIBLE  # the search's optimum was not the optimum
            stages = _rescored(s, stages, plan, status)
    if work is not s.data and status.has_solution and (plan[0] < 0).any():
        # Pruning keeps each task's best pairs by reduced cost, which may leave out an agent
        # with room: place such work, and re-score the stages if that changed the plan.
        s.phase("insertion with ejection, every pair")
        value = s.value(*plan)
        plan, better = _eject(s, s.data, plan, value, "final_ejection")
        if better > value:
            status = SolveStatus.FEASIBLE  # a pruned optimum was not the optimum
            stages = _rescored(s, stages, plan, status)
    return status, stages, plan


def _chains(s: _Solve, plan: Plan, budget: Budget) -> tuple[Plan, bool]:
    """The plan polished by ejection chains on the primary pair terms, if that scores better
    on all primary terms (balance included); whether it did. One dense search where the
    problem fits (chains.py), else neighbourhood by neighbourhood (lns.chain_sweep, which
    values each neighbourhood's pairs itself)."""
    data, (assign, owner) = s.data, plan
    value = s.value(assign, owner)
    if chains.fits_dense(data):
        new, cst = chains.chain_exchange(
            data, s.pair_values, assign, owner, max_work=budget.work(chains.WORK_PER_SECOND)
        )
        applied = cst.chains
    else:  # too large for one dense search: neighbourhood by neighbourhood
        new, sweep = chain_sweep(
            data, s.policy, s.primary, assign, owner, budget=budget, seed=s.options.seed, guide=s.guide
        )
        applied = sweep.improved
        s.stats.record(
            "chains",
            neighbourhoods=sweep.neighbourhoods,
            stopped_by=budget.stopped_by(sweep.deterministic_time, chains.WORK_PER_SECOND, "work"),
        )
    new = new.astype(assign.dtype)
    new_value = s.value(new, owner)
    better = new_value > value + 1e-6 * max(1.0, abs(value))
    s.stats.record(
        "chains",
        applied=applied if better else 0,
        gain=new_value - value if better else 0.0,
        seconds=budget.elapsed(),
    )
    return ((new, owner), True) if better else ((assign, owner), False)


def _rescored(s: _Solve, stages: list[StageResult], plan: Plan, status: SolveStatus) -> list[StageResult]:
    """The stages' objectives recomputed for a plan changed after the search."""
    return [dataclasses.replace(r, objective=s.value(*plan, r.terms), status=status) for r in stages]


def result_of(
    data: ProblemData,
    policy: Policy,
    status: SolveStatus,
    stages: list[StageResult],
    plan: Plan,
    budget: Budget,
    options: SolveOptions,
    stats: Statistics,
    lp: Relaxation | None,
) -> Result:
    """The result of a solve within `budget`, its statistics flattened once."""
    first = stages[0]
    return Result(
        status=status,
        objective=first.objective,
        best_bound=first.best_bound,
        gap=first.gap if status.has_solution else float("inf"),
        runtime=budget.elapsed(),
        assign=plan[0],
        owner=plan[1],
        terms=evaluate(data, policy, *plan),
        stages=stages,
        statistics=stats.flat(),
        seed=options.seed,
        workers=options.workers,
        time_limit=budget.seconds,
        relaxation=lp,
    )
