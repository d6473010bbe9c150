"""Notifications of a handover: one e-mail per affected agent (who hands over, who receives),
written as .eml files to the plan folder's outbox/ and, when asked, sent over SMTP.

Content is deterministic (sorted listings, no Date header unless given, no Message-ID), so the
same handover writes byte-identical messages."""

from __future__ import annotations

import email.utils
import smtplib
import textwrap
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from .handover import HandoverResult

__all__ = [
    "DEFAULT_SENDER",
    "address_of",
    "build_messages",
    "parse_smtp",
    "send_messages",
    "write_outbox",
]

DEFAULT_SENDER = "optassign@example.invalid"
PLACEHOLDER_DOMAIN = "example.invalid"
WIDTH = 76


def address_of(agents: pd.DataFrame, agent_id: str) -> str:
    """`Name <email>`: the agents.csv `email` column when present and filled, else
    `<agent_id>@example.invalid` (a domain that never delivers)."""
    return addresses(agents, [agent_id])[agent_id]


def addresses(agents: pd.DataFrame, agent_ids: list[str]) -> dict[str, str]:
    """`address_of` for many agents at once."""
    rows = agents[agents["agent_id"].isin(agent_ids)].drop_duplicates("agent_id").set_index("agent_id")
    names = rows["name"] if "name" in rows.columns else pd.Series("", index=rows.index)
    mails = rows["email"] if "email" in rows.columns else pd.Series(pd.NA, index=rows.index)
    out = {}
    for agent_id in agent_ids:
        name, mail = "", ""
        if agent_id in rows.index:
            name = str(names.at[agent_id] or "")
            if pd.notna(mails.at[agent_id]):
                mail = str(mails.at[agent_id]).strip()
        out[agent_id] = email.utils.formataddr((name, mail or f"{agent_id}@{PLACEHOLDER_DOMAIN}"))
    return out


def _item(row: Mapping, other: str, direction: str) -> str:
    """One listed item: kind, id, details, the other agent and the reason."""
    if row["kind"] == "task":
        bits = [f"priority {int(row['priority'])}"]
        if row["due_date"]:
            bits.append(f"due {row['due_date']}")
        bits.append(f"{float(row['effort_hours']):g} h")
        if row["customer_id"]:
            bits.append(f"customer {row['customer_id']}")
        head = f"task {row['id']} ({', '.join(bits)})"
    else:
        head = f"customer {row['id']}"
    who = other or "nobody (not placed)"
    forced = " [forced]" if row["forced"] else ""
    return (
        _wrap(f"- {head} {direction} {who}{forced}", "  ", "    ")
        + "\n"
        + _wrap(f"why: {row['reason']}", "    ", "      ")
    )


def _wrap(text: str, first: str = "", rest: str = "") -> str:
    """Lines of at most WIDTH characters, so plain-ASCII bodies stay 7bit and readable."""
    return textwrap.fill(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def build_messages(
    result: HandoverResult,
    *,
    sender: str = DEFAULT_SENDER,
    date: datetime | None = None,
) -> dict[str, EmailMessage]:
    """One message per affected agent, keyed and ordered by agent_id: what it receives (from
    whom, with notes), what it hands over (to whom), and where its handover sheet is."""
    table = result.handover
    agents = result.scenario.agents
    names = dict(zip(agents["agent_id"], agents["name"].astype(str), strict=True))
    events = [e for e in result.kpis.get("events", []) if e]
    context = [c for c in ("notes", "history", "special_notes") if c in table.columns]
    messages: dict[str, EmailMessage] = {}
    affected = list(result.affected_agents)
    address = addresses(agents, affected)
    by_to: dict[str, list[dict]] = {}
    by_from: dict[str, list[dict]] = {}
    for row in table.sort_values(["kind", "id"], kind="stable").to_dict("records"):
        by_to.setdefault(row["to_agent_id"], []).append(row)
        by_from.setdefault(row["from_agent_id"], []).append(row)
    for agent in affected:
        received = by_to.get(agent, [])
        given = by_from.get(agent, [])
        hello = names.get(agent) or agent
        lines = [f"Hello {hello},", ""]
        lines.append(
            _wrap(
                f"the plan of {result.scenario.name} changes"
                + (f" after: {'; '.join(events)}." if events else ".")
            )
        )
        lines.append("")
        if len(received):
            lines.append(f"You receive {len(received)} item(s):")
            for row in received:
                lines.append(_item(row, row["from_agent_id"], "from"))
                for c in context:
                    if row[c]:
                        lines.append(_wrap(f"{c}: {row[c]}", "    ", "      "))
            lines += ["", f"Your handover sheet: handover/{agent}.md in the plan folder.", ""]
        if len(given):
            lines.append(f"You hand over {len(given)} item(s):")
            for row in given:
                lines.append(_item(row, row["to_agent_id"], "to"))
            lines.append("")
        lines += ["-- ", "optassign"]
        if len(received) and len(given):
            subject = f"Handover: you receive {len(received)} and hand over {len(given)} item(s)"
        elif len(received):
            subject = f"Handover: you receive {len(received)} item(s)"
        else:
            subject = f"Handover: you hand over {len(given)} item(s)"
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = address[agent]
        msg["Subject"] = f"{subject} ({result.scenario.name})"
        if date is not None:
            msg["Date"] = email.utils.format_datetime(date)
        msg["X-Optassign-Agent"] = agent
        msg.set_content("\n".join(lines) + "\n")
        messages[agent] = msg
    return messages


def write_outbox(messages: Mapping[str, EmailMessage], folder: str | Path) -> Path:
    """Each message as `<folder>/<agent_id>.eml`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for agent, msg in sorted(messages.items()):
        (folder / f"{agent}.eml").write_bytes(msg.as_bytes())
    return folder


def parse_smtp(text: str) -> tuple[str, int]:
    """`HOST:PORT` (an IPv6 host in brackets: `[::1]:25`) -> (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT with a port 1..65535, got {text!r}")
    return host, int(port)


def send_messages(
    messages: Mapping[str, EmailMessage], host: str, port: int, *, timeout: float = 30.0
) -> list[str]:
    """Send every message over one SMTP connection (no TLS, no login: a relay on the local
    network); returns the agents whose message the server accepted, in order."""
    sent = []
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        for agent, msg in sorted(messages.items()):
            smtp.send_message(msg)
            sent.append(agent)
    return sent
