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
    Events,
    InputProblem,
    Policy,
    ScenarioConfig,
    ScenarioError,
)
from optassign.scenario.calendar import Days, horizon_days, read_calendar
from optassign.scenario.events import (
    read_events,
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
    # v1.1: calendar.csv rows (agent_id, date, hours) and what reading the inputs warned of
    calendar: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()

    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (e.g. another policy or changed staff)."""
        return dataclasses.replace(self, **changes)

    # -- parsed views, derived once -------------------------------------------------------
    @cached_property
    def days(self) -> Days | None:
        """The horizon's days (None without a horizon: the batch has no time)."""
        return horizon_days(self.config.horizon)

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
    warnings: list[str] = []
    calendar = None
    cal_name = config.calendar or "calendar.csv"
    if config.calendar is not None or (folder / cal_name).is_file():
        calendar = read_calendar(
            folder / cal_name,
            problems,
            cal_name,
            horizon_days(config.horizon),
            None if agents is None else pd.Index(agents["agent_id"]),
            config.agents,
            warnings,
        )
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
        calendar=calendar,
        warnings=tuple(warnings),
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
