"""Accepting a finding: who may, with what reason and expiry, how it shows, when it lapses, and the audit trail."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select, update

from plantgate.db import audit, audit_replay
from plantgate.db.tables import AuditRow, CheckResultRow, FindingAcceptanceRow
from plantgate.web import fleet as fleet_summaries
from tests.web.conftest import AS_OF, SITE, WebSite, post

UNTIL = AS_OF + dt.timedelta(days=30)


def findings(web: WebSite) -> list[dict[str, Any]]:
    """The head's findings today (the findings page waits for its check job)."""
    assert web.client("a.auditor").get(f"/sites/{SITE}/findings").status_code == 200
    with web.sessions() as session:
        row = session.scalars(select(CheckResultRow).where(CheckResultRow.state == "done")).one()
        return list(row.findings)


def first(web: WebSite, prefix: str) -> dict[str, Any]:
    return next(f for f in findings(web) if f["rule_id"].startswith(prefix))


def accept(client: Any, finding: dict[str, Any], reason: str = "Compensated by the jump-host policy",
           until: dt.date | str = UNTIL) -> Any:
    return post(client, f"/sites/{SITE}/findings/{finding['fingerprint']}/accept",
                {"reason": reason, "expires_on": str(until)})


def needs_action(client: Any) -> int:
    return dashboard_counts(client)[0]


def dashboard_counts(client: Any) -> tuple[int, int]:
    """(findings that need action, findings accepted) as the dashboard says them."""
    found = re.search(r'id="needs-action">(\d+) need action</a>, <a [^>]+>(\d+) accepted',
                      client.get(f"/sites/{SITE}").text)
    assert found is not None
    return int(found.group(1)), int(found.group(2))


def set_today(web: WebSite, day: dt.date) -> None:
    web.app.state.settings = web.app.state.settings.model_copy(update={"as_of": day})


def test_the_ot_approver_accepts_a_finding_and_every_page_shows_it_accepted(web: WebSite) -> None:
    finding = first(web, "PG-ESTATE-")
    ot = web.client("r.alvarez")
    before = needs_action(ot)
    response = accept(ot, finding)
    assert response.status_code == 303 and response.headers["location"].endswith(finding["fingerprint"])

    page = ot.get(f"/sites/{SITE}/findings/{finding['fingerprint']}").text
    assert 'id="acceptance-state">Accepted</strong> by r.alvarez' in page and f"until {UNTIL}" in page
    assert "Compensated by the jump-host policy" in page and 'id="revoke-acceptance"' in page
    listing = ot.get(f"/sites/{SITE}/findings").text
    assert finding["title"] in listing  # never hidden, marked
    assert f"<strong>accepted</strong> by r.alvarez until {UNTIL}" in listing
    assert needs_action(ot) == before - 1
    opened = ot.get(f"/sites/{SITE}/findings", params={"status": "open"}).text
    assert finding["title"] not in opened
    assert finding["title"] in ot.get(f"/sites/{SITE}/findings", params={"status": "accepted"}).text

    with web.sessions() as session:
        [entry] = session.scalars(select(AuditRow).where(AuditRow.action == "finding.accept")).all()
        assert entry.actor == "r.alvarez" and entry.reason == "Compensated by the jump-host policy"
        assert finding["fingerprint"] in entry.after and UNTIL.isoformat() in entry.after
        assert audit.verify(session).ok and audit_replay.differences(session) == []


def test_who_may_accept_follows_the_treaty(web: WebSite) -> None:
    finding = first(web, "PG-ESTATE-")
    for username in ("j.lindqvist", "m.okafor", "k.soc", "a.auditor", "x.admin"):
        response = accept(web.client(username), finding)
        assert response.status_code == 403, username
        assert "finding.accept needs one of the roles ot_approver, plant_leadership" in response.text
    assert 'id="accept-finding"' not in web.client("j.lindqvist").get(
        f"/sites/{SITE}/findings/{finding['fingerprint']}").text
    patch = first(web, "PG-VULN-")  # the patch policy's risk: plant leadership signs it either way
    refused = accept(web.client("r.alvarez"), patch)
    assert refused.status_code == 403 and "only plant leadership" in refused.text
    assert 'id="accept-finding"' not in web.client("r.alvarez").get(
        f"/sites/{SITE}/findings/{patch['fingerprint']}").text
    assert accept(web.client("s.patel"), patch).status_code == 303
    with web.sessions() as session:
        assert [r.rule_id for r in session.scalars(select(FindingAcceptanceRow))] == [patch["rule_id"]]


@pytest.mark.parametrize(("reason", "until", "expected"), [
    ("", UNTIL, "reason: an acceptance needs a reason"),
    ("   ", UNTIL, "reason: an acceptance needs a reason"),
    ("x" * 2001, UNTIL, "reason: the reason is 2001 characters long; expected at most 2000"),
    ("ok", "", "expires_on: an acceptance needs an expiry date"),
    ("ok", "next week", "expires_on: &#39;next week&#39; is not a date"),
    ("ok", AS_OF, f"expires_on: {AS_OF} is not in the future"),
    ("ok", AS_OF - dt.timedelta(days=3), "is not in the future; expected a date (YYYY-MM-DD) after 2026-11-26"),
    ("ok", AS_OF + dt.timedelta(days=366), "is more than 365 days away; expected a date (YYYY-MM-DD) after "
                                           "2026-11-26 and no later than 2027-11-26"),
])
def test_an_acceptance_needs_a_reason_and_a_bounded_future_expiry(web: WebSite, reason: str, until: Any,
                                                                   expected: str) -> None:
    response = accept(web.client("s.patel"), first(web, "PG-ESTATE-"), reason, until)
    assert response.status_code == 400 and expected in response.text
    with web.sessions() as session:
        assert session.scalars(select(FindingAcceptanceRow)).all() == []


def test_both_problems_are_named_at_once_and_a_year_is_allowed(web: WebSite) -> None:
    finding = first(web, "PG-ESTATE-")
    lead = web.client("s.patel")
    response = accept(lead, finding, "", "2026-13-01")
    assert response.status_code == 400 and "reason:" in response.text and "expires_on:" in response.text
    assert accept(lead, finding, until=AS_OF + dt.timedelta(days=365)).status_code == 303


def test_an_unknown_finding_or_one_not_judged_yet_is_refused(web: WebSite) -> None:
    lead = web.client("s.patel")
    unjudged = post(lead, f"/sites/{SITE}/findings/0000000000000000/accept",
                    {"reason": "r", "expires_on": str(UNTIL)})  # nobody has opened a findings page: no result yet
    assert unjudged.status_code == 409 and "the findings of revision 1 are not judged yet" in unjudged.text
    findings(web)
    response = post(lead, f"/sites/{SITE}/findings/0000000000000000/accept",
                    {"reason": "r", "expires_on": str(UNTIL)})
    assert response.status_code == 404 and "no finding" in response.text


def test_a_second_acceptance_while_one_holds_is_refused(web: WebSite) -> None:
    finding = first(web, "PG-ESTATE-")
    assert accept(web.client("r.alvarez"), finding).status_code == 303
    again = accept(web.client("s.patel"), finding, "mine", AS_OF + dt.timedelta(days=90))
    assert again.status_code == 409 and f"already accepted by r.alvarez until {UNTIL}" in again.text


def test_an_expired_acceptance_reopens_the_finding_and_may_be_renewed(web: WebSite) -> None:
    finding = first(web, "PG-ESTATE-")
    ot = web.client("r.alvarez")
    assert accept(ot, finding).status_code == 303
    set_today(web, UNTIL)  # the last day it holds (a new day is judged anew: its counts are its own)
    assert dashboard_counts(ot)[1] == 1
    set_today(web, UNTIL + dt.timedelta(days=1))  # no job ran: the next reader sees it lapse
    assert dashboard_counts(ot)[1] == 0
    page = ot.get(f"/sites/{SITE}/findings/{finding['fingerprint']}").text
    assert 'id="acceptance-state">Open again</strong>' in page and f"expired on {UNTIL}" in page
    listing = ot.get(f"/sites/{SITE}/findings", params={"status": "open"}).text
    assert finding["title"] in listing and f"the acceptance by r.alvarez expired on {UNTIL}" in listing

    renewed = UNTIL + dt.timedelta(days=60)
    assert accept(web.client("s.patel"), finding, "Outage moved", renewed).status_code == 303
    assert dashboard_counts(ot)[1] == 1
    with web.sessions() as session:
        row = session.scalars(select(FindingAcceptanceRow)).one()
        assert (row.expires_on, row.reason, row.version) == (renewed, "Outage moved", 2)
        entries = session.scalars(select(AuditRow).where(AuditRow.action == "finding.accept")
                                  .order_by(AuditRow.seq)).all()
        assert [e.actor for e in entries] == ["r.alvarez", "s.patel"]
        assert '"state":"expired"' in entries[1].before
        assert audit_replay.differences(session) == []


def test_a_revoked_acceptance_reopens_the_finding_at_once_and_is_audited(web: WebSite) -> None:
    finding = first(web, "PG-ESTATE-")
    ot, lead = web.client("r.alvarez"), web.client("s.patel")
    before = needs_action(ot)
    assert accept(ot, finding).status_code == 303
    path = f"/sites/{SITE}/findings/{finding['fingerprint']}/revoke"
    assert post(web.client("k.soc"), path).status_code == 403
    assert post(lead, path, {"reason": "The jump host was retired"}).status_code == 303
    assert post(lead, path).status_code == 409  # nothing left to revoke
    assert needs_action(ot) == before
    page = ot.get(f"/sites/{SITE}/findings/{finding['fingerprint']}").text
    assert "s.patel revoked the acceptance by r.alvarez" in page and 'id="accept-finding"' in page
    with web.sessions() as session:
        [entry] = session.scalars(select(AuditRow).where(AuditRow.action == "finding.revoke")).all()
        assert entry.actor == "s.patel" and entry.reason == "The jump host was retired"
        assert audit_replay.differences(session) == []
    assert accept(ot, finding).status_code == 303  # a new decision on the same row
    with web.sessions() as session:
        assert audit_replay.differences(session) == []


def test_the_audit_replay_catches_an_acceptance_edited_or_added_outside_the_app(web: WebSite) -> None:
    finding = first(web, "PG-ESTATE-")
    assert accept(web.client("r.alvarez"), finding).status_code == 303
    with web.sessions.begin() as session:
        session.execute(update(FindingAcceptanceRow).values(expires_on=AS_OF + dt.timedelta(days=300)))
    with web.sessions() as session:
        [problem] = audit_replay.differences(session)
        assert "expires on is '2027-09-22' but the log says '2026-12-26'" in problem
    with web.sessions.begin() as session:
        row = session.scalars(select(FindingAcceptanceRow)).one()
        session.add(FindingAcceptanceRow(site_id=row.site_id, fingerprint="f" * 16, rule_id="PG-X-1", title="t",
                                         state="accepted", reason="quiet", expires_on=UNTIL,
                                         accepted_by=row.accepted_by))
    with web.sessions() as session:
        assert any("(ffffffffffffffff): not in the audit log" in p for p in audit_replay.differences(session))
        session.execute(update(FindingAcceptanceRow).where(FindingAcceptanceRow.fingerprint == finding["fingerprint"])
                        .values(expires_on=UNTIL))
        session.execute(FindingAcceptanceRow.__table__.delete().where(
            FindingAcceptanceRow.fingerprint == "f" * 16))
        session.commit()
        assert audit_replay.differences(session) == []


def test_the_fleet_counts_an_accepted_critical_finding_only_while_it_holds(web: WebSite) -> None:
    critical = first(web, "PG-ESTATE-")
    assert critical["severity"] == "critical"
    with web.sessions() as session:
        [before] = fleet_summaries.summaries(session, AS_OF, web.app.state.revisions)
    assert accept(web.client("r.alvarez"), critical).status_code == 303
    with web.sessions() as session:
        [during] = fleet_summaries.summaries(session, UNTIL, web.app.state.revisions)
        [after] = fleet_summaries.summaries(session, UNTIL + dt.timedelta(days=1), web.app.state.revisions)
    assert (during.critical, after.critical) == (before.critical - 1, before.critical)


def test_the_asset_page_marks_an_accepted_finding_about_it(web: WebSite) -> None:
    finding = first(web, "PG-BACKUP-001")
    asset = next(s for s in finding["subjects"] if s.startswith("ctl-"))
    ot = web.client("r.alvarez")
    page = f"/sites/{SITE}/assets/{asset}"
    assert finding["fingerprint"] in ot.get(page).text and "<strong>accepted</strong>" not in ot.get(page).text
    assert accept(ot, finding).status_code == 303
    assert f"({finding['rule_id']}): <strong>accepted</strong>" in ot.get(page).text
