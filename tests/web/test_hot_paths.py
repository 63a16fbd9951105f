"""The fast paths of the hot pages give the same answers as the slow ones, and never serve stale authority.

What is cached per revision (search results, encoded conduits, rendered tables, the detail pages'
workspace) is compared with a fresh computation; what must never be cached (a revoked session, a
withdrawn role, a newly signed risk decision, a new head revision) is checked to count on the very
next request.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from plantgate.db import accounts, revisions
from plantgate.db.tables import GrantRow, RiskDecisionRow, SessionRow, UserRow
from plantgate.load import load_site
from plantgate.web import checking
from plantgate.web.revision_cache import RevisionCache, conduit_haystack
from plantgate.web.routes.api import RegisterOut
from tests.sites import copy_example, edit
from tests.web.conftest import SITE, WebSite, login

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _view_facts(view: checking.ConduitView) -> dict[str, object]:
    return {"implementing": [(r.firewall, r.text, r.file, r.line) for r in view.implementing],
            "missing": str(view.missing_witness),
            "exposure": [(e.firewall, e.from_zone, e.to_zone, str(e.witness), e.flows,
                          [(r.firewall, r.text, r.file, r.line) for r in e.rules]) for e in view.exposure]}


@SQLITE_ONLY
def test_conduit_views_from_the_revision_workspace_equal_those_from_the_yaml_folder(web: WebSite) -> None:
    """The detail pages skip re-reading the YAML; every conduit's rules, gaps and exposure stay the same."""
    site = load_site(web.folder)
    cache = RevisionCache()
    with web.sessions() as session:
        head = revisions.head(session, revisions.site_by_slug(session, SITE))  # type: ignore[arg-type]
        assert head is not None
        workdir = web.app.state.workdir
        for conduit in site.treaty.conduits:
            fast = cache.conduit_view(session, head.id, conduit.id, workdir)
            assert _view_facts(fast) == _view_facts(checking.conduit_view(site, conduit.id)), conduit.id
            assert cache.conduit_view(session, head.id, conduit.id, workdir) is fast  # computed once
        assert any(cache.conduit_view(session, head.id, c.id, workdir).implementing for c in site.treaty.conduits)


@SQLITE_ONLY
def test_conduit_page_names_the_implementing_rule_with_its_line(web: WebSite) -> None:
    client = web.client("a.auditor")
    page = client.get(f"/sites/{SITE}/conduits/C-08-time-sync")
    assert page.status_code == 200
    assert re.search(r"/firewalls/[\w.-]+/config#L\d+", page.text), "a rule linked to its config line"
    assert client.get(f"/sites/{SITE}/conduits/C-nope").status_code == 404


@SQLITE_ONLY
def test_register_api_json_equals_the_response_model(web: WebSite) -> None:
    """The API writes its JSON directly; it must be exactly what RegisterOut would have produced."""
    client = web.client("a.auditor")
    with web.sessions() as session:
        head = revisions.head(session, revisions.site_by_slug(session, SITE))  # type: ignore[arg-type]
        assert head is not None
        conduits = head.document["conduits"]
    cases: list[dict[str, str | int]] = [{}, {"q": "time"}, {"zone": "idmz", "offset": 1, "limit": 3},
                                         {"q": "zzz-none"}, {"offset": 10_000}, {"limit": 0}]
    for params in cases:
        response = client.get(f"/api/v1/sites/{SITE}/register", params=params)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        body = response.json()
        RegisterOut.model_validate(body)
        needle, zone = str(params.get("q", "")).lower(), params.get("zone", "")
        matching = [c for c in conduits if (not zone or zone in (c["from_zone"], c["to_zone"]))
                    and (not needle or needle in conduit_haystack(c))]
        offset, limit = max(0, int(params.get("offset", 0))), min(max(1, int(params.get("limit", 100))), 1000)
        assert body["total"] == len(matching) and body["site"] == SITE and body["revision"] == head.number
        assert [c["id"] for c in body["conduits"]] == [c["id"] for c in matching[offset:offset + limit]]
        assert body["conduits"] == matching[offset:offset + limit]


def test_a_revoked_session_or_withdrawn_role_counts_on_the_next_request(web: WebSite) -> None:
    client = web.client("a.auditor")
    other = web.client()
    login(other, "k.soc")
    assert client.get(f"/sites/{SITE}/register").status_code == 200
    assert other.get(f"/sites/{SITE}/findings").status_code == 200
    with web.sessions.begin() as session:
        auditor = accounts.user_by_name(session, "a.auditor")
        assert auditor is not None
        session.execute(update(SessionRow).where(SessionRow.user_id == auditor.id).values(revoked=True))
        soc = accounts.user_by_name(session, "k.soc")
        assert soc is not None
        session.execute(delete(GrantRow).where(GrantRow.user_id == soc.id))
    assert client.get(f"/sites/{SITE}/register").status_code == 303  # back to the login page
    assert other.get(f"/sites/{SITE}/findings").status_code == 404  # no longer a site of theirs


def test_a_signed_acceptance_and_a_new_revision_show_on_the_next_view(web: WebSite, tmp_path: Path) -> None:
    client = web.client("k.soc")
    first = client.get(f"/sites/{SITE}/findings")
    fingerprint = re.search(r"risks\?subject=([^\"&]+)", first.text)
    assert fingerprint is not None and "accepted (signed)" not in first.text
    with web.sessions.begin() as session:
        site = revisions.site_by_slug(session, SITE)
        leader, soc = (session.scalar(select(UserRow).where(UserRow.username == name)) for name in ("s.patel", "k.soc"))
        assert site is not None and leader is not None and soc is not None
        session.add(RiskDecisionRow(site_id=site.id, subject=fingerprint.group(1), decision="accept",
                                    compensating_controls="monitoring", until_outage="OUT-2027-03", proposed_by=soc.id,
                                    signed_by=leader.id))
    assert "accepted (signed)" in client.get(f"/sites/{SITE}/findings").text

    assert "zebra" not in client.get(f"/sites/{SITE}/register", params={"q": "time"}).text
    folder = copy_example(tmp_path)
    edit(folder / "conduits.yaml", "syncs outward through the DMZ relay", "syncs outward through the zebra relay")
    with web.sessions.begin() as session:
        revisions.import_folder(session, folder, slug=SITE, actor="test")
    register = client.get(f"/sites/{SITE}/register", params={"q": "zebra"}, headers={"HX-Request": "true"})
    assert "C-08-time-sync" in register.text and "1 conduit;" in register.text
    assert "revision 2" in client.get(f"/sites/{SITE}/findings").text
