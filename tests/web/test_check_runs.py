"""Findings of a revision: the CLI's exactly, computed once by a job, with a visible state meanwhile."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from plantgate.cli import main
from plantgate.db import revisions
from plantgate.db.accounts import Role
from plantgate.db.tables import CheckResultRow
from plantgate.jobs.inputs import current
from plantgate.jobs.queue import run_job
from plantgate.jobs.results import ResultKey
from plantgate.jobs.work import check_follow_up
from plantgate.web import checking
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.sites import copy_example
from tests.web.conftest import AS_OF, SITE, WebSite, login, post
from tests.web.test_api import token_for


def cli_findings(folder: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["check", str(folder), "--format", "json", "--as-of", AS_OF.isoformat()])
    assert result.exit_code in (0, 1), result.output
    findings: list[dict[str, Any]] = json.loads(result.output)["findings"]
    return findings


def test_web_findings_are_the_cli_findings_on_the_exported_folder(sessions: sessionmaker[Session],
                                                                   tmp_path: Path) -> None:
    """Same findings, same file:line evidence, for the imported revision and for an edited one."""
    with sessions.begin() as session:
        first = revisions.import_folder(session, copy_example(tmp_path), slug=SITE, actor="test")
        snapshot = revisions.snapshot_of(session, first)
        conduits = [dict(c, business_reason=f"{c['business_reason']} (reviewed)") for c in
                    snapshot.document["conduits"][3:]]  # three fewer conduits, the rest reworded: lines move
        edited = type(snapshot)(dict(snapshot.document, conduits=conduits),
                                dict(snapshot.layout, conduits=snapshot.layout["conduits"][3:]), snapshot.files)
        site = revisions.site_by_slug(session, SITE)
        assert site is not None
        revisions.commit_revision(session, site, edited, based_on=first.id, author_id=None, actor="test", message="e")
    for number in (1, 2):
        exported = tmp_path / f"export-{number}"
        with sessions() as session:
            revision = revisions.export_folder(session, SITE, exported, number)
            web = checking.judge_folder(checking.revision_folder(session, revision, tmp_path / "work"), AS_OF)
        cli = cli_findings(exported)
        assert web == json.loads(json.dumps(cli).replace(str(exported) + "/", ""))
        treaty_evidence = [e for f in web for e in f["evidence"] if e.startswith("conduits.yaml:")]
        assert treaty_evidence, "some finding cites the register by file:line"


def app_on(web: WebSite, wait: float = 0) -> FastAPI:
    """Another app on the same database (another uvicorn process), answering at once while a job runs."""
    return create_app(Settings(database_url=str(web.app.state.settings.database_url), as_of=AS_OF,
                               check_wait_seconds=wait, api_check_wait_seconds=wait, jobs="local"), migrate=False)


def head_key(web: WebSite) -> ResultKey:
    with web.sessions() as session:
        site = revisions.site_by_slug(session, SITE)
        assert site is not None and site.head_revision_id is not None
        return ResultKey.of(site.head_revision_id, AS_OF, current(session))


def wait_done(web: WebSite, key: ResultKey) -> CheckResultRow:
    for _ in range(1200):
        with web.sessions() as session:
            row = session.get(CheckResultRow, key.primary_key())
            if row is not None and row.state == "done":
                return row
        time.sleep(0.1)
    raise AssertionError("the check job never stored its result")


def test_a_page_says_checking_and_polls_until_the_findings_are_there(web: WebSite) -> None:
    app = app_on(web)
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    login(client, "k.soc")
    waiting = client.get(f"/sites/{SITE}/findings")  # answers at once: the check runs in a worker process
    assert waiting.status_code == 200 and "Checking revision 1" in waiting.text
    assert 'hx-get="/sites/bayport/findings"' in waiting.text and 'hx-trigger="load delay:2s"' in waiting.text
    assert "Checking revision 1" in client.get(f"/sites/{SITE}").text  # the dashboard's findings card too
    row = wait_done(web, head_key(web))
    ready = client.get(f"/sites/{SITE}/findings")
    assert "Checking revision" not in ready.text and "findings in revision 1" in ready.text
    assert "hx-trigger" not in ready.text
    assert row.computations == 1
    app.state.jobs.close()
    app.state.engine.dispose()


def test_a_result_is_stored_once_however_often_its_job_runs(web: WebSite) -> None:
    key = head_key(web)
    url = str(web.app.state.settings.database_url)
    first = run_job(url, check_follow_up(key))
    again = run_job(url, check_follow_up(key))
    assert "findings" in first.summary and "already checked" in again.summary
    with web.sessions() as session:
        row = session.get(CheckResultRow, key.primary_key())
        assert row is not None and row.state == "done" and row.computations == 1
    assert web.client("k.soc").get(f"/sites/{SITE}/findings").text.count("Checking revision") == 0


def test_a_failed_result_is_shown_not_swallowed_and_checked_again_on_request(web: WebSite) -> None:
    key = head_key(web)
    with web.sessions.begin() as session:
        session.add(CheckResultRow(revision_id=key.revision_id, as_of=key.as_of, feeds=key.feeds,
                                   baseline=key.baseline, site_id=1, state="failed", findings=[], facts={},
                                   error="internal error: OSError: No space left on device", computations=1,
                                   worker="w", seconds=0.0))
    client = web.client("k.soc")
    page = client.get(f"/sites/{SITE}/findings")
    assert "The checks of revision 1 failed: internal error: OSError: No space left on device" in page.text
    assert "hx-trigger" not in page.text and "Check again" in page.text
    api = client.get(f"/api/v1/sites/{SITE}/findings",
                     headers={"Authorization": f"Bearer {token_for(web, 'k.soc', Role.SOC_ANALYST)}"})
    assert api.status_code == 500 and "No space left on device" in api.json()["problems"][0]
    assert post(client, f"/sites/{SITE}/checks/retry").status_code == 303
    row = wait_done(web, key)
    assert row.computations == 2 and row.error == ""
    assert "findings in revision 1" in client.get(f"/sites/{SITE}/findings").text


def test_the_api_answers_503_with_retry_after_while_checking(web: WebSite) -> None:
    app = app_on(web)
    headers = {"Authorization": f"Bearer {token_for(web, 'k.soc', Role.SOC_ANALYST)}"}
    client = TestClient(app, base_url="https://testserver")
    busy = client.get(f"/api/v1/sites/{SITE}/findings", headers=headers)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert busy.json()["error"] == "checking revision 1"
    wait_done(web, head_key(web))
    assert client.get(f"/api/v1/sites/{SITE}/findings", headers=headers).json()["revision"] == 1
    app.state.jobs.close()
    app.state.engine.dispose()


def test_the_report_is_rendered_by_a_job_and_served_once_stored(web: WebSite) -> None:
    client = web.client("a.auditor")
    first = client.get(f"/sites/{SITE}/report")
    assert first.status_code == 200 and "Rendering the HTML report of revision 1" in first.text
    for _ in range(1200):
        page = client.get(f"/sites/{SITE}/report", params={"part": "status"})
        if "is ready" in page.text:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the report job never stored the report")
    report = client.get(f"/sites/{SITE}/report")
    assert report.headers["content-type"].startswith("text/html") and "Bayport Olefins" in report.text
    assert 'filename="plantgate-bayport-r1-2026-11-26.html"' in report.headers["content-disposition"]
    # its inline stylesheet is allowed (the pages' policy would refuse it), and nothing else: no script, no load
    assert report.headers["content-security-policy"] == ("default-src 'none'; style-src 'unsafe-inline'; "
                                                         "img-src data:; frame-ancestors 'none'")
    assert "<script" not in report.text
