"""Findings of a revision: the CLI's exactly, computed once in the background, with a visible state meanwhile."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from plantgate.cli import main
from plantgate.db import revisions
from plantgate.db.accounts import Role
from plantgate.db.tables import CheckRunRow
from plantgate.web import check_runs, checking, offload
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.sites import copy_example
from tests.web.conftest import AS_OF, SITE, WebSite, login
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


def run_here(step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """offload.in_process without the worker process: a step patched by a test cannot be sent to one."""
    return step(*args, **kwargs)


@pytest.fixture
def gated_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, list[int]]]:
    """The checks wait for ``gate`` (so a test sees a run in progress); each run is counted."""
    gate, calls = threading.Event(), list[int]()
    real: Callable[[Path, dt.date], list[dict[str, Any]]] = checking.judge_folder

    def judged(folder: Path, as_of: dt.date) -> list[dict[str, Any]]:
        calls.append(1)
        assert gate.wait(60)
        return real(folder, as_of)

    monkeypatch.setattr(checking, "judge_folder", judged)
    monkeypatch.setattr(offload, "in_process", run_here)  # the gate is in this process
    yield gate, calls
    gate.set()


def worker(web: WebSite, wait: float = 0) -> FastAPI:
    """Another app on the same database: a second uvicorn worker, with its own caches and background thread."""
    return create_app(Settings(database_url=str(web.app.state.settings.database_url), as_of=AS_OF,
                               check_wait_seconds=wait, api_check_wait_seconds=wait), migrate=False)


def finish_runs(app: FastAPI) -> None:
    app.state.checks.pool.submit(lambda: None).result(timeout=120)  # the one background thread is idle again


def test_a_page_says_checking_and_refreshes_until_the_findings_are_there(
        web: WebSite, gated_checks: tuple[threading.Event, list[int]]) -> None:
    gate, calls = gated_checks
    app = worker(web)
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    login(client, "k.soc")
    waiting = client.get(f"/sites/{SITE}/findings")
    assert waiting.status_code == 200 and "Checking revision 1" in waiting.text
    assert '<meta http-equiv="refresh"' in waiting.text
    assert "Checking revision 1" in client.get(f"/sites/{SITE}").text  # the dashboard's findings card too
    gate.set()
    finish_runs(app)
    ready = client.get(f"/sites/{SITE}/findings")
    assert "Checking revision" not in ready.text and "findings in revision 1" in ready.text
    assert 'http-equiv="refresh"' not in ready.text
    assert len(calls) == 1
    app.state.engine.dispose()


def test_two_workers_compute_a_run_once(web: WebSite, gated_checks: tuple[threading.Event, list[int]]) -> None:
    gate, calls = gated_checks
    first, second = worker(web), worker(web, wait=30)
    one = TestClient(first, base_url="https://testserver", follow_redirects=False)
    two = TestClient(second, base_url="https://testserver", follow_redirects=False)
    login(one, "k.soc")
    login(two, "a.auditor")
    assert "Checking revision 1" in one.get(f"/sites/{SITE}/findings").text  # the first worker claims the run
    threading.Timer(0.5, gate.set).start()
    assert "findings in revision 1" in two.get(f"/sites/{SITE}/findings").text  # the second waits on the row
    assert len(calls) == 1 and not second.state.checks.mine
    for app in (first, second):
        finish_runs(app)
        app.state.engine.dispose()


def test_a_failed_run_is_shown_not_swallowed_and_tried_again_once_stale(
        web: WebSite, monkeypatch: pytest.MonkeyPatch) -> None:
    real = checking.judge_folder

    def broken(folder: Path, as_of: dt.date) -> list[dict[str, Any]]:
        raise OSError("No space left on device")

    monkeypatch.setattr(checking, "judge_folder", broken)
    monkeypatch.setattr(offload, "in_process", run_here)
    client = web.client("k.soc")
    page = client.get(f"/sites/{SITE}/findings")
    assert "The checks of revision 1 failed: internal error: OSError: No space left on device" in page.text
    assert 'http-equiv="refresh"' not in page.text
    api = client.get(f"/api/v1/sites/{SITE}/findings",
                     headers={"Authorization": f"Bearer {token_for(web, 'k.soc', Role.SOC_ANALYST)}"})
    assert api.status_code == 500 and "No space left on device" in api.json()["problems"][0]
    monkeypatch.setattr(checking, "judge_folder", real)
    assert "failed" in client.get(f"/sites/{SITE}/findings").text  # not retried at once
    with web.sessions.begin() as session:
        session.execute(update(CheckRunRow).values(started_at=dt.datetime.now(dt.UTC) - check_runs.STALE_AFTER * 2))
    assert "findings in revision 1" in client.get(f"/sites/{SITE}/findings").text


def test_a_run_left_running_by_a_dead_worker_is_taken_over(web: WebSite) -> None:
    with web.sessions.begin() as session:
        site = revisions.site_by_slug(session, SITE)
        assert site is not None and site.head_revision_id is not None
        session.add(CheckRunRow(revision_id=site.head_revision_id, as_of=AS_OF.isoformat(), findings=[],
                                state=check_runs.RUNNING, started_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    assert "findings in revision 1" in web.client("k.soc").get(f"/sites/{SITE}/findings").text


def test_the_api_answers_503_with_retry_after_while_checking(
        web: WebSite, gated_checks: tuple[threading.Event, list[int]]) -> None:
    gate, _ = gated_checks
    app = worker(web)
    headers = {"Authorization": f"Bearer {token_for(web, 'k.soc', Role.SOC_ANALYST)}"}
    client = TestClient(app, base_url="https://testserver")
    busy = client.get(f"/api/v1/sites/{SITE}/findings", headers=headers)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert busy.json()["error"] == "checking revision 1"
    gate.set()
    finish_runs(app)
    assert client.get(f"/api/v1/sites/{SITE}/findings", headers=headers).json()["revision"] == 1
    app.state.engine.dispose()
