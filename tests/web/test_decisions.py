"""Risk decisions and the charter: signed by plant leadership of that site, never by the proposer."""

from __future__ import annotations

from plantgate.db import accounts
from plantgate.db.accounts import Role
from plantgate.db.revisions import site_by_slug
from tests.web.conftest import SITE, WebSite, post


def test_leadership_signs_an_accepted_risk_until_an_outage(web: WebSite) -> None:
    soc, lead = web.client("k.soc"), web.client("s.patel")
    no_controls = post(soc, f"/sites/{SITE}/risks", {"subject": "CVE-2024-3400", "decision": "accept",
                                                      "until_outage": "TA-2027-10"})
    assert no_controls.status_code == 400 and "compensating controls" in no_controls.text
    outage = web.client("k.soc").get(f"/sites/{SITE}/risks").text.split('<select name="until_outage"')[1]
    outage_id = outage.split("<option>")[1].split("</option>")[0]
    response = post(soc, f"/sites/{SITE}/risks", {"subject": "CVE-2024-3400", "decision": "accept",
                                                   "compensating_controls": "Tighten C-06 to the jump host only",
                                                   "until_outage": outage_id})
    assert response.status_code == 303
    assert post(soc, f"/sites/{SITE}/risks/1/sign").status_code == 403  # SOC is not leadership
    assert post(lead, f"/sites/{SITE}/risks/1/sign").status_code == 303
    assert post(lead, f"/sites/{SITE}/risks/1/sign").status_code == 409  # once
    page = lead.get(f"/sites/{SITE}/risks").text
    assert "signed by s.patel" in page and outage_id in page
    assert "1 accepted risk" in lead.get(f"/sites/{SITE}").text


def test_leadership_does_not_sign_its_own_proposal(web: WebSite) -> None:
    with web.sessions.begin() as session:
        user, site = accounts.user_by_name(session, "s.patel"), site_by_slug(session, SITE)
        assert user is not None and site is not None
        accounts.grant(session, user, site, Role.SOC_ANALYST, actor="test")
    lead = web.client("s.patel")
    assert post(lead, f"/sites/{SITE}/risks", {"subject": "CVE-1", "decision": "patch_now"}).status_code == 303
    response = post(lead, f"/sites/{SITE}/risks/1/sign")
    assert response.status_code == 403 and "separation of duties" in response.text


def test_leadership_signs_the_charter_of_the_current_revision(web: WebSite) -> None:
    lead = web.client("s.patel")
    assert post(web.client("r.alvarez"), f"/sites/{SITE}/charter/sign").status_code == 403
    assert post(lead, f"/sites/{SITE}/charter/sign").status_code == 303
    assert post(lead, f"/sites/{SITE}/charter/sign").status_code == 409
    page = lead.get(f"/sites/{SITE}/charter").text
    assert "s.patel signed revision 1" in page
    audit = lead.get(f"/sites/{SITE}/audit", params={"action": "charter."}).text
    assert "charter.sign" in audit and "s.patel" in audit and "risk.propose" not in audit
