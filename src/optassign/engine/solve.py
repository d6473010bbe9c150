"""The solve façade: `ProblemData` + `Policy` in, `Result` out. It builds the budget and the
options, then dispatches: independent parts (parts.solve_parts), the regional split of a batch
joined only by its multi-region agents (parts.solve_regions), or the problem whole
(whole.solve_whole: bound → start → prune → search → polish)."""

from __future__ import annotations

import dataclasses

import numpy as np

from optassign.contract.schema import Policy
from optassign.engine.budget import Budget, default_workers
from optassign.engine.decompose import split
from optassign.engine.model import owners_have_value, primary_terms
from optassign.engine.params import check_params
from optassign.engine.parts import solve_parts, solve_regions
from optassign.engine.problem import ProblemData
from optassign.engine.progress import Progress, ProgressFn
from optassign.engine.relax import Relaxation
from optassign.engine.result import Result
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
    over the whole batch. `decompose=False` solves it whole from the start."""
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
    if options.decompose and data.move_budget is None and relaxation is None:
        parts, n_components = split(data)
        if len(parts) > 1:
            return solve_parts(
                data, policy, parts, n_components, budget, options, hint=hint, progress=progress
            )
        if hint is None:
            regional = solve_regions(data, policy, budget, options, progress)
            if regional is not None:
                return regional
    return solve_whole(data, policy, budget, options, hint=hint, relaxation=relaxation, progress=progress)


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
