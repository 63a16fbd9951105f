"""`plantgate feeds update`: a new KEV entry on a DMZ-facing asset raises a finding in one queue cycle, reaches
the SOC as CEF over syslog, and mails and posts the critical finding to whoever the settings name; sites the
update cannot touch keep their findings without being judged again."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import select

from plantgate.cli import main
from plantgate.db import accounts, revisions
from plantgate.db.accounts import Role
from plantgate.db.engine import make_engine, session_factory, upgrade
from plantgate.db.tables import CheckResultRow, OutboxRow, SiteRow
from tests.conftest import shared_path
from tests.sites import MINIMAL, copy_example, edit, write_files

AS_OF = "2026-11-26"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks the port it was given, so not 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict[str, Any]], int]]:
    received: list[dict[str, Any]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"json": json.loads(body), "key": self.headers["Idempotency-Key"]})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, server.server_address[1]
    server.shutdown()


@pytest.fixture
def syslog() -> Iterator[tuple[socket.socket, int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    yield sock, sock.getsockname()[1]
    sock.close()


def test_a_new_kev_entry_is_judged_reported_and_notified(tmp_path: Path, smtp: tuple[Mailbox, int],
                                                          webhook: tuple[list[dict[str, Any]], int],
                                                          syslog: tuple[socket.socket, int]) -> None:
    mirror = shared_path("ot-data")
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    site = copy_example(tmp_path)  # the plant's own feeds do not know CVE-2024-3400 is exploited
    edit(site / "vulns.yaml", "kev: [advisories/kev.json]", "kev: []")
    edit(site / "vulns.yaml", "vulnrichment: [advisories/vulnrichment]", "vulnrichment: []")
    with session_factory(engine).begin() as session:
        revisions.import_folder(session, site, slug="bayport", actor="test")
        revisions.import_folder(session, write_files(tmp_path / "small", MINIMAL), slug="small", actor="test")
        soc = accounts.create_user(session, "k.soc", None, actor="test")
        soc.email = "soc@plant.example"
        accounts.grant(session, soc, revisions.site_by_slug(session, "bayport"), Role.SOC_ANALYST, actor="test")
    env = {"PLANTGATE_SMTP_HOST": "127.0.0.1", "PLANTGATE_SMTP_PORT": str(smtp[1]),
           "PLANTGATE_SOC_SYSLOG": f"127.0.0.1:{syslog[1]}", "PLANTGATE_AS_OF": AS_OF,
           "PLANTGATE_NOTIFICATIONS": json.dumps([{"role": "soc_analyst", "events": ["critical_finding"],
                                                   "webhook": f"http://127.0.0.1:{webhook[1]}/hook"}])}
    runner = CliRunner()
    first = runner.invoke(main, ["fleet", "check", "--database-url", url], env=env)
    assert first.exit_code == 0, first.output
    sessions = session_factory(engine)

    def results() -> dict[str, CheckResultRow]:
        with sessions() as session:
            slugs = dict(session.execute(select(SiteRow.id, SiteRow.slug)).all())
            return {f"{slugs[r.site_id]}@{r.feeds[:8]}": r for r in session.scalars(select(CheckResultRow))}

    before = results()
    assert {k.split("@")[0] for k in before} == {"bayport", "small"}
    assert not any(f["rule_id"] == "PG-VULN-001" for f in before["bayport@"].findings)

    update = runner.invoke(main, ["feeds", "update", "--mirror", str(mirror), "--as-of", AS_OF,
                                  "--database-url", url], env=env)
    assert update.exit_code == 0, update.output
    assert "1 sites to re-judge, 1 carried over" in update.output  # bayport matches; the small plant cannot
    after = {k: v for k, v in results().items() if not k.endswith("@")}
    bayport = next(v for k, v in after.items() if k.startswith("bayport"))
    small = next(v for k, v in after.items() if k.startswith("small"))
    assert bayport.computations == 1 and small.computations == 0 and small.findings == before["small@"].findings
    kev = [f for f in bayport.findings if f["rule_id"] == "PG-VULN-001"]
    assert kev and "dmz-ape1808" in kev[0]["subjects"] and "CVE-2024-3400" in kev[0]["subjects"]

    message = syslog[0].recv(65535).decode()  # the SOC hears of it
    assert "CEF:0|PlantGate|" in message and "|PG-VULN-001|" in message and "cs1=Bayport Olefins" in message
    assert [m.rcpt_tos for m in smtp[0].messages] == [["soc@plant.example"]]
    assert b"new critical finding PG-VULN-001" in smtp[0].messages[0].content
    assert len(webhook[0]) == 1 and webhook[0][0]["json"]["event"] == "critical_finding"
    with sessions() as session:
        outbox = session.scalars(select(OutboxRow)).all()
    assert {(o.channel, o.state) for o in outbox} == {("syslog", "sent"), ("email", "sent"), ("webhook", "sent")}

    again = runner.invoke(main, ["feeds", "update", "--mirror", str(mirror), "--database-url", url], env=env)
    assert again.exit_code == 0 and "(unchanged)" in again.output  # the same feeds: nothing queued, nothing sent
    with sessions() as session:
        assert len(session.scalars(select(OutboxRow)).all()) == len(outbox)
