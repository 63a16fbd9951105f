"""Fleet pages: a fleet-wide read role sees every site and the fleet, decides nothing; others do not see it."""

from __future__ import annotations

import time

from sqlalchemy import select

from plantgate.db import accounts
from plantgate.db.fleet import grant_fleet_role
from plantgate.db.tables import CheckResultRow
from tests.web.conftest import PASSWORD, SITE, WebSite, post


def corporate(web: WebSite) -> None:
    with web.sessions.begin() as session:
        user = accounts.create_user(session, "c.sec", PASSWORD, actor="test")
        grant_fleet_role(session, user, "corporate_security", actor="test")


def judged(web: WebSite) -> None:
    web.client("k.soc").get(f"/sites/{SITE}/findings")  # the page waits for its job (the fixture allows it)
    for _ in range(600):
        with web.sessions() as session:
            if session.scalars(select(CheckResultRow).where(CheckResultRow.state == "done")).first():
                return
        time.sleep(0.1)
    raise AssertionError("no check result")


def test_a_fleet_reader_sees_every_site_and_the_fleet_and_writes_nothing(web: WebSite) -> None:
    corporate(web)
    judged(web)
    client = web.client("c.sec")
    page = client.get("/fleet")
    assert page.status_code == 200 and 'id="site-bayport"' in page.text
    rows = client.get("/api/v1/fleet/sites").json()
    [bayport] = rows
    assert bayport["judged"] and bayport["critical"] > 0 and bayport["revision"] == 1
    assert not bayport["charter_signed"]
    assert client.get(f"/sites/{SITE}/findings").status_code == 200  # every site's pages, read-only
    refused = post(client, f"/sites/{SITE}/risks", {"subject": "x", "decision": "patch_now"})
    assert refused.status_code == 403  # no write anywhere
    charters = client.get("/api/v1/fleet/unsigned-charters").json()
    assert [c["site"] for c in charters] == [SITE]
    exposed = client.get("/api/v1/fleet/cves/CVE-2024-3400").json()
    assert exposed and exposed[0]["site"] == SITE and exposed[0]["asset"] == "dmz-ape1808"
    assert any("C-16-vendor-vpn" in r["conduits"] for r in exposed[0]["reaches"])
    assert client.get("/api/v1/fleet/cves/CVE-1999-0001").json() == []
    assert "CVE-2024-3400" in client.get("/fleet/questions/cve", params={"cve": "CVE-2024-3400"}).text
    assert client.get("/fleet/questions/rdp").status_code == 200


def test_site_roles_do_not_open_the_fleet(web: WebSite) -> None:
    client = web.client("k.soc")
    assert client.get("/fleet").status_code == 403
    assert client.get("/api/v1/fleet/sites").status_code == 403
