"""The authorization matrix: every role x every write route, with the expected allow or deny.

The expected table is written out here by hand (not read from plantgate.web.permissions), and
the test also fails if the app grows a write route this table does not list.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from plantgate.db import accounts
from plantgate.db.accounts import Role
from plantgate.db.revisions import site_by_slug
from plantgate.web.routes.acceptances import router as acceptance_router
from plantgate.web.routes.api import router as api_router
from plantgate.web.routes.auth import router as auth_router
from plantgate.web.routes.changes import router as change_router
from plantgate.web.routes.pages import router as page_router
from tests.web.conftest import SITE, WebSite, post
from tests.web.test_changes import candidate_opening, file_change

ACTING_USER = {Role.IT_ENGINEER: "m.okafor", Role.OT_APPROVER: "r.alvarez", Role.PLANT_LEADERSHIP: "s.patel",
               Role.SOC_ANALYST: "k.soc", Role.AUDITOR: "a.auditor", Role.ADMIN: "x.admin"}
IT, OT, LEAD, SOC = Role.IT_ENGINEER, Role.OT_APPROVER, Role.PLANT_LEADERSHIP, Role.SOC_ANALYST
EXPECTED_ALLOWED: dict[str, set[Role]] = {
    "/sites/{slug}/changes": {IT},
    "/sites/{slug}/changes/{change_id}/approve": {OT},
    "/sites/{slug}/changes/{change_id}/veto": {OT},
    "/sites/{slug}/changes/{change_id}/sign_off": {IT},
    "/sites/{slug}/changes/{change_id}/rebase": {IT},
    "/sites/{slug}/changes/{change_id}/implement": {IT},
    "/sites/{slug}/changes/{change_id}/verify": {IT},
    "/sites/{slug}/risks": {IT, OT, SOC},
    "/sites/{slug}/risks/{risk_id}/sign": {LEAD},
    "/sites/{slug}/charter/sign": {LEAD},
    "/sites/{slug}/findings/{fingerprint}/accept": {OT, LEAD},
    "/sites/{slug}/findings/{fingerprint}/revoke": {OT, LEAD},
    "/api/v1/sites/{slug}/firewalls/{firewall_id}/config": {IT},
    "/sites/{slug}/checks/retry": set(Role),  # queues a failed check again: no record changes, any reader may
}
"""The auditor may change nothing; admin manages accounts from the CLI and changes nothing at a site."""
NOT_SITE_ROUTES = {"/login", "/logout", "/account/password",  # own session only, tested in test_auth
                   "/account/reset/{token}"}  # the one-time link's holder only, tested in test_admin


def write_routes() -> set[str]:
    found = set()
    for router in (auth_router, page_router, change_router, api_router, acceptance_router):
        for route in router.routes:
            if isinstance(route, APIRoute) and (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
                found.add(route.path)
    return found


def test_the_matrix_lists_every_write_route() -> None:
    assert write_routes() - NOT_SITE_ROUTES == set(EXPECTED_ALLOWED)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_role_against_every_write_route(web: WebSite, role: Role) -> None:
    requester = web.client("j.lindqvist")
    change_id = file_change(requester, "matrix", candidate_opening(web))
    assert post(requester, f"/sites/{SITE}/risks", {"subject": "CVE-2024-3400", "decision": "patch_now"}
                ).status_code == 303
    findings = requester.get(f"/sites/{SITE}/findings").text  # waits for the check: a finding to accept
    fingerprint = next(f for rule, f in re.findall(r'<td>(PG-[A-Z]+)-\d+</td>\s*<td><strong><a href="[^"]*/findings/'
                                                   r'([0-9a-f]{16})"', findings) if rule not in ("PG-VULN", "PG-PATCH"))
    username = ACTING_USER[role]
    with web.sessions.begin() as session:
        user = accounts.user_by_name(session, username)
        site = site_by_slug(session, SITE)
        assert user is not None and site is not None
        token = accounts.create_api_token(session, user, site, role, "matrix", actor="test")
    client = web.client(username)
    config = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_bytes()
    calls = {
        "/sites/{slug}/changes": lambda: post(client, f"/sites/{SITE}/changes", {
            "title": "t", "firewall": "fw-dmz-ot", "business_reason": "r", "conduits": "C-06-remote-jump"}),
        "/sites/{slug}/changes/{change_id}/approve": lambda: post(client, f"/sites/{SITE}/changes/{change_id}/approve"),
        "/sites/{slug}/changes/{change_id}/veto": lambda: post(client, f"/sites/{SITE}/changes/{change_id}/veto",
                                                               {"comment": "matrix"}),
        "/sites/{slug}/changes/{change_id}/sign_off": lambda: post(client,
                                                                   f"/sites/{SITE}/changes/{change_id}/sign_off"),
        "/sites/{slug}/changes/{change_id}/rebase": lambda: post(client, f"/sites/{SITE}/changes/{change_id}/rebase"),
        "/sites/{slug}/changes/{change_id}/implement": lambda: post(client,
                                                                    f"/sites/{SITE}/changes/{change_id}/implement"),
        "/sites/{slug}/changes/{change_id}/verify": lambda: post(
            client, f"/sites/{SITE}/changes/{change_id}/verify", files={"deployed": ("d", config, "text/plain")}),
        "/sites/{slug}/risks": lambda: post(client, f"/sites/{SITE}/risks", {"subject": "x", "decision": "patch_now"}),
        "/sites/{slug}/risks/{risk_id}/sign": lambda: post(client, f"/sites/{SITE}/risks/1/sign"),
        "/sites/{slug}/charter/sign": lambda: post(client, f"/sites/{SITE}/charter/sign"),
        "/sites/{slug}/checks/retry": lambda: post(client, f"/sites/{SITE}/checks/retry"),
        "/sites/{slug}/findings/{fingerprint}/accept": lambda: post(
            client, f"/sites/{SITE}/findings/{fingerprint}/accept", {"reason": "matrix", "expires_on": "2027-01-31"}),
        "/sites/{slug}/findings/{fingerprint}/revoke": lambda: post(
            client, f"/sites/{SITE}/findings/{fingerprint}/revoke"),
        "/api/v1/sites/{slug}/firewalls/{firewall_id}/config": lambda: client.post(
            f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config", content=config,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}),
    }
    outcomes = {}
    for path, call in calls.items():
        status = call().status_code
        assert status not in (401, 404, 422, 500), (path, status)
        outcomes[path] = "deny" if status == 403 else "allow"
    expected = {path: "allow" if role in allowed else "deny" for path, allowed in EXPECTED_ALLOWED.items()}
    assert outcomes == expected


def test_every_role_can_read_every_page(web: WebSite) -> None:
    pages = ["", "/register", "/findings", "/changes", "/risks", "/charter", "/audit", "/conduits/C-08-time-sync",
             "/revisions", "/revisions/1"]
    for username in ACTING_USER.values():
        client = web.client(username)
        for page in pages:
            assert client.get(f"/sites/{SITE}{page}").status_code == 200, (username, page)


def test_a_user_without_a_role_at_the_site_sees_nothing(web: WebSite) -> None:
    with web.sessions.begin() as session:
        accounts.create_user(session, "outsider", "correct horse battery staple", actor="test")
    client = web.client("outsider")
    assert client.get(f"/sites/{SITE}").status_code == 404
    assert post(client, f"/sites/{SITE}/risks", {"subject": "x", "decision": "patch_now"}).status_code == 404
