"""Staffing changes (events.yaml, contract section 4): read them, and apply them to a scenario's
agents one kind at a time (leave, hire, capacity, transfer, skills). Tasks and customers stay."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

import numpy as np
import pandas as pd
from pydantic import ValidationError

from optassign.contract.io import (
    _check_column,
    pydantic_problems,
    read_yaml,
)
from optassign.contract.schema import (
    AGENTS,
    Capacity,
    Column,
    Events,
    Hire,
    InputProblem,
    Leave,
    ScenarioError,
    Skills,
    Transfer,
)
from optassign.scenario.calendar import dated_rows


class Staffed(Protocol):
    """What applying events needs of a scenario (scenario.Scenario is one): its agents, the
    name of its agents file (`config.agents`) and a copy with agents replaced. Said as a
    protocol so that this module, which scenario.py reads events with, needs nothing of it."""

    agents: pd.DataFrame
    config: Any
    calendar: pd.DataFrame | None
    days: Any  # calendar.Days | None

    def replace(self, **changes: Any) -> Self: ...


S = TypeVar("S", bound=Staffed)

EVENT_KINDS = {"leave": Leave, "hire": Hire, "capacity": Capacity, "transfer": Transfer, "skills": Skills}


def read_events(path: Path, problems: list[InputProblem], label: str = "events.yaml") -> Events | None:
    lines: dict[tuple[str, ...], int] = {}
    data = read_yaml(path, problems, label, lines)
    if data is None:
        return None
    if isinstance(data, list):
        data = {"events": data}
        lines = {("events", *k): v for k, v in lines.items()}
    items = data.get("events") if isinstance(data, dict) else None
    if isinstance(items, list):  # each event by its kind, so an error names just that event
        before, events = len(problems), []
        for i, item in enumerate(items):
            kinds = [k for k in EVENT_KINDS if k in item] if isinstance(item, dict) else []
            if len(kinds) != 1:
                shown = ", ".join(map(str, item)) if isinstance(item, dict) else str(item)
                problems.append(
                    InputProblem(
                        label,
                        lines.get(("events", str(i))),
                        f"events.{i}",
                        shown,
                        f"an event is exactly one of: {', '.join(EVENT_KINDS)}",
                    )
                )
                continue
            try:
                events.append(EVENT_KINDS[kinds[0]].model_validate(item))
            except ValidationError as exc:
                problems.extend(pydantic_problems(exc, label, f"events.{i}.", lines, EVENT_KINDS[kinds[0]]))
        if len(problems) > before:
            return None
        data = {**data, "events": events}
    try:
        return Events.model_validate(data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, label, lines=lines, model=Events))
        return None


# --------------------------------------------------------------------------- staffing changes
def apply_events(
    scenario: S,
    events: Events | list,
    *,
    label: str = "events.yaml",
    lines: dict[tuple[str, ...], int] | None = None,
    warnings: list[str] | None = None,
) -> S:
    """The scenario after the staffing changes of events.yaml (contract section 4), applied in
    order to the agents: leave (inactive), hire (a new agents.csv row, validated like one),
    capacity, transfer (regions) and skills.

    Every broken rule (an unknown agent, a hire of an existing agent_id, a malformed cell) is
    collected into one `ScenarioError` naming `label` (events.yaml, or an option such as
    `--leave`), the event as column (`events.2.leave`) and the value. Changes that are legal but
    do nothing (a leave of an agent already inactive, a `to:` agent who cannot receive) are
    appended to `warnings` instead. Tasks and customers are untouched: the plan in force stays."""
    items = list(events.events if isinstance(events, Events) else events)
    agents = scenario.agents.copy()
    agents.attrs = {}
    state = _Applying(agents, label, lines, scenario.config.agents, warnings if warnings is not None else [])
    state.days = scenario.days
    for i, event in enumerate(items):
        APPLY[type(event)](state, i, event)
    if state.problems:
        raise ScenarioError(state.problems)
    state.check_receivers()
    changed = {"agents": state.agents.reset_index(drop=True)}
    if state.dated:  # later rows of one (agent, date) override earlier ones and calendar.csv's
        rows = pd.concat([c for c in [scenario.calendar, *state.dated] if c is not None], ignore_index=True)
        rows = rows.drop_duplicates(["agent_id", "date"], keep="last").reset_index(drop=True)
        rows.attrs = {}
        changed["calendar"] = rows
    return scenario.replace(**changed)


@dataclass
class _Applying:
    """The agents as the events change them, and what the events broke or left undone."""

    agents: pd.DataFrame
    label: str
    lines: dict[tuple[str, ...], int] | None
    agents_file: str
    warnings: list[str]
    problems: list[InputProblem] = field(default_factory=list)
    hired: dict[str, int] = field(default_factory=dict)  # agent_id -> the event that hired it
    receivers: list[tuple[int, str, str]] = field(default_factory=list)  # (event, leaver, to)
    days: Any = None  # the horizon's days (calendar.Days), None without a horizon
    dated: list[pd.DataFrame] = field(default_factory=list)  # calendar rows the events wrote

    def calendar_rows(
        self, i: int, key: str, agent_id: str, start, until, hours: float, working: bool
    ) -> None:
        """Calendar rows for a dated event, or a problem when the batch has no horizon."""
        if self.days is None:
            self.problem(
                i, key, agent_id, "a dated event needs a horizon in scenario.yaml (horizon: {start, days})"
            )
            return
        self.dated.append(dated_rows(agent_id, self.days, start, until, hours, working))

    @property
    def option(self) -> bool:
        """Events given as a command-line option (`--leave`), not as events.yaml."""
        return self.label.startswith("-")

    def problem(self, i: int, key: str, value: object, rule: str) -> None:
        column = None if self.option else f"events.{i}.{key}"
        self.problems.append(InputProblem(self.label, self._line(i, key), column, str(value), rule))

    def _line(self, i: int, key: str) -> int | None:
        if not self.lines:
            return None
        path = ("events", str(i), *key.split("."))
        for n in range(len(path), 1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

    def position(self, i: int, key: str, agent_id: str) -> int | None:
        """The row of agent_id, or None with a problem."""
        hit = np.flatnonzero(self.agents["agent_id"].to_numpy(dtype=object) == agent_id)
        if len(hit):
            return int(hit[0])
        self.problem(i, key, agent_id, f"not an agent_id of {self.agents_file}")
        return None

    def where(self, i: int) -> str:
        return self.label if self.option else f"{self.label} event {i}"

    def set(self, pos: int, column: str, value: object) -> None:
        self.agents.loc[self.agents.index[pos], column] = value

    def check_receivers(self) -> None:
        """`to:` agents named for a leaver's work who cannot receive it: warnings, not errors."""
        active = dict(zip(self.agents["agent_id"], self.agents["active"].astype(bool), strict=True))
        for i, leaver, target in self.receivers:
            if target == leaver:
                self.warnings.append(f"{self.where(i)}: {leaver} is named among its own receivers; ignored")
            elif not active[target]:
                self.warnings.append(
                    f"{self.where(i)}: {target} is inactive and cannot receive {leaver}'s work"
                )


def _leave(state: _Applying, i: int, event: Leave) -> None:
    """The agent becomes inactive, or (dated) has no hours from `from` until `until`; its `to:`
    agents are checked once every event is applied."""
    pos = state.position(i, "leave", event.leave)
    for j, target in enumerate(event.to or []):
        key = "to" if len(event.to or []) == 1 else f"to.{j}"
        if state.position(i, key, target) is not None:
            state.receivers.append((i, event.leave, target))
    if pos is None:
        return
    if event.dated:
        state.calendar_rows(i, "leave", event.leave, event.from_, event.until, 0.0, working=False)
        return
    if not bool(state.agents["active"].iat[pos]):
        state.warnings.append(
            f"{state.where(i)}: {event.leave} is already inactive; the leave changes nothing"
        )
    state.set(pos, "active", False)


def _hire(state: _Applying, i: int, event: Hire) -> None:
    """A new agents.csv row, validated like one; its agent_id must be new."""
    row = _hire_row(event.hire, state.agents, i, state.problem)
    agent_id = str(event.hire.get("agent_id")).strip()
    if agent_id in state.hired:
        state.problem(
            i, "hire.agent_id", agent_id, f"agent_id already hired by events.{state.hired[agent_id]}"
        )
        return
    if agent_id in set(state.agents["agent_id"]):
        state.problem(i, "hire.agent_id", agent_id, f"agent_id already exists in {state.agents_file}")
        return
    if row is None:
        return
    state.hired[agent_id] = i
    agents = state.agents
    for name in row:
        if name not in agents.columns:  # an extra column only the hire has
            agents[name] = ""
    state.agents = pd.concat([agents, pd.DataFrame([row])], ignore_index=True)
    state.agents.attrs = {}


def _capacity(state: _Applying, i: int, event: Capacity) -> None:
    """The agent's capacity_hours for the batch, or its hours_per_day on some days."""
    change = event.capacity
    pos = state.position(i, "capacity.agent", change.agent)
    if pos is None:
        return
    if change.hours_per_day is None:
        state.set(pos, "capacity_hours", float(change.capacity_hours))
    else:  # the agent's working days from..until (the whole horizon when undated)
        state.calendar_rows(
            i, "capacity.agent", change.agent, change.from_, change.until, change.hours_per_day, working=True
        )


def _transfer(state: _Applying, i: int, event: Transfer) -> None:
    """The agent's regions, checked as an agents.csv cell."""
    change = event.transfer
    pos = state.position(i, "transfer.agent", change.agent)
    text = _cell_text(change.regions)
    ok = _check_cells(AGENTS.column("regions"), text, i, "transfer.regions", state.problem)
    if pos is not None and ok is not None:
        state.set(pos, "regions", text)


def _skills(state: _Applying, i: int, event: Skills) -> None:
    """The agent's skills and levels, checked as an agents.csv cell."""
    change = event.skills
    text = _cell_text(change.skills)
    ok = _check_cells(AGENTS.column("skills"), text, i, "skills.skills", state.problem)
    pos = state.position(i, "skills.agent", change.agent)
    if pos is not None and ok:
        state.set(pos, "skills", text)


# How each kind of event changes the agents, as EVENT_KINDS names them.
APPLY = {Leave: _leave, Hire: _hire, Capacity: _capacity, Transfer: _transfer, Skills: _skills}


def _cell_text(value: object) -> str:
    """A YAML value as the CSV cell it stands for: lists joined with `;`, booleans as words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(_cell_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _check_cells(col, text: str, i: int, key: str, problem) -> object | None:
    """One cell checked by the agents.csv rule of its column; its typed value, or None (and a
    problem named after the event) when broken."""
    found: list[InputProblem] = []
    typed = _check_column(pd.Series([text], dtype=object), col, np.array([0]), "", found)
    for p in found:
        problem(i, key, p.value, p.rule)
    return None if found else typed.iat[0]


def _hire_row(hire: dict, agents: pd.DataFrame, i: int, problem) -> dict | None:
    """A hire as a typed agents row: contract columns checked like agents.csv cells, extra
    columns kept as text, columns the hire leaves out at their defaults."""
    cells = {str(k).strip(): _cell_text(v) for k, v in hire.items()}
    row: dict[str, object] = {}
    ok = True
    for col in AGENTS.columns:
        text = cells.get(col.name, "")
        if col.name not in cells or text == "":
            if col.nonempty:
                problem(i, f"hire.{col.name}", text, "a value is required")
                ok = False
                continue
            if col.kind in ("number", "integer"):
                row[col.name] = np.nan if col.default is None else float(col.default)
            elif col.kind == "bool":
                row[col.name] = bool(col.default)
            else:
                row[col.name] = "" if col.default is None else col.default
            continue
        value = _check_cells(col, text, i, f"hire.{col.name}", problem)
        if value is None:
            ok = False
        row[col.name] = value
    for name, noun in AGENTS.plain_extras:  # e.g. email: checked like the agents.csv column
        if (
            cells.get(name)
            and _check_cells(Column(name, plain=noun), cells[name], i, f"hire.{name}", problem) is None
        ):
            ok = False
    for name in agents.columns:
        row.setdefault(name, cells.get(name, ""))
    for name, text in cells.items():
        row.setdefault(name, text)
    return row if ok else None
