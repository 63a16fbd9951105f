"""Notifications of decisions, by the settings' rules: a change waiting on OT, a veto, an exception expiring."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plantgate.db import revisions
from plantgate.jobs.queue import run_job
from plantgate.jobs.work import FollowUp
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.sites import copy_example, edit
from tests.web.conftest import AS_OF, SITE, WebSite, post, seed_site
from tests.web.test_changes import candidate_opening, file_change


@pytest.fixture
def noisy(database_url: str, tmp_path: Path, webhook: tuple[list[dict[str, Any]], int],
          ) -> Iterator[tuple[WebSite, list[dict[str, Any]]]]:
    folder = copy_example(tmp_path)  # one exception, signed, lasting until the spring outage
    edit(folder / "vulns.yaml", "  exceptions: []", """  exceptions:
    - id: EXC-1
      asset: dmz-ape1808
      cves: [CVE-2024-3400]
      action: accept_until_outage
      until_outage: OUT-2027-03
      signed_by: s.patel
      signed_on: 2026-11-20
      controls: [{kind: monitoring, description: SOC watches the portal's logs}]
      rationale: GlobalProtect portal restricted to the vendor bastion until the spring outage.""")
    hook = f"http://127.0.0.1:{webhook[1]}/hook"
    rules = [{"role": "ot_approver", "events": ["change_waiting"], "email": False, "webhook": hook},
             {"site": SITE, "role": "it_engineer", "events": ["veto"], "email": False, "webhook": hook},
             {"role": "plant_leadership", "events": ["exception_expiring"], "email": False, "webhook": hook}]
    app = create_app(Settings(database_url=database_url, as_of=AS_OF, check_wait_seconds=120, jobs="local",
                              notifications=json.loads(json.dumps(rules))), migrate=False)
    seed_site(app.state.sessions, folder)
    yield WebSite(app, app.state.sessions, folder), webhook[0]
    app.state.jobs.close()
    app.state.engine.dispose()


def received(inbox: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    for _ in range(600):
        if len(inbox) >= count:
            return inbox
        time.sleep(0.1)
    raise AssertionError(f"{len(inbox)} of {count} webhook calls arrived: {inbox}")


def test_change_waiting_and_veto_reach_the_roles_the_settings_name(
        noisy: tuple[WebSite, list[dict[str, Any]]]) -> None:
    web, inbox = noisy
    change_id = file_change(web.client("j.lindqvist"), "open syslog", candidate_opening(web))
    [waiting] = received(inbox, 1)
    assert waiting["json"]["event"] == "change_waiting" and f"change {change_id} waits" in waiting["json"]["subject"]
    vetoed = post(web.client("r.alvarez"), f"/sites/{SITE}/changes/{change_id}/veto", {"comment": "not in a run"})
    assert vetoed.status_code == 303
    veto = received(inbox, 2)[1]
    assert veto["json"]["event"] == "veto" and "not in a run" in veto["json"]["body"]
    assert veto["key"] != waiting["key"]


def test_an_exception_about_to_expire_is_announced_once(noisy: tuple[WebSite, list[dict[str, Any]]]) -> None:
    web, inbox = noisy
    url = str(web.app.state.settings.database_url)
    settings = web.app.state.settings
    early = run_job(url, FollowUp("exceptions_expiring", {"as_of": "2027-01-01"}), settings)
    assert early.follow_ups == []  # the outage ends on 2027-03-18: not within 14 days yet
    due = run_job(url, FollowUp("exceptions_expiring", {"as_of": "2027-03-10"}), settings)
    again = run_job(url, FollowUp("exceptions_expiring", {"as_of": "2027-03-11"}), settings)
    assert len(due.follow_ups) == 1 and again.follow_ups == []  # one notification per exception and end date
    for job in due.follow_ups:
        run_job(url, job, settings)
    [expiring] = received(inbox, 1)
    assert expiring["json"]["event"] == "exception_expiring" and "EXC-1 expires on 2027-03-18" in \
        expiring["json"]["subject"]
    with web.sessions() as session:
        assert revisions.site_by_slug(session, SITE) is not None
