"""Shared fixtures: a tiny, valid scenario folder and helpers to rewrite one of its files.

    def test_something(tiny_scenario):            # a fresh copy in tmp_path for every test
        rows = read_csv(tiny_scenario / "tasks.csv")
        rows[0]["priority"] = "6"                  # rows[i] is on line i + 2 of the file
        write_csv(tiny_scenario / "tasks.csv", rows)

The scenario (all of it legal, so `solve` gives a full plan):

- agents.csv: A1, A2 (region N), A3 (region S), A4 (`*`); skills with and without levels;
  A2 has `max_tasks`, A3 has `max_customers`; a `notes` extra column.
- customers.csv: C1 (N, owner A1), C2 (S, owner A3), C3 (N, no owner), with
  required_skills and ownership_hours.
- tasks.csv: T1..T8; T1 is pinned to A1; T3, T8 have `assigned_to` (not pinned); T6 has
  its own region and no customer; a `notes` extra column.

Helpers (import them: `from conftest import write_csv, edit_csv`):

- `read_csv(path)` -> list of row dicts; `write_csv(path, rows, columns=None)` rewrites a file
  (`write_csv(p, [], columns=[...])` = header only; `write_csv(p, [])` = 0 bytes);
- `edit_csv(path, line, **cells)` sets cells of one row, by file line;
- `make_scenario(folder)` writes the scenario anywhere (e.g. for several in one test).

The module-level row lists (AGENTS, CUSTOMERS, TASKS) are the file contents; copy before
changing them (`[dict(r) for r in TASKS]`)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

SCENARIO_YAML = """\
name: tiny
description: four agents, three customers, eight tasks
policy: balanced
"""

AGENTS = [
    {
        "agent_id": "A1",
        "name": "Ann",
        "team": "north",
        "role": "service",
        "regions": "N",
        "skills": "billing:3;sales:2",
        "capacity_hours": "20",
        "max_tasks": "",
        "max_customers": "",
        "active": "true",
        "cost_per_hour": "30",
        "notes": "team lead",
    },
    {
        "agent_id": "A2",
        "name": "Bob",
        "team": "north",
        "role": "service",
        "regions": "N",
        "skills": "billing;support:2",
        "capacity_hours": "16",
        "max_tasks": "4",
        "max_customers": "",
        "active": "yes",
        "cost_per_hour": "25",
        "notes": "",
    },
    {
        "agent_id": "A3",
        "name": "Cleo",
        "team": "south",
        "role": "service",
        "regions": "S",
        "skills": "support:4;sales",
        "capacity_hours": "24",
        "max_tasks": "",
        "max_customers": "2",
        "active": "TRUE",
        "cost_per_hour": "28",
        "notes": "",
    },
    {
        "agent_id": "A4",
        "name": "Dev",
        "team": "floaters",
        "role": "sales",
        "regions": "*",
        "skills": "billing:2;support:2;sales:3",
        "capacity_hours": "12",
        "max_tasks": "",
        "max_customers": "",
        "active": "1",
        "cost_per_hour": "",
        "notes": "covers every region",
    },
]

CUSTOMERS = [
    {
        "customer_id": "C1",
        "name": "Acme",
        "region": "N",
        "segment": "enterprise",
        "tier": "A",
        "stage": "customer",
        "owner_id": "A1",
        "required_skills": "billing:2",
        "ownership_hours": "2",
    },
    {
        "customer_id": "C2",
        "name": "Bolt",
        "region": "S",
        "segment": "smb",
        "tier": "B",
        "stage": "customer",
        "owner_id": "A3",
        "required_skills": "support",
        "ownership_hours": "1",
    },
    {
        "customer_id": "C3",
        "name": "Cork",
        "region": "N",
        "segment": "smb",
        "tier": "",
        "stage": "lead",
        "owner_id": "",
        "required_skills": "",
        "ownership_hours": "",
    },
]

TASKS = [
    {
        "task_id": "T1",
        "customer_id": "C1",
        "type": "complaint",
        "required_skills": "billing:2",
        "region": "",
        "priority": "5",
        "effort_hours": "3",
        "due_date": "2024-07-01",
        "assigned_to": "A1",
        "pinned": "true",
        "notes": "promised by Ann",
    },
    {
        "task_id": "T2",
        "customer_id": "C1",
        "type": "follow_up",
        "required_skills": "sales",
        "region": "",
        "priority": "3",
        "effort_hours": "2",
        "due_date": "",
        "assigned_to": "",
        "pinned": "",
        "notes": "",
    },
    {
        "task_id": "T3",
        "customer_id": "C2",
        "type": "complaint",
        "required_skills": "support:3",
        "region": "",
        "priority": "4",
        "effort_hours": "4",
        "due_date": "",
        "assigned_to": "A3",
        "pinned": "false",
        "notes": "",
    },
    {
        "task_id": "T4",
        "customer_id": "C2",
        "type": "follow_up",
        "required_skills": "support",
        "region": "",
        "priority": "2",
        "effort_hours": "1.5",
        "due_date": "",
        "assigned_to": "",
        "pinned": "no",
        "notes": "",
    },
    {
        "task_id": "T5",
        "customer_id": "C3",
        "type": "installation",
        "required_skills": "billing",
        "region": "",
        "priority": "1",
        "effort_hours": "2",
        "due_date": "2024-07-15",
        "assigned_to": "",
        "pinned": "",
        "notes": "",
    },
    {
        "task_id": "T6",
        "customer_id": "",
        "type": "follow_up",
        "required_skills": "sales",
        "region": "S",
        "priority": "3",
        "effort_hours": "2",
        "due_date": "",
        "assigned_to": "",
        "pinned": "0",
        "notes": "walk-in",
    },
    {
        "task_id": "T7",
        "customer_id": "C3",
        "type": "follow_up",
        "required_skills": "",
        "region": "",
        "priority": "2",
        "effort_hours": "1",
        "due_date": "",
        "assigned_to": "",
        "pinned": "",
        "notes": "",
    },
    {
        "task_id": "T8",
        "customer_id": "C1",
        "type": "installation",
        "required_skills": "billing:3",
        "region": "",
        "priority": "4",
        "effort_hours": "5",
        "due_date": "",
        "assigned_to": "A2",
        "pinned": "",
        "notes": "",
    },
]


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV as dicts of text; rows[i] is on line i + 2 (the header is line 1)."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    """(Re)write a CSV from dicts. Columns: `columns`, else the keys of the rows in order of first
    appearance; missing cells are written empty. With no rows and no columns the file is 0 bytes;
    pass `columns` for a header-only file."""
    path = Path(path)
    if columns is None:
        columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as fh:
        if columns:
            writer = csv.DictWriter(fh, fieldnames=columns, restval="", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return path


def edit_csv(path: Path, line: int, **cells: str) -> Path:
    """Set cells of the row on file line `line` (2 = first data row) and rewrite the file."""
    rows = read_csv(path)
    rows[line - 2].update(cells)
    return write_csv(path, rows, columns=list(dict.fromkeys([*rows[0], *cells])))


def make_scenario(folder: Path) -> Path:
    """Write the tiny scenario into `folder` (created if needed) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(SCENARIO_YAML, encoding="utf-8")
    write_csv(folder / "agents.csv", AGENTS)
    write_csv(folder / "customers.csv", CUSTOMERS)
    write_csv(folder / "tasks.csv", TASKS)
    return folder


@pytest.fixture
def tiny_scenario(tmp_path: Path) -> Path:
    """A fresh, valid scenario folder `tmp_path/tiny` (see the module docstring)."""
    return make_scenario(tmp_path / "tiny")
