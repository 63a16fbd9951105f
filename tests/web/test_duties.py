"""Separation of duties that cannot be worked around, and pages that no cache keeps."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from plantgate.cli import main
from plantgate.db import accounts, revisions
from plantgate.db.accounts import Role
from tests.web.conftest import SITE, WebSite, post
from tests.web.test_changes import candidate_opening, file_change, state

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def grant(web: WebSite, username: str, role: Role) -> str | None:
    with web.sessions.begin() as session:
        user = accounts.user_by_name(session, username)
        site = revisions.site_by_slug(session, SITE)
        assert user is not None and site is not None
        return accounts.grant(session, user, site, role, actor="test")


def test_one_person_cannot_both_approve_and_sign_off_a_change(web: WebSite) -> None:
    warning = grant(web, "m.okafor", Role.OT_APPROVER)  # the platform owner made OT approver too
    assert warning is not None and "never both on one change" in warning
    engineer, both = web.client("j.lindqvist"), web.client("m.okafor")
    change_id = file_change(engineer, "both hats", candidate_opening(web))
    base = f"/sites/{SITE}/changes/{change_id}"
    assert post(both, f"{base}/approve").status_code == 303
    refused = post(both, f"{base}/sign_off")
    assert refused.status_code == 403 and "two people" in refused.text
    assert state(web, change_id) == "submitted"
    other = file_change(engineer, "the other order", candidate_opening(web))
    assert post(both, f"/sites/{SITE}/changes/{other}/sign_off").status_code == 303
    assert post(both, f"/sites/{SITE}/changes/{other}/approve").status_code == 403
    assert post(web.client("r.alvarez"), f"/sites/{SITE}/changes/{other}/approve").status_code == 303
    assert state(web, other) == "approved"


@SQLITE_ONLY
def test_granting_both_duties_on_the_cli_warns(database_url: str, web: WebSite) -> None:
    result = CliRunner().invoke(main, ["admin", "grant", "r.alvarez", SITE, "it_engineer", "--database-url",
                                       database_url])
    assert result.exit_code == 0 and "warning:" in result.output and "never both on one change" in result.output


@SQLITE_ONLY
def test_authenticated_pages_are_no_store_and_tls_sends_hsts(web: WebSite) -> None:
    client = web.client("a.auditor")
    for path in (f"/sites/{SITE}", f"/sites/{SITE}/register", "/", "/account/password"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store", path
        assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "cache-control" not in client.get("/static/site.css").headers
    plain = TestClient(web.app, base_url="http://testserver").get("/login")
    assert "strict-transport-security" not in plain.headers


@SQLITE_ONLY
def test_docs_never_load_from_a_cdn(web: WebSite) -> None:
    client = web.client("a.auditor")
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        assert response.status_code == 404 or "cdn" not in response.text.lower(), path
    assert client.get("/openapi.json").json()["info"]["title"] == "PlantGate"
