"""One user cannot stall or exhaust the server: bodies limited and authenticated before they are read,
bad identifiers and values refused with 4xx and an HTML page, heavy work off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.formparsers import MultiPartParser

from plantgate.web import changes, checking, conduit_edit
from plantgate.web.app import SECURITY_HEADERS
from tests.web.conftest import SITE, WebSite, csrf, post
from tests.web.live_server import live_server

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SECURITY_HEADER_NAMES = {name.decode() for name, _ in SECURITY_HEADERS}


@pytest.fixture
def multipart_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every multipart body the app starts to parse (and spool to disk past 1 MB)."""
    parsed: list[str] = []
    original = MultiPartParser.parse

    async def recording(self: MultiPartParser) -> Any:
        parsed.append("parsed")
        return await original(self)

    monkeypatch.setattr(MultiPartParser, "parse", recording)
    return parsed


@SQLITE_ONLY
def test_an_anonymous_multipart_upload_is_refused_before_its_body_is_parsed(
        web: WebSite, multipart_parses: list[str]) -> None:
    client = web.client()
    big = b"x" * 3_000_000  # past starlette's 1 MB in-memory spool: parsed, it would be written to /tmp
    response = client.post(f"/sites/{SITE}/changes", data={"title": "t", "firewall": "fw-dmz-ot"},
                           files={"candidate": ("c.txt", big, "text/plain")}, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 401 and "text/html" in response.headers["content-type"]
    api = client.post(f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config", content=big,
                      headers={"Authorization": "Bearer pgt_forged"})
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert multipart_parses == []
    engineer = web.client("j.lindqvist")  # the same upload with a session is parsed (and refused as no config)
    post(engineer, f"/sites/{SITE}/changes", {"title": "t", "firewall": "fw-dmz-ot"},
         files={"candidate": ("c.txt", big, "text/plain")})
    assert multipart_parses == ["parsed"]


@SQLITE_ONLY
def test_a_200_mb_anonymous_stream_is_refused_after_reading_almost_nothing(web: WebSite) -> None:
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(200):
            sent += 1_000_000
            yield b"-" * 1_000_000

    with live_server(web.app) as base, httpx.Client(base_url=base, timeout=60) as client:
        try:
            response = client.post(f"/sites/{SITE}/changes", content=body(),
                                   headers={"Content-Type": "multipart/form-data; boundary=x"})
            assert response.status_code == 401
        except httpx.TransportError:  # the server answered 401 and closed while the client still wrote
            pass
    assert sent < 200_000_000


@SQLITE_ONLY
def test_bodies_past_the_limits_get_413(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    token = csrf(engineer)
    web.app.state.settings = web.app.state.settings.model_copy(update={"max_body_bytes": 2_000_000})
    upload = engineer.post(f"/sites/{SITE}/changes", data={"title": "t", "firewall": "fw-dmz-ot", "csrf_token": token},
                           files={"candidate": ("c.txt", b"x" * 2_100_000, "text/plain")},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert upload.status_code == 413
    form = engineer.post(f"/sites/{SITE}/risks", data={"subject": "s" * 1_100_000, "decision": "patch_now",
                                                       "csrf_token": token}, headers={"Sec-Fetch-Site": "same-origin"})
    assert form.status_code == 413


@SQLITE_ONLY
def test_a_chunked_body_past_the_limit_is_cut_off(web: WebSite) -> None:
    web.app.state.settings = web.app.state.settings.model_copy(update={"max_body_bytes": 1_500_000})
    engineer = web.client("j.lindqvist")
    cookies = dict(engineer.cookies)
    token = csrf(engineer)

    def body() -> Iterator[bytes]:
        yield f"--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n".encode()
        yield b"--x\r\nContent-Disposition: form-data; name=\"candidate\"; filename=\"c\"\r\n\r\n"
        for _ in range(50):
            yield b"x" * 100_000

    with live_server(web.app) as base, httpx.Client(base_url=base, timeout=60, cookies=cookies) as client:
        response = client.post(f"/sites/{SITE}/changes", content=body(),
                               headers={"Content-Type": "multipart/form-data; boundary=x",
                                        "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 413


def test_bad_identifiers_and_values_are_4xx_never_500(web: WebSite) -> None:
    auditor, leader = web.client("a.auditor"), web.client("s.patel")
    for path in (f"/sites/{SITE}/changes/2147483648", f"/sites/{SITE}/changes/99999999999999999999999",
                 f"/sites/{SITE}/audit?page=9223372036854775808", f"/sites/{SITE}/audit?page=0",
                 f"/sites/{SITE}/changes/1%00", f"/sites/{SITE}/register?q=a%00b"):
        response = auditor.get(path)
        assert 400 <= response.status_code < 500 and "text/html" in response.headers["content-type"], path
    assert post(leader, f"/sites/{SITE}/risks/2147483648/sign").status_code in (400, 404)
    assert post(leader, f"/sites/{SITE}/risks/2147483647/sign").status_code == 404


def test_nul_bytes_in_form_fields_are_refused(web: WebSite) -> None:
    anonymous = web.client()
    page = anonymous.get("/login").text
    token = page.split('name="login_token" value="')[1].split('"')[0]
    login = anonymous.post("/login", data={"username": "r.alv\x00arez", "password": "x", "login_token": token},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert login.status_code == 400
    engineer = web.client("j.lindqvist")
    filed = post(engineer, f"/sites/{SITE}/changes", {"title": "nul\x00title", "firewall": "fw-dmz-ot"},
                 files={"candidate": ("c.txt", b"", "text/plain")})
    assert filed.status_code == 400 and "NUL" in filed.text
    risk = post(engineer, f"/sites/{SITE}/risks", {"subject": "CVE\x00", "decision": "patch_now"})
    assert risk.status_code == 400


@SQLITE_ONLY
def test_a_missing_form_field_gets_an_html_page_not_raw_json(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    response = post(engineer, f"/sites/{SITE}/risks", {"subject": "CVE-2024-3400"})
    assert response.status_code == 400 and "text/html" in response.headers["content-type"]
    assert "decision" in response.text and "Field required" in response.text
    form = post(engineer, f"/sites/{SITE}/changes", {"firewall": "fw-dmz-ot"})  # the change form says it at the field
    assert form.status_code == 400 and "text/html" in form.headers["content-type"]
    assert '<span class="field-error" id="title-error">a change needs a title' in form.text


@SQLITE_ONLY
def test_a_register_edit_5000_levels_deep_is_a_400(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    for deep in ("upsert: " + "[" * 5000 + "]" * 5000,
                 "upsert:\n  " + "- " * 5000 + "x\n"):
        response = post(engineer, f"/sites/{SITE}/changes", {"title": "deep", "firewall": "fw-dmz-ot",
                                                              "register_edit": deep})
        assert response.status_code == 400 and "register_edit" in response.text and "nesting" in response.text


@SQLITE_ONLY
def test_an_internal_error_is_a_500_page_with_the_security_headers(web: WebSite) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    web.app.add_api_route("/boom", boom)
    response = TestClient(web.app, base_url="https://testserver", raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500 and "boom" not in response.text
    assert SECURITY_HEADER_NAMES <= set(response.headers) and response.headers["cache-control"] == "no-store"


@SQLITE_ONLY
def test_heavy_work_runs_off_the_event_loop(web: WebSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing the register edit and proving the impact happen where no event loop runs; judging an upload
    does not happen in the web process at all (it is a job, on a worker process)."""
    seen: dict[str, bool] = {}

    def watch(module: Any, name: str) -> None:
        original = getattr(module, name)

        def watched(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
                seen[name] = True
            except RuntimeError:
                seen[name] = seen.get(name, False)
            assert threading.current_thread() is not threading.main_thread()
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, watched)

    for module, name in ((conduit_edit, "from_yaml"), (changes, "assess_change"), (checking, "judge_snapshot")):
        watch(module, name)
    from tests.web.test_api import token_for
    from tests.web.test_changes import NEW_CONDUIT, file_change

    engineer = web.client("j.lindqvist")
    change_id = file_change(engineer, "watched", None, register_edit=NEW_CONDUIT)
    assert engineer.get(f"/sites/{SITE}/changes/{change_id}").status_code == 200
    from plantgate.db.accounts import Role

    config = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_text()
    uploaded = web.client().post(f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config", content=config, headers={
        "Authorization": f"Bearer {token_for(web, 'm.okafor', Role.IT_ENGINEER)}", "Content-Type": "text/plain"})
    assert uploaded.status_code == 202  # queued: a job folds it
    assert seen == {"from_yaml": False, "assess_change": False}


@SQLITE_ONLY
def test_errors_on_a_page_quote_one_bounded_line_and_no_server_path(web: WebSite,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An upload refused by its job shows one bounded line of the problem, without the job's scratch path."""
    from plantgate.db.accounts import Role
    from plantgate.errors import InputError
    from plantgate.jobs.queue import run_job
    from plantgate.jobs.work import FollowUp
    from plantgate.jobs.work import workdir as job_workdir
    from plantgate.web.rendering import MAX_MESSAGE_CHARS
    from tests.web.test_api import token_for

    secret = "SECRET_TOKEN=" + "s3cr3t" * 200
    scratch = job_workdir(str(web.app.state.settings.database_url))

    def quoting(*args: Any, **kwargs: Any) -> None:  # a reader that quotes its input far too generously
        raise InputError.at(f"{scratch}/candidate-x/treaty/firewalls/fw.conf", 3, 1,
                            f"cannot read: {secret}\nnext line of the file: {secret}")

    monkeypatch.setattr(checking, "judge_snapshot", quoting)
    queued: list[FollowUp] = []
    monkeypatch.setattr(web.app.state.jobs, "submit", queued.append)  # run the job here, with the reader above
    config = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_text()
    headers = {"Authorization": f"Bearer {token_for(web, 'm.okafor', Role.IT_ENGINEER)}", "Content-Type": "text/plain"}
    client = web.client()
    response = client.post(f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config", content=config, headers=headers)
    assert response.status_code == 202, response.text
    [job] = queued
    run_job(str(web.app.state.settings.database_url), job, web.app.state.settings)
    upload = client.get(response.headers["Location"], headers=headers)
    error = upload.json()["error"]
    assert upload.json()["state"] == "refused" and len(error) <= MAX_MESSAGE_CHARS
    assert error.startswith("candidate-x/treaty/firewalls/fw.conf:3:1: cannot read: SECRET_TOKEN=")
    assert str(scratch) not in upload.text and "next line" not in upload.text
