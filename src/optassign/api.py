"""The Python API in domain words: load a scenario, solve it into a `Plan`. The CLI and the
notebooks call these functions and nothing deeper."""

from __future__ import annotations

from pathlib import Path

from optassign.contract.schema import Policy
from optassign.engine.problem import build_problem
from optassign.engine.solve import ProgressFn, solve_problem
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
    **params,
) -> Plan:
    """Assign a scenario's tasks (and customers) to its agents; returns the plan.

    Settings not given fall back to the scenario's `settings:` in scenario.yaml, then to
    defaults (30 s, all cores up to 8, seed 0)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, policy=policy)
    elif policy is not None:
        scenario = scenario.replace(policy=policy if isinstance(policy, Policy) else load_policy(policy))
    settings = scenario.config.settings
    data = build_problem(scenario)
    result = solve_problem(
        data,
        scenario.policy,
        time_limit=time_limit or settings.time_limit or DEFAULT_TIME_LIMIT,
        workers=workers or settings.workers,
        seed=seed if seed is not None else (settings.seed or 0),
        progress=progress,
        **params,
    )
    return build_plan(scenario, data, result)
