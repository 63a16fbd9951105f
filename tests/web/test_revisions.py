"""The revision pages: what a revision changed in the treaty, its files and its findings, next to the one before."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from plantgate.db import revisions
from plantgate.db.tables import RevisionRow
from tests.sites import edit
from tests.web.conftest import AS_OF, SITE, WebSite
from tests.web.test_object_pages import main, wait_ready

AUDITOR = "a.auditor"


def commit_second_revision(sessions: sessionmaker[Session], source: Path, tmp_path: Path) -> None:
    """Revision 2 of ``source``: C-06 removed (its RDP becomes unregistered exposure), C-08 edited, a zone renamed,
    a config touched; committed by j.lindqvist."""
    folder = tmp_path / "treaty"
    shutil.copytree(source, folder)
    conduits = folder / "conduits.yaml"
    text = conduits.read_text()
    start = text.index("  - id: C-06-remote-jump")
    conduits.write_text(text[:start] + text[text.index("  - id:", start + 5):])
    edit(conduits, "syncs outward through the DMZ relay", "syncs outward through the second relay")
    edit(conduits, "review_by: 2027-06-30\n    enforced_by: [fw-dmz-ot]\n  - id: C-09",
         "review_by: 2027-09-30\n    enforced_by: [fw-dmz-ot]\n  - id: C-09")
    edit(folder / "zones.yaml", "name: Site operations (L3)", "name: Plant operations (L3)")
    config = folder / "firewalls" / "fw-dmz-ot.iptables"
    config.write_text(config.read_text() + "# reviewed\n")
    with sessions.begin() as session:
        revisions.import_folder(session, folder, slug=SITE, actor="j.lindqvist", message="Retire the RDP conduit")


def second_revision(web: WebSite, tmp_path: Path) -> None:
    commit_second_revision(web.sessions, web.folder, tmp_path)


def test_the_revision_list_links_every_revision_newest_first(web: WebSite, tmp_path: Path) -> None:
    second_revision(web, tmp_path)
    page = web.client(AUDITOR).get(f"/sites/{SITE}/revisions")
    assert page.status_code == 200
    rows = re.findall(r'href="/sites/bayport/revisions/(\d+)">Revision \d+</a>( \(current\))?</th><td>[^<]+</td>'
                      r'<td>([^<]+)</td><td>([^<]*)</td>', page.text)
    assert rows == [("2", " (current)", "j.lindqvist", "Retire the RDP conduit"), ("1", "", "test", "import of site")]
    assert 'href="/sites/bayport/revisions/2" id="revision-link"' in web.client(AUDITOR).get(f"/sites/{SITE}").text


def test_a_revision_shows_its_conduits_field_by_field_other_parts_files_and_findings(web: WebSite,
                                                                                      tmp_path: Path) -> None:
    client = web.client(AUDITOR)
    second_revision(web, tmp_path)
    page = main(wait_ready(client, f"/sites/{SITE}/revisions/2"))
    assert "Committed" in page and "by j.lindqvist: Retire the RDP conduit" in page
    conduits = page[page.index('id="conduit-changes"'):page.index("Other parts of the treaty")]
    assert "Removed (1)" in conduits and "C-06-remote-jump" in conduits and "Added" not in conduits
    assert "Edited (1)" in conduits
    edited = conduits[conduits.index("<caption>"):]
    assert 'href="/sites/bayport/conduits/C-08-time-sync"' in edited  # the current revision: its pages exist
    assert re.search(r"<th scope=\"row\">business reason</th><td>The OT time server syncs outward through the DMZ "
                     r"relay.</td><td>The OT time server syncs outward through the second relay.</td>", edited)
    assert re.search(r"<th scope=\"row\">review by</th><td>2027-06-30</td><td>2027-09-30</td>", edited)
    assert "<strong>zones</strong>: ops (name)" in page
    assert "changed <code>firewalls/fw-dmz-ot.iptables</code>" in page
    findings = page[page.index('id="finding-changes"'):]
    assert "No finding appeared" not in findings
    appeared = findings[findings.index("Appeared ("):findings.index("Resolved (")]
    assert "PG-CHANGE-003" in appeared and "conduit C-08-time-sync differs from the register entry" in appeared
    resolved = findings[findings.index("Resolved ("):findings.index("Changed (")]
    assert "PG-REGISTER-002" in resolved and "Conduit C-06-remote-jump was due for review" in resolved
    changed = findings[findings.index("Changed ("):]  # the same exposure finding, grown by the RDP of C-06
    flows = re.search(r"<th scope=\"row\">details: flows</th><td>(\d+)</td><td>(\d+)</td>", changed)
    assert "PG-FW-001" in changed and flows is not None and int(flows.group(2)) > int(flows.group(1))

    first = main(client.get(f"/sites/{SITE}/revisions/1"))
    assert 'id="first-revision"' in first and "nothing before it to compare" in first
    assert 'href="/sites/bayport/revisions/2">Revision 2</a> (after)' in first


def test_the_pair_is_compared_once_and_kept(web: WebSite, tmp_path: Path) -> None:
    second_revision(web, tmp_path)
    wait_ready(web.client(AUDITOR), f"/sites/{SITE}/revisions/2")
    with web.sessions() as session:
        first_id, second_id = session.scalars(select(RevisionRow.id).order_by(RevisionRow.number)).all()
    kept = web.app.state.revisions.stored(("revision changes", first_id, second_id))
    assert kept is not None and kept.treaty.part("conduits").removed[0][0] == "C-06-remote-jump"


def test_findings_not_judged_yet_are_said_to_be_coming_never_unchanged(web: WebSite, tmp_path: Path) -> None:
    second_revision(web, tmp_path)
    web.app.state.settings = web.app.state.settings.model_copy(update={
        "check_wait_seconds": 0, "as_of": AS_OF + dt.timedelta(days=3)})  # a new day: nothing judged yet
    page = web.client(AUDITOR).get(f"/sites/{SITE}/revisions/2").text
    findings = page[page.index('id="finding-changes"'):]
    assert "Not known yet: revision 1 is being checked" in findings or \
        "Not known yet: revision 2 is being checked" in findings
    assert 'id="checking"' in findings and "No finding appeared" not in findings and "Appeared" not in findings
    assert "Removed (1)" in page  # the treaty's changes do not wait for the checks


def test_a_revision_that_does_not_exist_is_not_found(web: WebSite) -> None:
    client = web.client(AUDITOR)
    assert client.get(f"/sites/{SITE}/revisions/9").status_code == 404
    refused = client.get(f"/sites/{SITE}/revisions/0")
    assert refused.status_code == 400 and "number" in refused.text
