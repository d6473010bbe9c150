"""optassign: optimisation-based assignment of tasks and customers to staff, on OR-Tools CP-SAT.

scenario = optassign.load_scenario("scenarios/demo")
plan = optassign.solve(scenario, time_limit=10)
plan.assignments.head()

Names are loaded on first use (PEP 562), so that `import optassign` is cheap and the command
line can install its signal handlers before pandas and OR-Tools are imported."""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

# public name -> (module, attribute)
_NAMES = {
    "solve": ("api", "solve"),
    "Comparison": ("compare", "Comparison"),
    "compare": ("compare", "compare"),
    "diff_plans": ("compare", "diff_plans"),
    "plan_kpis": ("compare", "plan_kpis"),
    "read_plan": ("compare", "read_plan"),
    "ParamError": ("cpsat_params", "ParamError"),
    "TaskExplanation": ("explain", "TaskExplanation"),
    "explain": ("explain", "explain_tasks"),
    "export_plan": ("export", "export_plan"),
    "handover": ("handover", "handover"),
    "preview": ("handover", "preview"),
    "Plan": ("plan", "Plan"),
    "load_policy": ("policy", "load_policy"),
    "policy_names": ("policy", "policy_names"),
    "ProblemData": ("problem", "ProblemData"),
    "build_problem": ("problem", "build_problem"),
    "Result": ("result", "Result"),
    "SolveStatus": ("result", "SolveStatus"),
    "Scenario": ("scenario", "Scenario"),
    "load_scenario": ("scenario", "load_scenario"),
    "scenario_from_frames": ("scenario", "scenario_from_frames"),
    "Policy": ("schema", "Policy"),
    "ScenarioError": ("schema", "ScenarioError"),
    "solve_problem": ("solve", "solve_problem"),
    "Executor": ("sweep", "Executor"),
    "LocalProcessExecutor": ("sweep", "LocalProcessExecutor"),
    "SerialExecutor": ("sweep", "SerialExecutor"),
    "SweepResult": ("sweep", "SweepResult"),
    "sweep": ("sweep", "sweep"),
}

__all__ = [
    "Comparison",
    "Executor",
    "LocalProcessExecutor",
    "ParamError",
    "Plan",
    "Policy",
    "ProblemData",
    "Result",
    "Scenario",
    "ScenarioError",
    "SerialExecutor",
    "SolveStatus",
    "SweepResult",
    "TaskExplanation",
    "build_problem",
    "compare",
    "diff_plans",
    "explain",
    "export_plan",
    "handover",
    "load_policy",
    "load_scenario",
    "plan_kpis",
    "policy_names",
    "preview",
    "read_plan",
    "scenario_from_frames",
    "solve",
    "solve_problem",
    "sweep",
]


# Five public functions share their name with the module that defines them. The import system
# binds every submodule as an attribute of this package when it is first imported; here the
# function keeps the name, as it did when this package imported everything eagerly.
_SHADOWED = frozenset({"solve", "compare", "explain", "handover", "sweep"})


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    try:
        module, attr = _NAMES[name]
    except KeyError:
        raise AttributeError(f"module 'optassign' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))


if TYPE_CHECKING:
    from .api import solve
    from .compare import Comparison, compare, diff_plans, plan_kpis, read_plan
    from .cpsat_params import ParamError
    from .explain import TaskExplanation
    from .explain import explain_tasks as explain
    from .export import export_plan
    from .handover import handover, preview
    from .plan import Plan
    from .policy import load_policy, policy_names
    from .problem import ProblemData, build_problem
    from .result import Result, SolveStatus
    from .scenario import Scenario, load_scenario, scenario_from_frames
    from .schema import Policy, ScenarioError
    from .solve import solve_problem
    from .sweep import Executor, LocalProcessExecutor, SerialExecutor, SweepResult, sweep
