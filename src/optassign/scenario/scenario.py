"""`Scenario`: the validated inputs of one batch as DataFrames (agents, tasks, customers) with
their policy. Built by `load_scenario` from a folder, or directly from DataFrames in a notebook."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from optassign.contract.io import (
    _check_column,
    explode_list,
    file_sha256,
    parse_skills,
    pydantic_problems,
    read_table,
    read_yaml,
)
from optassign.contract.schema import (
    AGENTS,
    CONTROL_CHARS,
    CUSTOMERS,
    TASKS,
    Capacity,
    Column,
    Events,
    Hire,
    InputProblem,
    Leave,
    Policy,
    ScenarioConfig,
    ScenarioError,
    Skills,
    Transfer,
)
from optassign.scenario.policy import is_policy_path, load_policy

__all__ = ["Scenario", "load_scenario", "scenario_from_frames"]


@dataclass(frozen=True)
class Scenario:
    """Agents, tasks and (optionally) customers of one batch, already validated.

    Frames keep the contract's column names with typed values (numbers as float, booleans as
    bool, dates as datetime64, texts as str with "" for absent) plus any extra columns."""

    name: str
    agents: pd.DataFrame
    tasks: pd.DataFrame
    customers: pd.DataFrame | None
    policy: Policy
    description: str = ""
    folder: Path | None = None
    config: ScenarioConfig = field(default_factory=ScenarioConfig)
    events: Events | None = None
    hashes: dict[str, str] = field(default_factory=dict)

    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (e.g. another policy or changed staff)."""
        return dataclasses.replace(self, **changes)

    # -- parsed views, derived once -------------------------------------------------------
    @cached_property
    def agent_skills(self) -> pd.DataFrame:
        """Long frame (row, skill, level) of agents' skills; row is the agent's position."""
        return parse_skills(self.agents["skills"])

    @cached_property
    def task_skills(self) -> pd.DataFrame:
        return parse_skills(self.tasks["required_skills"])

    @cached_property
    def customer_skills(self) -> pd.DataFrame:
        if self.customers is None:
            return parse_skills(pd.Series([], dtype=object))
        return parse_skills(self.customers["required_skills"])

    @cached_property
    def agent_regions(self) -> pd.DataFrame:
        """Long frame (row, item) of the regions each agent covers; `*` stands for all."""
        return explode_list(self.agents["regions"])

    @cached_property
    def task_region(self) -> pd.Series:
        """Where each task's work is: its own region, else its customer's, else "" (anywhere)."""
        region = self.tasks["region"].astype(str)
        if self.customers is not None and len(self.tasks):
            by_customer = self.customers.set_index("customer_id")["region"]
            inherited = self.tasks["customer_id"].map(by_customer).fillna("")
            region = region.where(region.ne(""), inherited)
        return region

    @property
    def skill_names(self) -> list[str]:
        return sorted(
            set(self.agent_skills["skill"])
            | set(self.task_skills["skill"])
            | set(self.customer_skills["skill"])
        )


# --------------------------------------------------------------------------- loading
def load_scenario(folder: str | Path, *, policy: str | Policy | None = None) -> Scenario:
    """Read and validate a scenario folder; raise `ScenarioError` listing every problem."""
    folder = Path(folder)
    problems: list[InputProblem] = []
    if not folder.is_dir():
        raise ScenarioError([InputProblem(str(folder), None, None, None, "scenario folder not found")])
    lines: dict[tuple[str, ...], int] = {}
    config = _read_config(folder, problems, lines)
    broken = config is None  # still read the tables that exist, to report all problems together
    config = config or ScenarioConfig()

    def table(name: str, spec):
        path = folder / name
        return None if broken and not path.exists() else read_table(path, spec, problems, name)

    agents = table(config.agents, AGENTS)
    tasks = table(config.tasks, TASKS)
    cust_name = config.customers or "customers.csv"
    customers = None
    if config.customers is not None or (folder / cust_name).is_file():
        customers = table(cust_name, CUSTOMERS)
    events = None
    events_name = config.events or "events.yaml"
    if config.events is not None or (folder / events_name).is_file():
        events = read_events(folder / events_name, problems, events_name)
    if agents is not None and len(agents) == 0:  # nothing could receive work: refuse at the edge
        problems.append(
            InputProblem(config.agents, 1, None, None, "no agent rows: at least one agent is required")
        )
    chosen = policy if policy is not None else None if broken else config.policy
    # paths inside scenario.yaml are relative to its folder; names are looked up in models/ only
    base = folder if policy is None and isinstance(chosen, str) and is_policy_path(chosen) else None
    resolved: Policy | None = None
    try:
        if isinstance(chosen, Policy) or chosen is None:
            resolved = chosen
        else:
            resolved = load_policy(chosen, base=base)
    except ScenarioError as exc:  # name where the policy was chosen: the option or scenario.yaml
        where = ("scenario.yaml", lines.get(("policy",)), "policy")
        if policy is not None:
            where = ("--policy", None, None)
        for q in exc.problems:
            problems.append(InputProblem(*where, q.value, q.rule) if q.file == "policy" else q)
    if agents is None or tasks is None or len(agents) == 0:
        raise ScenarioError(problems)
    scenario = Scenario(
        name=config.name or folder.name,
        description=config.description,
        agents=agents,
        tasks=tasks,
        customers=customers,
        policy=resolved or Policy(),
        folder=folder,
        config=config,
        events=events,
        hashes={
            p.name: file_sha256(p)
            for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix in (".csv", ".yaml", ".yml")
        },
    )
    # with problems already, cells may be broken: check only references, not pins
    validate_references(scenario, problems, (config.agents, config.tasks, cust_name), pins=not problems)
    if problems:
        raise ScenarioError(problems)
    return scenario


def scenario_from_frames(
    agents: pd.DataFrame,
    tasks: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    policy: Policy | str = "balanced",
    name: str = "scenario",
) -> Scenario:
    """Build a validated scenario from DataFrames (e.g. in a notebook), by the same rules as files."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        agents.to_csv(folder / "agents.csv", index=False)
        tasks.to_csv(folder / "tasks.csv", index=False)
        if customers is not None:
            customers.to_csv(folder / "customers.csv", index=False)
        (folder / "scenario.yaml").write_text(f"name: {name}\n", encoding="utf-8")
        scenario = load_scenario(folder, policy=policy)
    return scenario.replace(folder=None)


def _read_config(
    folder: Path, problems: list[InputProblem], lines: dict[tuple[str, ...], int] | None = None
) -> ScenarioConfig | None:
    path = folder / "scenario.yaml"
    if not path.is_file():
        problems.append(InputProblem("scenario.yaml", None, None, None, "file not found"))
        return None
    lines = {} if lines is None else lines
    data = read_yaml(path, problems, "scenario.yaml", lines)
    if problems:
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(InputProblem("scenario.yaml", None, None, None, "expected a mapping of keys"))
        return None
    before = len(problems)
    policy = data.get("policy")
    if isinstance(policy, dict):  # inline: validated alone so errors name policy.<key>
        try:
            data = {**data, "policy": Policy.model_validate(policy)}
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc, "scenario.yaml", "policy.", lines, model=Policy))
    elif "policy" in data and not isinstance(policy, str):
        problems.append(
            InputProblem(
                "scenario.yaml",
                lines.get(("policy",)),
                "policy",
                None if isinstance(policy, list) else str(policy),
                "expected a policy name, a policy file or a mapping of policy keys",
            )
        )
    if len(problems) > before:
        data = {k: v for k, v in data.items() if k != "policy"}
    try:
        config = ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, "scenario.yaml", lines=lines, model=ScenarioConfig))
        return None
    return None if len(problems) > before else config


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


def validate_references(
    s: Scenario, problems: list[InputProblem], names: tuple[str, str, str], *, pins: bool = True
) -> None:
    """Rules that span files: references resolve, pinned tasks can legally stay where they are
    (the latter only with `pins`, as it needs valid numbers and skills)."""
    agents_file, tasks_file, customers_file = names
    agent_ids = pd.Index(s.agents["agent_id"])
    tasks, lines = s.tasks, s.tasks.attrs.get("lines", np.arange(len(s.tasks)) + 2)

    def flag(frame_lines, mask, file, column, values, rule) -> None:
        for i in np.flatnonzero(np.asarray(mask)):
            problems.append(InputProblem(file, int(frame_lines[i]), column, str(values.iat[i]), rule))

    def reported(values: pd.Series) -> pd.Series:  # cells refused already for a control character
        return values.astype(str).str.contains(CONTROL_CHARS, regex=True)

    known_agent = tasks["assigned_to"].isin(agent_ids) | tasks["assigned_to"].eq("")
    known_agent |= reported(tasks["assigned_to"])
    flag(
        lines,
        ~known_agent,
        tasks_file,
        "assigned_to",
        tasks["assigned_to"],
        f"not an agent_id of {agents_file}",
    )
    if s.customers is not None:
        c_lines = s.customers.attrs.get("lines", np.arange(len(s.customers)) + 2)
        known_cust = tasks["customer_id"].isin(s.customers["customer_id"]) | tasks["customer_id"].eq("")
        known_cust |= reported(tasks["customer_id"])
        flag(
            lines,
            ~known_cust,
            tasks_file,
            "customer_id",
            tasks["customer_id"],
            f"not a customer_id of {customers_file}",
        )
        owner = s.customers["owner_id"]
        flag(
            c_lines,
            ~(owner.isin(agent_ids) | owner.eq("") | reported(owner)),
            customers_file,
            "owner_id",
            owner,
            f"not an agent_id of {agents_file}",
        )
    pinned = tasks["pinned"].to_numpy(dtype=bool)
    flag(
        lines,
        pinned & tasks["assigned_to"].eq("").to_numpy(),
        tasks_file,
        "pinned",
        tasks["pinned"].map({True: "true", False: "false"}),
        "a pinned task needs assigned_to",
    )
    if not pins:
        return
    _validate_pins(
        s,
        problems,
        tasks_file,
        lines,
        pinned & known_agent.to_numpy() & tasks["assigned_to"].ne("").to_numpy(),
    )


def _validate_pins(
    s: Scenario, problems: list[InputProblem], tasks_file: str, lines: np.ndarray, pinned: np.ndarray
) -> None:
    """A pin to an active agent must be legal: region (when hard), skills, and the pinned hours
    and count of one agent must fit that agent's limits."""
    if not pinned.any():
        return
    agents = s.agents.set_index("agent_id")
    skills = {}
    for row, skill, level in s.agent_skills.itertuples(index=False):
        skills.setdefault(int(row), {})[skill] = int(level)
    pos = {a: i for i, a in enumerate(s.agents["agent_id"])}
    regions: dict[int, set[str]] = {}
    for row, item in s.agent_regions.itertuples(index=False):
        regions.setdefault(int(row), set()).add(item)
    need: dict[int, list[tuple[str, int]]] = {}
    for row, skill, level in s.task_skills.itertuples(index=False):
        need.setdefault(int(row), []).append((skill, int(level)))
    task_region = s.task_region
    for i in np.flatnonzero(pinned):
        agent = s.tasks["assigned_to"].iat[i]
        a = pos[agent]
        if not bool(agents["active"].iat[a]):
            continue  # an inactive agent's pin cannot hold; the plan reports it as broken
        region = task_region.iat[i]
        cover = regions.get(a, set())
        if s.policy.region == "hard" and region and "*" not in cover and region not in cover:
            problems.append(
                InputProblem(
                    tasks_file,
                    int(lines[i]),
                    "assigned_to",
                    agent,
                    f"region not covered: pinned to an agent who does not cover region {region}",
                )
            )
        for skill, level in need.get(i, []):
            have = skills.get(a, {}).get(skill, 0)
            if have < level:
                problems.append(
                    InputProblem(
                        tasks_file,
                        int(lines[i]),
                        "assigned_to",
                        agent,
                        f"skill level too low: pinned to an agent with {skill}={have}, "
                        f"task needs {skill}>={level}",
                    )
                )
    frame = pd.DataFrame(
        {
            "agent": s.tasks["assigned_to"].to_numpy()[pinned],
            "effort": s.tasks["effort_hours"].to_numpy()[pinned],
            "line": np.asarray(lines)[pinned],
        }
    )
    for agent, group in frame.groupby("agent", sort=True):
        row = agents.loc[agent]
        if not bool(row["active"]):
            continue
        hours, count = group["effort"].cumsum().to_numpy(), np.arange(1, len(group) + 1)
        on = ("line " if len(group) == 1 else "lines ") + ", ".join(str(int(n)) for n in group["line"])
        over = np.flatnonzero(hours > row["capacity_hours"] + 1e-9)
        if len(over):  # located on the first pin that no longer fits
            problems.append(
                InputProblem(
                    tasks_file,
                    int(group["line"].iat[over[0]]),
                    "assigned_to",
                    agent,
                    f"pinned hours above the agent's capacity: tasks pinned to {agent} ({on}) take "
                    f"{hours[-1]:g} h, more than its capacity_hours {row['capacity_hours']:g}",
                )
            )
        if not np.isnan(row["max_tasks"]) and count[-1] > row["max_tasks"]:
            problems.append(
                InputProblem(
                    tasks_file,
                    int(group["line"].iat[int(row["max_tasks"])]),
                    "assigned_to",
                    agent,
                    f"more pins than max_tasks: {count[-1]} tasks pinned to {agent} ({on}), "
                    f"more than its max_tasks {int(row['max_tasks'])}",
                )
            )


# --------------------------------------------------------------------------- staffing changes
def apply_events(
    scenario: Scenario,
    events: Events | list,
    *,
    label: str = "events.yaml",
    lines: dict[tuple[str, ...], int] | None = None,
    warnings: list[str] | None = None,
) -> Scenario:
    """The scenario after the staffing changes of events.yaml (contract section 4), applied in
    order to the agents: leave (inactive), hire (a new agents.csv row, validated like one),
    capacity, transfer (regions) and skills.

    Every broken rule (an unknown agent, a hire of an existing agent_id, a malformed cell) is
    collected into one `ScenarioError` naming `label` (events.yaml, or an option such as
    `--leave`), the event as column (`events.2.leave`) and the value. Changes that are legal but
    do nothing (a leave of an agent already inactive, a `to:` agent who cannot receive) are
    appended to `warnings` instead. Tasks and customers are untouched: the plan in force stays."""
    items = list(events.events if isinstance(events, Events) else events)
    warnings = warnings if warnings is not None else []
    problems: list[InputProblem] = []
    agents = scenario.agents.copy()
    agents.attrs = {}
    agents_file = scenario.config.agents
    option = label.startswith("-")

    def column(i: int, key: str) -> str | None:
        return None if option else f"events.{i}.{key}"

    def line(i: int, key: str) -> int | None:
        if not lines:
            return None
        path = ("events", str(i), *key.split("."))
        for n in range(len(path), 1, -1):
            if path[:n] in lines:
                return lines[path[:n]]
        return None

    def problem(i: int, key: str, value: object, rule: str) -> None:
        problems.append(InputProblem(label, line(i, key), column(i, key), str(value), rule))

    def position(i: int, key: str, agent_id: str) -> int | None:
        hit = np.flatnonzero(agents["agent_id"].to_numpy(dtype=object) == agent_id)
        if len(hit):
            return int(hit[0])
        problem(i, key, agent_id, f"not an agent_id of {agents_file}")
        return None

    def where(i: int) -> str:
        return label if option else f"{label} event {i}"

    hired: dict[str, int] = {}
    receivers: list[tuple[int, str, str]] = []  # (event, leaver, to-agent) checked at the end
    for i, event in enumerate(items):
        if isinstance(event, Leave):
            pos = position(i, "leave", event.leave)
            for j, target in enumerate(event.to or []):
                key = "to" if len(event.to or []) == 1 else f"to.{j}"
                if position(i, key, target) is not None:
                    receivers.append((i, event.leave, target))
            if pos is None:
                continue
            if not bool(agents["active"].iat[pos]):
                warnings.append(f"{where(i)}: {event.leave} is already inactive; the leave changes nothing")
            agents.loc[agents.index[pos], "active"] = False
        elif isinstance(event, Hire):
            row = _hire_row(event.hire, agents, i, problem)
            agent_id = str(event.hire.get("agent_id")).strip()
            if agent_id in hired:
                problem(i, "hire.agent_id", agent_id, f"agent_id already hired by events.{hired[agent_id]}")
                continue
            if agent_id in set(agents["agent_id"]):
                problem(i, "hire.agent_id", agent_id, f"agent_id already exists in {agents_file}")
                continue
            if row is None:
                continue
            hired[agent_id] = i
            for name in row:
                if name not in agents.columns:  # an extra column only the hire has
                    agents[name] = ""
            agents = pd.concat([agents, pd.DataFrame([row])], ignore_index=True)
            agents.attrs = {}
        elif isinstance(event, Capacity):
            change = event.capacity
            pos = position(i, "capacity.agent", change.agent)
            if pos is not None:
                agents.loc[agents.index[pos], "capacity_hours"] = float(change.capacity_hours)
        elif isinstance(event, Transfer):
            change = event.transfer
            pos = position(i, "transfer.agent", change.agent)
            text = _cell_text(change.regions)
            ok = _check_cells(AGENTS.column("regions"), text, i, "transfer.regions", problem)
            if pos is not None and ok is not None:
                agents.loc[agents.index[pos], "regions"] = text
        elif isinstance(event, Skills):
            change = event.skills
            text = _cell_text(change.skills)
            ok = _check_cells(AGENTS.column("skills"), text, i, "skills.skills", problem)
            pos = position(i, "skills.agent", change.agent)
            if pos is not None and ok:
                agents.loc[agents.index[pos], "skills"] = text
    if problems:
        raise ScenarioError(problems)
    active = dict(zip(agents["agent_id"], agents["active"].astype(bool), strict=True))
    for i, leaver, target in receivers:
        if target == leaver:
            warnings.append(f"{where(i)}: {leaver} is named among its own receivers; ignored")
        elif not active[target]:
            warnings.append(f"{where(i)}: {target} is inactive and cannot receive {leaver}'s work")
    return scenario.replace(agents=agents.reset_index(drop=True))


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
