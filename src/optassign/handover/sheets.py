"""One Markdown handover sheet per receiving agent: what it receives, from whom, with the
customer's context and other open tasks."""

from __future__ import annotations

from dataclasses import dataclass

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
    sources = _Sources.of(table, plan, kpis, prep)
    received = table[table["to_agent_id"].ne("")].sort_values(["to_agent_id", "id"], kind="stable")
    per_agent: dict[str, list[dict]] = {}
    for r in received.to_dict("records"):
        per_agent.setdefault(r["to_agent_id"], []).append(r)
    return {agent: sources._sheet(agent, rows) for agent, rows in per_agent.items()}


@dataclass(frozen=True)
class _Sources:
    """What the sheets read besides the handover rows, looked up once for every sheet: agent
    names, the customers concerned, type and skills of the tasks moved, the new owners, every
    concerned customer's open tasks in brief, the receivers' load and the staffing changes."""

    names: dict[str, str]
    customers: dict[str, dict]
    task_info: dict[str, dict]
    owners: pd.Series | None
    by_customer: dict[str, list[tuple[str, str]]]
    load: dict[str, dict]
    events: list[str]
    context: list[str]

    @classmethod
    def of(cls, table: pd.DataFrame, plan: Plan, kpis: dict, prep: Prepared) -> _Sources:
        after = prep.after
        tasks = after.tasks
        names = dict(zip(after.agents["agent_id"], after.agents["name"].astype(str), strict=True))
        customers = after.customers if after.customers is not None else pd.DataFrame(columns=["customer_id"])
        wanted = set(table["customer_id"]) | set(table.loc[table["kind"].eq("customer"), "id"])
        cust = customers[customers["customer_id"].isin(wanted)].set_index("customer_id").to_dict("index")
        moved = tasks[tasks["task_id"].isin(table.loc[table["kind"].eq("task"), "id"])]
        task_info = moved.set_index("task_id")[["type", "required_skills"]].to_dict("index")
        owners = plan.owners.set_index("customer_id")["owner_id"] if plan.owners is not None else None
        by_customer = _open_tasks(tasks[tasks["customer_id"].isin(cust)], plan)
        context = [c for c in CONTEXT_COLUMNS if c in table.columns]
        return cls(names, cust, task_info, owners, by_customer, kpis["receivers"], kpis["events"], context)

    def _who(self, agent: str) -> str:
        return f"{_md(agent)} ({_md(self.names[agent])})" if self.names.get(agent) else _md(agent)

    def _sheet(self, agent: str, rows: list[dict]) -> str:
        """The sheet of one receiving agent: its load before and after, then the customers and
        the tasks it receives, each with where it comes from and why."""
        k = self.load.get(agent, {})
        lines = [f"# Handover to {self._who(agent)}", ""]
        if self.events:
            lines += ["Staffing changes: " + "; ".join(_md(e) for e in self.events if e) + ".", ""]
        util_b = k.get("utilization_before")
        util_a = k.get("utilization_after")
        lines += [
            f"Your load: {k.get('hours_before', 0):g} h -> {k.get('hours_after', 0):g} h of "
            f"{k.get('capacity_after', 0):g} h"
            + (f" ({util_b:.0%} -> {util_a:.0%})" if util_b is not None and util_a is not None else "")
            + f"; you receive {len(rows)} item(s).",
            "",
        ]
        for kind, title, block in (
            ("customer", "Customers", self._customer_block),
            ("task", "Tasks", self._task_block),
        ):
            part = [r for r in rows if r["kind"] == kind]
            if part:
                lines += [f"## {title} received ({len(part)})", ""]
                for r in part:
                    lines += block(r)
        return "\n".join(lines).rstrip() + "\n"

    def _task_block(self, r: dict) -> list[str]:
        """A task received: priority, due date, effort, type and skills, and its customer with
        the customer's owner in the new plan."""
        t = self.task_info[r["id"]]
        head = (
            f"### {_md(r['id'])} · priority {r['priority']} · "
            f"due {_md(r['due_date']) or 'none'} · {r['effort_hours']:g} h"
        )
        lines = [head, "", self._from(r)]
        if t["type"]:
            skills = _md(t["required_skills"]) or "none"
            lines.append(f"- type: {_md(t['type'])}; required skills: {skills}")
        customer = r["customer_id"]
        if customer and customer in self.customers:
            c = self.customers[customer]
            now = self.owners.get(customer, "") if self.owners is not None else ""
            lines.append(
                f"- customer: {_md(customer)} {_md(c['name'])} "
                f"(tier {_md(c['tier'])}, owner {_md(now) or 'none'})"
            )
        return lines + self._details(r)

    def _customer_block(self, r: dict) -> list[str]:
        """A customer received: its name and tier."""
        c = self.customers[r["id"]]
        head = f"### {_md(r['id'])} {_md(c['name'])} · tier {_md(c['tier'])}"
        return [head, "", self._from(r), *self._details(r)]

    def _from(self, r: dict) -> str:
        return f"- from: {self._who(r['from_agent_id'])}" + (" (forced)" if r["forced"] else "")

    def _details(self, r: dict) -> list[str]:
        """The lines every item ends with: the customer's other open tasks (at most
        SHOWN_TASKS), the input's context columns that are set, and why it moved."""
        lines = []
        customer = r["customer_id"]
        if customer and customer in self.customers:
            others = [b for x, b in self.by_customer.get(customer, []) if x != r["id"]]
            if others:
                more = len(others) - SHOWN_TASKS
                lines.append(
                    "- the customer's other open tasks: "
                    + ", ".join(others[:SHOWN_TASKS])
                    + (f" and {more} more" if more > 0 else "")
                )
        lines += [f"- {name}: {_md(r[name])}" for name in self.context if r[name]]
        return [*lines, f"- why: {_md(r['reason'])}", ""]


def _open_tasks(theirs: pd.DataFrame, plan: Plan) -> dict[str, list[tuple[str, str]]]:
    """customer_id -> (task_id, brief) of its open tasks, in task order: id, priority, due date
    and agent in the new plan, as Markdown text."""
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
    return by_customer
