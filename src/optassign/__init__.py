"""optassign: optimisation-based assignment of tasks and customers to staff, on OR-Tools CP-SAT.

scenario = optassign.load_scenario("scenarios/demo")
plan = optassign.solve(scenario, time_limit=10)
plan.assignments.head()
"""

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
