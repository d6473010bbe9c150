"""Writes the example notebooks of this folder (run: python notebooks/build.py).

The notebooks are kept without outputs and with fixed cell ids, so rebuilding gives the same
bytes; tests/test_notebooks.py runs each one top to bottom. Edit the cells here, not the .ipynb."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import optassign

# The repository's scenarios/ folder, from wherever the notebook runs.
ROOT = next(
    (p for p in [Path.cwd(), *Path.cwd().parents] if (p / "scenarios" / "demo").is_dir()),
    Path(optassign.__file__).resolve().parents[2],
)
OUT = Path(tempfile.mkdtemp(prefix="optassign-"))  # everything written goes here, not into the repo
SOLVE = dict(time_limit=1.0, workers=2, seed=0)  # short runs: an example, not a benchmark
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 12)"""


def nightly_batch() -> list:
    return [
        new_markdown_cell(
            "# Nightly batch\n\n"
            "Load a scenario, solve it into a plan, look at the plan's tables and charts, and "
            "export the plan folder. This is what `optassign solve scenarios/demo` does, step by step."
        ),
        new_code_cell(SETUP),
        new_markdown_cell("## The scenario\n\nAgents, tasks and customers as validated DataFrames."),
        new_code_cell(
            "from optassign.scenario.scenario import load_scenario\n\n"
            'scenario = load_scenario(ROOT / "scenarios" / "demo")\n'
            'print(scenario.name, "-", scenario.description)\n'
            'print(f"{len(scenario.agents)} agents, {len(scenario.tasks)} tasks,",\n'
            '      f"policy {scenario.policy.name}")\n'
            "scenario.agents.head()"
        ),
        new_markdown_cell(
            "## Solve\n\n`solve` returns a `Plan`: the contract's tables as DataFrames plus a summary."
        ),
        new_code_cell(
            "from optassign.api import solve\n\n"
            "plan = solve(scenario, **SOLVE)\n"
            "keys = ['status', 'gap', 'tasks', 'assigned', 'priority_weighted_coverage', 'moves', "
            "'utilization_mean', 'solve_seconds']\n"
            "pd.Series({k: plan.summary[k] for k in keys})"
        ),
        new_code_cell("plan.assignments.head(10)"),
        new_markdown_cell("Unassigned tasks, most urgent first, with the reason each was left open."),
        new_code_cell(
            "plan.unassigned.sort_values(['priority', 'task_id'], ascending=[False, True])"
            "[['task_id', 'priority', 'effort_hours', 'due_date', 'reason']].head(10)"
        ),
        new_code_cell("plan.agent_load.sort_values('utilization', ascending=False).head(10)"),
        new_markdown_cell(
            "## Charts\n\nEach chart function takes the plan and an optional matplotlib `Axes`."
        ),
        new_code_cell(
            "from optassign.report import plotting\n\n"
            "fig, axes = plt.subplots(2, 2, figsize=(13, 10), layout='constrained')\n"
            "plotting.plot_agent_load(plan, ax=axes[0, 0])\n"
            "plotting.plot_utilisation(plan, ax=axes[0, 1])\n"
            "plotting.plot_assigned_by_priority(plan, ax=axes[1, 0])\n"
            "plotting.plot_assigned_by_region(plan, ax=axes[1, 1])\n"
            "plt.show()"
        ),
        new_code_cell(
            "fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), layout='constrained')\n"
            "plotting.plot_skill_coverage(scenario, ax=axes[0])\n"
            "plotting.plot_handover(plan, ax=axes[1])  # moves against the plan in force\n"
            "plt.show()"
        ),
        new_markdown_cell(
            "## Export\n\nThe plan folder (CSV and summary.json, per the data contract) and an "
            "HTML report, into a temporary folder."
        ),
        new_code_cell(
            "from optassign.report.html import write_report\n\n"
            'folder = plan.write(OUT / "plan")\n'
            'report = write_report(plan, OUT / "report.html")\n'
            "sorted(p.name for p in folder.iterdir()), report.stat().st_size"
        ),
        new_code_cell("pd.read_csv(folder / 'assignments.csv', keep_default_na=False).head()"),
        new_markdown_cell(
            "## The day after\n\nWhat is due, overdue or at risk per agent under this plan, seen "
            "from a fixed day (see `optassign status`)."
        ),
        new_code_cell(
            "from optassign.analysis.monitor import status\n\n"
            'day = status(scenario, plan, today="2026-12-03", horizon_days=3)\n'
            "day.agents.head(8)"
        ),
    ]


def compare_scenarios() -> list:
    return [
        new_markdown_cell(
            "# Compare policies and staffing levels\n\n"
            "Solve the demo scenario under the three bundled policies and at 90%, 100% and 110% of "
            "its capacity, then put the plans side by side."
        ),
        new_code_cell(SETUP),
        new_code_cell(
            "from optassign.api import solve\n"
            "from optassign.scenario.scenario import load_scenario\n\n"
            'scenario = load_scenario(ROOT / "scenarios" / "demo")\n'
            "plans = {}\n"
            "for policy in ['balanced', 'sla_first', 'continuity']:\n"
            "    plans[policy] = solve(scenario, policy=policy, **SOLVE)\n"
            "{name: p.summary['status'] for name, p in plans.items()}"
        ),
        new_markdown_cell(
            "Staffing levels: every agent's `capacity_hours` scaled, with the scenario's own policy. "
            "A changed scenario is `Scenario.replace` with a changed agents frame."
        ),
        new_code_cell(
            "for factor in [0.9, 1.0, 1.1]:\n"
            "    agents = scenario.agents.assign(capacity_hours=scenario.agents['capacity_hours'] * factor)\n"
            "    plans[f'capacity x{factor}'] = solve(scenario.replace(agents=agents), **SOLVE)\n"
            "list(plans)"
        ),
        new_markdown_cell(
            "## KPIs side by side\n\n`optassign.compare` when present, else the plans' summaries."
        ),
        new_code_cell(
            "try:\n"
            "    from optassign.analysis.compare import compare\n"
            "except ImportError:\n"
            "    compare = None\n\n"
            "if compare is not None:\n"
            "    kpis = compare(list(plans.values()), names=list(plans)).kpis\n"
            "else:\n"
            "    keys = ['status', 'assigned', 'unassigned', 'priority_weighted_coverage',\n"
            "            'unassigned_hours', 'moves', 'utilization_mean', 'utilization_max']\n"
            "    kpis = pd.DataFrame({n: {k: p.summary.get(k) for k in keys} for n, p in plans.items()})\n"
            "kpis"
        ),
        new_code_cell(
            "names = list(plans)\n"
            "coverage = [p.summary['priority_weighted_coverage'] for p in plans.values()]\n"
            "moves = [p.summary['moves'] for p in plans.values()]\n"
            "fig, axes = plt.subplots(1, 2, figsize=(13, 4), layout='constrained')\n"
            "axes[0].barh(names, coverage, color='#2f6db5')\n"
            "axes[0].set_xlim(min(coverage) - 0.05, 1)\n"
            "axes[0].set_title('Priority-weighted coverage', loc='left', fontweight='bold')\n"
            "axes[0].invert_yaxis()\n"
            "axes[1].barh(names, moves, color='#e8793a')\n"
            "axes[1].set_title('Moves against the plan in force', loc='left', fontweight='bold')\n"
            "axes[1].invert_yaxis()\n"
            "plt.show()"
        ),
        new_markdown_cell("## Per plan: what is left open, by priority"),
        new_code_cell(
            "from optassign.report import plotting\n\n"
            "fig, axes = plt.subplots(2, 3, figsize=(15, 8), layout='constrained')\n"
            "for ax, (name, p) in zip(axes.flat, plans.items()):\n"
            "    plotting.plot_assigned_by_priority(p, ax=ax)\n"
            "    ax.set_title(name, loc='left', fontweight='bold')\n"
            "plt.show()"
        ),
        new_code_cell(
            "fig, axes = plt.subplots(2, 3, figsize=(15, 7), layout='constrained', sharey=True)\n"
            "for ax, (name, p) in zip(axes.flat, plans.items()):\n"
            "    plotting.plot_utilisation(p, ax=ax)\n"
            "    ax.set_title(name, loc='left', fontweight='bold')\n"
            "plt.show()"
        ),
        new_markdown_cell(
            "## One report for all of them\n\nA self-contained HTML file (as `optassign report "
            "PLAN_DIR ...`), written to a temporary folder."
        ),
        new_code_cell(
            "from optassign.report.html import write_report\n\n"
            'report = write_report(list(plans.values()), OUT / "compare.html", names=list(plans))\n'
            "report, report.stat().st_size"
        ),
    ]


def staffing_change() -> list:
    return [
        new_markdown_cell(
            "# Preview a staffing change\n\n"
            "What happens to the plan in force when the busiest agent leaves, and when a new agent "
            "is hired? `optassign.handover.preview` re-plans from the plan in force with few moves; "
            "where it is not available this notebook solves the changed scenario instead."
        ),
        new_code_cell(SETUP),
        new_code_cell(
            "from optassign.api import solve\n"
            "from optassign.scenario.scenario import load_scenario\n"
            "from optassign.contract.schema import Hire, Leave\n\n"
            "try:\n"
            "    from optassign.handover.replan import preview\n"
            "except ImportError:\n"
            "    preview = None\n\n"
            'scenario = load_scenario(ROOT / "scenarios" / "demo")\n'
            "in_force = scenario.tasks[scenario.tasks['assigned_to'].ne('')]\n"
            "load = in_force.groupby('assigned_to')['effort_hours'].sum().sort_values(ascending=False)\n"
            "leaver = load.index[0]\n"
            "print(f'{leaver} holds {load.iloc[0]:g} h in {(in_force.assigned_to == leaver).sum()} tasks')\n"
            "new_agent = {'agent_id': 'N0001', 'name': 'New Hire', 'team': 'T01', 'role': 'field',\n"
            "             'regions': 'R01;R02;R03', 'skills': 'network:3;software:3;billing:2',\n"
            "             'capacity_hours': 38, 'cost_per_hour': 45, 'active': True}"
        ),
        new_markdown_cell("The fallback when `preview` is missing: change the agents frame and solve again."),
        new_code_cell(
            "def changed_agents(agents, leave=None, hire=None):\n"
            "    agents = agents.copy()\n"
            "    if leave is not None:\n"
            "        agents.loc[agents['agent_id'].eq(leave), 'active'] = False\n"
            "    if hire is not None:\n"
            "        row = {c: ('' if agents[c].dtype == object else float('nan')) for c in agents.columns}\n"
            "        row.update(hire)\n"
            "        agents = pd.concat([agents, pd.DataFrame([row])], ignore_index=True)\n"
            "        agents = agents.astype(scenario.agents.dtypes.to_dict())\n"
            "    return agents\n\n\n"
            "def run(events, leave=None, hire=None):\n"
            "    if preview is not None:\n"
            "        return preview(scenario, events, **SOLVE).plan\n"
            "    agents = changed_agents(scenario.agents, leave, hire)\n"
            "    return solve(scenario.replace(agents=agents), **SOLVE)\n\n\n"
            "departure = run([Leave(leave=leaver)], leave=leaver)\n"
            "hire = run([Hire(hire=new_agent)], hire=new_agent)\n"
            "print('preview' if preview is not None else 'fallback: solved the changed scenario')"
        ),
        new_markdown_cell("## Side by side"),
        new_code_cell(
            "keys = ['status', 'assigned', 'unassigned', 'priority_weighted_coverage', 'unassigned_hours',\n"
            "        'moves', 'utilization_mean', 'utilization_max']\n"
            "pd.DataFrame({f'{leaver} leaves': {k: departure.summary.get(k) for k in keys},\n"
            "              'N0001 hired': {k: hire.summary.get(k) for k in keys}})"
        ),
        new_markdown_cell(
            "## The departure\n\nWho receives the leaver's work (handover.csv when the preview wrote "
            "one, else the moves against the plan in force), and the load before and after."
        ),
        new_code_cell(
            "from optassign.report import plotting\n\n"
            "moves, from_handover = plotting.handover_table(departure)\n"
            "print(f'{len(moves)} items move', '(handover.csv)' if from_handover else '(derived)')\n"
            "moves.head(10)"
        ),
        new_code_cell(
            "fig, axes = plt.subplots(1, 2, figsize=(14, 7), layout='constrained')\n"
            "plotting.plot_handover(departure, ax=axes[0])\n"
            "plotting.plot_agent_load(departure, ax=axes[1])\n"
            "plt.show()"
        ),
        new_markdown_cell("## The hire\n\nHow much the new agent takes, and from whom."),
        new_code_cell("hire.agent_load[hire.agent_load['agent_id'].eq('N0001')]"),
        new_code_cell(
            "fig, axes = plt.subplots(1, 2, figsize=(14, 7), layout='constrained')\n"
            "plotting.plot_handover(hire, ax=axes[0])\n"
            "plotting.plot_assigned_by_priority(hire, ax=axes[1])\n"
            "plt.show()"
        ),
        new_code_cell(
            "from optassign.report.html import write_report\n\n"
            "report = write_report([departure, hire], OUT / 'staffing.html',\n"
            "                      names=[f'{leaver} leaves', 'N0001 hired'])\n"
            "report.stat().st_size"
        ),
    ]


NOTEBOOKS = {
    "01_nightly_batch.ipynb": nightly_batch,
    "02_compare_scenarios.ipynb": compare_scenarios,
    "03_staffing_change.ipynb": staffing_change,
}


def build(folder: Path = HERE) -> list[Path]:
    written = []
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells())
        stem = name.split("_", 1)[0]
        for i, cell in enumerate(nb.cells):
            cell.id = f"nb{stem}-{i:02d}"  # fixed ids: same notebook, same bytes
        nb.metadata = {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
        path = folder / name
        nbformat.validate(nb)
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build():
        print(p)
