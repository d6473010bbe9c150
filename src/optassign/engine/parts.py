"""Problems solved part by part: independent parts of the candidate graph, and the regional
split of a batch joined into one only by its multi-region agents. Each part is solved whole
(whole.py); nothing here goes back to the dispatcher."""

from __future__ import annotations

import dataclasses

import numpy as np

from optassign.contract.schema import TERMS, Policy
from optassign.engine.budget import REGIONS_SHARE, Budget
from optassign.engine.decompose import Part, fix_hubs, hubs, local_plan, merge, restrict, split
from optassign.engine.model import points, primary_terms, stage_plan
from optassign.engine.problem import ProblemData
from optassign.engine.progress import Progress, ProgressFn, relabel, silent
from optassign.engine.relax import Relaxation
from optassign.engine.result import Result, SolveStatus, StageResult
from optassign.engine.search.greedy import greedy_plan
from optassign.engine.stages import overall
from optassign.engine.statistics import Statistics
from optassign.engine.whole import Plan, SolveOptions, relaxation_of, result_of, rounded_start, solve_whole


def solve_parts(
    data: ProblemData,
    policy: Policy,
    parts: list[Part],
    n_components: int,
    budget: Budget,
    options: SolveOptions,
    *,
    hint: Plan | None = None,
    progress: ProgressFn | None = None,
) -> Result:
    """Each part solved as a problem of its own, largest first, with every worker, and the plans
    merged. A part's time limit is its share of the candidate pairs, so that together they take
    the time left (less, when the parts before it ran over); each part is reproducible on its
    own (same inputs, seed and workers), so the merged plan is too. (Parts side by side, one
    worker each, did worse on 2 cores: in threads the relaxations and chains contend for the
    interpreter, in processes one CP-SAT worker per part searches less well than two;
    benchmarks/README.md has the figures.)"""
    report = progress or silent
    available = budget.left()
    total = left = sum(p.pairs for p in parts)
    results = []
    for i, part in enumerate(parts):
        # its share of the pairs; less if earlier parts ran over theirs (on the wall clock, when
        # not deterministic; a deterministic part that ends early gives back what it left)
        share = available * part.pairs / total
        behind = budget.left() * part.pairs / left
        left -= part.pairs
        step = budget.sub(max(0.1, min(share, behind)))
        results.append(
            solve_whole(
                restrict(data, part),
                policy,
                step,
                options,
                hint=local_plan(data, part, *hint) if hint is not None else None,
                progress=relabel(report, f"part {i + 1}/{len(parts)}", budget.elapsed),
            )
        )
        budget.settle(step)
    plan = merge(data, parts, [(r.assign, r.owner) for r in results])
    stages = _merged_stages(data, policy, results, *plan)
    stats = Statistics(
        task_pairs=len(data.task_cand),
        owner_pairs=len(data.owner_cand),
        decomposition_components=n_components,
        decomposition_parts=len(parts),
    )
    for i, (part, r) in enumerate(zip(parts, results, strict=True)):
        stats.record(
            f"part{i + 1}",
            tasks=len(part.tasks),
            agents=len(part.agents),
            pairs=part.pairs,
            status=r.status.value,
            gap=r.gap,
            seconds=r.runtime,
            stopped_by=str(r.statistics.get("stage1_stopped_by", "-")),
        )
    status = overall([r.status for r in stages])
    return result_of(
        data, policy, status, stages, plan, budget, options, stats, _merged_relaxation(data, parts, results)
    )


def solve_regions(
    data: ProblemData,
    policy: Policy,
    budget: Budget,
    options: SolveOptions,
    progress: ProgressFn | None = None,
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
    report = progress or silent
    primary = primary_terms(policy)
    stats = Statistics()
    report(Progress("LP relaxation", budget.elapsed()))
    lp = relaxation_of(data, policy, primary, budget, stats, greedy=greedy) if options.lp else None
    start = rounded_start(data, data, policy, primary, lp) if lp is not None else greedy
    fixed, held, c_held = fix_hubs(data, *start, hub)
    parts, n_components = split(fixed)
    if len(parts) < 2:  # the rounded plan's share joins what the greedy's did not: solve whole
        return solve_whole(
            data, policy, budget.sub(max(0.1, budget.left())), options, relaxation=lp, progress=report
        )
    # the parts get REGIONS_SHARE of what the relaxation left
    regional = budget.sub(REGIONS_SHARE * budget.left())
    first = solve_parts(
        fixed,
        policy,
        parts,
        n_components,
        regional,
        dataclasses.replace(options, knapsacks=False),
        hint=start,
        progress=report,
    )
    budget.settle(regional)
    # the multi-region agents' share, outside the parts, joins their plans
    merged = (np.where(held, start[0], first.assign), np.where(c_held, start[1], first.owner))
    stats.record(
        "regions", hubs=int(hub.sum()), parts=len(parts), objective=points(data, policy, primary, *merged)
    )
    stats.record("regions", seconds=budget.elapsed())
    result = solve_whole(
        data,
        policy,
        budget.sub(max(0.1, budget.left())),
        options,
        hint=merged,
        relaxation=lp,
        progress=relabel(report, "whole batch", budget.elapsed),
    )
    stats.merge(result.statistics)
    return dataclasses.replace(result, statistics=stats.flat(), runtime=budget.elapsed())


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
        value = points(data, policy, terms, assign, owner)
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
