"""The Python API in domain words: load a scenario, solve it into a `Plan`. The CLI and the
notebooks call these functions and nothing deeper."""

from __future__ import annotations

from pathlib import Path

from optassign.contract.schema import Policy
from optassign.engine.problem import build_problem
from optassign.engine.solve import ProgressFn, solve_problem
from optassign.engine.stability import in_force_completed, keep_plan_in_force
from optassign.plan.folder import with_plan_in_force
from optassign.plan.plan import Plan, build_plan
from optassign.scenario.policy import load_policy
from optassign.scenario.scenario import Scenario, load_scenario

DEFAULT_TIME_LIMIT = 30.0


def solve(
    scenario: Scenario | str | Path,
    *,
    policy: Policy | str | None = None,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    progress: ProgressFn | None = None,
    plan: str | Path | None = None,
    max_moves: int | None = None,
    stop_at_gap: float | None = None,
    **params,
) -> Plan:
    """Assign a scenario's tasks (and customers) to its agents; returns the plan.

    Settings not given fall back to the scenario's `settings:` in scenario.yaml, then to
    defaults (30 s, all cores up to 8, seed 0). The plan in force is the input's `assigned_to`
    and `owner_id`, or the plan folder `plan` (a plan written for this scenario, e.g. last
    night's). `max_moves` caps how many tasks and customers may leave an agent in force who
    could keep them (what no longer fits moves anyway, as in a handover);
    `stop_at_gap` ends the search once the plan is proven within that relative gap (the
    policy's `stop_at_gap` otherwise). A re-solve that gains less than the policy's
    `min_relative_gain` over the plan in force keeps the plan in force (engine/stability.py)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, policy=policy)
    elif policy is not None:
        scenario = scenario.replace(policy=policy if isinstance(policy, Policy) else load_policy(policy))
    if plan is not None:
        scenario = with_plan_in_force(scenario, plan)
    if stop_at_gap is not None:
        scenario = scenario.replace(policy=scenario.policy.model_copy(update={"stop_at_gap": stop_at_gap}))
    settings = scenario.config.settings
    data = build_problem(scenario)
    hint = None
    if max_moves is not None:  # from the plan in force, which moves only what no longer fits
        data = data.replace(move_budget=max_moves)
        hint = in_force_completed(data, scenario.policy)[:2]
    result = solve_problem(
        data,
        scenario.policy,
        time_limit=time_limit or settings.time_limit or DEFAULT_TIME_LIMIT,
        workers=workers or settings.workers,
        seed=seed if seed is not None else (settings.seed or 0),
        progress=progress,
        hint=hint,
        **params,
    )
    result = keep_plan_in_force(data, scenario.policy, result)
    return build_plan(scenario, data, result)
