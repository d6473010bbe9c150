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
    "Comparison": ("analysis.compare", "Comparison"),
    "compare": ("analysis.compare", "compare"),
    "diff_plans": ("analysis.compare", "diff_plans"),
    "plan_kpis": ("plan.kpis", "plan_kpis"),
    "read_plan": ("plan.folder", "read_plan"),
    "ParamError": ("engine.params", "ParamError"),
    "TaskExplanation": ("analysis.explain", "TaskExplanation"),
    "explain": ("analysis.explain", "explain_tasks"),
    "export_plan": ("plan.export", "export_plan"),
    "handover": ("handover.replan", "handover"),
    "preview": ("handover.replan", "preview"),
    "Plan": ("plan.plan", "Plan"),
    "load_policy": ("scenario.policy", "load_policy"),
    "policy_names": ("scenario.policy", "policy_names"),
    "ProblemData": ("engine.problem", "ProblemData"),
    "build_problem": ("engine.problem", "build_problem"),
    "Result": ("engine.result", "Result"),
    "SolveStatus": ("engine.result", "SolveStatus"),
    "Scenario": ("scenario.scenario", "Scenario"),
    "load_scenario": ("scenario.scenario", "load_scenario"),
    "scenario_from_frames": ("scenario.scenario", "scenario_from_frames"),
    "Policy": ("contract.schema", "Policy"),
    "ScenarioError": ("contract.schema", "ScenarioError"),
    "solve_problem": ("engine.solve", "solve_problem"),
    "Executor": ("analysis.sweep", "Executor"),
    "LocalProcessExecutor": ("analysis.sweep", "LocalProcessExecutor"),
    "SerialExecutor": ("analysis.sweep", "SerialExecutor"),
    "SweepResult": ("analysis.sweep", "SweepResult"),
    "sweep": ("analysis.sweep", "sweep"),
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


# `handover` is both a public function and the wing that defines it. The import system binds
# every subpackage as an attribute of this package when it is first imported; here the
# function keeps the name.
_SHADOWED = frozenset({"handover"})


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
    from optassign.analysis.compare import Comparison, compare, diff_plans
    from optassign.analysis.explain import TaskExplanation
    from optassign.analysis.explain import explain_tasks as explain
    from optassign.analysis.sweep import Executor, LocalProcessExecutor, SerialExecutor, SweepResult, sweep
    from optassign.api import solve
    from optassign.contract.schema import Policy, ScenarioError
    from optassign.engine.params import ParamError
    from optassign.engine.problem import ProblemData, build_problem
    from optassign.engine.result import Result, SolveStatus
    from optassign.engine.solve import solve_problem
    from optassign.handover.replan import handover, preview
    from optassign.plan.export import export_plan
    from optassign.plan.folder import read_plan
    from optassign.plan.kpis import plan_kpis
    from optassign.plan.plan import Plan
    from optassign.scenario.policy import load_policy, policy_names
    from optassign.scenario.scenario import Scenario, load_scenario, scenario_from_frames
