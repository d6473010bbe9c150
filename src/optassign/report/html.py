"""The HTML report at the end of the flow: one self-contained file (inline CSS and SVG charts, no
script, nothing fetched) with the KPIs of one or more plans side by side, their charts and their
unassigned tasks. Reads plans as `Plan` objects or plan folders (`compare.read_plan`)."""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from optassign.plan.folder import read_plan
from optassign.plan.kpis import plan_kpis
from optassign.plan.plan import Plan, optassign_version
from optassign.report import plotting
from optassign.scenario.scenario import Scenario, load_scenario

__all__ = ["KPIS", "kpi_table", "render_report", "write_report"]

# Charts go in as SVG text; these settings make the same plan give the same bytes.
SVG_RC = {"svg.hashsalt": "optassign", "svg.fonttype": "none", "svg.id": None}
MAX_UNASSIGNED_ROWS = 500


def _load(plans: Any, scenario: Scenario | None, names: Sequence[str] | None) -> tuple[list[Plan], list[str]]:
    """Plans as `Plan` objects (folders read with `compare.read_plan`, checked against the
    scenario when one is given) and their display names: the folder's name, else
    "scenario · policy", made unique."""
    items = [plans] if isinstance(plans, str | Path | Plan) else list(plans)
    if not items:
        raise ValueError("no plan to report on")
    loaded, labels = [], []
    for item in items:
        if isinstance(item, str | Path):
            loaded.append(read_plan(item, scenario))
            labels.append(Path(item).resolve().name)
        else:
            loaded.append(item)
            labels.append(
                f"{item.summary.get('scenario', 'plan')} · {item.summary.get('policy', '')}".strip(" ·")
            )
    if names is not None:
        if len(names) != len(loaded):
            raise ValueError(f"{len(names)} names for {len(loaded)} plans")
        labels = list(names)
    out: list[str] = []
    for label in labels:
        name, k = label, 2
        while name in out:
            name, k = f"{label} ({k})", k + 1
        out.append(name)
    return loaded, out


# --------------------------------------------------------------------------- KPIs
# (key of compare.plan_kpis or of the summary, label, format) in the report's order.
KPIS: list[tuple[str, str, str]] = [
    ("scenario", "scenario", "text"),
    ("policy", "policy", "text"),
    ("status", "solver status", "text"),
    ("gap", "optimality gap", "pct2"),
    ("tasks", "tasks", "int"),
    ("assigned", "tasks assigned", "int"),
    ("unassigned", "tasks unassigned", "int"),
    ("priority_weighted_coverage", "priority-weighted coverage", "pct1"),
    ("p5_share", "critical (P5) assigned", "pct1"),
    ("unassigned_hours", "hours unassigned", "num1"),
    ("moves", "task moves vs plan in force", "int"),
    ("owner_changes", "owner changes", "int"),
    ("utilization_mean", "utilisation mean", "pct1"),
    ("utilization_max", "utilisation max", "pct1"),
    ("utilization_gini", "utilisation Gini (0 = even)", "num3"),
    ("cross_region_tasks", "tasks outside their agent's regions", "int"),
    ("cost", "cost (effort × rate)", "num0"),
    ("solve_seconds", "solve time (s)", "num2"),
    ("seed", "seed", "int"),
]


def _kpis(plan: Plan) -> dict[str, Any]:
    """`compare.plan_kpis` plus what the report adds: scenario, seed and the share of P5 tasks."""
    k = plan_kpis(plan)
    crit = int((plan.assignments["priority"] == 5).sum())
    k["p5_share"] = k["assigned_p5"] / crit if crit else None
    k["scenario"] = plan.summary.get("scenario")
    k["seed"] = plan.summary.get("seed")
    return k


def kpi_table(
    plans: Any, scenario: Scenario | str | Path | None = None, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """The report's KPIs of plans side by side: one row per KPI (labelled), one column per plan,
    raw values (fractions as fractions). Plans are `Plan` objects or plan folders."""
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    loaded, cols = _load(plans, scenario, names)
    data = {name: [_kpis(p).get(key) for key, _, _ in KPIS] for name, p in zip(cols, loaded, strict=True)}
    return pd.DataFrame(data, index=pd.Index([label for _, label, _ in KPIS], name="kpi"))


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if kind == "text":
        return str(value)
    if kind == "int":
        return f"{int(value):,}"
    if kind.startswith("pct"):
        return f"{float(value):.{kind[-1]}%}"
    return f"{float(value):,.{kind[-1]}f}"


# --------------------------------------------------------------------------- charts
def _figure(width: float, height: float) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make the ids of one inline SVG unique in the page (several charts share one document)."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}\1)", svg)
    return re.sub(r'href="#([^"]+)"', rf'href="#{prefix}\1"', svg)


def figure_to_svg(fig: Figure, prefix: str = "") -> str:
    """The figure as an inline <svg> element: no XML prolog, DOCTYPE or metadata, scaled to the
    width of its container (never above its natural size), same bytes for the same figure."""
    buf = io.StringIO()
    with mpl.rc_context(SVG_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    m = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"\s+height="([\d.]+)pt"', svg)
    if m:
        width = float(m.group(1))
        svg = svg.replace(
            m.group(0),
            m.group(0).replace(
                f'width="{m.group(1)}pt" height="{m.group(2)}pt"',
                f'width="100%" style="max-width:{width * 4 / 3:.0f}px" role="img"',
            ),
            1,
        )
    return _prefix_ids(svg, prefix).strip()


def figure_to_png_img(fig: Figure, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _charts(plan: Any, scenario: Any) -> list[tuple[str, str, Figure]]:
    """(key, caption, figure) of each chart that applies to the plan."""
    out = []
    n_agents = len(plan.agent_load)
    fig, ax = _figure(5.6, max(3.0, 0.24 * n_agents + 1.4))
    plotting.plot_agent_load(plan, scenario=scenario, ax=ax)
    out.append(("load", "Hours per agent (bars) against capacity (black ticks), most loaded first.", fig))
    fig, ax = _figure(5.2, 3.2)
    plotting.plot_utilisation(plan, ax=ax)
    out.append(("util", "How many agents sit at each level of utilisation.", fig))
    fig, ax = _figure(5.2, 3.4)
    plotting.plot_assigned_by_priority(plan, ax=ax)
    out.append(("prio", "Tasks assigned and left open per priority; share assigned on top.", fig))
    if plotting.agent_days(plan) is not None:  # a plan made with a horizon
        fig, ax = _figure(5.2, 3.4)
        plotting.plot_late_by_priority(plan, ax=ax)
        out.append(("late", "Assigned tasks per priority, finished by their due date or late.", fig))
        shown = min(40, plan.agent_load.shape[0])
        fig, ax = _figure(6.4, max(3.2, 0.16 * shown + 1.6))
        plotting.plot_day_load(plan, ax=ax)
        out.append(("days", "Each agent's planned hours over its hours that day (grey: none that day).", fig))
    if scenario is not None:
        fig, ax = _figure(5.2, 3.4)
        plotting.plot_assigned_by_region(plan, scenario=scenario, ax=ax)
        out.append(("region", "Tasks assigned and left open per region.", fig))
        fig, ax = _figure(5.6, 3.4)
        plotting.plot_skill_coverage(scenario, ax=ax)
        out.append(("skills", "Demand hours per skill against the capacity of the agents who hold it.", fig))
    moves, real = plotting.handover_table(plan)
    if len(moves):
        receivers = moves["to_agent_id"].nunique()
        fig, ax = _figure(5.6, max(3.0, 0.24 * receivers + 1.3))
        plotting.plot_handover(plan, ax=ax)
        what = "handover.csv" if real else "moves against the plan in force"
        out.append(("moves", f"Items each agent receives, by the agent they come from ({what}).", fig))
    return out


# --------------------------------------------------------------------------- HTML
CSS = """
:root { --ink:#222; --muted:#666; --line:#e3e6ea; --accent:#2f6db5; --warn:#e8793a; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
       color:var(--ink); background:#f6f7f9; }
main { max-width:1180px; margin:0 auto; padding:16px; }
header h1 { margin:0 0 4px; font-size:1.5rem; }
.sub { color:var(--muted); margin:0 0 12px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px; margin:0 0 16px; }
h2 { font-size:1.2rem; margin:0 0 10px; }
h3 { font-size:1.02rem; margin:18px 0 8px; }
nav a { margin-right:12px; color:var(--accent); }
.scroll { overflow-x:auto; -webkit-overflow-scrolling:touch; max-width:100%; }
table { border-collapse:collapse; font-size:0.9rem; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { background:#f0f3f7; white-space:nowrap; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
table.kpi td:first-child { white-space:nowrap; font-weight:600; }
table.list td.reason { min-width:16rem; }
table.list td.due { white-space:nowrap; }
table.kpi th:first-child, table.kpi td:first-child { position:sticky; left:0; background:#fff; }
table.kpi th:first-child { background:#f0f3f7; }
.charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(min(100%, 440px), 1fr)); gap:14px; }
figure { margin:0; min-width:0; }
figure svg, figure img { display:block; width:100%; max-width:100%; height:auto; }
figcaption { color:var(--muted); font-size:0.85rem; margin-top:4px; }
.note { color:var(--muted); font-size:0.88rem; }
.ok { color:#2e7d32; }
footer { color:var(--muted); font-size:0.8rem; text-align:center; padding:8px 0 24px; }
@media (max-width:600px) {
  main { padding:8px; } section { padding:10px; } body { font-size:14px; }
  /* the unassigned list as cards: id, priority, hours and due on one line, the reason below */
  table.list, table.list tbody { display:block; }
  table.list thead { display:none; }
  table.list tr { display:flex; flex-wrap:wrap; gap:2px 12px; padding:6px 0;
                  border-bottom:1px solid var(--line); }
  table.list td { border:0; padding:0; }
  table.list td.id { font-weight:600; }
  table.list td[data-label]::before { content:attr(data-label) " "; color:var(--muted); }
  table.list td.reason { flex-basis:100%; min-width:0; }
}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _kpi_html(plans: list[Plan], names: list[str]) -> str:
    head = "".join(f'<th class="num">{_e(n)}</th>' for n in names)
    rows = []
    values = [_kpis(p) for p in plans]
    for key, label, kind in KPIS:
        cells = "".join(
            f'<td class="{"" if kind == "text" else "num"}">{_e(_fmt(v.get(key), kind))}</td>' for v in values
        )
        rows.append(f"<tr><td>{_e(label)}</td>{cells}</tr>")
    return (
        '<div class="scroll"><table class="kpi"><thead><tr><th>KPI</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _unassigned_html(plan: Any) -> str:
    a = plan.assignments
    open_ = a[a["agent_id"].eq("")].copy()
    if not len(open_):
        return '<p class="ok">Every task is assigned.</p>'
    open_["priority"] = pd.to_numeric(open_["priority"])
    open_ = open_.sort_values(["priority", "task_id"], ascending=[False, True], kind="stable")
    shown = open_.head(MAX_UNASSIGNED_ROWS)
    has_due = "due_date" in shown
    head = (
        '<tr><th>task</th><th class="num">priority</th><th class="num">hours</th>'
        + ("<th>due</th>" if has_due else "")
        + "<th>reason</th></tr>"
    )
    body = []
    for r in shown.itertuples(index=False):
        due = (
            f'<td class="due" data-label="due">{_e(getattr(r, "due_date", "") or "–")}</td>'
            if has_due
            else ""
        )
        body.append(
            f'<tr><td class="id">{_e(r.task_id)}</td><td class="num" data-label="P">{int(r.priority)}</td>'
            f'<td class="num" data-label="h">{float(r.effort_hours):g}</td>{due}'
            f'<td class="reason">{_e(getattr(r, "reason", "") or "")}</td></tr>'
        )
    more = ""
    if len(open_) > len(shown):
        more = f'<p class="note">… and {len(open_) - len(shown):,} more (see assignments.csv).</p>'
    table = f'<table class="list"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
    return f'<div class="scroll">{table}</div>{more}'


def render_report(
    plans: Any,
    scenario: Scenario | str | Path | None = None,
    *,
    names: Sequence[str] | None = None,
    title: str | None = None,
    fmt: str = "svg",
) -> str:
    """The report's HTML text (see `write_report`)."""
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    plans, names = _load(plans, scenario, names)
    scenarios = [scenario if scenario is not None else p.scenario for p in plans]
    scen_names = sorted({str(p.summary.get("scenario", "")) for p in plans} - {""})
    title = title or "optassign report" + (f": {', '.join(scen_names)}" if scen_names else "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>",
        f"<header><h1>{_e(title)}</h1>",
        f'<p class="sub">{len(plans)} plan{"s" if len(plans) > 1 else ""}: {_e(", ".join(names))}</p>',
    ]
    if len(plans) > 1:
        links = "".join(f'<a href="#plan-{i + 1}">{_e(n)}</a>' for i, n in enumerate(names))
        parts.append(f"<nav>{links}</nav>")
    parts.append("</header>")
    parts.append(f"<section><h2>Key figures</h2>{_kpi_html(plans, names)}</section>")
    for i, (p, s, n) in enumerate(zip(plans, scenarios, names, strict=True)):
        parts.append(f'<section id="plan-{i + 1}"><h2>{_e(n)}</h2>')
        if s is None:
            parts.append('<p class="note">Region and skill charts need the scenario: pass --scenario.</p>')
        parts.append('<div class="charts">')
        # ids, names and regions are data, not mathtext: `$x$` in an id must not be parsed
        with mpl.rc_context({"text.parse_math": False}):
            for key, caption, fig in _charts(p, s):
                if fmt == "png":
                    chart = figure_to_png_img(fig, caption)
                else:
                    chart = figure_to_svg(fig, prefix=f"p{i + 1}{key}-")
                parts.append(f"<figure>{chart}<figcaption>{_e(caption)}</figcaption></figure>")
        parts.append("</div>")
        n_open = int(p.assignments["agent_id"].eq("").sum())
        parts.append(f"<h3>Unassigned tasks ({n_open:,})</h3>{_unassigned_html(p)}")
        parts.append("</section>")
    parts.append(f"<footer>optassign {_e(optassign_version())}</footer></main></body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    plans: Any,
    out_html: str | Path,
    scenario: Any = None,
    *,
    names: Sequence[str] | None = None,
    title: str | None = None,
    fmt: str = "svg",
) -> Path:
    """Write one self-contained HTML report on `plans` (a `Plan`, a plan folder, or several):
    KPIs side by side, per plan the charts (load, utilisation, by priority; by region and skill
    coverage when the scenario is known, from `scenario` or the plan; moves when any) and the
    unassigned tasks with their reasons. Charts are inline SVG (`fmt="png"`: base64 PNG)."""
    out = Path(out_html)
    text = render_report(plans, scenario, names=names, title=title, fmt=fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
