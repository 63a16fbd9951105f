"""A change as its deciders see it: buttons only for who may press them (and the server agrees), a veto with its
reason, the timeline, the config text side by side, and what waits for each person on the home page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from plantgate.db import accounts, revisions
from plantgate.db.accounts import Role
from plantgate.db.tables import ApprovalRow, AuditRow
from tests.web.conftest import SITE, WebSite, post
from tests.web.test_change_form import problem
from tests.web.test_changes import candidate_closing, candidate_opening, file_change, state

BUTTONS = ("approve", "veto", "sign-off")


def buttons(client: TestClient, change_id: int) -> set[str]:
    page = client.get(f"/sites/{SITE}/changes/{change_id}").text
    return {b for b in BUTTONS if f'<button id="{b}">' in page}


def timeline(client: TestClient, change_id: int) -> list[str]:
    """The timeline's steps as text, one per step."""
    page = client.get(f"/sites/{SITE}/changes/{change_id}").text
    listed = page.split('<ol class="timeline"')[1].split("</ol>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item.split(">", 1)[1])).strip()
            for item in listed.split("<li")[1:]]


def waiting(client: TestClient) -> str:
    return client.get("/").text.split('<section id="waiting">')[1].split("</section>\n</section>")[0]


def test_buttons_appear_only_for_who_may_press_them(web: WebSite) -> None:
    engineer, ot, owner = web.client("j.lindqvist"), web.client("r.alvarez"), web.client("m.okafor")
    change_id = file_change(engineer, "UDP syslog", candidate_opening(web))
    assert buttons(engineer, change_id) == set()  # the requester decides nothing on their own change
    assert buttons(web.client("a.auditor"), change_id) == set()
    assert buttons(ot, change_id) == {"approve", "veto"}
    assert buttons(owner, change_id) == {"sign-off"}  # the firewall's platform owner
    assert post(ot, f"/sites/{SITE}/changes/{change_id}/approve").status_code == 303
    assert buttons(ot, change_id) == {"veto"}  # approved once; a veto stays possible


def test_an_ot_approver_of_the_change_gets_no_sign_off(web: WebSite) -> None:
    with web.sessions.begin() as session:
        user, site = accounts.user_by_name(session, "m.okafor"), revisions.site_by_slug(session, SITE)
        assert user is not None and site is not None
        accounts.grant(session, user, site, Role.OT_APPROVER, actor="test")
    both = web.client("m.okafor")
    change_id = file_change(web.client("j.lindqvist"), "both hats", candidate_opening(web))
    assert buttons(both, change_id) == {"approve", "veto", "sign-off"}
    assert post(both, f"/sites/{SITE}/changes/{change_id}/approve").status_code == 303
    assert buttons(both, change_id) == {"veto"}  # no sign-off for who approved as OT
    refused = post(both, f"/sites/{SITE}/changes/{change_id}/sign_off")  # and the server refuses it anyway
    assert refused.status_code == 403 and "two people" in refused.text


def test_a_veto_needs_its_reason(web: WebSite) -> None:
    ot = web.client("r.alvarez")
    change_id = file_change(web.client("j.lindqvist"), "UDP syslog", candidate_opening(web))
    for reason in ("", "   \n "):
        refused = post(ot, f"/sites/{SITE}/changes/{change_id}/veto", {"comment": reason})
        assert refused.status_code == 400 and "text/html" in refused.headers["content-type"]
        assert problem(refused.text, "comment").startswith("a veto needs its reason")
        assert 'id="veto-comment" rows="2" required aria-required="true" aria-invalid="true"' in refused.text
    assert state(web, change_id) == "submitted"
    with web.sessions() as session:
        assert session.scalars(select(ApprovalRow)).all() == []
        assert session.scalars(select(AuditRow).where(AuditRow.action == "change.veto")).all() == []
    assert post(ot, f"/sites/{SITE}/changes/{change_id}/veto", {"comment": "not in a run"}).status_code == 303
    assert state(web, change_id) == "vetoed"
    steps = timeline(ot, change_id)
    assert steps[-1].startswith("Vetoed done, current r.alvarez") and steps[-1].endswith("not in a run")
    assert steps[1] == "OT approval not reached vetoed"


def test_the_timeline_names_who_decided_and_who_is_awaited(web: WebSite) -> None:
    engineer, ot, owner = web.client("j.lindqvist"), web.client("r.alvarez"), web.client("m.okafor")
    change_id = file_change(engineer, "UDP syslog", candidate_opening(web))
    steps = timeline(engineer, change_id)
    assert [s.split(" ")[0] for s in steps] == ["Submitted", "OT", "Platform", "Implemented", "Verified"]
    assert steps[0].startswith("Submitted done j.lindqvist")
    assert steps[1] == "OT approval waiting, current waiting for r.alvarez"
    assert steps[2] == "Platform sign-off waiting waiting for the platform owner m.okafor"
    assert post(ot, f"/sites/{SITE}/changes/{change_id}/approve", {"comment": "one host"}).status_code == 303
    assert post(owner, f"/sites/{SITE}/changes/{change_id}/sign_off").status_code == 303
    steps = timeline(engineer, change_id)
    assert steps[1].startswith("OT approval done r.alvarez") and steps[1].endswith("one host")
    assert steps[2].startswith("Platform sign-off done m.okafor")
    assert steps[3] == "Implemented waiting, current waiting for an IT engineer"
    assert post(engineer, f"/sites/{SITE}/changes/{change_id}/implement").status_code == 303
    assert timeline(engineer, change_id)[3].startswith("Implemented done j.lindqvist")
    assert '<li class="step step-waiting step-current" aria-current="step">' in engineer.get(
        f"/sites/{SITE}/changes/{change_id}").text


def test_the_config_text_side_by_side_shows_the_changed_lines_escaped(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    hostile = candidate_opening(web).decode().replace("-A OT_TO_DMZ -j RETURN\n",
                                                      '# <script>alert(1)</script>\n-A OT_TO_DMZ -j RETURN\n')
    change_id = file_change(engineer, "UDP syslog", hostile.encode())
    page = engineer.get(f"/sites/{SITE}/changes/{change_id}").text
    diff = page.split('<table class="diff" id="config-diff">')[1].split("</table>")[0]
    assert '<tr class="diff-added"><th scope="row"></th><td><code></code></td><th scope="row">23</th>' in diff
    assert "--dport 514" in diff and "&lt;script&gt;alert(1)&lt;/script&gt;" in diff and "<script>" not in diff
    assert "2 lines removed or added" in page
    rule = re.search(r'<a href="(/sites/bayport/changes/\d+/config/candidate)#L23">line 23</a>', page)
    assert rule is not None  # the candidate's deciding line, linked to the candidate's text
    whole = engineer.get(rule.group(1)).text
    assert '<tr id="L23">' in whole and "--dport 514" in whole.split('<tr id="L23">')[1].split("</tr>")[0]
    current = engineer.get(f"/sites/{SITE}/changes/{change_id}/config/current").text
    assert "--dport 514" not in current and '<tr id="L6">' in current
    assert engineer.get(f"/sites/{SITE}/changes/{change_id}/config/other").status_code == 404


def test_who_gains_and_who_loses_access(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    opening = engineer.get(f"/sites/{SITE}/changes/{file_change(engineer, 'syslog', candidate_opening(web))}").text
    gains = opening.split('<section id="gains">')[1].split("</section>")[0]
    assert "C-20-ot-syslog-udp" in gains and "ops-syslog" in gains
    assert "Rosa Alvarez (r.alvarez): owner of C-20-ot-syslog-udp, OT approver of C-20-ot-syslog-udp" in gains
    assert "Nobody loses access." in opening
    vnc = file_change(engineer, "close VNC", candidate_closing(web), register_edit="", conduits="C-06-remote-jump")
    losses = engineer.get(f"/sites/{SITE}/changes/{vnc}").text.split('<section id="losses">')[1].split("</section>")[0]
    assert "none of the register" in losses and "dmz-jump" in losses  # VNC from the jump host was never registered
    lines = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_text().splitlines(keepends=True)
    no_time = "".join(line for line in lines if "--dport 123" not in line).encode()
    time_sync = file_change(engineer, "retire time sync", no_time, register_edit="", conduits="C-08-time-sync")
    losses = engineer.get(f"/sites/{SITE}/changes/{time_sync}").text.split('<section id="losses">')[1]
    losses = losses.split("</section>")[0]
    assert "C-08-time-sync" in losses and "ops-ntp" in losses
    assert "Rosa Alvarez (r.alvarez): owner of C-08-time-sync, OT approver of C-08-time-sync" in losses


def test_waiting_for_you_lists_each_decision_until_it_is_given(web: WebSite) -> None:
    engineer, ot, owner, leader = (web.client(n) for n in ("j.lindqvist", "r.alvarez", "m.okafor", "s.patel"))
    change_id = file_change(engineer, "UDP syslog", candidate_opening(web))
    link = f'href="/sites/{SITE}/changes/{change_id}"'
    assert link in waiting(ot) and "your OT approval" in waiting(ot)
    assert link in waiting(owner) and "your platform sign-off" in waiting(owner)
    assert link not in waiting(engineer) and link not in waiting(web.client("d.chen"))  # another approver is named
    assert post(ot, f"/sites/{SITE}/changes/{change_id}/approve").status_code == 303
    assert link not in waiting(ot) and link in waiting(owner)
    assert post(owner, f"/sites/{SITE}/changes/{change_id}/sign_off").status_code == 303
    assert link not in waiting(owner)
    assert "C-06-remote-jump" in waiting(owner)  # m.okafor's conduit whose review date (2025-06-30) has passed
    assert "C-02-bi-replica" not in waiting(owner)  # due 2027-03-31: not yet
    assert "Risk decisions" not in waiting(leader)
    assert post(web.client("k.soc"), f"/sites/{SITE}/risks", {"subject": "CVE-2024-3400",
                                                               "decision": "patch_now"}).status_code == 303
    assert "CVE-2024-3400" in waiting(leader)
    assert post(leader, f"/sites/{SITE}/risks/1/sign").status_code == 303
    assert "CVE-2024-3400" not in waiting(leader) and "Nothing waits for you." in waiting(leader)
