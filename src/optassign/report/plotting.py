"""Charts of a plan (and of its scenario) with matplotlib, one function per chart, at the end of
the flow: each draws on a given `Axes` (or makes one) and returns it, so notebooks and the HTML
report compose them freely (PyVRP's plotting/ habit).

Every function takes a plan as a `Plan` (solved, or a folder read back by `compare.read_plan`)
or the path of a plan folder. Colours are shared (`COLORS`): blue is assigned / this plan / capacity
available, orange is unassigned / demand, grey-blue is the plan in force ("before")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator, PercentFormatter

from optassign.plan.folder import read_plan
from optassign.scenario.scenario import load_scenario

__all__ = [
    "COLORS",
    "agent_days",
    "plot_agent_load",
    "plot_assigned_by_priority",
    "plot_assigned_by_region",
    "plot_day_load",
    "plot_handover",
    "plot_late_by_priority",
    "plot_skill_coverage",
    "plot_utilisation",
]

COLORS = {
    "assigned": "#2f6db5",
    "unassigned": "#e8793a",
    "before": "#a9b8cc",
    "capacity": "#222222",
    "demand": "#e8793a",
    "supply": "#2f6db5",
    "mean": "#b03a2e",
    "text": "#333333",
}
# Givers in the handover chart, in order of how much they hand over; the rest is "other".
GIVER_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]
OTHER_COLOR = "#bab0ac"
PRIORITY_NAMES = {5: "P5\ncritical", 4: "P4\nhigh", 3: "P3\nmedium", 2: "P2\nlow", 1: "P1\nminimal"}


# --------------------------------------------------------------------------- inputs
def _tables(plan: Any) -> Any:
    """A `Plan` as is; a path read as a plan folder."""
    if isinstance(plan, str | Path):
        return read_plan(plan)
    return plan


def _scenario(plan: Any, scenario: Any = None) -> Any:
    """The scenario behind a chart: the one given (object or folder), else the plan's own."""
    if scenario is None:
        scenario = getattr(plan, "scenario", None) if plan is not None else None
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    return scenario


def _assignments(plan: Any) -> pd.DataFrame:
    a = plan.assignments.copy()
    for col in ("agent_id", "previous_agent_id"):
        if col not in a:
            a[col] = ""
        a[col] = a[col].fillna("").astype(str)
    a["priority"] = pd.to_numeric(a["priority"]).astype(int)
    a["effort_hours"] = pd.to_numeric(a["effort_hours"]).astype(float)
    return a


def handover_table(plan: Any) -> tuple[pd.DataFrame, bool]:
    """The moves of a plan as handover rows (kind, id, from_agent_id, to_agent_id, ...) and
    whether they come from a real handover.csv (True) or are derived from assignments and owners
    against the plan in force (False)."""
    plan = _tables(plan)
    table = getattr(plan, "extra_tables", {}).get("handover.csv")
    if table is not None:
        t = table.copy()
        for col in ("from_agent_id", "to_agent_id"):
            t[col] = t[col].fillna("").astype(str)
        return t, True
    a = _assignments(plan)
    moved = a[a["previous_agent_id"].ne("") & a["agent_id"].ne(a["previous_agent_id"])]
    rows = [
        pd.DataFrame(
            {
                "kind": "task",
                "id": moved["task_id"].astype(str),
                "from_agent_id": moved["previous_agent_id"],
                "to_agent_id": moved["agent_id"],
                "effort_hours": moved["effort_hours"],
            }
        )
    ]
    owners = getattr(plan, "owners", None)
    if owners is not None and len(owners):
        o = owners.fillna("").astype({"owner_id": str, "previous_owner_id": str})
        o = o[o["previous_owner_id"].ne("") & o["owner_id"].ne(o["previous_owner_id"])]
        rows.append(
            pd.DataFrame(
                {
                    "kind": "customer",
                    "id": o["customer_id"].astype(str),
                    "from_agent_id": o["previous_owner_id"],
                    "to_agent_id": o["owner_id"],
                    "effort_hours": 0.0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True), False


def _new_ax(ax: Axes | None, width: float = 7.0, height: float = 4.0) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def _style(ax: Axes, title: str, xlabel: str = "", ylabel: str = "", pad: float = 6.0) -> None:
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold", color=COLORS["text"], pad=pad)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _legend_above(ax: Axes, ncols: int = 3) -> None:
    """Legend in a row between the title and the plot, where it never hides a bar."""
    ax.legend(
        loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=ncols, fontsize=8, frameon=False, borderaxespad=0.2
    )


def _empty(ax: Axes, title: str, message: str) -> Axes:
    _style(ax, title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#777777")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


# --------------------------------------------------------------------------- load
def before_hours(plan: Any, scenario: Any = None) -> pd.Series | None:
    """Hours per agent under the plan in force (`previous_agent_id`, `previous_owner_id`), or None
    when the plan has no plan in force. Task hours are `effort_hours`; ownership hours come from
    the scenario's customers when known, else the agent's current ownership hours are assumed
    unchanged."""
    a = _assignments(plan)
    owners = getattr(plan, "owners", None)
    has_prev_owner = (
        owners is not None and owners.get("previous_owner_id", pd.Series()).fillna("").ne("").any()
    )
    if not a["previous_agent_id"].ne("").any() and not has_prev_owner:
        return None
    load = plan.agent_load
    hours = a[a["previous_agent_id"].ne("")].groupby("previous_agent_id")["effort_hours"].sum()
    hours = hours.reindex(load["agent_id"].astype(str), fill_value=0.0)
    scenario = _scenario(plan, scenario)
    customers = getattr(scenario, "customers", None)
    if owners is not None and customers is not None and "ownership_hours" in customers:
        per_customer = customers.set_index("customer_id")["ownership_hours"].fillna(0.0)
        prev = owners.assign(hours=owners["customer_id"].map(per_customer).fillna(0.0).to_numpy())
        prev = prev[prev["previous_owner_id"].fillna("").ne("")]
        own = prev.groupby("previous_owner_id")["hours"].sum()
        hours = hours + own.reindex(hours.index, fill_value=0.0)
    elif "ownership_hours" in load:
        hours = hours + pd.to_numeric(load["ownership_hours"]).to_numpy()
    return hours.astype(float)


def plot_agent_load(plan: Any, *, scenario: Any = None, before: bool = True, ax: Axes | None = None) -> Axes:
    """Horizontal bars of each agent's hours, sorted from the most to the least loaded, with a
    black tick at the agent's capacity. With a plan in force (and `before`), a grey bar above
    each blue one shows the agent's hours before the plan. Inactive agents are marked "(off)"."""
    plan = _tables(plan)
    load = plan.agent_load.copy()
    load["agent_id"] = load["agent_id"].astype(str)
    load["hours"] = pd.to_numeric(load["hours"]).astype(float)
    load["capacity_hours"] = pd.to_numeric(load["capacity_hours"]).astype(float)
    prev = before_hours(plan, scenario) if before else None
    if prev is not None:
        load["before"] = prev.to_numpy()
    load = load.sort_values(["hours", "agent_id"], ascending=[False, True], kind="stable")
    n = len(load)
    ax = _new_ax(ax, 7.0, max(3.0, 0.28 * n + 1.2))
    title = "Load per agent against capacity"
    if n == 0:
        return _empty(ax, title, "no agents")
    y = np.arange(n)
    active = load["active"].astype(str).str.lower().isin(["true", "1"]) if "active" in load else None
    labels = load["agent_id"].to_numpy(dtype=object)
    if active is not None:
        labels = np.where(active.to_numpy(), labels, labels + " (off)")
    if prev is not None:
        ax.barh(y - 0.2, load["before"], height=0.4, color=COLORS["before"], label="before (plan in force)")
        ax.barh(y + 0.2, load["hours"], height=0.4, color=COLORS["assigned"], label="after (this plan)")
    else:
        ax.barh(y, load["hours"], height=0.7, color=COLORS["assigned"], label="hours assigned")
    cap = (
        load["capacity_hours"].where(active.to_numpy(), np.nan)
        if active is not None
        else load["capacity_hours"]
    )
    ax.vlines(cap, y - 0.45, y + 0.45, colors=COLORS["capacity"], linewidth=2, label="capacity")
    ax.set_yticks(y, labels, fontsize=8 if n > 25 else 9)
    ax.set_ylim(n - 0.5, -0.5)  # most loaded on top
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    _legend_above(ax, 3)
    _style(ax, title, "hours", pad=22)
    return ax


def plot_utilisation(plan: Any, *, ax: Axes | None = None) -> Axes:
    """Histogram of agents' utilisation (hours / capacity) in ten 10% bins from 0 to 100%, with the
    mean as a red line; inactive agents and agents without capacity are left out."""
    plan = _tables(plan)
    load = plan.agent_load
    cap = pd.to_numeric(load["capacity_hours"]).astype(float)
    keep = cap > 0
    if "active" in load:
        keep &= load["active"].astype(str).str.lower().isin(["true", "1"])
    util = pd.to_numeric(load["utilization"]).astype(float)[keep].clip(0.0, 1.0)
    ax = _new_ax(ax, 6.0, 3.6)
    title = "Utilisation of agents"
    if not len(util):
        return _empty(ax, title, "no agent with capacity")
    ax.hist(util, bins=np.linspace(0.0, 1.0, 11), color=COLORS["assigned"], edgecolor="white")
    mean = float(util.mean())
    ax.axvline(mean, color=COLORS["mean"], linewidth=2, linestyle="--", label=f"mean {mean:.0%}")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.0, 1.0)
    ax.legend(loc="upper left", fontsize=8)
    _style(ax, title, "utilisation (hours / capacity)", "agents")
    return ax


def _stacked(
    ax: Axes,
    labels: list[str],
    done: np.ndarray,
    open_: np.ndarray,
    title: str,
    xlabel: str,
    unit: str,
    names: tuple[str, str] = ("assigned", "unassigned"),
) -> Axes:
    x = np.arange(len(labels))
    ax.bar(x, done, color=COLORS["assigned"], label=names[0], width=0.7)
    ax.bar(x, open_, bottom=done, color=COLORS["unassigned"], label=names[1], width=0.7)
    total = done + open_
    top = float(total.max()) if len(total) else 0.0
    for xi, d, t in zip(x, done, total, strict=True):
        if t > 0:
            ax.text(xi, t + 0.01 * top, f"{d / t:.0%}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, labels, fontsize=9)
    ax.set_ylim(0, top * 1.12 if top else 1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=unit == "tasks"))
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    _legend_above(ax, 2)
    _style(ax, title, xlabel, unit, pad=22)
    return ax


def _counts(a: pd.DataFrame, key: pd.Series, order: list, measure: str) -> tuple[np.ndarray, np.ndarray]:
    value = a["effort_hours"] if measure == "hours" else pd.Series(1.0, index=a.index)
    done = a["agent_id"].ne("")
    d = value[done].groupby(key[done]).sum().reindex(order, fill_value=0.0).to_numpy()
    o = value[~done].groupby(key[~done]).sum().reindex(order, fill_value=0.0).to_numpy()
    return d, o


def plot_assigned_by_priority(plan: Any, *, measure: str = "tasks", ax: Axes | None = None) -> Axes:
    """Stacked bars per priority (P5 critical on the left): assigned below, unassigned on top, the
    share assigned written above each bar. `measure` is "tasks" (counts) or "hours"."""
    a = _assignments(_tables(plan))
    order = [5, 4, 3, 2, 1]
    done, open_ = _counts(a, a["priority"], order, measure)
    ax = _new_ax(ax, 6.0, 3.8)
    return _stacked(
        ax,
        [PRIORITY_NAMES[p] for p in order],
        done,
        open_,
        "Assigned and unassigned by priority",
        "priority",
        measure,
    )


def task_regions(plan: Any, scenario: Any = None) -> pd.Series:
    """Region of each row of the plan's assignments: from the scenario (the task's own region, else
    its customer's), else from a `region` column of the assignments; "" = anywhere."""
    a = plan.assignments
    scenario = _scenario(plan, scenario)
    if scenario is not None:
        by_task = pd.Series(scenario.task_region.to_numpy(), index=scenario.tasks["task_id"].astype(str))
        return a["task_id"].astype(str).map(by_task).fillna("")
    if "region" in a:
        return a["region"].fillna("").astype(str)
    raise ValueError("the region chart needs the scenario: a plan folder does not record task regions")


def plot_assigned_by_region(
    plan: Any, *, scenario: Any = None, measure: str = "tasks", ax: Axes | None = None
) -> Axes:
    """Stacked bars per region (sorted by name; tasks without a region as "(any)"): assigned
    below, unassigned on top, the share assigned above. Needs the scenario for the regions (the
    plan's own, or `scenario`)."""
    plan = _tables(plan)
    a = _assignments(plan)
    region = task_regions(plan, scenario).replace("", "(any)")
    order = sorted(region.unique())
    done, open_ = _counts(a, region, order, measure)
    ax = _new_ax(ax, max(5.0, 0.7 * len(order) + 2.0), 3.8)
    return _stacked(ax, order, done, open_, "Assigned and unassigned by region", "region", measure)


# --------------------------------------------------------------------------- skills
def skill_coverage(scenario: Any) -> pd.DataFrame:
    """Per required skill: tasks and demand hours (tasks needing the skill), the lowest level
    asked, and eligible capacity (summed capacity_hours of active agents holding the skill at that
    level or above). An agent counts for every skill they hold, so capacities do not add up."""
    s = _scenario(None, scenario)
    need = s.task_skills.assign(effort=s.tasks["effort_hours"].to_numpy()[s.task_skills["row"].to_numpy()])
    demand = need.groupby("skill").agg(
        tasks=("row", "nunique"), hours=("effort", "sum"), level=("level", "min")
    )
    active = s.agents["active"].to_numpy(dtype=bool)
    cap = s.agents["capacity_hours"].to_numpy(dtype=float)
    rows = s.agent_skills["row"].to_numpy()
    have = s.agent_skills.assign(cap=cap[rows])[active[rows]]
    level = have["skill"].map(demand["level"])
    eligible = have[have["level"].to_numpy() >= level.fillna(np.inf).to_numpy()]
    supply = eligible.groupby("skill")["cap"].sum()
    agents = eligible.groupby("skill")["row"].nunique()
    out = demand.assign(
        agents=agents.reindex(demand.index, fill_value=0).astype(int),
        capacity_hours=supply.reindex(demand.index, fill_value=0.0),
    )
    out = out.rename(columns={"hours": "demand_hours", "level": "min_level"}).reset_index()
    with np.errstate(divide="ignore"):
        out["ratio"] = np.where(out["demand_hours"] > 0, out["capacity_hours"] / out["demand_hours"], np.inf)
    return out.sort_values(["ratio", "skill"], kind="stable").reset_index(drop=True)


def plot_skill_coverage(scenario: Any, *, ax: Axes | None = None) -> Axes:
    """Paired bars per required skill, tightest first: demand hours (orange) against eligible
    capacity (blue), with capacity / demand written above. `scenario` is a `Scenario`, a scenario
    folder, or a `Plan` (its scenario)."""
    if hasattr(scenario, "assignments"):
        scenario = scenario.scenario
    cov = skill_coverage(scenario)
    ax = _new_ax(ax, max(5.0, 0.9 * len(cov) + 2.0), 3.8)
    title = "Skill coverage: demand vs eligible capacity"
    if not len(cov):
        return _empty(ax, title, "no task requires a skill")
    x = np.arange(len(cov))
    ax.bar(x - 0.2, cov["demand_hours"], width=0.4, color=COLORS["demand"], label="demand (task hours)")
    ax.bar(x + 0.2, cov["capacity_hours"], width=0.4, color=COLORS["supply"], label="eligible capacity")
    top = float(max(cov["demand_hours"].max(), cov["capacity_hours"].max()))
    for xi, (r, c) in enumerate(zip(cov["ratio"], cov["capacity_hours"], strict=True)):
        ax.text(xi + 0.2, c + 0.01 * top, f"×{r:.1f}" if np.isfinite(r) else "", ha="center", fontsize=8)
    ax.set_xticks(
        x, [f"{k}\n≥{lvl}" for k, lvl in zip(cov["skill"], cov["min_level"], strict=True)], fontsize=9
    )
    ax.set_ylim(0, top * 1.15 if top else 1)
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    _legend_above(ax, 2)
    _style(ax, title, "skill (lowest level asked); an agent counts for each skill held", "hours", pad=22)
    return ax


# --------------------------------------------------------------------------- handover
def plot_handover(plan: Any, *, top_givers: int = 8, ax: Axes | None = None) -> Axes:
    """Horizontal bars of the items (tasks and customers) each agent receives, most first, split
    by the agent they come from (one colour per giver; beyond `top_givers`, "other"). Work that
    could not be placed shows as "(unplaced)". Reads handover.csv when the plan has one, else the
    moves against the plan in force."""
    plan = _tables(plan)
    moves, real = handover_table(plan)
    title = "Handover: who receives work from whom" if real else "Moves against the plan in force"
    if not len(moves):
        return _empty(_new_ax(ax, 7.0, 3.0), title, "no moves")
    moves = moves.assign(
        to=moves["to_agent_id"].replace("", "(unplaced)"), frm=moves["from_agent_id"].replace("", "(none)")
    )
    givers = moves["frm"].value_counts()
    givers = givers.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    keep = list(givers.index[:top_givers])
    if len(givers) > top_givers:
        moves["frm"] = moves["frm"].where(moves["frm"].isin(keep), "other")
        keep.append("other")
    grid = pd.crosstab(moves["to"], moves["frm"]).reindex(columns=keep, fill_value=0)
    grid = grid.assign(_n=grid.sum(axis=1)).sort_index().sort_values("_n", ascending=False, kind="stable")
    grid = grid.drop(columns="_n")
    n = len(grid)
    ax = _new_ax(ax, 7.0, max(3.0, 0.28 * n + 1.2))
    y = np.arange(n)
    left = np.zeros(n)
    for i, giver in enumerate(keep):
        color = OTHER_COLOR if giver == "other" else GIVER_COLORS[i % len(GIVER_COLORS)]
        ax.barh(y, grid[giver].to_numpy(), left=left, height=0.7, color=color, label=giver)
        left += grid[giver].to_numpy()
    ax.set_yticks(y, list(grid.index), fontsize=8 if n > 25 else 9)
    ax.set_ylim(n - 0.5, -0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="from", title_fontsize=8)
    _style(ax, title, "items received (tasks and customers)", "receiving agent")
    return ax


# --------------------------------------------------------------------------- days (a horizon)
def agent_days(plan: Any) -> pd.DataFrame | None:
    """The plan's agent_days table (agent_id, date, available_hours, planned_hours) with numbers,
    or None for a plan made without a horizon."""
    plan = _tables(plan)
    table = plan.extra_tables.get("agent_days.csv")
    if table is None or not len(table):
        return None
    out = table.copy()
    for col in ("available_hours", "planned_hours"):
        out[col] = pd.to_numeric(out[col]).astype(float)
    return out


def plot_day_load(plan: Any, *, top: int = 40, ax: Axes | None = None) -> Axes:
    """Heatmap of agents x days: planned hours over available hours each day (grey: no hours
    that day), the `top` agents with the most planned hours, busiest at the top."""
    days = agent_days(plan)
    ax = _new_ax(ax, 7.0, 4.5)
    title = "Planned load per agent and day"
    if days is None:
        return _empty(ax, title, "the plan has no horizon")
    planned = days.pivot(index="agent_id", columns="date", values="planned_hours")
    available = days.pivot(index="agent_id", columns="date", values="available_hours")
    order = planned.sum(axis=1).sort_values(ascending=False, kind="stable").index[:top]
    share = (planned.loc[order] / available.loc[order].where(available.loc[order] > 0)).to_numpy(dtype=float)
    image = np.ma.masked_invalid(np.clip(share, 0.0, 1.0))
    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#e6e6e6")
    shown = ax.imshow(image, aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    dates = list(planned.columns)
    step = max(1, len(dates) // 10)
    ax.set_xticks(range(0, len(dates), step), [str(d)[5:] for d in dates[::step]], fontsize=7)
    ax.set_yticks(range(len(order)), list(order), fontsize=6 if len(order) > 20 else 7)
    bar = ax.figure.colorbar(shown, ax=ax, fraction=0.04, pad=0.02, format=PercentFormatter(1.0, decimals=0))
    bar.ax.tick_params(labelsize=7)
    more = f" (busiest {len(order)} of {len(planned)})" if len(planned) > len(order) else ""
    _style(ax, title + more, "day", "")
    return ax


def plot_late_by_priority(plan: Any, *, ax: Axes | None = None) -> Axes:
    """Assigned tasks per priority, on time and late (a plan made with a horizon)."""
    plan = _tables(plan)
    a = _assignments(plan)
    ax = _new_ax(ax, 6.0, 3.6)
    title = "Late work by priority"
    if "late_days" not in a:
        return _empty(ax, title, "the plan has no horizon")
    done = a[a["agent_id"].ne("")]
    late = pd.to_numeric(done["late_days"]).fillna(0) > 0
    order = [5, 4, 3, 2, 1]
    on_time = np.array([((done["priority"] == p) & ~late).sum() for p in order], dtype=float)
    behind = np.array([((done["priority"] == p) & late).sum() for p in order], dtype=float)
    names = ("on time", "late")  # the share written above each bar is the share on time
    return _stacked(
        ax, [PRIORITY_NAMES[p] for p in order], on_time, behind, title, "priority", "tasks", names
    )
