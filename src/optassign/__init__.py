"""optassign: optimisation-based assignment of tasks and customers to staff, on OR-Tools CP-SAT.

scenario = optassign.load_scenario("scenarios/demo")
plan = optassign.solve(scenario, time_limit=10)
plan.assignments.head()
"""

from .api import solve
from .plan import Plan
from .policy import load_policy, policy_names
from .problem import ProblemData, build_problem
from .result import Result, SolveStatus
from .scenario import Scenario, load_scenario, scenario_from_frames
from .schema import Policy, ScenarioError
from .solve import solve_problem

__all__ = [
    "Plan",
    "Policy",
    "ProblemData",
    "Result",
    "Scenario",
    "ScenarioError",
    "SolveStatus",
    "build_problem",
    "load_policy",
    "load_scenario",
    "policy_names",
    "scenario_from_frames",
    "solve",
    "solve_problem",
]
