"""The JSON API: tokens scoped to a site and a role, config upload -> job -> revision -> findings, OpenAPI."""

from __future__ import annotations

import time
from typing import Any

from plantgate.db import accounts
from plantgate.db.accounts import Role
from plantgate.db.revisions import import_folder, site_by_slug
from tests.sites import MINIMAL, write_files
from tests.web.conftest import SITE, WebSite


def token_for(web: WebSite, username: str, role: Role, slug: str = SITE) -> str:
    with web.sessions.begin() as session:
        user = accounts.user_by_name(session, username)
        site = site_by_slug(session, slug)
        assert user is not None and site is not None
        return accounts.create_api_token(session, user, site, role, "test", actor="test")


def uploaded(client: Any, response: Any, headers: dict[str, str]) -> dict[str, Any]:
    """The upload a POST queued, once its job has folded it (and its revision's check has landed)."""
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    for _ in range(600):
        body: dict[str, Any] = client.get(location, headers=headers).json()
        if body["state"] != "queued" and (body["state"] != "done" or body["findings"] is not None):
            return body
        time.sleep(0.2)
    raise AssertionError(f"upload {location} never finished")


def test_get_findings_register_and_decisions(web: WebSite) -> None:
    client = web.client()
    headers = {"Authorization": f"Bearer {token_for(web, 'a.auditor', Role.AUDITOR)}"}
    findings = client.get(f"/api/v1/sites/{SITE}/findings", headers=headers).json()
    assert findings["revision"] == 1 and findings["as_of"] == "2026-11-26"
    rules = {f["rule_id"] for f in findings["findings"]}
    assert {"PG-SAFETY-001", "PG-CHARTER-003", "PG-REGISTER-002"} <= rules  # the example's planted problems
    assert all(not e.startswith("/") for f in findings["findings"] for e in f["evidence"])  # folder-relative
    register = client.get(f"/api/v1/sites/{SITE}/register", params={"q": "time", "limit": 5}, headers=headers).json()
    assert [c["id"] for c in register["conduits"]] == ["C-08-time-sync"]
    assert client.get(f"/api/v1/sites/{SITE}/decisions", headers=headers).json() == []


def test_posting_a_config_rechecks_and_returns_findings(web: WebSite) -> None:
    client = web.client()
    headers = {"Authorization": f"Bearer {token_for(web, 'm.okafor', Role.IT_ENGINEER)}",
               "Content-Type": "text/plain"}
    before = client.get(f"/api/v1/sites/{SITE}/findings", headers=headers).json()["findings"]

    def exposure_rules(findings: list[dict[str, Any]], config: str) -> list[str]:
        """The fw-dmz-ot rules (config lines) cited by the unregistered idmz -> sup exposure."""
        lines, prefix = config.splitlines(), "firewalls/fw-dmz-ot.iptables:"
        exposure = next(f for f in findings if f["rule_id"] == "PG-FW-001" and "from idmz" in f["message"]
                        and "to sup" in f["message"])
        return [lines[int(e[len(prefix):]) - 1] for e in exposure["evidence"] if e.startswith(prefix)]

    config = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_text()
    assert [("5900" in line, "443" in line) for line in exposure_rules(before, config)] == [(True, False),
                                                                                             (False, True)]
    closed = "".join(line for line in config.splitlines(keepends=True) if "--dport 5900" not in line)
    response = client.post(f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config", content=closed, headers=headers)
    assert response.json()["state"] == "queued"  # nothing is parsed or judged on the request
    body = uploaded(client, response, headers)
    assert body["state"] == "done", body
    # rechecked on the new config: the exposure left is the any-source rule to DCS A, now one line up
    assert body["revision"] == 2
    assert [("5900" in line, "443" in line) for line in exposure_rules(body["findings"], closed)] == [(False, True)]
    stale = client.post(f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config", params={"based_on": 1}, content=closed,
                        headers=headers)
    assert stale.status_code == 409  # optimistic concurrency for automation too
    assert client.post(f"/api/v1/sites/{SITE}/firewalls/nope/config", content=closed,
                       headers=headers).status_code == 400


def test_token_acts_with_exactly_its_role_and_site(web: WebSite, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with web.sessions.begin() as session:
        import_folder(session, write_files(tmp_path / "other", MINIMAL), slug="other", actor="test")
        user = accounts.user_by_name(session, "m.okafor")
        other = site_by_slug(session, "other")
        assert user is not None and other is not None
        accounts.grant(session, user, other, Role.AUDITOR, actor="test")
        site = site_by_slug(session, SITE)
        assert site is not None
        accounts.grant(session, user, site, Role.AUDITOR, actor="test")
    client = web.client()
    auditor_token = {"Authorization": f"Bearer {token_for(web, 'm.okafor', Role.AUDITOR)}"}
    config = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_bytes()
    refused = client.post(f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config", content=config,
                          headers={**auditor_token, "Content-Type": "text/plain"})
    assert refused.status_code == 403  # the user is an IT engineer, but this token is the auditor role
    assert client.get("/api/v1/sites/other/findings", headers=auditor_token).status_code == 404
    with web.sessions.begin() as session:  # revoking the role revokes the token's power
        from sqlalchemy import delete

        from plantgate.db.tables import GrantRow

        session.execute(delete(GrantRow).where(GrantRow.role == "auditor", GrantRow.site_id == site.id,
                                               GrantRow.user_id == user.id))
    assert client.get(f"/api/v1/sites/{SITE}/findings", headers=auditor_token).status_code == 401


def test_openapi_describes_the_api(web: WebSite) -> None:
    schema = web.client().get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/sites/{slug}/findings", "/api/v1/sites/{slug}/register", "/api/v1/sites/{slug}/decisions",
            "/api/v1/sites/{slug}/firewalls/{firewall_id}/config"} <= paths
    assert not any(p.startswith("/sites/") for p in paths)  # HTML pages are not part of the API


def test_a_config_that_parses_but_does_not_load_is_refused_before_it_is_stored(web: WebSite) -> None:
    """Found by schemathesis: "0" once parsed as an empty iptables ruleset and became the head, after which the
    site's findings answered 400 until someone uploaded a good config. The parser now refuses it outright."""
    client = web.client()
    headers = {"Authorization": f"Bearer {token_for(web, 'm.okafor', Role.IT_ENGINEER)}", "Content-Type": "text/plain"}
    refused = uploaded(client, client.post(f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config", content="0",
                                           headers=headers), headers)
    assert refused["state"] == "refused" and refused["revision"] is None
    assert refused["error"].startswith(
        "firewalls/fw-dmz-ot.iptables:1:1: no iptables statement understood")  # no server path
    findings = client.get(f"/api/v1/sites/{SITE}/findings", headers=headers)
    assert findings.status_code == 200 and findings.json()["revision"] == 1


def test_an_upload_the_server_stopped_before_its_job_ran_is_done_after_restart(web: WebSite,
                                                                                database_url: str) -> None:
    """The embedded queue drops jobs it had not started when the server stops; start-up queues them again."""
    from fastapi.testclient import TestClient

    from plantgate.web.app import create_app
    from plantgate.web.settings import Settings
    from tests.web.conftest import AS_OF

    client = web.client()
    headers = {"Authorization": f"Bearer {token_for(web, 'm.okafor', Role.IT_ENGINEER)}",
               "Content-Type": "text/plain"}
    web.app.state.jobs.submit = lambda job: None  # the server stops before the job runs
    config = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_text()
    response = client.post(f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config", content=config, headers=headers)
    assert response.status_code == 202
    time.sleep(0.5)
    assert client.get(response.headers["Location"], headers=headers).json()["state"] == "queued"
    restarted = create_app(Settings(database_url=database_url, as_of=AS_OF, check_wait_seconds=120,
                                    api_check_wait_seconds=120, jobs="local"), migrate=False)
    try:
        with TestClient(restarted, base_url="https://testserver") as again:  # runs the start-up
            body = uploaded(again, response, headers)
        assert body["state"] == "done" and body["revision"] == 2, body
    finally:
        restarted.state.jobs.close()
        restarted.state.engine.dispose()
