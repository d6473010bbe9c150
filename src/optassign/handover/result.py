"""What a handover or preview returns: the new plan with handover.csv among its tables, the
handover rows, the KPI deltas, the frontier and the sheets, and how they are written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from optassign.contract.io import atomic_folder
from optassign.contract.names import inside, write_index
from optassign.contract.schema import Event
from optassign.handover.notify import (
    DEFAULT_SENDER,
    affected_agents,
    build_messages,
    handover_file_names,
    write_outbox,
)
from optassign.plan.plan import Plan
from optassign.scenario.scenario import Scenario

HANDOVER_COLUMNS = [
    "kind",
    "id",
    "customer_id",
    "from_agent_id",
    "to_agent_id",
    "forced",
    "priority",
    "effort_hours",
    "due_date",
    "reason",
]


FRONTIER_COLUMNS = ["budget", "moves", "objective", "coverage", "gap", "forced", "unassigned", "status"]


# --------------------------------------------------------------------------- result
@dataclass
class HandoverResult:
    """A handover or preview: the new plan (with handover.csv among its tables), the handover
    rows, the KPI deltas against the plan in force, the frontier (when asked) and warnings."""

    plan: Plan
    handover: pd.DataFrame
    kpis: dict
    frontier: pd.DataFrame | None
    warnings: list[str]
    scenario: Scenario  # after the events; assigned_to / owner_id are the plan in force
    events: list[Event]
    sheets: dict[str, str] = field(default_factory=dict)  # receiving agent -> markdown

    @property
    def affected_agents(self) -> list[str]:
        """Everyone who hands over or receives, sorted."""
        return affected_agents(self.handover)

    def messages(self, *, sender: str | None = None, date=None, stems=None) -> dict:
        """One e-mail per affected agent (see notify.build_messages)."""
        return build_messages(
            self.handover,
            self.scenario.agents,
            scenario_name=self.scenario.name,
            events=self.kpis.get("events", []),
            sender=sender or DEFAULT_SENDER,
            date=date,
            stems=stems,
        )

    def write(self, out: str | Path, *, sender: str | None = None, date=None) -> Path:
        """The plan folder (with handover.csv, frontier.csv), one handover sheet per receiving
        agent in handover/<name>.md and one message per affected agent in outbox/<name>.eml,
        written atomically together. <name> is the agent_id when it is a plain file name, else
        a slug and hash of it (names.file_names); handover/index.csv and outbox/index.csv say
        whose file is which, for every agent."""
        out = Path(out)
        stems = handover_file_names(
            [*self.scenario.agents["agent_id"].astype(str), *self.affected_agents, *self.sheets]
        )
        messages = self.messages(sender=sender, date=date, stems=stems)
        with atomic_folder(out) as tmp:
            self.plan.write(tmp)
            sheets = tmp / "handover"
            sheets.mkdir()
            files = {agent: f"{stems[agent]}.md" for agent in self.sheets}
            for agent, text in sorted(self.sheets.items()):
                inside(sheets, files[agent]).write_text(text, encoding="utf-8")
            write_index(sheets, files)
            write_outbox(messages, tmp / "outbox", stems)
        return out
