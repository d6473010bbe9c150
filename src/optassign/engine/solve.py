"""The solve façade: `ProblemData` + `Policy` in, `Result` out. It builds the budget and the
options, then dispatches: independent parts (parts.solve_parts), the regional split of a batch
joined only by its multi-region agents (parts.solve_regions), or the problem whole
(whole.solve_whole: bound → start → prune → search → polish)."""

from __future__ import annotations

import numpy as np

from optassign.contract.schema import Policy
from optassign.engine.budget import Budget, default_workers
from optassign.engine.decompose import split
from optassign.engine.model import primary_terms
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
