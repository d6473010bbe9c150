"""Handover notifications: one message per affected agent, deterministic .eml files in outbox/,
addresses from agents.csv's `email` column, and delivery over SMTP to a real aiosmtpd server
started on 127.0.0.1 in the test."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from optassign.cli.main import app
from optassign.handover.notify import (
    DEFAULT_SENDER,
    parse_sender,
    parse_smtp,
    send_messages,
    write_outbox,
)
from optassign.handover.replan import handover
from tests.conftest import edit_csv, read_csv

FAST = dict(time_limit=1.0, workers=1, seed=0)
CLI_FAST = ["--time-limit", "1", "--workers", "1", "--seed", "0"]


@pytest.fixture
def result(tiny_scenario):
    """A1 leaves the tiny scenario; A4 gets an e-mail address. Affected: A1 (hands over T1 and
    customer C1), A2 (hands over T8, which it may not hold) and A4 (receives T1 and C1)."""
    edit_csv(tiny_scenario / "agents.csv", 5, email="dev@example.org")
    return handover(tiny_scenario, leave=["A1"], **FAST)


class Sink:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.received: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield sink, controller.hostname, controller.port
    finally:
        controller.stop()


def test_one_message_per_affected_agent(result):
    messages = result.messages()
    assert list(messages) == ["A1", "A2", "A4"] == result.affected_agents
    a4, a1 = messages["A4"], messages["A1"]
    assert a4["To"] == "Dev <dev@example.org>"  # the agents.csv email column
    assert a1["To"] == "Ann <A1@example.invalid>"  # no address: a domain that never delivers
    assert a4["From"] == DEFAULT_SENDER and a4["X-Optassign-Agent"] == "A4"
    assert a4["Subject"] == "Handover: you receive 2 item(s) (tiny)"
    assert a1["Subject"] == "Handover: you hand over 2 item(s) (tiny)"
    assert a4["Date"] is None and a4["Message-ID"] is None
    body = a4.get_content()
    assert body.startswith("Hello Dev,\n\nthe plan of tiny changes after: leave A1.\n")
    # sorted listing: the customer before the task, with the task's details and notes
    assert body.index("customer C1 from A1 [forced]") < body.index("task T1 (priority 5, due 2024-07-01, 3 h")
    assert "notes: promised by Ann" in body
    assert "Your handover sheet: handover/A4.md in the plan folder." in body
    assert "task T1 (priority 5, due 2024-07-01, 3 h, customer C1) to A4 [forced]" in a1.get_content()
    assert "to nobody (not placed)" in messages["A2"].get_content()
    assert all(len(line) <= 78 for m in messages.values() for line in m.get_content().splitlines())


def test_messages_are_deterministic_and_dated_only_on_request(result, tmp_path):
    one = write_outbox(result.messages(), tmp_path / "one")
    two = write_outbox(result.messages(), tmp_path / "two")
    assert sorted(p.name for p in one.iterdir()) == ["A1.eml", "A2.eml", "A4.eml", "index.csv"]
    for p in one.iterdir():
        assert p.read_bytes() == (two / p.name).read_bytes()
    when = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    dated = result.messages(sender="Planning <plan@example.org>", date=when)
    assert dated["A4"]["Date"] == "Tue, 24 Nov 2026 09:00:00 +0000"
    assert dated["A4"]["From"] == "Planning <plan@example.org>"
    parsed = email.message_from_bytes((one / "A4.eml").read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "Dev <dev@example.org>" and "customer C1" in parsed.get_content()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("127.0.0.1:2525", ("127.0.0.1", 2525)),
        ("mail.local:25", ("mail.local", 25)),
        ("[::1]:25", ("::1", 25)),
    ],
)
def test_parse_smtp(text, expected):
    assert parse_smtp(text) == expected


@pytest.mark.parametrize("text", ["localhost", ":25", "host:", "host:x", "host:0", "host:70000"])
def test_parse_smtp_rejects(text):
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_smtp(text)


def test_send_to_a_real_smtp_server(result, smtp_server):
    sink, host, port = smtp_server
    sent = send_messages(result.messages(), host, port)
    assert sent == ["A1", "A2", "A4"]
    assert [(frm, to) for frm, to, _ in sink.received] == [
        (DEFAULT_SENDER, ["A1@example.invalid"]),
        (DEFAULT_SENDER, ["A2@example.invalid"]),
        (DEFAULT_SENDER, ["dev@example.org"]),
    ]
    msg = sink.received[2][2]
    assert msg["Subject"] == "Handover: you receive 2 item(s) (tiny)"
    assert "task T1 (priority 5, due 2024-07-01, 3 h, customer C1) from A1 [forced]" in msg.get_content()


def test_cli_handover_sends_the_outbox(tiny_scenario, tmp_path, smtp_server):
    sink, host, port = smtp_server
    out = tmp_path / "out"
    args = ["handover", str(tiny_scenario), "--leave", "A1", "--out", str(out), *CLI_FAST]
    args += ["--smtp", f"{host}:{port}", "--mail-from", "plan@example.org"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "3 message(s) sent" in res.stdout
    outbox = sorted(p.stem for p in (out / "outbox").glob("*.eml"))
    assert outbox == ["A1", "A2", "A4"]
    assert [to for _, to, _ in sink.received] == [[f"{a}@example.invalid"] for a in outbox]
    assert {frm for frm, _, _ in sink.received} == {"plan@example.org"}
    for (_, _, msg), agent in zip(sink.received, outbox, strict=True):
        written = email.message_from_bytes(
            (out / "outbox" / f"{agent}.eml").read_bytes(), policy=email.policy.default
        )
        assert msg.get_content().replace("\r\n", "\n") == written.get_content()  # CRLF on the wire


def test_cli_send_failure_keeps_the_plan(tiny_scenario, tmp_path):
    out = tmp_path / "out"
    port = free_port()  # nobody listens there
    args = ["handover", str(tiny_scenario), "--leave", "A1", "--out", str(out), "--smtp", f"127.0.0.1:{port}"]
    res = CliRunner().invoke(app, [*args, *CLI_FAST])
    assert res.exit_code == 1, res.output
    assert "sending via 127.0.0.1" in res.stderr and "the messages are in" in res.stderr
    assert (out / "handover.csv").is_file() and len(list((out / "outbox").glob("*.eml"))) == 3


def test_outbox_files_are_written_with_the_plan(result, tmp_path):
    out = result.write(tmp_path / "plan")
    assert sorted(p.name for p in (out / "outbox").iterdir()) == ["A1.eml", "A2.eml", "A4.eml", "index.csv"]
    assert Path(out / "handover" / "A4.md").is_file()


# --------------------------------------------------------------------------- untrusted values
def renamed(result, ids: dict[str, str], names: dict[str, str], scenario_name: str | None = None):
    """The result with agent ids and names replaced in memory, as if a reader had let them
    through (the readers refuse control characters; notify must hold even when one gets by)."""
    agents = result.scenario.agents.copy()
    agents["name"] = agents["agent_id"].map(names).fillna(agents["name"])
    agents["agent_id"] = agents["agent_id"].replace(ids)
    table = result.handover.copy()
    for col in ("from_agent_id", "to_agent_id"):
        table[col] = table[col].replace(ids)
    scenario = result.scenario.replace(agents=agents, name=scenario_name or result.scenario.name)
    sheets = {ids.get(a, a): s for a, s in result.sheets.items()}
    return dataclasses.replace(result, scenario=scenario, handover=table, sheets=sheets)


def header_lines(raw: bytes) -> list[str]:
    head = raw.split(b"\n\n", 1)[0].decode("ascii")  # headers are 7-bit: RFC 2047 encoded
    return [line for line in head.split("\n") if not line.startswith((" ", "\t"))]


def test_non_ascii_ids_and_names_are_encoded_in_the_headers(result, smtp_server, tmp_path):
    odd = renamed(result, {"A4": "Ågent", "A1": "日本語"}, {"A4": "Dév Ünal", "A1": "山田"}, "Süd")
    messages = odd.messages()
    assert list(messages) == sorted(["Ågent", "日本語", "A2"])
    outbox = write_outbox(messages, tmp_path / "outbox")
    index = {r["agent_id"]: r["file"] for r in read_csv(outbox / "index.csv")}
    for agent in ("Ågent", "日本語"):
        raw = (outbox / index[agent]).read_bytes()
        assert raw.split(b"\n\n", 1)[0].isascii()  # headers 7-bit (RFC 2047), the body 8-bit UTF-8
        back = email.message_from_bytes(raw, policy=email.policy.default)
        assert back["X-Optassign-Agent"] == agent and back["Subject"].endswith("(Süd)")
    back = email.message_from_bytes((outbox / index["日本語"]).read_bytes(), policy=email.policy.default)
    # no email column: a placeholder whose local part is the file name stem, in ASCII
    assert back["To"].addresses[0].addr_spec == f"{index['日本語'].removesuffix('.eml')}@example.invalid"
    back = email.message_from_bytes((outbox / index["Ågent"]).read_bytes(), policy=email.policy.default)
    assert back["To"].addresses[0].display_name == "Dév Ünal"
    assert back["To"].addresses[0].addr_spec == "dev@example.org"  # the agents.csv email column
    assert back.get_content().startswith("Hello Dév Ünal,")
    sink, host, port = smtp_server
    assert send_messages(messages, host, port) == sorted(messages)
    got = {msg["X-Optassign-Agent"]: (to, msg) for _, to, msg in sink.received}
    assert got["Ågent"][0] == ["dev@example.org"]
    assert got["日本語"][0] == [f"{index['日本語'].removesuffix('.eml')}@example.invalid"]
    assert got["日本語"][1]["To"].addresses[0].display_name == "山田"


def test_control_characters_in_ids_and_names_never_reach_a_header(result, smtp_server, tmp_path):
    evil = "x\r\nBcc: evil@attacker.example\r\n\r\nbody"
    odd = renamed(
        result,
        {"A4": "A4\r\nBcc: evil@attacker.example", "A1": "A1\x00\x85\u2028z"},
        {"A4": evil, "A2": "Bob\nCc: evil@attacker.example"},
        "tiny\r\nBcc: evil@attacker.example",
    )
    odd.handover["reason"] = odd.handover["reason"] + "\n-- \nfake signature\rX-Injected: 1"
    messages = odd.messages()
    one = write_outbox(messages, tmp_path / "one")
    two = write_outbox(odd.messages(), tmp_path / "two")
    for path in sorted(one.glob("*.eml")):
        raw = path.read_bytes()
        assert raw == (two / path.name).read_bytes()  # byte-identical from run to run
        names = [line.split(":", 1)[0] for line in header_lines(raw)]
        assert names == ["From", "To", "Subject", "X-Optassign-Agent", "Content-Type"] + [
            "Content-Transfer-Encoding",
            "MIME-Version",
        ], (path.name, names)
        back = email.message_from_bytes(raw, policy=email.policy.default)
        assert back["Bcc"] is None and back["Cc"] is None and back["X-Injected"] is None
        assert "\n" not in back["X-Optassign-Agent"] and "\r" not in back["Subject"]
        body = back.get_content()
        assert "\nfake signature" not in body and "\nX-Injected" not in body
    sink, host, port = smtp_server
    send_messages(messages, host, port)
    recipients = sorted(r for _, to, _ in sink.received for r in to)
    assert not any("attacker" in r for r in recipients)
    assert len(recipients) == 3


def test_an_email_column_that_is_not_one_address_is_not_used(result, smtp_server, tmp_path):
    bad = {"A4": "dev@example.org, evil@attacker.example", "A1": "Ann <ann@x.example>\r\nBcc: e@a.example"}
    agents = result.scenario.agents.copy()
    agents["email"] = agents["agent_id"].map(bad).fillna("")
    odd = dataclasses.replace(result, scenario=result.scenario.replace(agents=agents))
    messages = odd.messages()
    assert messages["A4"]["To"] == "Dev <A4@example.invalid>"  # never delivers, never to two people
    assert messages["A1"]["To"] == "Ann <A1@example.invalid>"
    sink, host, port = smtp_server
    send_messages(messages, host, port)
    assert sorted(r for _, to, _ in sink.received for r in to) == [
        "A1@example.invalid",
        "A2@example.invalid",
        "A4@example.invalid",
    ]


@pytest.mark.parametrize(
    "value",
    [
        "plan@example.org\r\nBcc: evil@attacker.example",
        "plan@example.org\nBcc: evil@attacker.example",
        "a@example.org, b@example.org",
        "Doe, J <a@example.org>",
        "not an address",
        "plan@",
        "",
        "plän@example.org",
    ],
)
def test_mail_from_is_checked_before_any_work(tiny_scenario, tmp_path, value):
    out = tmp_path / "out"
    args = ["handover", str(tiny_scenario), "--leave", "A1", "--out", str(out), "--mail-from", value]
    res = CliRunner().invoke(app, [*args, *CLI_FAST])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and f"--mail-from: value {value!r}:" in res.stderr
    assert "single e-mail address" in res.stderr and "Traceback" not in res.output
    assert res.stdout == ""  # nothing solved, nothing written
    assert not out.exists()


@pytest.mark.parametrize("value", ["mail.local:25\r\nX", "mail local:25", "a\x00b:25", "::1:25", "[::1]:0"])
def test_smtp_is_checked_before_any_work(tiny_scenario, tmp_path, value):
    out = tmp_path / "out"
    args = ["handover", str(tiny_scenario), "--leave", "A1", "--out", str(out), "--smtp", value]
    res = CliRunner().invoke(app, [*args, *CLI_FAST])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and f"--smtp: value {value!r}:" in res.stderr
    assert "HOST:PORT" in res.stderr and res.stdout == ""
    assert not out.exists()


@pytest.mark.parametrize(
    "value, expected",
    [
        ("plan@example.org", ("", "plan@example.org")),
        ("Planning <plan@example.org>", ("Planning", "plan@example.org")),
        ('"Doe, J" <j@example.org>', ("Doe, J", "j@example.org")),
        ("Plänung <plan@example.org>", ("Plänung", "plan@example.org")),
    ],
)
def test_mail_from_accepts_one_address(value, expected):
    addr = parse_sender(value)
    assert (addr.display_name, addr.addr_spec) == expected
