"""The rules of the input: column specifications of the contract's CSV files and the
pydantic models of scenario.yaml, policies and events. io.py applies them at the edge."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# --------------------------------------------------------------------------- errors
# What a message may echo: a value or a key is cut to SHOWN characters, a rule to RULE_CHARS,
# the whole rendered message to MESSAGE_CHARS. A hostile cell (a 1 GB line, an alias bomb) must
# never turn into a message larger than the input a person can read.
SHOWN = 80
RULE_CHARS = 400
MESSAGE_CHARS = 16_000


def shorten(text: object, limit: int = SHOWN) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def visible(text: str) -> str:
    """`text` with control characters spelled out (a key or header name is printed as is, and
    an escape sequence must not reach the terminal or a log line as one)."""
    return re.sub(CONTROL_CHARS, lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True, order=True)
class InputProblem:
    """One broken rule of the input, located as precisely as the input allows. Values, keys and
    rules are shortened on creation, so no producer can echo a whole hostile cell."""

    file: str
    line: int | None
    column: str | None
    value: str | None
    rule: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "file", visible(shorten(self.file, 2 * SHOWN)))
        if self.column is not None:
            object.__setattr__(self, "column", visible(shorten(self.column)))
        if self.value is not None:
            object.__setattr__(self, "value", shorten(self.value))
        object.__setattr__(self, "rule", visible(shorten(self.rule, RULE_CHARS)))

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        shown = "" if self.value is None else f" value {self.value!r}:"
        return f"{where}:{shown} {self.rule}"


class ScenarioError(ValueError):
    """All the problems found in an input, reported together."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = sorted(set(problems), key=_problem_order)
        super().__init__(self.render())

    def render(self, limit: int = 50) -> str:
        """The first `limit` problems, and no more than MESSAGE_CHARS characters of them."""
        shown: list[str] = []
        size = 0
        for p in self.problems[:limit]:
            text = str(p)
            if shown and size + len(text) > MESSAGE_CHARS:
                break
            shown.append(text)
            size += len(text) + 3
        more = len(self.problems) - len(shown)
        if more > 0:
            shown.append(f"... and {more} more")
        head = "1 problem" if len(self.problems) == 1 else f"{len(self.problems)} problems"
        return f"{head} in the input:\n" + "\n".join(f"  {s}" for s in shown)


def _problem_order(p: InputProblem) -> tuple:
    return (p.file, p.line if p.line is not None else -1, p.column or "", p.rule, p.value or "")


# --------------------------------------------------------------------------- CSV columns
Kind = Literal["id", "text", "ref", "list", "skills", "number", "integer", "bool", "tier", "date"]


@dataclass(frozen=True)
class Column:
    """A contract column: its kind, whether the column must exist, whether a cell may be empty,
    bounds for numbers and the default of an empty cell.

    `plain` names what the cell is ("an id", "a region") when it must hold no control character:
    ids, names and codes end up in file names, mail headers and report lines, where a line break
    or a NUL breaks the output long after the solve. `exact` refuses number text with more
    significant digits than a float keeps: the engine and an independent checker must agree on
    what the number is."""

    name: str
    kind: Kind = "text"
    required: bool = False
    nonempty: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    default: object = None
    plain: str | None = None
    exact: bool = False

    @property
    def plain_noun(self) -> str | None:
        """What a control character is refused in: ids and references are always plain."""
        return "an id" if self.kind in ("id", "ref") else self.plain


@dataclass(frozen=True)
class Table:
    """A contract CSV: its columns, and the extra columns (not in the contract, e.g. `email`)
    that get the plain-text rule when present."""

    file: str
    key: str
    columns: tuple[Column, ...] = field(default_factory=tuple)
    plain_extras: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


# Upper bounds that keep every number well inside the solver's 64-bit integers after scaling
# (hours in hundredths, points in ten-thousandths, summed over a million tasks).
MAX_HOURS = 1_000_000.0
MAX_COST = 1_000_000.0
MAX_COUNT = 1_000_000_000.0
MAX_POINTS = 1_000_000.0

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
CONTROL_CHARS = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"
CONTROL_NAMES = {
    0x00: "NUL",
    0x09: "tab",
    0x0A: "line break",
    0x0B: "vertical tab",
    0x0C: "form feed",
    0x0D: "carriage return",
    0x1B: "escape",
    0x7F: "DEL",
    0x85: "next line",
    0x2028: "line separator",
    0x2029: "paragraph separator",
}


def control_rule(text: str, noun: str) -> str | None:
    """The rule broken by the first control character of `text`, or None when there is none."""
    hit = re.search(CONTROL_CHARS, text)
    if hit is None:
        return None
    code = ord(hit.group())
    what = CONTROL_NAMES.get(code, "control character")
    return f"control character U+{code:04X} ({what}) not allowed in {noun}"


SKILL_LEVELS = (1, 5)
PRIORITIES = (1, 5)
TIERS = ("A", "B", "C")

AGENTS = Table(
    "agents.csv",
    "agent_id",
    (
        Column("agent_id", "id", required=True, nonempty=True),
        Column("name", plain="a name"),
        Column("team", plain="a team"),
        Column("role", plain="a role"),
        Column("regions", "list", default="", plain="a region"),
        Column("skills", "skills", default="", plain="a skill"),
        Column(
            "capacity_hours",
            "number",
            required=True,
            nonempty=True,
            minimum=0,
            maximum=MAX_HOURS,
            exact=True,
        ),
        Column("max_tasks", "integer", minimum=0, maximum=MAX_COUNT),
        Column("max_customers", "integer", minimum=0, maximum=MAX_COUNT),
        Column("active", "bool", default=True),
        Column("cost_per_hour", "number", minimum=0, maximum=MAX_COST, default=0.0),
        # v1.1: the hours of each working day of the horizon (instead of capacity_hours spread)
        Column("hours_per_day", "number", minimum=0, maximum=24, exact=True),
    ),
    plain_extras=(("email", "an email address"),),
)

CUSTOMERS = Table(
    "customers.csv",
    "customer_id",
    (
        Column("customer_id", "id", required=True, nonempty=True),
        Column("name", plain="a name"),
        Column("region", plain="a region"),
        Column("segment"),
        Column("tier", "tier", default="C"),
        Column("stage"),
        Column("owner_id", "ref"),
        Column("required_skills", "skills", default="", plain="a skill"),
        Column("ownership_hours", "number", minimum=0, maximum=MAX_HOURS, default=0.0, exact=True),
    ),
)

TASKS = Table(
    "tasks.csv",
    "task_id",
    (
        Column("task_id", "id", required=True, nonempty=True),
        Column("customer_id", "ref"),
        Column("type", plain="a task type"),
        Column("required_skills", "skills", default="", plain="a skill"),
        Column("region", plain="a region"),
        Column("priority", "integer", required=True, nonempty=True, minimum=1, maximum=5),
        Column(
            "effort_hours",
            "number",
            required=True,
            nonempty=True,
            minimum=0,
            exclusive_minimum=True,
            maximum=MAX_HOURS,
            exact=True,
        ),
        Column("due_date", "date"),
        Column("assigned_to", "ref"),
        Column("pinned", "bool", default=False),
    ),
)

# v1.1: an agent's available hours day by day within the horizon (the days it names)
CALENDAR = Table(
    "calendar.csv",
    "agent_id",
    (
        Column("agent_id", "ref", required=True, nonempty=True),
        Column("date", "date", required=True, nonempty=True),
        Column("hours", "number", required=True, nonempty=True, minimum=0, maximum=24, exact=True),
    ),
)

# Plan files read back as "the plan in force" (handover) or for comparison.
PLAN_ASSIGNMENTS = Table(
    "assignments.csv",
    "task_id",
    (Column("task_id", "id", required=True, nonempty=True), Column("agent_id", "ref", required=True)),
)
PLAN_OWNERS = Table(
    "owners.csv",
    "customer_id",
    (Column("customer_id", "id", required=True, nonempty=True), Column("owner_id", "ref", required=True)),
)

TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})
CONTEXT_COLUMNS = ("notes", "history", "special_notes")


# --------------------------------------------------------------------------- policies
Points = Annotated[float, Field(ge=0, le=MAX_POINTS)]
PriorityValues = dict[Annotated[int, Field(ge=1, le=5)], Points]
TERMS = (
    "service",
    "ownership",
    "cross_region",
    "overqualification",
    "cost",
    "keep_assignee",
    "keep_owner_tasks",
    "keep_customer_owner",
    "agents_per_customer",
    "balance",
    # v1.1, with a horizon: work due sooner is worth more; late work costs (soft due dates)
    "urgency",
    "lateness",
)
# Terms that stand with service in its stage unless a policy's stages name them.
SERVICE_COMPANIONS = ("urgency", "lateness")


class Policy(BaseModel):
    """Weights and switches of the objective. Units are "points": serving a task of priority p
    earns `priority_value[p]` points, every other weight is in points per its own unit."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = "custom"
    description: str = ""
    priority_value: PriorityValues = Field(
        default_factory=lambda: {1: 1.0, 2: 2.0, 3: 4.0, 4: 8.0, 5: 16.0},
        description="points for serving one task of each priority level",
    )
    region: Literal["hard", "soft"] = "hard"
    cross_region_penalty: float = Field(
        2.0, ge=0, le=MAX_POINTS, description="points per task outside the agent's regions (soft)"
    )
    balance: Literal["none", "max_utilization", "spread"] = "max_utilization"
    balance_weight: float = Field(
        5.0, ge=0, le=MAX_POINTS, description="points per 100% of the balance measure"
    )
    keep_assignee_weight: float = Field(
        0.5, ge=0, le=MAX_POINTS, description="points per task kept with assigned_to"
    )
    keep_owner_tasks_weight: float = Field(
        0.25, ge=0, le=MAX_POINTS, description="points per task given to its customer's owner"
    )
    keep_customer_owner_weight: float = Field(
        1.0, ge=0, le=MAX_POINTS, description="points per customer kept with its owner"
    )
    agents_per_customer_weight: float = Field(
        0.0, ge=0, le=MAX_POINTS, description="points per extra agent serving a customer"
    )
    overqualification_weight: float = Field(
        0.05, ge=0, le=MAX_POINTS, description="points per skill level above the required"
    )
    cost_weight: float = Field(
        0.0, ge=0, le=MAX_POINTS, description="points per unit of cost (cost_per_hour x effort_hours)"
    )
    disruption_by_priority: PriorityValues = Field(
        default_factory=lambda: {1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0},
        description="factor on keep_assignee_weight by the task's priority (moving urgent work hurts more)",
    )
    disruption_by_tier: dict[Literal["A", "B", "C"], Points] = Field(
        default_factory=lambda: {"A": 1.0, "B": 1.0, "C": 1.0},
        description="factor on keep_customer_owner_weight by the customer's tier",
    )
    ownership_value: dict[Literal["A", "B", "C"], Points] = Field(
        default_factory=lambda: {"A": 6.0, "B": 3.0, "C": 1.0},
        description="points for giving a customer of each tier an owner",
    )
    due_dates: Literal["hard", "soft", "off"] | None = Field(
        None,
        description="with a horizon: hard = no task late, soft = late at a price, off = dates ignored;"
        " empty = soft when the scenario has a horizon",
    )
    late_penalty: PriorityValues = Field(
        default_factory=lambda: {1: 0.1, 2: 0.2, 3: 0.4, 4: 0.8, 5: 1.6},
        description="points per hour of a task done after its due date, by priority (soft due dates)",
    )
    urgency_weight: float = Field(
        0.0,
        ge=0,
        le=MAX_POINTS,
        description="extra share of a task's priority points for work due on the first day, falling"
        " to 0 at the horizon's end",
    )
    stages: list[list[str]] | None = Field(
        None, description="lexicographic stages: each a list of terms, optimised in order"
    )
    stage_tolerance: float = Field(0.0, ge=0, le=0.5, description="relative slack allowed on earlier stages")
    min_relative_gain: float = Field(
        0.002,
        ge=0,
        le=1,
        description="share of its value a re-solve must gain, on the first stage's terms, over the plan"
        " in force (kept where it fits, open work placed by the greedy) to replace it; 0 always"
        " takes the re-solve",
    )
    stop_at_gap: float = Field(
        0.0,
        ge=0,
        le=1,
        description="end the search once the plan is proven within this relative gap of the bound"
        " (0.005 = 0.5%); 0 searches for the whole time limit",
    )

    @field_validator("priority_value")
    @classmethod
    def _all_levels(cls, v: dict[int, float]) -> dict[int, float]:
        missing = [p for p in range(1, 6) if p not in v]
        if missing:
            raise ValueError(f"priority_value needs levels 1..5, missing {missing}")
        return dict(sorted(v.items()))

    @field_validator("late_penalty")
    @classmethod
    def _late_levels(cls, v: dict[int, float]) -> dict[int, float]:
        missing = [p for p in range(1, 6) if p not in v]
        if missing:
            raise ValueError(f"late_penalty needs levels 1..5, missing {missing}")
        return dict(sorted(v.items()))

    @field_validator("disruption_by_priority")
    @classmethod
    def _all_levels_default_one(cls, v: dict[int, float]) -> dict[int, float]:
        return {p: float(v.get(p, 1.0)) for p in range(1, 6)}

    @field_validator("ownership_value")
    @classmethod
    def _all_tiers(cls, v: dict[str, float]) -> dict[str, float]:
        return {t: float(v.get(t, 0.0)) for t in TIERS}

    @field_validator("disruption_by_tier")
    @classmethod
    def _all_tiers_default_one(cls, v: dict[str, float]) -> dict[str, float]:
        return {t: float(v.get(t, 1.0)) for t in TIERS}

    @field_validator("stages")
    @classmethod
    def _known_terms(cls, v: list[list[str]] | None) -> list[list[str]] | None:
        if v is None:
            return v
        seen: set[str] = set()
        for stage in v:
            for term in stage:
                if term not in TERMS:
                    raise ValueError(f"unknown term {term!r} in stages; known: {', '.join(TERMS)}")
                if term in seen:
                    raise ValueError(f"term {term!r} appears in two stages")
                seen.add(term)
        return v


# --------------------------------------------------------------------------- scenario.yaml
class Settings(BaseModel):
    """Solver settings of scenario.yaml; options on the command line override them."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    time_limit: float | None = Field(None, gt=0, le=1e6)
    workers: int | None = Field(None, ge=1, le=256)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The longest horizon: a year of days (the day rows are agents x days).
MAX_HORIZON_DAYS = 366


class Horizon(BaseModel):
    """v1.1: the days the batch is planned over. Working days are the weekdays named in
    `working_days` that are not `holidays`; an agent's capacity_hours is spread evenly over
    them unless hours_per_day or calendar.csv says otherwise."""

    model_config = ConfigDict(extra="forbid")

    start: datetime.date
    days: int = Field(ge=1, le=MAX_HORIZON_DAYS)
    working_days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )
    holidays: list[datetime.date] = Field(default_factory=list)

    @field_validator("start", "holidays", mode="before")
    @classmethod
    def _iso(cls, v):
        """Dates as YAML dates or ISO text only (not numbers or datetimes)."""
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, datetime.datetime) or not isinstance(item, datetime.date | str):
                raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {item!r}")
            if isinstance(item, str):
                try:
                    datetime.date.fromisoformat(item)
                except ValueError:
                    raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {item!r}") from None
        return v

    @property
    def end(self) -> datetime.date:
        """The last day of the horizon."""
        return self.start + datetime.timedelta(days=self.days - 1)


def _plain(value: str | None, noun: str) -> str | None:
    """A text that names something (an id, the scenario) must hold no control character."""
    rule = None if value is None else control_rule(value, noun)
    if rule is not None:
        raise ValueError(rule)
    return value


class ScenarioConfig(BaseModel):
    """scenario.yaml. Unknown keys are refused (a typo such as `polcy:` would otherwise be
    ignored and the default used); every key the bundled scenarios and `optassign generate`
    write is a field here."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    description: str = ""
    policy: str | Policy = "balanced"
    settings: Settings = Field(default_factory=Settings)
    agents: str = "agents.csv"
    tasks: str = "tasks.csv"
    customers: str | None = None
    events: str | None = None
    horizon: Horizon | None = None
    calendar: str | None = None

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        return _plain(v, "a name")


# --------------------------------------------------------------------------- events.yaml
class _Dated(BaseModel):
    """v1.1: an event that holds from a day until a day (both included) of the horizon."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: datetime.date | None = Field(None, alias="from")
    until: datetime.date | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.from_ is not None and self.until is not None and self.until < self.from_:
            raise ValueError(f"until ({self.until}) is before from ({self.from_})")
        return self

    @property
    def dated(self) -> bool:
        return self.from_ is not None or self.until is not None


class Leave(_Dated):
    leave: str
    to: list[str] | None = None

    @field_validator("to", mode="before")
    @classmethod
    def _listify(cls, v):
        return [v] if isinstance(v, str) else v

    @field_validator("leave")
    @classmethod
    def _plain_leave(cls, v: str) -> str:
        return _plain(v, "an id")

    @field_validator("to")
    @classmethod
    def _plain_to(cls, v: list[str] | None) -> list[str] | None:
        for item in v or []:
            _plain(item, "an id")
        return v


class Hire(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hire: dict[str, str | float | int | bool | list[str] | None]

    @model_validator(mode="after")
    def _has_id(self):
        if not str(self.hire.get("agent_id") or "").strip():
            raise ValueError("a hire needs an agent_id")
        if self.hire.get("capacity_hours") is None:
            raise ValueError("a hire needs capacity_hours")
        return self


class _AgentChange(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    agent: str

    @field_validator("agent")
    @classmethod
    def _plain_agent(cls, v: str) -> str:
        return _plain(v, "an id")


class CapacityChange(_AgentChange, _Dated):
    """The agent's capacity_hours for the batch, or (v1.1) its hours_per_day on the working
    days from `from` until `until` (the whole horizon when neither is given)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)
    capacity_hours: float | None = Field(None, ge=0, le=MAX_HOURS)
    hours_per_day: float | None = Field(None, ge=0, le=24)

    @model_validator(mode="after")
    def _one_measure(self):
        if (self.capacity_hours is None) == (self.hours_per_day is None):
            raise ValueError("a capacity change gives exactly one of capacity_hours and hours_per_day")
        if self.dated and self.hours_per_day is None:
            raise ValueError("a dated capacity change gives hours_per_day")
        return self


class TransferChange(_AgentChange):
    regions: str | list[str]


class SkillsChange(_AgentChange):
    skills: str | list[str]


class Capacity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capacity: CapacityChange


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transfer: TransferChange


class Skills(BaseModel):
    model_config = ConfigDict(extra="forbid")
    skills: SkillsChange


Event = Leave | Hire | Capacity | Transfer | Skills


class Events(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[Event] = Field(default_factory=list)
