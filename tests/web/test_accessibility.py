"""Usable by everyone, at 2 a.m.: every page type in headless Chromium, checked by axe-core for WCAG 2.0/2.1
level A and AA, laid out at 390 px (a phone) without the page scrolling sideways, and a finding accepted with
the keyboard alone, its focus always visible.

axe-core is the unmodified npm build vendored in tests/assets/axe-core (see its README); it is injected into
each page through WebDriver, never served by the app.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from plantgate.db import accounts
from plantgate.db.fleet import grant_fleet_role
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.sites import copy_example
from tests.web.conftest import AS_OF, PASSWORD, SITE, seed_site
from tests.web.live_server import Person, live_server
from tests.web.test_browser import CHROMEDRIVER, CHROMIUM, chromium, log_in
from tests.web.test_revisions import commit_second_revision

pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="Debian chromium and chromium-driver are not installed")

AXE = Path(__file__).parents[1] / "assets" / "axe-core" / "axe.min.js"
WCAG_A_AND_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE_WIDTH = 390
PENDING = ("checking", "pictures-pending", "report-rendering")
"""Ids of the notes a page shows while a job computes what it is about; it updates itself when done."""
FLEET_READER = "c.sec"


@dataclass
class Demo:
    """The running example plant and one page of every page type, each with someone allowed to see it."""

    base: str
    pages: list[tuple[str, str | None, str]] = field(default_factory=list)
    """(page type, user name or None for a page before logging in, path)."""
    finding: str = ""


def file_change(base: str, example: Path) -> int:
    """A submitted change with a candidate config, filed by the IT engineer over HTTP."""
    engineer = Person(base, "j.lindqvist")
    candidate = (example / "firewalls" / "candidates" / "fw-dmz-ot.CR-2026-102.iptables").read_bytes()
    response = engineer.post(f"/sites/{SITE}/changes", {
        "title": "Historian replica to the DMZ", "business_reason": "The DMZ historian mirror needs its feed.",
        "firewall": "fw-dmz-ot", "ot_approver": "r.alvarez", "conduits": "C-01-hist-replication",
    }, files={"candidate": ("candidate.iptables", candidate, "text/plain")})
    engineer.close()
    assert response.status_code == 303, response.text[-2000:]
    found = re.search(r"/changes/(\d+)$", response.headers["location"])
    assert found is not None
    return int(found.group(1))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("accessible")
    example = copy_example(folder)
    app = create_app(Settings(database_url=f"sqlite:///{folder / 'web.db'}", as_of=AS_OF, check_wait_seconds=120))
    seed_site(app.state.sessions, example)
    commit_second_revision(app.state.sessions, example, folder)
    with app.state.sessions.begin() as session:
        reader = accounts.create_user(session, FLEET_READER, PASSWORD, actor="test")
        grant_fleet_role(session, reader, "corporate_security", actor="test")
        soc = accounts.user_by_name(session, "k.soc")
        assert soc is not None
        reset = accounts.create_login_link(session, soc, actor="test", purpose="password_reset")
    with live_server(app) as base:
        change = file_change(base, example)
        reader = Person(base, "a.auditor")
        findings = reader.client.get(f"/sites/{SITE}/findings").text  # waits for the head's check
        reader.close()
        # httpx sends no Secure cookie over plain http, Chromium does to 127.0.0.1 (and needs it for the __Host-
        # login cookie): the browsers below get the production setting
        app.state.settings = app.state.settings.model_copy(update={"secure_cookies": True})
        finding = next(f for rule, f in re.findall(r'<td>(PG-[A-Z]+)-\d+</td>\s*<td><strong><a href="[^"]*/findings/'
                                                   r'([0-9a-f]{16})"', findings) if rule not in ("PG-VULN", "PG-PATCH"))
        site = f"/sites/{SITE}"
        pages = [
            ("login", None, "/login"), ("new password", None, f"/account/reset/{reset}"),
            ("home", "r.alvarez", "/"), ("password", "a.auditor", "/account/password"),
            ("fleet", FLEET_READER, "/fleet"),
            ("fleet question", FLEET_READER, "/fleet/questions/cve?cve=CVE-2024-3400"),
            ("dashboard", "a.auditor", site), ("register", "a.auditor", f"{site}/register"),
            ("conduit", "a.auditor", f"{site}/conduits/C-08-time-sync"), ("zone", "a.auditor", f"{site}/zones/ops"),
            ("asset", "a.auditor", f"{site}/assets/ops-historian"),
            ("firewall", "a.auditor", f"{site}/firewalls/fw-dmz-ot"),
            ("firewall config", "a.auditor", f"{site}/firewalls/fw-dmz-ot/config"),
            ("findings", "a.auditor", f"{site}/findings"), ("finding", "r.alvarez", f"{site}/findings/{finding}"),
            ("matrix", "a.auditor", f"{site}/matrix"), ("pair", "a.auditor", f"{site}/matrix/idmz/sup"),
            ("diagram", "a.auditor", f"{site}/diagram"), ("trends", "a.auditor", f"{site}/trends"),
            ("changes", "a.auditor", f"{site}/changes"), ("change", "r.alvarez", f"{site}/changes/{change}"),
            ("change config", "r.alvarez", f"{site}/changes/{change}/config/candidate"),
            ("new change", "j.lindqvist", f"{site}/changes/new"), ("risks", "k.soc", f"{site}/risks"),
            ("charter", "s.patel", f"{site}/charter"), ("audit", "a.auditor", f"{site}/audit"),
            ("revisions", "a.auditor", f"{site}/revisions"), ("revision", "a.auditor", f"{site}/revisions/2"),
            ("first revision", "a.auditor", f"{site}/revisions/1"), ("report", "a.auditor", f"{site}/report"),
            ("error", "a.auditor", f"{site}/zones/nowhere"),
        ]
        yield Demo(base, pages, finding)
    app.state.jobs.close()
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


def open_as(driver: WebDriver, demo: Demo, username: str | None, path: str, current: list[str | None]) -> None:
    """Open ``path`` as ``username`` (logging in only when the user changes) once its jobs have landed."""
    if username != current[0]:
        driver.delete_all_cookies()
        if username is not None:
            log_in(driver, demo.base, username)
        current[0] = username
    driver.get(demo.base + path)
    WebDriverWait(driver, 180, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return document.readyState === 'complete' && !document.getElementById('"
                                   + "') && !document.getElementById('".join(PENDING) + "')"))


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the current page (it must have checked something)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(120)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(WCAG_A_AND_AA)}}}, resultTypes: "
        "['violations']}).then(r => done({violations: r.violations, passed: r.passes.length}),"
        " e => done({violations: [{id: 'axe-error', help: String(e), nodes: []}], passed: 0}));")
    assert result["passed"] > 0, result["violations"]  # axe ran its rules on this page
    return list(result["violations"])


def readable(page: str, violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{page}: {v['id']} ({v.get('impact')}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more elements")
    return "\n".join(lines)


def check_every_page(demo: Demo, browser: WebDriver, width: int) -> list[str]:
    """axe-core on one page of every page type at ``width``; the violations, readable."""
    browser.set_window_size(width, 900)
    current: list[str | None] = [""]
    failures, checked = [], []
    for page, username, path in sorted(demo.pages, key=lambda p: p[1] or ""):
        open_as(browser, demo, username, path, current)
        violations = axe_violations(browser)
        if violations:
            failures.append(readable(f"{page} at {width} px", violations))
        checked.append(page)
    assert len(checked) == len(demo.pages) == 31
    return failures


def test_the_harness_reports_what_axe_finds(browser: WebDriver) -> None:
    """A page with an unlabelled field and no language fails: the checks below could fail too."""
    browser.get("data:text/html,<!doctype html><title>t</title><main><input id=nameless></main>")
    found = {v["id"] for v in axe_violations(browser)}
    assert {"label", "html-has-lang"} <= found, found


def test_every_page_type_has_no_wcag_a_or_aa_violation(demo: Demo, browser: WebDriver) -> None:
    failures = check_every_page(demo, browser, 1280)
    assert not failures, "\n" + "\n".join(failures)


WIDER_THAN_VIEWPORT = """
const width = document.documentElement.clientWidth;
const scroller = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    const x = getComputedStyle(p).overflowX; if (x === 'auto' || x === 'scroll') return true; } return false; };
return [...document.body.querySelectorAll('*')].filter(el => el.getBoundingClientRect().right > width + 1
    && !scroller(el)).slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '')
    + ' (' + Math.round(el.getBoundingClientRect().right) + 'px)');
"""


def test_every_page_type_fits_a_phone_without_scrolling_sideways(demo: Demo, browser: WebDriver) -> None:
    """At 390 px the page body never scrolls sideways (a wide table scrolls in its own box, reachable by
    keyboard), and axe-core still finds nothing."""
    browser.set_window_size(PHONE_WIDTH, 844)
    width = browser.execute_script("return window.innerWidth")
    assert width <= PHONE_WIDTH + 20, f"Chromium kept a {width} px viewport"
    current: list[str | None] = [""]
    wide = []
    for page, username, path in sorted(demo.pages, key=lambda p: p[1] or ""):
        open_as(browser, demo, username, path, current)
        scroll = browser.execute_script("return [document.documentElement.scrollWidth, "
                                        "document.documentElement.clientWidth]")
        if scroll[0] > scroll[1]:
            wide.append(f"{page}: the page is {scroll[0]} px wide in a {scroll[1]} px viewport; too wide: "
                        f"{', '.join(browser.execute_script(WIDER_THAN_VIEWPORT))}")
    failures = check_every_page(demo, browser, PHONE_WIDTH)
    browser.set_window_size(1280, 900)
    assert not wide and not failures, "\n" + "\n".join(wide + failures)


def focus_is_visible(driver: WebDriver) -> bool:
    """Whether the focused element draws an outline (our :focus-visible style) or a box shadow."""
    style = driver.execute_script("const s = getComputedStyle(document.activeElement);"
                                  "return [s.outlineStyle, s.outlineWidth, s.boxShadow];")
    return bool((style[0] != "none" and float(style[1].removesuffix("px") or 0) >= 2) or style[2] != "none")


def tab_to(driver: WebDriver, element_id: str, limit: int = 80) -> None:
    """Press TAB until ``element_id`` has the focus, checking that every stop on the way shows its focus."""
    for _ in range(limit):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        active = driver.switch_to.active_element
        assert focus_is_visible(driver), f"no visible focus on {active.get_attribute('outerHTML')[:120]}"
        if active.get_attribute("id") == element_id:
            return
    raise AssertionError(f"TAB never reached #{element_id}")


def type_keys(driver: WebDriver, *keys: str) -> None:
    driver.switch_to.active_element.send_keys(*keys)


def wait_for_new_page(driver: WebDriver, old: Any) -> None:
    WebDriverWait(driver, 60, ignored_exceptions=(WebDriverException,)).until(expected_conditions.staleness_of(old))


def test_log_in_and_accept_a_finding_with_the_keyboard_alone(demo: Demo, tmp_path: Path) -> None:
    driver = chromium(tmp_path / "keyboard", "--lang=en-US")  # the date field reads month, day, year
    try:
        driver.set_window_size(PHONE_WIDTH, 844)  # the on-call engineer's phone, with a keyboard
        driver.get(f"{demo.base}/login")
        tab_to(driver, "username")
        type_keys(driver, "s.patel", Keys.TAB, PASSWORD)
        page = driver.find_element(By.TAG_NAME, "html")
        type_keys(driver, Keys.ENTER)
        wait_for_new_page(driver, page)
        assert driver.find_element(By.ID, "whoami").text == "s.patel"

        driver.get(f"{demo.base}/sites/{SITE}/findings/{demo.finding}")
        tab_to(driver, "accept-reason")
        type_keys(driver, "Compensated by the DMZ jump host; replaced at the spring outage.")
        tab_to(driver, "accept-until")
        until = AS_OF + dt.timedelta(days=100)
        type_keys(driver, until.strftime("%m%d%Y"))  # Chromium's date field, en-US: month, day, year
        assert driver.find_element(By.ID, "accept-until").get_attribute("value") == until.isoformat()
        tab_to(driver, "accept-finding")
        page = driver.find_element(By.TAG_NAME, "html")
        type_keys(driver, Keys.ENTER)
        wait_for_new_page(driver, page)
        assert driver.find_element(By.ID, "acceptance-state").text == "Accepted"
        assert f"until {until.isoformat()}" in driver.find_element(By.ID, "acceptance").text
        assert "replaced at the spring outage" in driver.find_element(By.ID, "acceptance-reason").text

        driver.get(f"{demo.base}/sites/{SITE}/findings?status=accepted")  # listed, marked, with who and until
        row = driver.find_element(By.CSS_SELECTOR, "#findings tr.accepted").text
        assert f"accepted by s.patel until {until.isoformat()}" in row
    finally:
        driver.quit()
