"""A signed risk acceptance holds until its outage is over, and only while the treaty names that outage: after it,
the finding needs action again on the findings page, the dashboard and the fleet (found by the issue-21 review:
signed acceptances never lapsed)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from plantgate.db import revisions
from plantgate.db.tables import RiskDecisionRow, UserRow
from plantgate.web.decisions import holds
from tests.web.conftest import SITE, WebSite
from tests.web.test_fleet import corporate, judged

ENDS = {"OUT-2027-03": "2027-03-18"}


@pytest.mark.parametrize(("until", "day", "held"), [
    ("OUT-2027-03", dt.date(2027, 3, 18), True),   # through the outage's last day
    ("OUT-2027-03", dt.date(2027, 3, 19), False),  # the outage is over: the risk was to be patched in it
    ("OUT-2099-01", dt.date(2027, 1, 1), False),   # an outage the treaty does not name (dropped, or never known)
    (None, dt.date(2027, 1, 1), False),
])
def test_an_acceptance_holds_through_its_outage_only(until: str | None, day: dt.date, held: bool) -> None:
    assert holds(until, ENDS, day) is held


def accept_signed(web: WebSite, subject: str, until: str) -> None:
    with web.sessions.begin() as session:
        site = revisions.site_by_slug(session, SITE)
        leader, soc = (session.scalar(select(UserRow).where(UserRow.username == name)) for name in ("s.patel", "k.soc"))
        assert site is not None and leader is not None and soc is not None
        session.add(RiskDecisionRow(site_id=site.id, subject=subject, decision="accept", compensating_controls="m",
                                    until_outage=until, proposed_by=soc.id, signed_by=leader.id))


def first_severe(web: WebSite) -> str:
    """The fingerprint of a critical or high finding of the site (its risks link carries it)."""
    page = web.client("k.soc").get(f"/sites/{SITE}/findings", params={"severity": "critical"}).text
    found = re.search(r"risks\?subject=([^\"&]+)", page)
    assert found is not None
    return found.group(1)


def critical(web: WebSite) -> int:
    [bayport] = web.client("c.sec").get("/api/v1/fleet/sites").json()
    return int(bayport["critical"])


def test_an_acceptance_until_an_outage_the_treaty_does_not_name_settles_nothing(web: WebSite) -> None:
    corporate(web)
    judged(web)
    before, fingerprint = critical(web), first_severe(web)
    accept_signed(web, fingerprint, "OUT-2099-01")
    assert "accepted (signed)" not in web.client("k.soc").get(f"/sites/{SITE}/findings").text
    assert critical(web) == before
    accept_signed(web, fingerprint, "OUT-2027-03")  # ends 2027-03-18, after the fixture's day
    assert "accepted (signed)" in web.client("k.soc").get(f"/sites/{SITE}/findings").text
    assert critical(web) == before - 1
