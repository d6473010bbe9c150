"""Notifications of a handover: one e-mail per affected agent (who hands over, who receives),
written as .eml files to the plan folder's outbox/ and, when asked, sent over SMTP.

Content is deterministic (sorted listings, no Date header unless given, no Message-ID), so the
same handover writes byte-identical messages. Ids, names and notes come from a CRM: they are
folded onto one line before they reach a header or a listed line, non-ASCII text is encoded as
the email package does (RFC 2047), and file names come from `names.file_names`."""

from __future__ import annotations

import email.errors
import email.utils
import re
import smtplib
import textwrap
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from pathlib import Path

import pandas as pd

from optassign.contract.names import file_names, inside, write_index

__all__ = [
    "DEFAULT_SENDER",
    "address_of",
    "build_messages",
    "mailbox",
    "one_line",
    "parse_sender",
    "parse_smtp",
    "send_messages",
    "write_outbox",
]

DEFAULT_SENDER = "optassign@example.invalid"
PLACEHOLDER_DOMAIN = "example.invalid"
WIDTH = 76


# Control characters (CR, LF, NUL, tab, and \x1c-\x1e, \x85 that str.splitlines also breaks
# at) and the line and paragraph separators: none may reach a header or start a listed line.
_FOLDED = ("Cc", "Zl", "Zp")
# RFC 5322 dot-atom (ASCII only): what a placeholder local part may be as it is.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LOCAL_MAX = 64  # octets of a local part (RFC 5321)
_HEADERS = HeaderRegistry()


def one_line(value: object) -> str:
    """The text with every control character and line break (CR, LF, NUL, tab, U+2028, ...)
    as a space: a value from the CRM can never start a header or a line of its own."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(" " if unicodedata.category(ch) in _FOLDED else ch for ch in text)


def _local_part(agent_id: str, stem: str) -> str:
    """The placeholder's local part: the id when it is a short ASCII dot-atom, else its file
    name stem (an ASCII slug and hash), dots made safe."""
    for local in (agent_id, stem):
        if len(local) <= _LOCAL_MAX and _DOT_ATOM.fullmatch(local):
            return local
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:_LOCAL_MAX] or "agent"


def mailbox(agent_id: str, name: object = "", mail: object = "", stem: str | None = None) -> Address:
    """The agent's mailbox: `mail` (agents.csv `email`) when it is one valid ASCII address,
    else `<local>@example.invalid` (a domain that never delivers), with the name as display
    name. `stem` is the agent's file name stem (names.file_names), when known."""
    display = one_line(name or "").strip()
    text = one_line(mail if isinstance(mail, str) else "").strip()
    if text:
        try:
            real = Address(addr_spec=text)
        except (ValueError, IndexError, TypeError, email.errors.HeaderParseError, email.errors.MessageDefect):
            real = None
        if real is not None and real.username and real.domain and real.addr_spec.isascii():
            return Address(display, addr_spec=real.addr_spec)
    if stem is None:
        stem = file_names([agent_id])[agent_id]
    return Address(display, _local_part(agent_id, stem), PLACEHOLDER_DOMAIN)


def address_of(agents: pd.DataFrame, agent_id: str) -> str:
    """`Name <email>`: the agents.csv `email` column when present and filled, else
    `<agent_id>@example.invalid` (a domain that never delivers)."""
    return addresses(agents, [agent_id])[agent_id]


def _mailboxes(agents: pd.DataFrame, agent_ids: list[str], stems: Mapping[str, str]) -> dict[str, Address]:
    rows = agents[agents["agent_id"].isin(agent_ids)].drop_duplicates("agent_id").set_index("agent_id")
    names = rows["name"] if "name" in rows.columns else pd.Series("", index=rows.index)
    mails = rows["email"] if "email" in rows.columns else pd.Series(pd.NA, index=rows.index)
    out = {}
    for agent_id in agent_ids:
        name, mail = "", ""
        if agent_id in rows.index:
            name = str(names.at[agent_id] or "")
            if pd.notna(mails.at[agent_id]):
                mail = str(mails.at[agent_id])
        out[agent_id] = mailbox(agent_id, name, mail, stems[agent_id])
    return out


def addresses(agents: pd.DataFrame, agent_ids: list[str]) -> dict[str, str]:
    """`address_of` for many agents at once."""
    stems = file_names([*agents["agent_id"].astype(str), *agent_ids])
    return {a: str(m) for a, m in _mailboxes(agents, agent_ids, stems).items()}


def parse_sender(text: str) -> Address:
    """`--mail-from`: one address, `name@domain` or `Name <name@domain>`, on one line, that
    both the email package and `email.utils.parseaddr` read the same way; ValueError saying
    the rule otherwise."""
    rule = "must be a single e-mail address (name@domain or Name <name@domain>)"
    if one_line(text) != text:
        raise ValueError(f"{rule} on one line: no CR, LF or other control characters")
    try:
        header = _HEADERS("From", text)
        groups, found, defects = header.groups, header.addresses, header.defects
    except (ValueError, IndexError, TypeError, email.errors.HeaderParseError):
        raise ValueError(rule) from None
    if len(found) != 1 or len(groups) != 1 or groups[0].display_name is not None or defects:
        raise ValueError(rule)
    addr = found[0]
    if not addr.username or not addr.domain or not addr.addr_spec.isascii():
        raise ValueError(f"{rule}, in ASCII")
    if email.utils.parseaddr(text)[1] != addr.addr_spec:
        raise ValueError(rule)
    return addr


def handover_file_names(agent_ids: Iterable[str]) -> dict[str, str]:
    """agent_id -> file name stem for a handover's sheets and messages. Give every agent of
    the scenario (and anyone else named in the handover), so an agent's files have the same
    name in handover/ and outbox/."""
    return file_names(list(agent_ids))


def affected_agents(table: pd.DataFrame) -> list[str]:
    """Everyone who hands over or receives in a handover table, sorted."""
    return sorted((set(table["from_agent_id"]) | set(table["to_agent_id"])) - {""})


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
    """Lines of at most WIDTH characters, so plain-ASCII bodies stay 7bit and readable; a line
    break inside a value (a reason, a note) is a space, so a value never starts a line."""
    return textwrap.fill(
        one_line(text),
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def build_messages(
    table: pd.DataFrame,
    agents: pd.DataFrame,
    *,
    scenario_name: str,
    events: Iterable[str] = (),
    sender: str | Address = DEFAULT_SENDER,
    date: datetime | None = None,
    stems: Mapping[str, str] | None = None,
) -> dict[str, EmailMessage]:
    """One message per agent of a handover table (handover.csv's rows), keyed and ordered by
    agent_id: what it receives (from whom, with notes), what it hands over (to whom), and where
    its handover sheet is (by its file name, `stems`: `handover_file_names` of every agent
    unless given). `events` are the staffing changes in words, `agents` the scenario's."""
    sender = parse_sender(sender) if isinstance(sender, str) else sender
    people = dict(zip(agents["agent_id"], agents["name"].astype(str), strict=True))
    events = [e for e in events if e]
    context = [c for c in ("notes", "history", "special_notes") if c in table.columns]
    messages: dict[str, EmailMessage] = {}
    affected = affected_agents(table)
    if stems is None:
        stems = handover_file_names([*agents["agent_id"].astype(str), *affected])
    address = _mailboxes(agents, affected, stems)
    scenario = one_line(scenario_name)
    by_to: dict[str, list[dict]] = {}
    by_from: dict[str, list[dict]] = {}
    for row in table.sort_values(["kind", "id"], kind="stable").to_dict("records"):
        by_to.setdefault(row["to_agent_id"], []).append(row)
        by_from.setdefault(row["from_agent_id"], []).append(row)
    for agent in affected:
        received = by_to.get(agent, [])
        given = by_from.get(agent, [])
        hello = one_line(people.get(agent) or agent)
        lines = [f"Hello {hello},", ""]
        lines.append(
            _wrap(f"the plan of {scenario} changes" + (f" after: {'; '.join(events)}." if events else "."))
        )
        lines.append("")
        if len(received):
            lines.append(f"You receive {len(received)} item(s):")
            for row in received:
                lines.append(_item(row, row["from_agent_id"], "from"))
                for c in context:
                    if row[c]:
                        lines.append(_wrap(f"{c}: {row[c]}", "    ", "      "))
            lines += ["", f"Your handover sheet: handover/{stems[agent]}.md in the plan folder.", ""]
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
        msg["Subject"] = f"{subject} ({scenario})"
        if date is not None:
            msg["Date"] = email.utils.format_datetime(date)
        msg["X-Optassign-Agent"] = one_line(agent)
        msg.set_content("\n".join(lines) + "\n")
        messages[agent] = msg
    return messages


def write_outbox(
    messages: Mapping[str, EmailMessage], folder: str | Path, stems: Mapping[str, str] | None = None
) -> Path:
    """Each message as `<folder>/<name>.eml`, `name` the agent's file name stem (`stems`, else
    `names.file_names` of the agents), and `<folder>/index.csv` saying whose file is which."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stems = stems if stems is not None else file_names(messages)
    files = {}
    for agent, msg in sorted(messages.items()):
        files[agent] = f"{stems[agent]}.eml"
        inside(folder, files[agent]).write_bytes(msg.as_bytes())
    write_index(folder, files)
    return folder


# A host name (letters, digits, "-", "_", "."), an IPv4 address, or an IPv6 address in brackets.
_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|\[[0-9A-Fa-f:.]+\]")


def parse_smtp(text: str) -> tuple[str, int]:
    """`HOST:PORT` (an IPv6 host in brackets: `[::1]:25`) -> (host, port); ValueError saying
    the rule otherwise (no spaces or control characters, a port 1..65535)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not _HOST.fullmatch(host) or not port.isascii() or not port.isdigit():
        raise ValueError("expected HOST:PORT (a host name or address, IPv6 in brackets) with a port 1..65535")
    if not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT with a port 1..65535")
    return host.strip("[]"), int(port)


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
