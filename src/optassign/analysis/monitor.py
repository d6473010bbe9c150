"""Day-to-day monitoring of a plan in force, after the flow: per agent, what is due soon, what is
overdue and what is at risk of missing its due date; reminder e-mails (.eml) per agent.

Hours: with a horizon in scenario.yaml, the agent's own calendar, as `solve` reads it (working
days, holidays, calendar.csv, hours_per_day, capacity_hours spread and capped; nothing outside
the horizon). Without one, `capacity_hours` are taken as one working week, spread evenly over
Monday to Friday (capacity_hours / 5 a day, weekends give nothing). Today counts as a full
working day."""

from __future__ import annotations

import email.policy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optassign.contract.names import file_names, inside, write_index
from optassign.handover.notify import PLACEHOLDER_DOMAIN, mailbox, one_line
from optassign.plan.folder import read_plan
from optassign.plan.plan import Plan
from optassign.scenario.calendar import cumulative_hours
from optassign.scenario.scenario import Scenario, load_scenario

__all__ = ["Status", "WORKDAYS_PER_WEEK", "reminder_message", "status", "write_reminders"]

WORKDAYS_PER_WEEK = 5
SENDER = Address("optassign", "optassign", "example.invalid")
EPS = 1e-9


@dataclass
class Status:
    """The monitoring view of one day.

    `agents`: one row per agent (agent_id, name, email, active, capacity_hours, hours_per_day,
    tasks, hours, due_soon, overdue, at_risk, next_due), those needing attention first.
    `tasks`: the tasks that are overdue, due within the horizon or at risk, by due date (then
    priority, highest first), with agent_id ("" = unassigned), days_left, the flags, and for
    assigned tasks hours_due_by (the agent's work due by that date, overdue work included) and
    hours_available_by (the agent's working hours from today to that date)."""

    today: date
    horizon_days: int
    agents: pd.DataFrame
    tasks: pd.DataFrame
    calendar: bool = False  # hours from the scenario's calendar (a horizon), not a week

    def agent_tasks(self, agent_id: str) -> pd.DataFrame:
        return self.tasks[self.tasks["agent_id"].eq(agent_id)]

    @property
    def busy_agents(self) -> pd.DataFrame:
        """The agents with anything due soon, overdue or at risk, in the order of `agents` (those
        needing attention first); the others have nothing to look at."""
        return self.agents[self.agents[["due_soon", "overdue", "at_risk"]].sum(axis=1) > 0]

    @property
    def quiet_agents(self) -> int:
        """How many agents have nothing due soon, overdue or at risk."""
        return len(self.agents) - len(self.busy_agents)

    @property
    def attention(self) -> pd.DataFrame:
        """The tasks that need action now, overdue or at risk, in the order of `tasks` (by due
        date, then priority); due soon alone is on track."""
        return self.tasks[self.tasks["overdue"] | self.tasks["at_risk"]]

    def attention_rows(self, limit: int) -> tuple[pd.DataFrame, int]:
        """The first `limit` tasks of `attention`, and how many more there are."""
        attention = self.attention
        return attention.head(limit), max(len(attention) - limit, 0)

    @property
    def unassigned_soon(self) -> pd.DataFrame:
        """The unassigned tasks that are overdue or due within the horizon: nobody will do them."""
        tasks = self.tasks
        return tasks[tasks["agent_id"].eq("") & (tasks["due_soon"] | tasks["overdue"])]


def parse_date(value: date | str | None) -> date:
    """A date from a `date`, an ISO text (YYYY-MM-DD), or None (today); ValueError otherwise."""
    if value is None:
        return date.today()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)") from None


def _assignee(scenario: Scenario, plan: Plan | str | Path | None) -> tuple[pd.Series, pd.Series | None]:
    """Agent of each task (aligned with scenario.tasks): the plan's, else `assigned_to`; and
    the day the plan finishes each task (its planned_date, a plan made with a horizon), or None."""
    in_force = scenario.tasks["assigned_to"].astype(str)
    if plan is None:
        return in_force.reset_index(drop=True), None
    if isinstance(plan, str | Path):
        plan = read_plan(plan, scenario)  # checks the plan holds exactly the scenario's tasks
    rows = plan.assignments.set_index("task_id")
    agent = scenario.tasks["task_id"].map(rows["agent_id"].astype(str))
    if agent.isna().all() and len(agent):
        raise ValueError("the plan has none of the scenario's tasks")
    planned = None
    if "planned_date" in rows:
        text = scenario.tasks["task_id"].map(rows["planned_date"].astype(str)).fillna("")
        planned = pd.to_datetime(text.where(text.ne(""), None), errors="coerce").dt.date.reset_index(
            drop=True
        )
    return agent.fillna(in_force).reset_index(drop=True), planned


def status(
    scenario: Scenario | str | Path,
    plan: Plan | str | Path | None = None,
    today: date | str | None = None,
    horizon_days: int = 7,
) -> Status:
    """Due, overdue and at-risk work per agent on `today`, under `plan` (a `Plan` or plan folder)
    or, without one, the plan in force (`assigned_to`).

    A task is overdue when its due date is before today, due soon when it is due today or within
    `horizon_days` days. It is at risk when it is not overdue and its agent's work due by its due
    date (that task, every earlier-or-same-day task of the agent, and all overdue work, taken in
    due-date order, then priority) exceeds the agent's hours available from today to that date
    (on the scenario's calendar with a horizon, else working days × capacity_hours / 5), or,
    for a plan made with a horizon, when the plan itself finishes it after its due date
    (planned_date). Tasks without a due date are never due nor at risk."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    today = parse_date(today)
    if horizon_days < 0:
        raise ValueError("horizon_days must be 0 or more")
    t = scenario.tasks.reset_index(drop=True)
    agents = scenario.agents.reset_index(drop=True)
    assignee, planned = _assignee(scenario, plan)
    frame = pd.DataFrame(
        {
            "task_id": t["task_id"].astype(str),
            "agent_id": assignee,
            "customer_id": t["customer_id"].astype(str),
            "type": t["type"].astype(str) if "type" in t else "",
            "priority": t["priority"].astype(int),
            "effort_hours": t["effort_hours"].astype(float),
            "due_date": pd.to_datetime(t["due_date"]).dt.date,
        }
    )
    dated = frame[t["due_date"].notna().to_numpy()].copy()
    due = pd.to_datetime(dated["due_date"]).to_numpy(dtype="datetime64[D]")
    today64 = np.datetime64(today, "D")
    dated["days_left"] = (due - today64).astype(int)
    dated["overdue"] = dated["days_left"] < 0
    dated["due_soon"] = (dated["days_left"] >= 0) & (dated["days_left"] <= horizon_days)
    # working days in [today, due date]; none for overdue work
    dated["_workdays"] = np.busday_count(today64, np.maximum(due, today64 - 1) + 1)

    # at risk: cumulative work due by each date against working hours until then, per agent
    active = agents.set_index("agent_id")["active"].astype(bool)
    per_day = (agents.set_index("agent_id")["capacity_hours"].astype(float) / WORKDAYS_PER_WEEK).where(
        active, 0.0
    )
    dated["_order"] = np.arange(len(dated))
    dated = dated.sort_values(
        ["agent_id", "due_date", "priority", "_order"], ascending=[True, True, False, True]
    )
    assigned = dated["agent_id"].ne("")
    # all work due by a date counts, so tasks due the same day share that day's total
    day_total = dated[assigned].groupby(["agent_id", "due_date"])["effort_hours"].sum()
    cum = day_total.groupby(level=0).cumsum()
    keys = pd.MultiIndex.from_arrays([dated["agent_id"], dated["due_date"]])
    dated["hours_due_by"] = np.where(assigned, cum.reindex(keys).to_numpy(), np.nan)
    rate = dated["agent_id"].map(per_day).fillna(0.0)
    available = dated["_workdays"] * rate
    if scenario.days is not None:  # the calendar `solve` plans with
        available, per_day = _calendar_hours(scenario, agents, dated, today64)
    dated["hours_available_by"] = np.where(assigned, np.round(available, 6), np.nan)
    dated["at_risk"] = (
        assigned & ~dated["overdue"] & (dated["hours_due_by"] > dated["hours_available_by"] + EPS)
    )
    if planned is not None:  # the plan's own schedule says which work finishes after its date
        dated["planned_date"] = planned.reindex(dated.index).to_numpy()
        late = pd.to_datetime(dated["planned_date"]) > pd.to_datetime(dated["due_date"])
        dated["at_risk"] = assigned & ~dated["overdue"] & late.to_numpy()
    flagged = dated[dated["overdue"] | dated["due_soon"] | dated["at_risk"]]
    tasks = flagged.sort_values(["due_date", "priority", "_order"], ascending=[True, False, True]).drop(
        columns=["_order", "_workdays"]
    )
    tasks = tasks.reset_index(drop=True)

    # per agent
    own = frame[frame["agent_id"].ne("")].groupby("agent_id")
    count = lambda col: tasks[tasks[col]].groupby("agent_id").size()  # noqa: E731
    nxt = dated[assigned & ~dated["overdue"]].groupby("agent_id")["due_date"].min()
    ids = agents["agent_id"].astype(str)
    emails = agents["email"].astype(str) if "email" in agents else pd.Series("", index=agents.index)
    summary = pd.DataFrame(
        {
            "agent_id": ids,
            "name": agents["name"].astype(str) if "name" in agents else "",
            "email": np.where(emails.str.strip().ne(""), emails.str.strip(), ids + "@example.invalid"),
            "active": agents["active"].astype(bool),
            "capacity_hours": agents["capacity_hours"].astype(float),
            "hours_per_day": ids.map(per_day).to_numpy(),
            "tasks": ids.map(own.size()).fillna(0).astype(int),
            "hours": ids.map(own["effort_hours"].sum()).fillna(0.0).round(6),
            "due_soon": ids.map(count("due_soon")).fillna(0).astype(int),
            "overdue": ids.map(count("overdue")).fillna(0).astype(int),
            "at_risk": ids.map(count("at_risk")).fillna(0).astype(int),
            "next_due": ids.map(nxt),
        }
    )
    summary = summary.sort_values(
        ["at_risk", "overdue", "due_soon", "agent_id"], ascending=[False, False, False, True], kind="stable"
    ).reset_index(drop=True)
    return Status(today, horizon_days, summary, tasks, calendar=scenario.days is not None)


# --------------------------------------------------------------------------- reminders
def _calendar_hours(
    scenario: Scenario, agents: pd.DataFrame, dated: pd.DataFrame, today64: np.datetime64
) -> tuple[np.ndarray, pd.Series]:
    """Per dated task, its agent's hours from today through its due date on the scenario's
    calendar (within the horizon); per agent, its mean hours a working day of the horizon."""
    days = scenario.days
    cum = cumulative_hours(agents, days, scenario.calendar)
    cum = np.where(agents["active"].to_numpy(dtype=bool)[:, None], cum, 0.0)
    before = np.concatenate([np.zeros((len(agents), 1)), cum], axis=1)  # hours before day i
    H = len(days)
    start = int(np.clip((today64 - days.dates[0]).astype(int), 0, H))
    pos = pd.Index(agents["agent_id"].astype(str)).get_indexer(dated["agent_id"].astype(str))
    due = pd.to_datetime(dated["due_date"]).to_numpy(dtype="datetime64[D]")
    end = np.clip((due - days.dates[0]).astype(int) + 1, 0, H)
    ok = (pos >= 0) & (end > start)
    out = np.zeros(len(dated))
    out[ok] = before[pos[ok], end[ok]] - before[pos[ok], start]
    working = max(1, int(days.working.sum()))
    per_day = pd.Series(cum[:, -1] / working, index=agents["agent_id"].astype(str))
    return out, per_day


def _line(r: Any, today: date) -> str:
    if r.days_left < 0:
        when = f"{-r.days_left} day{'s' if r.days_left != -1 else ''} overdue"
    elif r.days_left == 0:
        when = "due today"
    else:
        when = f"due in {r.days_left} day{'s' if r.days_left != 1 else ''}"
    cust = f"  customer {one_line(r.customer_id)}" if r.customer_id else ""
    kind = f"  {one_line(r.type)}" if r.type else ""
    return (
        f"  {one_line(r.task_id)}  P{r.priority}  {r.effort_hours:g} h  "
        f"{r.due_date.isoformat()} ({when}){cust}{kind}"
    )


def _stems(st: Status) -> dict[str, str]:
    """agent_id -> file name stem, over every agent of the status (so a name does not change
    with who happens to have reminders today)."""
    return file_names([*st.agents["agent_id"].astype(str), *st.tasks["agent_id"].astype(str)])


def reminder_message(st: Status, agent_id: str, stems: Mapping[str, str] | None = None) -> EmailMessage:
    """The reminder e-mail of one agent: overdue, due-soon and at-risk tasks, with the capacity
    assumption behind "at risk". Same status, same bytes (Date and Message-ID from `today`).
    Values from the input are folded onto one line; the placeholder address and the Message-ID
    use the agent's file name stem (`stems`, else computed) when the id is not plain ASCII."""
    row = st.agents.set_index("agent_id").loc[agent_id]
    stem = (stems if stems is not None else _stems(st))[agent_id]
    mine = st.agent_tasks(agent_id)
    over, soon, risk = mine[mine["overdue"]], mine[mine["due_soon"]], mine[mine["at_risk"]]
    name = one_line(row["name"])
    msg = EmailMessage()
    msg["From"] = SENDER
    mail = "" if row["email"] == f"{agent_id}@{PLACEHOLDER_DOMAIN}" else row["email"]
    msg["To"] = mailbox(agent_id, name or agent_id, mail, stem)
    msg["Subject"] = (
        f"Reminders {st.today.isoformat()}: {len(over)} overdue, {len(soon)} due within "
        f"{st.horizon_days} days, {len(risk)} at risk"
    )
    msg["Date"] = format_datetime(datetime.combine(st.today, time(7, 0), tzinfo=UTC))
    msg["Message-ID"] = f"<reminders-{st.today.isoformat()}-{stem}@optassign.invalid>"
    lines = [
        f"Hello {name or one_line(agent_id)},",
        "",
        f"your open work as of {st.today.strftime('%A %d %B %Y')}:",
    ]
    for title, part in (
        (f"Overdue ({len(over)})", over),
        (f"Due within {st.horizon_days} days ({len(soon)})", soon),
    ):
        if len(part):
            lines += ["", title + ":"] + [_line(r, st.today) for r in part.itertuples(index=False)]
    if len(risk):
        lines += ["", f"At risk ({len(risk)}): more work is due by then than your working hours allow:"]
        for r in risk.itertuples(index=False):
            lines.append(
                _line(r, st.today)
                + f"\n      {r.hours_due_by:g} h due by then, {r.hours_available_by:g} h available"
            )
    assumption = (
        f"Your hours are the plan's calendar ({row['hours_per_day']:g} h a working day on average), "
        "today included."
        if st.calendar
        else f"Assumption: your {row['capacity_hours']:g} h of capacity a week are spread over Monday to "
        f"Friday ({row['hours_per_day']:g} h a working day), today included."
    )
    lines += [
        "",
        assumption,
        "",
        "-- ",
        "optassign status",
    ]
    msg.set_content("\n".join(lines) + "\n", cte="8bit")  # readable as a file, lines < 998
    return msg


def write_reminders(st: Status, outbox: str | Path) -> list[Path]:
    """One `<name>.eml` per agent with overdue, due-soon or at-risk work, into `outbox`
    (created if needed), and `index.csv` (agent_id,file) beside them; returns the message
    files written, by agent_id. <name> is the agent_id when it is a plain file name, else a
    slug and hash of it (names.file_names)."""
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    stems = _stems(st)
    written, files = [], {}
    who = sorted(set(st.tasks.loc[st.tasks["agent_id"].ne(""), "agent_id"]))
    for agent_id in who:
        files[agent_id] = f"{stems[agent_id]}.eml"
        path = inside(outbox, files[agent_id])
        path.write_bytes(reminder_message(st, agent_id, stems).as_bytes(policy=email.policy.SMTP))
        written.append(path)
    write_index(outbox, files)
    return written
