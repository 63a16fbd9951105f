"""`plantgate feeds update`: a new KEV entry on a DMZ-facing asset raises a finding in one queue cycle, reaches
the SOC as CEF over syslog, and mails and posts the critical finding to whoever the settings name; sites the
update cannot touch keep their findings without being judged again."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import undefer

from plantgate.cli import main
from plantgate.db import accounts, revisions
from plantgate.db.accounts import Role
from plantgate.db.engine import make_engine, session_factory, upgrade
from plantgate.db.tables import CheckResultRow, OutboxRow, SiteRow
from tests.conftest import shared_path
from tests.receivers import Mailbox
from tests.sites import MINIMAL, copy_example, edit, write_files

AS_OF = "2026-11-26"


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
            return {f"{slugs[r.site_id]}@{r.feeds[:8]}": r for r in session.scalars(
                select(CheckResultRow).options(undefer(CheckResultRow.findings), undefer(CheckResultRow.facts)))}

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
