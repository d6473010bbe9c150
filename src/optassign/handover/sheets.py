"""One Markdown handover sheet per receiving agent: what it receives, from whom, with the
customer's context and other open tasks."""

from __future__ import annotations

import pandas as pd

from optassign.contract.schema import CONTEXT_COLUMNS
from optassign.handover.notify import one_line
from optassign.handover.prepare import Prepared
from optassign.handover.tables import date_text
from optassign.plan.plan import Plan

SHOWN_TASKS = 10  # other open tasks of a customer listed on a handover sheet


# --------------------------------------------------------------------------- sheets
# What turns text into markup when a sheet is rendered: raw HTML (<), links and images ([ ]),
# code (`) and the escape itself. Emphasis (* _) is left alone: harmless, and common in ids.
_MARKUP = str.maketrans({c: "\\" + c for c in "\\`<[]"})


def _md(value: object) -> str:
    """A CRM value as Markdown text: on one line (a note's line break would start a heading or
    a list item of its own) and with the characters that start markup escaped, so a value never
    becomes a link, an image or raw HTML when the sheet is rendered."""
    return one_line(value).translate(_MARKUP)


def handover_sheets(table: pd.DataFrame, plan: Plan, kpis: dict, prep: Prepared) -> dict[str, str]:
    """A readable markdown sheet per receiving agent: what it receives, from whom, why, with
    the customer's other open tasks and the notes. Every value from the input goes through
    `_md`."""
    if table.empty:
        return {}
    after = prep.after
    tasks = after.tasks
    names = dict(zip(after.agents["agent_id"], after.agents["name"].astype(str), strict=True))
    customers = after.customers if after.customers is not None else pd.DataFrame(columns=["customer_id"])
    wanted = set(table["customer_id"]) | set(table.loc[table["kind"].eq("customer"), "id"])
    cust = customers[customers["customer_id"].isin(wanted)].set_index("customer_id").to_dict("index")
    moved = tasks[tasks["task_id"].isin(table.loc[table["kind"].eq("task"), "id"])]
    task_info = moved.set_index("task_id")[["type", "required_skills"]].to_dict("index")
    owners = plan.owners.set_index("customer_id")["owner_id"] if plan.owners is not None else None
    # the other open tasks of every customer concerned, briefly, in task order
    theirs = tasks[tasks["customer_id"].isin(cust)]
    who = (
        theirs["task_id"]
        .map(plan.assignments.set_index("task_id")["agent_id"])
        .map(_md)
        .replace("", "unassigned")
    )
    # built as text even when no task is concerned (an empty map keeps the datetime dtype)
    due = pd.Series([date_text(v) or "none" for v in theirs["due_date"]], index=theirs.index, dtype=object)
    brief = (
        theirs["task_id"].map(_md)
        + " (P"
        + theirs["priority"].astype(int).astype(str)
        + ", due "
        + due
        + ", "
        + who
        + ")"
    )
    by_customer: dict[str, list[tuple[str, str]]] = {}
    for c, t, b in zip(theirs["customer_id"], theirs["task_id"], brief, strict=True):
        by_customer.setdefault(c, []).append((t, b))
    load = kpis["receivers"]
    context = [c for c in CONTEXT_COLUMNS if c in table.columns]
    out = {}
    received = table[table["to_agent_id"].ne("")].sort_values(["to_agent_id", "id"], kind="stable")
    per_agent: dict[str, list[dict]] = {}
    for r in received.to_dict("records"):
        per_agent.setdefault(r["to_agent_id"], []).append(r)
    for agent, group in per_agent.items():
        who = f"{_md(agent)} ({_md(names[agent])})" if names.get(agent) else _md(agent)
        k = load.get(agent, {})
        lines = [f"# Handover to {who}", ""]
        if kpis["events"]:
            lines += ["Staffing changes: " + "; ".join(_md(e) for e in kpis["events"] if e) + ".", ""]
        util_b = k.get("utilization_before")
        util_a = k.get("utilization_after")
        lines += [
            f"Your load: {k.get('hours_before', 0):g} h -> {k.get('hours_after', 0):g} h of "
            f"{k.get('capacity_after', 0):g} h"
            + (f" ({util_b:.0%} -> {util_a:.0%})" if util_b is not None and util_a is not None else "")
            + f"; you receive {len(group)} item(s).",
            "",
        ]
        for kind, title in (("customer", "Customers"), ("task", "Tasks")):
            part = [r for r in group if r["kind"] == kind]
            if not part:
                continue
            lines += [f"## {title} received ({len(part)})", ""]
            for r in part:
                frm = r["from_agent_id"]
                frm_text = f"{_md(frm)} ({_md(names[frm])})" if names.get(frm) else _md(frm)
                if kind == "task":
                    t = task_info[r["id"]]
                    head = (
                        f"### {_md(r['id'])} · priority {r['priority']} · "
                        f"due {_md(r['due_date']) or 'none'} · {r['effort_hours']:g} h"
                    )
                    lines += [head, "", f"- from: {frm_text}" + (" (forced)" if r["forced"] else "")]
                    if t["type"]:
                        skills = _md(t["required_skills"]) or "none"
                        lines.append(f"- type: {_md(t['type'])}; required skills: {skills}")
                else:
                    c = cust[r["id"]]
                    lines += [
                        f"### {_md(r['id'])} {_md(c['name'])} · tier {_md(c['tier'])}",
                        "",
                        f"- from: {frm_text}" + (" (forced)" if r["forced"] else ""),
                    ]
                customer = r["customer_id"]
                if customer and customer in cust:
                    c = cust[customer]
                    now = owners.get(customer, "") if owners is not None else ""
                    if kind == "task":
                        lines.append(
                            f"- customer: {_md(customer)} {_md(c['name'])} "
                            f"(tier {_md(c['tier'])}, owner {_md(now) or 'none'})"
                        )
                    others = [b for x, b in by_customer.get(customer, []) if x != r["id"]]
                    if others:
                        shown = others[:SHOWN_TASKS]
                        more = len(others) - SHOWN_TASKS
                        lines.append(
                            "- the customer's other open tasks: "
                            + ", ".join(shown)
                            + (f" and {more} more" if more > 0 else "")
                        )
                for name in context:
                    if r[name]:
                        lines.append(f"- {name}: {_md(r[name])}")
                lines += [f"- why: {_md(r['reason'])}", ""]
        out[agent] = "\n".join(lines).rstrip() + "\n"
    return out
