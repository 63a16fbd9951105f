"""The change workflow through the pages: impact with witnesses, OT veto, separation of duties,
sign-off, implementation as a new revision, rebase after a concurrent change, verification."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from plantgate.db import audit
from plantgate.db.revisions import head, site_by_slug, snapshot_of
from plantgate.db.tables import ChangeRequestRow, CheckResultRow
from plantgate.jobs.inputs import current
from plantgate.jobs.results import ResultKey
from tests.web.conftest import AS_OF, SITE, WebSite, post

NEW_CONDUIT = """
upsert:
  - id: C-20-ot-syslog-udp
    from_zone: ops
    to_zone: idmz
    services: [{protocol: udp, ports: [514]}]
    sources: [10.30.0.22/32]
    destinations: [172.16.35.40/32]
    business_reason: Legacy controllers log over UDP syslog to the DMZ collector.
    owner: r.alvarez
    ot_approver: r.alvarez
    enforced_by: [fw-dmz-ot]
"""
OPENING_RULE = ('-A OT_TO_DMZ -s 10.30.0.22/32 -d 172.16.35.40/32 -p udp -m udp --dport 514 '
                '-m comment --comment "syslog udp" -j ACCEPT\n')


def candidate_opening(web: WebSite) -> bytes:
    current = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_text()
    return current.replace("-A OT_TO_DMZ -j RETURN\n", OPENING_RULE + "-A OT_TO_DMZ -j RETURN\n").encode()


def candidate_closing(web: WebSite) -> bytes:
    lines = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_text().splitlines(keepends=True)
    return "".join(line for line in lines if "--dport 5900" not in line).encode()


def file_change(client: TestClient, title: str, candidate: bytes | None, register_edit: str = NEW_CONDUIT,
                emergency: bool = False, conduits: str = "") -> int:
    data = {"title": title, "business_reason": "Needed for the controller logs.", "firewall": "fw-dmz-ot",
            "register_edit": register_edit, "ot_approver": "r.alvarez", "conduits": conduits}
    if emergency:
        data["emergency"] = "true"
    files = {"candidate": ("candidate.iptables", candidate, "text/plain")} if candidate else None
    response = post(client, f"/sites/{SITE}/changes", data, files)
    assert response.status_code == 303, response.text
    found = re.search(r"/changes/(\d+)$", response.headers["location"])
    assert found is not None
    return int(found.group(1))


def state(web: WebSite, change_id: int) -> str:
    with web.sessions() as session:
        return session.get_one(ChangeRequestRow, change_id).state


def test_impact_shows_opened_flows_with_a_witness(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    change_id = file_change(engineer, "UDP syslog", candidate_opening(web))
    page = engineer.get(f"/sites/{SITE}/changes/{change_id}")
    assert page.status_code == 200
    opened = page.text.split('id="opened-1"')[1].split("</div>")[0]
    assert "/zones/ops\">ops</a> &rarr; <a href=\"/sites/bayport/zones/idmz" in opened
    assert "10.30.0.22" in opened and "514" in opened
    assert "without a valid OT approval" in page.text  # the library's refusal until OT approves
    assert state(web, change_id) == "submitted"


def test_a_single_ot_veto_ends_the_change(web: WebSite) -> None:
    engineer, ot, owner = web.client("j.lindqvist"), web.client("r.alvarez"), web.client("m.okafor")
    change_id = file_change(engineer, "UDP syslog", candidate_opening(web))
    base = f"/sites/{SITE}/changes/{change_id}"
    assert post(ot, f"{base}/veto", {"comment": "Not during the campaign"}).status_code == 303
    assert state(web, change_id) == "vetoed"
    seen = engineer.get(base).text  # the requester sees the veto
    assert "vetoed" in seen and "Not during the campaign" in seen and "r.alvarez" in seen
    assert post(web.client("d.chen"), f"{base}/approve").status_code == 409
    assert post(owner, f"{base}/sign_off").status_code == 409
    assert post(engineer, f"{base}/implement").status_code == 409
    assert state(web, change_id) == "vetoed"


def test_nobody_approves_or_signs_off_their_own_change(web: WebSite) -> None:
    owner = web.client("m.okafor")  # platform owner files it: may not sign it off
    change_id = file_change(owner, "own change", candidate_opening(web))
    response = post(owner, f"/sites/{SITE}/changes/{change_id}/sign_off")
    assert response.status_code == 403 and "separation of duties" in response.text


def test_only_the_platform_owner_signs_off(web: WebSite) -> None:
    change_id = file_change(web.client("m.okafor"), "by the owner", candidate_opening(web))
    response = post(web.client("j.lindqvist"), f"/sites/{SITE}/changes/{change_id}/sign_off")
    assert response.status_code == 403 and "platform owner" in response.text


def test_approved_change_is_implemented_as_a_new_revision_and_verified(web: WebSite) -> None:
    engineer, ot, owner = web.client("j.lindqvist"), web.client("r.alvarez"), web.client("m.okafor")
    candidate = candidate_opening(web)
    change_id = file_change(engineer, "UDP syslog", candidate)
    base = f"/sites/{SITE}/changes/{change_id}"
    assert post(ot, f"{base}/approve", {"comment": "one host, one port"}).status_code == 303
    assert state(web, change_id) == "submitted"  # still needs the platform owner's sign-off
    assert post(owner, f"{base}/sign_off").status_code == 303
    assert state(web, change_id) == "approved"
    assert "The library accepts this change" in engineer.get(base).text
    implemented = post(engineer, f"{base}/implement")
    assert implemented.status_code == 303, implemented.text
    assert state(web, change_id) == "implemented"
    with web.sessions() as session:
        site = site_by_slug(session, SITE)
        assert site is not None
        revision = head(session, site)
        assert revision is not None and revision.number == 2
        key = ResultKey.of(revision.id, AS_OF, current(session))
        assert web.app.state.jobs.state(session, key.lock) is not None or session.get(
            CheckResultRow, key.primary_key()) is not None  # its check job is queued (or already done)
        snapshot = snapshot_of(session, revision)
        treaty = snapshot.treaty()
        assert any(c.id == "C-20-ot-syslog-udp" for c in treaty.conduits)
        assert snapshot.files["firewalls/fw-dmz-ot.iptables"] == candidate
        record = next(c for c in treaty.changes if c.id == f"CR-WEB-{change_id}")
        assert record.state.value == "implemented" and {d.person for d in record.decisions} == {"r.alvarez",
                                                                                                "m.okafor"}
        assert audit.verify(session).ok
    wrong = post(engineer, f"{base}/verify", files={"deployed": ("fw.iptables", candidate_closing(web), "text/plain")})
    assert wrong.status_code == 409 and "deployed config" in wrong.text
    assert state(web, change_id) == "implemented"
    right = post(engineer, f"{base}/verify", files={"deployed": ("fw.iptables", candidate, "text/plain")})
    assert right.status_code == 303 and state(web, change_id) == "verified"


def test_a_change_on_an_old_revision_must_be_rebased(web: WebSite) -> None:
    engineer, ot, owner = web.client("j.lindqvist"), web.client("r.alvarez"), web.client("m.okafor")
    first = file_change(engineer, "close VNC", candidate_closing(web), register_edit="", conduits="C-06-remote-jump")
    second = file_change(engineer, "UDP syslog", candidate_opening(web))
    for change_id in (first, second):
        assert post(ot, f"/sites/{SITE}/changes/{change_id}/approve").status_code == 303
        assert post(owner, f"/sites/{SITE}/changes/{change_id}/sign_off").status_code == 303
    assert post(engineer, f"/sites/{SITE}/changes/{first}/implement").status_code == 303
    refused = post(engineer, f"/sites/{SITE}/changes/{second}/implement")
    assert refused.status_code == 409 and "rebase" in refused.text
    assert "must be rebased" in engineer.get(f"/sites/{SITE}/changes/{second}").text
    assert post(engineer, f"/sites/{SITE}/changes/{second}/rebase").status_code == 303
    assert state(web, second) == "submitted"  # decisions were for the old base
    # Rebased as is, the old candidate would re-open what the first change closed: the proof refuses it.
    assert "idmz -&gt; sup" in engineer.get(f"/sites/{SITE}/changes/{second}").text
    redone = candidate_opening(web).decode().replace(
        next(line for line in candidate_opening(web).decode().splitlines(keepends=True) if "--dport 5900" in line), "")
    assert post(engineer, f"/sites/{SITE}/changes/{second}/rebase").status_code == 409  # already on the head
    assert post(engineer, f"/sites/{SITE}/changes/{second}/rebase",
                files={"candidate": ("c.iptables", redone.encode(), "text/plain")}).status_code == 303
    assert post(ot, f"/sites/{SITE}/changes/{second}/approve").status_code == 303
    assert post(owner, f"/sites/{SITE}/changes/{second}/sign_off").status_code == 303
    done = post(engineer, f"/sites/{SITE}/changes/{second}/implement")
    assert done.status_code == 303, done.text
    with web.sessions() as session:  # neither update was lost
        site = site_by_slug(session, SITE)
        assert site is not None
        revision = head(session, site)
        assert revision is not None and revision.number == 3
        config = snapshot_of(session, revision).files["firewalls/fw-dmz-ot.iptables"].decode()
        assert "--dport 5900" not in config and "--dport 514" in config
        assert len(session.scalars(select(ChangeRequestRow)).all()) == 2


def test_emergency_change_that_opens_is_refused_with_the_witness(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    opening = file_change(engineer, "urgent open", candidate_opening(web), emergency=True)
    page = engineer.get(f"/sites/{SITE}/changes/{opening}").text
    assert "Emergency close-only proof fails" in page and "10.30.0.22" in page
    closing = file_change(engineer, "urgent close", candidate_closing(web), register_edit="", emergency=True,
                          conduits="C-06-remote-jump")
    assert "Emergency close-only proof holds" in engineer.get(f"/sites/{SITE}/changes/{closing}").text


def test_a_bad_register_edit_is_refused_with_its_location(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    response = post(engineer, f"/sites/{SITE}/changes", {"title": "bad", "firewall": "fw-dmz-ot",
                                                          "register_edit": "upsert: [{id: X, nonsense: 1}]"})
    assert response.status_code == 400 and "register_edit" in response.text
