"""Independent feasibility checker for optassign plan folders.

The test-suite's oracle: it re-reads a scenario folder and a plan folder with the standard library
only (PyYAML for events.yaml) and lists every broken rule of the data contract. It imports nothing
from `optassign` on purpose, so a bug in the engine's readers cannot hide the same bug here.

    from tests.checker import check_plan, assert_plan_ok

    problems = check_plan("scenarios/small", "out/plan")   # [] = the plan is valid
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

# Tolerance on hours and other floats read back from text.
TOL = 1e-6

ASSIGNMENT_COLUMNS = [
    "task_id",
    "agent_id",
    "previous_agent_id",
    "changed",
    "priority",
    "effort_hours",
    "reason",
]
OWNER_COLUMNS = ["customer_id", "owner_id", "previous_owner_id", "changed"]
LOAD_COLUMNS = ["agent_id", "tasks", "hours", "capacity_hours", "utilization"]
SUMMARY_KEYS = [
    "status",
    "objective",
    "best_bound",
    "gap",
    "solve_seconds",
    "tasks",
    "assigned",
    "priority_weighted_coverage",
    "moves",
    "policy",
    "seed",
    "optassign_version",
    "ortools_version",
]

TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}


# --------------------------------------------------------------------------------------------
# Parsing cells (contract: empty = absent, `;` lists, `skill:level`, booleans in several words)
# --------------------------------------------------------------------------------------------


def parse_bool(text, default=None):
    """true/false/1/0/yes/no in any case; empty gives `default`; anything else is a ValueError."""
    word = str(text).strip().lower()
    if word == "":
        if default is None:
            raise ValueError("empty boolean")
        return default
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def parse_list(text):
    """`a;b; c` -> ['a', 'b', 'c'] (empty items dropped)."""
    items = []
    for part in str(text).split(";"):
        part = part.strip()
        if part:
            items.append(part)
    return items


def parse_skills(text):
    """`billing:3;sales` -> {'billing': 3.0, 'sales': 1.0}; a repeated skill keeps its top level."""
    skills = {}
    for item in parse_list(text):
        if ":" in item:
            name, level_text = item.rsplit(":", 1)
            name = name.strip()
            level = float(level_text)
        else:
            name = item
            level = 1.0
        skills[name] = max(level, skills.get(name, level))
    return skills


def parse_number(text):
    """A float, or None for an empty cell."""
    text = str(text).strip()
    if text == "":
        return None
    return float(text)


def parse_hours(text):
    """Hours as the exact decimal the cell says (Decimal), or None for an empty cell: capacity
    is checked exactly, with no tolerance, against sums of exact efforts."""
    text = str(text).strip()
    if text == "":
        return None
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return value


def yaml_hours(value):
    """A YAML number as the decimal it was written as (floats read back by their shortest repr)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())


def close(a, b, tol=TOL):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def fmt(x):
    """Short printing of hours in messages."""
    return f"{x:g}"


def read_csv(path):
    """Rows of a CSV file as dicts keyed by the stripped header, values stripped."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return [], []
        header = [name.strip() for name in header]
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line is not a row
            row = {}
            for i, name in enumerate(header):
                row[name] = cells[i].strip() if i < len(cells) else ""
            rows.append(row)
    return header, rows


# --------------------------------------------------------------------------------------------
# The scenario, as the checker understands it
# --------------------------------------------------------------------------------------------


@dataclass
class Agent:
    agent_id: str
    regions: set = field(default_factory=set)
    skills: dict = field(default_factory=dict)
    capacity: Decimal = Decimal(0)
    max_tasks: int | None = None
    max_customers: int | None = None
    active: bool = True

    def covers(self, region):
        """Empty region = no constraint; `*` covers every region."""
        return region == "" or "*" in self.regions or region in self.regions

    def missing_skills(self, required):
        """The (skill, level) pairs of `required` this agent does not reach."""
        missing = []
        for name, level in sorted(required.items()):
            if self.skills.get(name, 0.0) < level:
                missing.append((name, level))
        return missing


@dataclass
class Task:
    task_id: str
    customer_id: str
    region: str  # already resolved through the customer when empty
    skills: dict
    priority: float
    effort: Decimal
    assigned_to: str
    pinned: bool


@dataclass
class Customer:
    customer_id: str
    region: str
    skills: dict
    owner_id: str
    ownership_hours: Decimal


def agent_from_row(row, where):
    agent_id = row.get("agent_id", "")
    if agent_id == "":
        raise ValueError(f"{where}: agent without agent_id")
    capacity = parse_hours(row.get("capacity_hours", ""))
    if capacity is None:
        raise ValueError(f"{where}: agent {agent_id} has no capacity_hours")
    max_tasks = parse_number(row.get("max_tasks", ""))
    max_customers = parse_number(row.get("max_customers", ""))
    return Agent(
        agent_id=agent_id,
        regions=set(parse_list(row.get("regions", ""))),
        skills=parse_skills(row.get("skills", "")),
        capacity=capacity,
        max_tasks=None if max_tasks is None else int(max_tasks),
        max_customers=None if max_customers is None else int(max_customers),
        active=parse_bool(row.get("active", ""), default=True),
    )


def load_agents(path):
    """agent_id -> Agent, in file order."""
    _, rows = read_csv(path)
    agents = {}
    for line, row in enumerate(rows, start=2):
        agent = agent_from_row(row, f"{path}:{line}")
        if agent.agent_id in agents:
            raise ValueError(f"{path}:{line}: duplicate agent_id {agent.agent_id}")
        agents[agent.agent_id] = agent
    return agents


def load_customers(path):
    """customer_id -> Customer."""
    _, rows = read_csv(path)
    customers = {}
    for line, row in enumerate(rows, start=2):
        customer_id = row.get("customer_id", "")
        if customer_id in customers:
            raise ValueError(f"{path}:{line}: duplicate customer_id {customer_id}")
        hours = parse_hours(row.get("ownership_hours", ""))
        customers[customer_id] = Customer(
            customer_id=customer_id,
            region=row.get("region", ""),
            skills=parse_skills(row.get("required_skills", "")),
            owner_id=row.get("owner_id", ""),
            ownership_hours=Decimal(0) if hours is None else hours,
        )
    return customers


def load_tasks(path, customers):
    """task_id -> Task; an empty task region falls back to the customer's region."""
    _, rows = read_csv(path)
    tasks = {}
    for line, row in enumerate(rows, start=2):
        task_id = row.get("task_id", "")
        if task_id in tasks:
            raise ValueError(f"{path}:{line}: duplicate task_id {task_id}")
        customer_id = row.get("customer_id", "")
        region = row.get("region", "")
        if region == "" and customer_id in customers:
            region = customers[customer_id].region
        priority = parse_number(row.get("priority", ""))
        effort = parse_hours(row.get("effort_hours", ""))
        if priority is None or effort is None:
            raise ValueError(f"{path}:{line}: task {task_id} lacks priority or effort_hours")
        tasks[task_id] = Task(
            task_id=task_id,
            customer_id=customer_id,
            region=region,
            skills=parse_skills(row.get("required_skills", "")),
            priority=priority,
            effort=effort,
            assigned_to=row.get("assigned_to", ""),
            pinned=parse_bool(row.get("pinned", ""), default=False),
        )
    return tasks


def take_plan_in_force(folder, tasks, customers):
    """A plan folder's agent_id / owner_id as the plan in force: they replace assigned_to and
    owner_id; a pin holds only where the plan kept the pinned agent."""
    _, rows = read_csv(folder / "assignments.csv")
    for row in rows:
        task = tasks.get(row.get("task_id", ""))
        if task is not None:
            agent = row.get("agent_id", "")
            task.pinned = task.pinned and agent == task.assigned_to
            task.assigned_to = agent
    if customers is not None and (folder / "owners.csv").exists():
        _, rows = read_csv(folder / "owners.csv")
        for row in rows:
            customer = customers.get(row.get("customer_id", ""))
            if customer is not None:
                customer.owner_id = row.get("owner_id", "")


# --------------------------------------------------------------------------------------------
# events.yaml (contract section 4), applied in order to the agents
# --------------------------------------------------------------------------------------------


def cell_text(value):
    """A YAML value as the CSV cell it stands for (lists joined with `;`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(cell_text(v) for v in value)
    return str(value).strip()


def load_events(events):
    """A path to events.yaml, or an already parsed list / {'events': [...]} mapping."""
    if events is None:
        return []
    if isinstance(events, (str, Path)):
        import yaml  # only needed when events are given

        with open(events, encoding="utf-8-sig") as handle:
            events = yaml.safe_load(handle)
    if events is None:
        return []
    if isinstance(events, dict):
        events = events.get("events") or []
    return list(events)


def apply_events(agents, events):
    """leave -> inactive; hire -> new agent; capacity / transfer / skills -> new value."""

    def known(agent_id, kind):
        agent_id = cell_text(agent_id)
        if agent_id not in agents:
            raise ValueError(f"events.yaml: {kind} of unknown agent {agent_id!r}")
        return agents[agent_id]

    for number, event in enumerate(load_events(events), start=1):
        if not isinstance(event, dict):
            raise ValueError(f"events.yaml: event {number} is not a mapping: {event!r}")
        if "leave" in event and ("from" in event or "until" in event):
            known(event["leave"], "leave")  # a dated absence: day_hours takes its days away
        elif "leave" in event:
            who = event["leave"]
            if isinstance(who, dict):
                who = who.get("agent")
            names = who if isinstance(who, list) else [who]
            for name in names:
                known(name, "leave").active = False
        elif "hire" in event:
            row = {str(k).strip(): cell_text(v) for k, v in (event["hire"] or {}).items()}
            agent = agent_from_row(row, f"events.yaml event {number}")
            if agent.agent_id in agents:
                raise ValueError(f"events.yaml: hire of existing agent {agent.agent_id}")
            agents[agent.agent_id] = agent
        elif "capacity" in event:
            change = event["capacity"]
            known(change.get("agent"), "capacity").capacity = yaml_hours(change["capacity_hours"])
        elif "transfer" in event:
            change = event["transfer"]
            regions = set(parse_list(cell_text(change.get("regions"))))
            known(change.get("agent"), "transfer").regions = regions
        elif "skills" in event:
            change = event["skills"]
            skills = parse_skills(cell_text(change.get("skills")))
            known(change.get("agent"), "skills").skills = skills
        else:
            raise ValueError(f"events.yaml: unknown event {number}: {event!r}")
    return agents


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


def check_plan(
    scenario_dir,
    plan_dir,
    *,
    region_hard=True,
    agents_override=None,
    events=None,
    in_force=None,
):
    """Every violation of the contract's hard rules and plan-file shape, as readable strings.

    An empty list means the plan is valid. `agents_override` replaces the scenario's agents.csv;
    `events` (a path to an events.yaml) is applied to the agents before checking; `in_force` (a
    plan folder, as `--plan` takes) is the plan in force instead of assigned_to / owner_id.
    Malformed *scenario* input raises ValueError; everything wrong in the *plan* is a violation.
    """
    scenario_dir = Path(scenario_dir)
    plan_dir = Path(plan_dir)
    problems = []

    agents = load_agents(Path(agents_override) if agents_override else scenario_dir / "agents.csv")
    apply_events(agents, events)
    customers_path = scenario_dir / "customers.csv"
    customers = load_customers(customers_path) if customers_path.exists() else None
    tasks = load_tasks(scenario_dir / "tasks.csv", customers or {})
    if in_force is not None:
        take_plan_in_force(Path(in_force), tasks, customers)

    assignment_path = plan_dir / "assignments.csv"
    if not assignment_path.exists():
        return ["assignments.csv is missing"]
    assigned = check_assignments(assignment_path, tasks, agents, region_hard, problems)

    owned = {}  # customer_id -> owner_id, from owners.csv
    if customers is not None:
        owners_path = plan_dir / "owners.csv"
        if owners_path.exists():
            owned = check_owners(owners_path, customers, agents, region_hard, problems)
        else:
            problems.append("owners.csv is missing (customers.csv was given)")

    timed = timed_plan(scenario_dir, plan_dir)
    hours = None
    if timed is not None:  # with a horizon an agent has its calendar's hours (capped by capacity)
        hours = day_hours(scenario_dir, *timed, agents, events)
        for agent_id, days in hours.items():
            total = sum(days)
            agents[agent_id].capacity = min(
                Decimal(total.numerator) / total.denominator, agents[agent_id].capacity
            )
    check_agent_limits(assigned, owned, tasks, customers or {}, agents, problems)

    load_path = plan_dir / "agent_load.csv"
    if load_path.exists():
        check_agent_load(load_path, assigned, owned, tasks, customers or {}, agents, problems)
    else:
        problems.append("agent_load.csv is missing")

    summary_path = plan_dir / "summary.json"
    if summary_path.exists():
        check_summary(summary_path, assignment_path, assigned, tasks, problems)
    else:
        problems.append("summary.json is missing")

    if hours is not None:
        check_days(
            scenario_dir, plan_dir, timed[0], hours, assigned, owned, tasks, customers or {}, agents, problems
        )
    return problems


def check_assignments(path, tasks, agents, region_hard, problems):
    """Rows of assignments.csv against tasks.csv; returns task_id -> agent_id ('' = unassigned)."""
    header, rows = read_csv(path)
    for column in ASSIGNMENT_COLUMNS:
        if column not in header:
            problems.append(f"assignments.csv: missing column {column}")

    assigned = {}
    for line, row in enumerate(rows, start=2):
        task_id = row.get("task_id", "")
        if task_id not in tasks:
            problems.append(f"assignments.csv:{line}: unknown task {task_id!r}")
            continue
        if task_id in assigned:
            problems.append(f"assignments.csv:{line}: duplicate task {task_id}")
            continue
        agent_id = row.get("agent_id", "")
        assigned[task_id] = agent_id
        check_assignment_row(row, tasks[task_id], agents, region_hard, problems)

    for task_id in tasks:
        if task_id not in assigned:
            problems.append(f"assignments.csv: missing task {task_id}")
    return assigned


def check_assignment_row(row, task, agents, region_hard, problems):
    """One task's row: eligibility of the agent, copied columns, changed flag, pin, reason."""
    where = f"task {task.task_id}"
    agent_id = row.get("agent_id", "")
    previous = row.get("previous_agent_id", "")

    if agent_id != "":
        check_eligible(where, "agent", agent_id, task.region, task.skills, agents, region_hard, problems)
    elif row.get("reason", "") == "":
        problems.append(f"{where}: unassigned with no reason")

    if previous != task.assigned_to:
        problems.append(
            f"{where}: previous_agent_id is {previous!r}, tasks.csv assigned_to is {task.assigned_to!r}"
        )
    check_changed_flag(where, row.get("changed", ""), agent_id, previous, problems)

    for column, expected in (("priority", task.priority), ("effort_hours", task.effort)):
        text = row.get(column, "")
        try:
            value = parse_number(text)
        except ValueError:
            value = None
        if value is None or not close(value, float(expected)):
            problems.append(f"{where}: {column} is {text!r}, input has {fmt(expected)}")

    # A pin binds while its agent can still legally hold the task: active, covering the
    # region, with the skills (after staffing changes it may not, and then the pin breaks).
    pinned_agent = agents.get(task.assigned_to)
    if task.pinned and pinned_agent is not None and pinned_agent.active:
        still_legal = []
        check_eligible(
            where,
            "pinned agent",
            task.assigned_to,
            task.region,
            task.skills,
            agents,
            region_hard,
            still_legal,
        )
        if not still_legal and agent_id != task.assigned_to:
            problems.append(f"{where}: pinned to {task.assigned_to} but assigned to {agent_id or 'nobody'}")


def check_eligible(where, role, agent_id, region, skills, agents, region_hard, problems):
    """Hard rule 2: the agent exists, is active, covers the region, has every skill level."""
    agent = agents.get(agent_id)
    if agent is None:
        problems.append(f"{where}: unknown agent {agent_id}")
        return
    if not agent.active:
        problems.append(f"{where}: inactive agent {agent_id} as {role}")
    if region_hard and not agent.covers(region):
        problems.append(f"{where}: {role} {agent_id} does not cover region {region}")
    for name, level in agent.missing_skills(skills):
        have = agent.skills.get(name)
        have_text = "none" if have is None else fmt(have)
        problems.append(f"{where}: {role} {agent_id} lacks skill {name}:{fmt(level)} (has {have_text})")


def check_changed_flag(where, text, new, previous, problems):
    """changed is true exactly when the agent differs from a non-empty previous agent."""
    expected = previous != "" and new != previous
    try:
        changed = parse_bool(text, default=False)
    except ValueError:
        problems.append(f"{where}: changed flag {text!r} is not a boolean")
        return
    if changed != expected:
        problems.append(f"{where}: changed flag is {str(changed).lower()}, expected {str(expected).lower()}")


def check_owners(path, customers, agents, region_hard, problems):
    """Rows of owners.csv against customers.csv; returns customer_id -> owner_id."""
    header, rows = read_csv(path)
    for column in OWNER_COLUMNS:
        if column not in header:
            problems.append(f"owners.csv: missing column {column}")

    owned = {}
    for line, row in enumerate(rows, start=2):
        customer_id = row.get("customer_id", "")
        if customer_id not in customers:
            problems.append(f"owners.csv:{line}: unknown customer {customer_id!r}")
            continue
        if customer_id in owned:
            problems.append(f"owners.csv:{line}: duplicate customer {customer_id}")
            continue
        customer = customers[customer_id]
        where = f"customer {customer_id}"
        owner_id = row.get("owner_id", "")
        previous = row.get("previous_owner_id", "")
        owned[customer_id] = owner_id
        if owner_id != "":
            check_eligible(
                where,
                "owner",
                owner_id,
                customer.region,
                customer.skills,
                agents,
                region_hard,
                problems,
            )
        if previous != customer.owner_id:
            problems.append(
                f"{where}: previous_owner_id is {previous!r}, customers.csv owner_id is {customer.owner_id!r}"
            )
        check_changed_flag(where, row.get("changed", ""), owner_id, previous, problems)

    for customer_id in customers:
        if customer_id not in owned:
            problems.append(f"owners.csv: missing customer {customer_id}")
    return owned


def hours_by_agent(assigned, owned, tasks, customers):
    """agent_id -> (task count, task hours, customer count, ownership hours), input values."""
    totals = {}

    def entry(agent_id):
        if agent_id not in totals:
            totals[agent_id] = [0, Decimal(0), 0, Decimal(0)]
        return totals[agent_id]

    for task_id, agent_id in assigned.items():
        if agent_id != "":
            e = entry(agent_id)
            e[0] += 1
            e[1] += tasks[task_id].effort
    for customer_id, owner_id in owned.items():
        if owner_id != "":
            e = entry(owner_id)
            e[2] += 1
            e[3] += customers[customer_id].ownership_hours
    return totals


def check_agent_limits(assigned, owned, tasks, customers, agents, problems):
    """Hard rule 3: task + ownership hours <= capacity; counts <= max_tasks / max_customers."""
    totals = hours_by_agent(assigned, owned, tasks, customers)
    for agent_id, (n_tasks, task_hours, n_customers, own_hours) in totals.items():
        agent = agents.get(agent_id)
        if agent is None:
            continue  # already reported as an unknown agent
        hours = task_hours + own_hours
        if hours > agent.capacity:  # exact decimals: not a hair over
            problems.append(
                f"agent {agent_id}: over capacity: {fmt(task_hours)} task hours + "
                f"{fmt(own_hours)} ownership hours = {fmt(hours)} > {fmt(agent.capacity)}"
            )
        if agent.max_tasks is not None and n_tasks > agent.max_tasks:
            problems.append(f"agent {agent_id}: {n_tasks} tasks > max_tasks {agent.max_tasks}")
        if agent.max_customers is not None and n_customers > agent.max_customers:
            problems.append(
                f"agent {agent_id}: {n_customers} customers > max_customers {agent.max_customers}"
            )


def check_agent_load(path, assigned, owned, tasks, customers, agents, problems):
    """agent_load.csv: one row per agent, its numbers agreeing with the assignments."""
    header, rows = read_csv(path)
    for column in LOAD_COLUMNS:
        if column not in header:
            problems.append(f"agent_load.csv: missing column {column}")

    totals = hours_by_agent(assigned, owned, tasks, customers)
    seen = set()
    for line, row in enumerate(rows, start=2):
        agent_id = row.get("agent_id", "")
        where = f"agent_load.csv:{line}: agent {agent_id}"
        if agent_id not in agents:
            problems.append(f"agent_load.csv:{line}: unknown agent {agent_id!r}")
            continue
        if agent_id in seen:
            problems.append(f"agent_load.csv:{line}: duplicate agent {agent_id}")
            continue
        seen.add(agent_id)
        agent = agents[agent_id]
        n_tasks, task_hours, _, own_hours = totals.get(agent_id, (0, Decimal(0), 0, Decimal(0)))
        task_hours, own_hours = float(task_hours), float(own_hours)  # reported rounded to 1e-6

        try:
            values = {c: parse_number(row.get(c, "")) for c in LOAD_COLUMNS[1:]}
        except ValueError:
            problems.append(f"{where}: a number does not parse: {row}")
            continue

        if values["tasks"] is None or values["tasks"] != n_tasks:
            problems.append(f"{where}: tasks is {row.get('tasks')!r}, assignments give {n_tasks}")

        hours = values["hours"]
        if hours is None:
            problems.append(f"{where}: hours is empty")
        else:
            slack = 1e-6 * max(1.0, abs(hours))  # the true hours, rounded to 6 decimals
            with_owned = task_hours + own_hours
            if abs(hours - task_hours) > slack and abs(hours - with_owned) > slack:
                problems.append(
                    f"{where}: hours is {fmt(hours)}, assignments give {fmt(task_hours)} "
                    f"(or {fmt(with_owned)} with ownership hours)"
                )

        capacity = values["capacity_hours"]
        if capacity is None or not close(capacity, float(agent.capacity)):
            problems.append(
                f"{where}: capacity_hours is {row.get('capacity_hours')!r}, agents have {fmt(agent.capacity)}"
            )

        utilization = values["utilization"]
        if hours is not None and agent.capacity > 0:
            expected = hours / float(agent.capacity)
            if utilization is None or abs(utilization - expected) > 1e-3:
                problems.append(
                    f"{where}: utilization is {row.get('utilization')!r}, hours / capacity = {expected:.6g}"
                )

    for agent_id in agents:
        if agent_id not in seen:
            problems.append(f"agent_load.csv: missing agent {agent_id}")


def check_summary(path, assignment_path, assigned, tasks, problems):
    """summary.json: the required keys, and the counts that can be recomputed from the plan."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            summary = json.load(handle)
    except (OSError, ValueError) as error:
        problems.append(f"summary.json: unreadable: {error}")
        return
    if not isinstance(summary, dict):
        problems.append("summary.json: not a JSON object")
        return
    for key in SUMMARY_KEYS:
        if key not in summary:
            problems.append(f"summary.json: missing key {key}")

    n_assigned = sum(1 for agent_id in assigned.values() if agent_id != "")
    _, rows = read_csv(assignment_path)
    n_changed = 0
    for row in rows:
        try:
            if parse_bool(row.get("changed", ""), default=False):
                n_changed += 1
        except ValueError:
            pass  # reported with the row

    for key, expected in (("tasks", len(tasks)), ("assigned", n_assigned), ("moves", n_changed)):
        if key in summary and not same_number(summary[key], expected):
            problems.append(f"summary.json: {key} is {summary[key]!r}, expected {expected}")

    if "priority_weighted_coverage" in summary:
        reported = summary["priority_weighted_coverage"]
        total = sum(task.priority for task in tasks.values())
        if total == 0:
            if not (reported is None or same_number(reported, 0) or same_number(reported, 1)):
                problems.append(f"summary.json: priority_weighted_coverage is {reported!r} with no tasks")
        else:
            covered = sum(tasks[task_id].priority for task_id, agent_id in assigned.items() if agent_id)
            expected = covered / total
            if not same_number(reported, expected):
                problems.append(
                    f"summary.json: priority_weighted_coverage is {reported!r}, expected {expected:.6g}"
                )


# --------------------------------------------------------------------------------------------
# Time (contract v1.1): each agent works its worklist in order on its calendar's hours, its
# owned hours taken pro rata; a task not late must be finished by its due day
# --------------------------------------------------------------------------------------------

WEEKDAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def as_date(value):
    import datetime

    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value).strip())


def load_horizon(scenario_dir):
    """(the horizon's dates, working flags, calendar file name) from scenario.yaml, or None."""
    import datetime

    import yaml

    with open(Path(scenario_dir) / "scenario.yaml", encoding="utf-8-sig") as handle:
        config = yaml.safe_load(handle) or {}
    horizon = config.get("horizon")
    if not horizon:
        return None
    start = as_date(horizon["start"])
    dates = [start + datetime.timedelta(days=i) for i in range(int(horizon["days"]))]
    names = set(horizon.get("working_days") or WEEKDAY_NAMES[:5])
    holidays = {as_date(h) for h in horizon.get("holidays") or []}
    working = [WEEKDAY_NAMES[d.weekday()] in names and d not in holidays for d in dates]
    return dates, working, config.get("calendar") or "calendar.csv"


def day_hours(scenario_dir, dates, working, calendar_name, agents, events):
    """agent_id -> [Fraction hours per day]: calendar.csv, else hours_per_day or capacity_hours
    spread on working days; then dated events (leave: none; capacity: hours_per_day), in order;
    capacity_hours caps the running total."""
    from fractions import Fraction

    _, agent_rows = read_csv(Path(scenario_dir) / "agents.csv")
    per_day = {row["agent_id"]: parse_hours(row.get("hours_per_day", "")) for row in agent_rows}
    n_working = sum(working)
    hours = {}
    for agent_id, agent in agents.items():
        base = per_day.get(agent_id)
        base = (
            Fraction(base) if base is not None else (Fraction(agent.capacity) / n_working if n_working else 0)
        )
        hours[agent_id] = [base if w else Fraction(0) for w in working]
    index = {d: i for i, d in enumerate(dates)}
    path = Path(scenario_dir) / calendar_name
    if path.exists():
        _, rows = read_csv(path)
        for row in rows:
            day = index.get(as_date(row["date"]))
            if day is not None and row["agent_id"] in hours:
                hours[row["agent_id"]][day] = Fraction(parse_hours(row["hours"]))
    for event in load_events(events):
        if "leave" in event and isinstance(event, dict) and ("from" in event or "until" in event):
            days = dated_range(dates, event.get("from"), event.get("until"))
            for day in days:
                hours[cell_text(event["leave"])][day] = Fraction(0)
        elif "capacity" in event and event["capacity"].get("hours_per_day") is not None:
            change = event["capacity"]
            for day in dated_range(dates, change.get("from"), change.get("until")):
                if working[day]:
                    hours[cell_text(change["agent"])][day] = Fraction(yaml_hours(change["hours_per_day"]))
    return hours


def dated_range(dates, start, until):
    lo = as_date(start) if start is not None else dates[0]
    hi = as_date(until) if until is not None else dates[-1]
    return [i for i, d in enumerate(dates) if lo <= d <= hi]


def timed_plan(scenario_dir, plan_dir):
    """The horizon (load_horizon) when the scenario has one and the plan was made with due
    dates on (its summary.json has `horizon`), else None."""
    horizon = load_horizon(scenario_dir)
    try:
        with open(Path(plan_dir) / "summary.json", encoding="utf-8") as handle:
            summary = json.load(handle)
    except (OSError, ValueError):
        return None
    return horizon if horizon is not None and isinstance(summary, dict) and "horizon" in summary else None


def check_days(scenario_dir, plan_dir, dates, hours, assigned, owned, tasks, customers, agents, problems):
    """With a horizon and due dates on (summary.json has `horizon`): worklists.csv lists every
    assigned task once, positions 1..n per agent; worked in that order on the agent's hours
    (owned hours pro rata), no task finishes after the planned_date the plan gives it; late_days
    is planned_date minus the due day (the due date within the horizon, the first day when
    overdue, the last when none); with hard due dates only pinned tasks are late."""
    from fractions import Fraction

    with open(Path(plan_dir) / "summary.json", encoding="utf-8") as handle:
        hard = json.load(handle)["horizon"].get("due_dates") == "hard"
    path = Path(plan_dir) / "worklists.csv"
    if not path.exists():
        problems.append("worklists.csv is missing (the scenario has a horizon)")
        return
    _, task_rows = read_csv(Path(scenario_dir) / "tasks.csv")
    due_text = {row["task_id"]: row.get("due_date", "") for row in task_rows}
    _, rows = read_csv(path)
    by_agent = {}
    for row in rows:
        by_agent.setdefault(row["agent_id"], []).append(row)
    listed = {row["task_id"]: row["agent_id"] for row in rows}
    for task_id, agent_id in assigned.items():
        if agent_id and listed.get(task_id) != agent_id:
            problems.append(f"worklists.csv: task {task_id} of {agent_id} is not on its worklist")
    owned_hours = {}
    for customer_id, owner_id in owned.items():
        if owner_id:
            owned_hours[owner_id] = owned_hours.get(owner_id, 0) + Fraction(
                customers[customer_id].ownership_hours
            )
    _, plan_rows = read_csv(Path(plan_dir) / "assignments.csv")
    planned_in_assignments = {row["task_id"]: row.get("planned_date", "") for row in plan_rows}
    for agent_id, items in by_agent.items():
        items.sort(key=lambda r: int(r["position"]))
        if [int(r["position"]) for r in items] != list(range(1, len(items) + 1)):
            problems.append(f"worklists.csv: positions of {agent_id} are not 1..{len(items)}")
        if agent_id not in hours:
            continue
        cum, total = [], Fraction(0)
        for h in hours[agent_id]:
            total += h
            cum.append(min(total, Fraction(agents[agent_id].capacity)))
        whole = cum[-1]
        own = owned_hours.get(agent_id, Fraction(0))
        net = [c - (own * c / whole if whole else 0) for c in cum]
        done = Fraction(0)
        for row in items:
            task = tasks.get(row["task_id"])
            if task is None or assigned.get(row["task_id"]) != agent_id:
                problems.append(f"worklists.csv: {row['task_id']} is not a task of {agent_id} in the plan")
                continue
            done += Fraction(task.effort)
            finish = next((i for i, n in enumerate(net) if n >= done), None)
            planned = row.get("planned_date", "")
            if planned_in_assignments.get(task.task_id, "") != planned:
                problems.append(
                    f"task {task.task_id}: planned_date differs between assignments.csv and worklists.csv"
                )
            if finish is None:
                problems.append(
                    f"agent {agent_id}: its worklist runs past the horizon's hours at {task.task_id}"
                )
                break
            day = next((i for i, d in enumerate(dates) if str(d) == planned), None)
            if day is None:
                problems.append(f"task {task.task_id}: planned_date {planned!r} is not a day of the horizon")
                continue
            if day < finish:
                problems.append(
                    f"task {task.task_id}: planned for {planned} but {agent_id} cannot finish it before "
                    f"{dates[finish]} working its list in order"
                )
            text = due_text.get(task.task_id, "")
            due = len(dates) - 1 if not text else min(max((as_date(text) - dates[0]).days, 0), len(dates) - 1)
            late = max(day - due, 0)
            if str(late) != row.get("late_days", ""):
                problems.append(f"task {task.task_id}: late_days {row.get('late_days')!r}, expected {late}")
            if hard and late > 0 and not task.pinned:
                problems.append(f"task {task.task_id}: late by {late} days with hard due dates")


def same_number(value, expected):
    """A JSON number (not a bool) equal to `expected` within TOL."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and abs(value - expected) <= TOL


def assert_plan_ok(scenario_dir, plan_dir, **kw):
    """Raise AssertionError listing (up to 20 of) the plan's violations."""
    problems = check_plan(scenario_dir, plan_dir, **kw)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise AssertionError(f"plan {plan_dir} has {len(problems)} violation(s):\n  {shown}{more}")
