"""The veto cannot be lost: decisions raced against each other on a live server, 50 rounds each, both databases.

Each round makes two people act on the same record at the same moment, over real HTTP against
uvicorn (the app's thread pool serves both at once) on a real SQLite file or PostgreSQL database:
- an OT veto against the implementation of the approved change;
- an OT veto against the platform owner's sign-off (which would approve it);
- two leaders signing one risk decision;
- one leader signing the charter twice at once, from two browsers;
- an OT approver and a leader accepting the same finding at once (a new acceptance, and one replacing a
  revoked acceptance).
Afterwards no transition may be lost: the row says what the winner did, the loser was refused
with 409 (never 500), and the audit log tells the same story as the rows.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plantgate.db import accounts, audit, audit_replay, revisions
from plantgate.db.accounts import Role
from plantgate.db.tables import (
    ApprovalRow,
    AuditRow,
    ChangeRequestRow,
    CharterSignatureRow,
    CheckResultRow,
    FindingAcceptanceRow,
    RevisionRow,
    RiskDecisionRow,
    UserRow,
)
from tests.web.conftest import PASSWORD, SITE, WebSite
from tests.web.live_server import Person, live_server, race

ROUNDS = 50
SECOND_LEADER = "l.nakamura"


def conduit_edit(number: int) -> str:
    return f"""
upsert:
  - id: C-R{number:03d}-ot-syslog
    from_zone: ops
    to_zone: idmz
    services: [{{protocol: udp, ports: [{20000 + number}]}}]
    sources: [10.30.0.22/32]
    destinations: [172.16.35.40/32]
    business_reason: Round {number} of the race.
    owner: r.alvarez
    ot_approver: r.alvarez
    enforced_by: [fw-dmz-ot]
"""


@pytest.fixture
def people(web: WebSite) -> Iterator[dict[str, Person]]:
    with web.sessions.begin() as session:
        site = revisions.site_by_slug(session, SITE)
        assert site is not None
        leader = accounts.create_user(session, SECOND_LEADER, PASSWORD, actor="test")
        accounts.grant(session, leader, site, Role.PLANT_LEADERSHIP, actor="test")
    with live_server(web.app) as base:
        crowd = {name: Person(base, name) for name in ("j.lindqvist", "m.okafor", "r.alvarez", "d.chen", "k.soc",
                                                       "s.patel", SECOND_LEADER)}
        crowd["s.patel (2nd browser)"] = Person(base, "s.patel")
        yield crowd
        for person in crowd.values():
            person.close()


def file_change(engineer: Person, number: int) -> int:
    response = engineer.post(f"/sites/{SITE}/changes", {
        "title": f"race {number}", "business_reason": "race", "firewall": "fw-dmz-ot",
        "register_edit": conduit_edit(number), "ot_approver": "r.alvarez"})
    assert response.status_code == 303, response.text
    found = re.search(r"/changes/(\d+)$", response.headers["location"])
    assert found is not None
    return int(found.group(1))


def audit_entries(session: Session, object_type: str, object_id: int | str) -> list[AuditRow]:
    return list(session.scalars(select(AuditRow).where(AuditRow.object_type == object_type,
                                                       AuditRow.object_id == str(object_id))
                                .order_by(AuditRow.seq)))


def assert_change_agrees_with_its_audit(session: Session, change: ChangeRequestRow) -> None:
    """The last state the log gives the change is its state; every decision row has its entry and back."""
    entries = audit_entries(session, "change", change.id)
    states = [json.loads(e.after)["state"] for e in entries if e.after and "state" in json.loads(e.after)]
    assert states and states[-1] == change.state, (change.id, states, change.state)
    decisions = session.scalars(select(ApprovalRow).where(ApprovalRow.change_id == change.id)).all()
    logged = sorted(e.action.removeprefix("change.") for e in entries
                    if e.action in ("change.approve", "change.veto", "change.sign_off"))
    assert logged == sorted(a.decision for a in decisions), (change.id, logged)


def test_a_veto_raced_against_implementation_is_never_lost(web: WebSite, people: dict[str, Person]) -> None:
    engineer, ot, owner, vetoer = (people[n] for n in ("j.lindqvist", "r.alvarez", "m.okafor", "d.chen"))
    outcomes, implementing = [], 0.5
    for number in range(ROUNDS):
        change_id = file_change(engineer, number)
        base = f"/sites/{SITE}/changes/{change_id}"
        assert ot.post(f"{base}/approve").status_code == 303
        assert owner.post(f"{base}/sign_off").status_code == 303
        # the veto leaves at once, or later into the implementation (up to 1.2x its last duration), or after it
        delay = implementing * (number % 5) * 0.3

        def vetoing(b: str = base, wait: float = delay) -> httpx.Response:
            time.sleep(wait)
            return vetoer.post(f"{b}/veto", {"comment": "not now"})

        def implementing_it(b: str = base) -> httpx.Response:
            started = time.perf_counter()
            response = engineer.post(f"{b}/implement")
            nonlocal implementing
            implementing = time.perf_counter() - started if response.status_code == 303 else implementing
            return response

        veto, implemented = race(vetoing, implementing_it)
        statuses = (veto.status_code, implemented.status_code)
        assert sorted(statuses) == [303, 409], (number, statuses, veto.text[-500:], implemented.text[-500:])
        outcomes.append("veto" if veto.status_code == 303 else "implement")
        with web.sessions() as session:
            change = session.get_one(ChangeRequestRow, change_id)
            committed = session.scalar(select(RevisionRow).where(
                RevisionRow.message.startswith(f"CR-WEB-{change_id}:")))
            vetoes = session.scalars(select(ApprovalRow).where(ApprovalRow.change_id == change_id,
                                                               ApprovalRow.decision == "veto")).all()
            if veto.status_code == 303:
                assert change.state == "vetoed" and change.result_revision_id is None and committed is None
                assert len(vetoes) == 1
            else:
                assert change.state == "implemented" and committed is not None and not vetoes
                assert change.result_revision_id == committed.id
            assert_change_agrees_with_its_audit(session, change)
    with web.sessions() as session:
        assert audit.verify(session).ok and audit_replay.differences(session) == []
    print(f"veto vs implement, {web.app.state.engine.dialect.name}: {outcomes.count('veto')} vetoes won, "
          f"{outcomes.count('implement')} implementations won")


def test_a_veto_raced_against_the_sign_off_always_ends_the_change(web: WebSite, people: dict[str, Person]) -> None:
    engineer, ot, owner, vetoer = (people[n] for n in ("j.lindqvist", "r.alvarez", "m.okafor", "d.chen"))
    for number in range(ROUNDS):
        change_id = file_change(engineer, number)
        base = f"/sites/{SITE}/changes/{change_id}"
        assert ot.post(f"{base}/approve").status_code == 303
        veto, signed = race(lambda b=base: vetoer.post(f"{b}/veto", {"comment": "not now"}),
                            lambda b=base: owner.post(f"{b}/sign_off"))
        assert veto.status_code == 303, (number, veto.status_code, veto.text[-500:])
        assert signed.status_code in (303, 409), (number, signed.status_code, signed.text[-500:])
        with web.sessions() as session:
            change = session.get_one(ChangeRequestRow, change_id)
            assert change.state == "vetoed", (number, change.state)
            assert_change_agrees_with_its_audit(session, change)
    with web.sessions() as session:
        assert audit.verify(session).ok and audit_replay.differences(session) == []


def test_two_leaders_signing_one_risk_decision_at_once(web: WebSite, people: dict[str, Person]) -> None:
    soc, first, second = people["k.soc"], people["s.patel"], people[SECOND_LEADER]
    for number in range(ROUNDS):
        assert soc.post(f"/sites/{SITE}/risks", {"subject": f"CVE-2024-{number:04d}",
                                                 "decision": "patch_now"}).status_code == 303
        with web.sessions() as session:
            risk_id = session.scalar(select(RiskDecisionRow.id).order_by(RiskDecisionRow.id.desc()).limit(1))
        path = f"/sites/{SITE}/risks/{risk_id}/sign"
        a, b = race(lambda p=path: first.post(p), lambda p=path: second.post(p))
        assert sorted((a.status_code, b.status_code)) == [303, 409], (number, a.status_code, b.status_code)
        winner = first.username if a.status_code == 303 else second.username
        loser = b if a.status_code == 303 else a
        assert "already signed" in loser.text
        with web.sessions() as session:
            row = session.get_one(RiskDecisionRow, risk_id)
            assert row.signed_by is not None and session.get_one(UserRow, row.signed_by).username == winner
            signs = [e for e in audit_entries(session, "risk_decision", risk_id) if e.action == "risk.sign"]
            assert [e.actor for e in signs] == [winner]


def test_one_leader_signing_the_charter_twice_at_once(web: WebSite, people: dict[str, Person]) -> None:
    first, again = people["s.patel"], people["s.patel (2nd browser)"]
    for number in range(ROUNDS):
        with web.sessions.begin() as session:  # a new head revision to sign each round
            site = revisions.site_by_slug(session, SITE)
            assert site is not None
            head = revisions.head(session, site)
            assert head is not None
            revision = revisions.commit_revision(session, site, revisions.snapshot_of(session, head),
                                                 based_on=head.id, author_id=None, actor="test",
                                                 message=f"round {number}")
            revision_id = revision.id
        a, b = race(lambda: first.post(f"/sites/{SITE}/charter/sign"),
                    lambda: again.post(f"/sites/{SITE}/charter/sign"))
        assert sorted((a.status_code, b.status_code)) == [303, 409], (number, a.status_code, b.status_code,
                                                                      a.text[-300:], b.text[-300:])
        with web.sessions() as session:
            signatures = session.scalars(select(CharterSignatureRow).where(
                CharterSignatureRow.revision_id == revision_id)).all()
            assert len(signatures) == 1
            entries = [e for e in session.scalars(select(AuditRow).where(AuditRow.action == "charter.sign"))
                       if json.loads(e.after)["revision"] == revision.number]
            assert len(entries) == 1


def test_two_people_accepting_one_finding_at_once(web: WebSite, people: dict[str, Person]) -> None:
    ot, leader = people["r.alvarez"], people["s.patel"]
    assert ot.client.get(f"/sites/{SITE}/findings").status_code == 200  # waits for the head's check
    with web.sessions() as session:
        found = session.scalars(select(CheckResultRow).where(CheckResultRow.state == "done")).one().findings
    fingerprints = [f["fingerprint"] for f in found if not f["rule_id"].startswith(("PG-VULN-", "PG-PATCH-"))]
    for number, fingerprint in enumerate(fingerprints[:ROUNDS // 2]):
        path = f"/sites/{SITE}/findings/{fingerprint}"
        for attempt in ("new", "after a revocation"):  # an insert decided by the unique key, then a swap
            a, b = race(lambda p=path: ot.post(f"{p}/accept", {"reason": "ot", "expires_on": "2027-01-31"}),
                        lambda p=path: leader.post(f"{p}/accept", {"reason": "lead", "expires_on": "2027-02-28"}))
            statuses = (a.status_code, b.status_code)
            assert sorted(statuses) == [303, 409], (number, attempt, statuses, a.text[-300:], b.text[-300:])
            winner = ot.username if a.status_code == 303 else leader.username
            assert f"already accepted by {winner}" in (b if a.status_code == 303 else a).text
            with web.sessions() as session:
                row = session.scalars(select(FindingAcceptanceRow).where(
                    FindingAcceptanceRow.fingerprint == fingerprint)).one()
                assert session.get_one(UserRow, row.accepted_by).username == winner
                assert row.reason == ("ot" if winner == ot.username else "lead")
                accepts = [e.actor for e in audit_entries(session, "finding_acceptance", row.id)
                           if e.action == "finding.accept"]
                assert accepts[-1] == winner and len(accepts) == (1 if attempt == "new" else 2)
            if attempt == "new":
                assert leader.post(f"{path}/revoke", {"reason": "again"}).status_code == 303


@pytest.fixture(autouse=True)
def the_log_agrees_with_the_rows_afterwards(web: WebSite) -> Iterator[None]:
    yield
    with web.sessions() as session:
        assert audit.verify(session).ok
        assert audit_replay.differences(session) == []
