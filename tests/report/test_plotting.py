"""Each chart of plotting.py on the tiny scenario: it draws on the given Axes (or makes one),
returns it, and draws the bars the data asks for, counted by hand."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from optassign.api import solve  # noqa: E402
from optassign.plan.folder import read_plan
from optassign.report import plotting  # noqa: E402
from optassign.scenario.scenario import load_scenario  # noqa: E402
from tests.conftest import make_scenario  # noqa: E402


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return load_scenario(make_scenario(tmp_path_factory.mktemp("plot") / "tiny"))


@pytest.fixture(scope="module")
def plan(scenario):
    return solve(scenario, time_limit=2, workers=1, seed=0)


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def heights(ax: Axes) -> list[float]:
    return [p.get_height() for p in ax.patches]


def test_agent_load_before_and_after(plan, ax):
    # 4 agents; the tiny scenario has a plan in force (T1, T3, T8 assigned_to) -> before + after bars
    assert plotting.plot_agent_load(plan, ax=ax) is ax
    assert len(ax.patches) == 2 * 4
    labels = [t.get_text() for t in ax.get_yticklabels()]
    expected = plan.agent_load.sort_values(["hours", "agent_id"], ascending=[False, True])["agent_id"]
    assert labels == list(expected)  # most loaded first
    after = sorted(p.get_width() for p in ax.patches[4:])
    assert after == pytest.approx(sorted(plan.agent_load["hours"]))


def test_agent_load_before_hours_by_hand(plan, scenario):
    # before = effort by assigned_to + ownership_hours by owner_id:
    # A1: T1 3 + C1 2 = 5; A2: T8 5; A3: T3 4 + C2 1 = 5; A4: 0
    before = plotting.before_hours(plan, scenario)
    assert before.to_dict() == pytest.approx({"A1": 5.0, "A2": 5.0, "A3": 5.0, "A4": 0.0})


def test_agent_load_without_plan_in_force(plan):
    ax = plotting.plot_agent_load(plan, before=False)  # makes its own figure
    assert isinstance(ax, Axes)
    assert len(ax.patches) == 4
    plt.close(ax.figure)


def test_utilisation_histogram(plan, ax):
    assert plotting.plot_utilisation(plan, ax=ax) is ax
    assert len(ax.patches) == 10  # ten 10% bins
    assert sum(heights(ax)) == 4  # every agent is active with capacity


def test_assigned_by_priority(plan, ax):
    assert plotting.plot_assigned_by_priority(plan, ax=ax) is ax
    assert len(ax.patches) == 2 * 5  # assigned + unassigned for P5..P1
    # tasks per priority: P5 T1; P4 T3, T8; P3 T2, T6; P2 T4, T7; P1 T5
    done, open_ = heights(ax)[:5], heights(ax)[5:]
    assert [d + o for d, o in zip(done, open_, strict=True)] == [1, 2, 2, 2, 1]
    assert sum(done) == plan.summary["assigned"]


def test_assigned_by_priority_in_hours(plan, ax):
    plotting.plot_assigned_by_priority(plan, measure="hours", ax=ax)
    assert sum(heights(ax)) == pytest.approx(3 + 2 + 4 + 1.5 + 2 + 2 + 1 + 5)


def test_assigned_by_region(plan, ax):
    assert plotting.plot_assigned_by_region(plan, ax=ax) is ax
    # regions: N (T1, T2, T5, T7, T8 via customers C1, C3) and S (T3, T4 via C2; T6 its own)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["N", "S"]
    assert len(ax.patches) == 2 * 2
    done, open_ = heights(ax)[:2], heights(ax)[2:]
    assert [d + o for d, o in zip(done, open_, strict=True)] == [5, 3]


def test_assigned_by_region_needs_the_scenario(plan, scenario, tmp_path, ax):
    folder = plan.write(tmp_path / "plan")
    with pytest.raises(ValueError, match="needs the scenario"):
        plotting.plot_assigned_by_region(read_plan(folder), ax=ax)
    plotting.plot_assigned_by_region(folder, scenario=scenario, ax=ax)  # a folder plus its scenario
    assert len(ax.patches) == 4


def test_skill_coverage_by_hand(scenario):
    cov = plotting.skill_coverage(scenario).set_index("skill")
    # demand: billing T1 3 + T5 2 + T8 5 = 10; sales T2 2 + T6 2 = 4; support T3 4 + T4 1.5 = 5.5
    assert cov["demand_hours"].to_dict() == pytest.approx({"billing": 10, "sales": 4, "support": 5.5})
    # lowest level asked is 1 for each; holders: billing A1 20 + A2 16 + A4 12 = 48,
    # sales A1 20 + A3 24 + A4 12 = 56, support A2 16 + A3 24 + A4 12 = 52
    assert cov["capacity_hours"].to_dict() == pytest.approx({"billing": 48, "sales": 56, "support": 52})
    assert list(cov.index) == ["billing", "support", "sales"]  # tightest (capacity / demand) first


def test_skill_coverage_counts_only_active_agents_at_the_level(scenario):
    agents = scenario.agents.copy()
    agents.loc[agents["agent_id"].eq("A2"), "active"] = False
    tasks = scenario.tasks.copy()
    tasks.loc[tasks["task_id"].eq("T5"), "required_skills"] = "billing:2"  # now every billing task >= 2
    cov = plotting.skill_coverage(scenario.replace(agents=agents, tasks=tasks)).set_index("skill")
    assert cov.loc["billing", "capacity_hours"] == 20 + 12  # A1 (3), A4 (2); A2 off and level 1
    assert cov.loc["billing", "min_level"] == 2


def test_plot_skill_coverage(scenario, plan, ax):
    assert plotting.plot_skill_coverage(scenario, ax=ax) is ax
    assert len(ax.patches) == 2 * 3  # demand + capacity for billing, sales, support
    fig2, ax2 = plt.subplots()
    plotting.plot_skill_coverage(plan, ax=ax2)  # a plan's own scenario
    assert len(ax2.patches) == 6
    plt.close(fig2)


def test_handover_from_handover_csv(plan, ax):
    table = pd.DataFrame(
        {
            "kind": ["task", "task", "task", "customer"],
            "id": ["T1", "T2", "T3", "C1"],
            "from_agent_id": ["A1", "A1", "A3", "A1"],
            "to_agent_id": ["A2", "A2", "", "A4"],
        }
    )
    with_handover = dataclasses.replace(plan, extra_tables={"handover.csv": table})
    assert plotting.plot_handover(with_handover, ax=ax) is ax
    # receivers A2, A4, (unplaced) x givers A1, A3 -> 6 bar segments, 4 items in all
    assert len(ax.patches) == 3 * 2
    assert sum(p.get_width() for p in ax.patches) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A2", "(unplaced)", "A4"]
    assert ax.get_title(loc="left").startswith("Handover")


def test_handover_derived_from_the_plan_in_force(plan, ax):
    moves, real = plotting.handover_table(plan)
    assert not real
    plotting.plot_handover(plan, ax=ax)
    assert sum(p.get_width() for p in ax.patches) == len(moves)


def test_handover_without_moves(plan, ax):
    a = plan.assignments.assign(previous_agent_id="", changed=False)
    owners = plan.owners.assign(previous_owner_id="", changed=False)
    quiet = dataclasses.replace(plan, assignments=a, owners=owners)
    plotting.plot_handover(quiet, ax=ax)
    assert len(ax.patches) == 0
    assert any("no moves" in t.get_text() for t in ax.texts)
