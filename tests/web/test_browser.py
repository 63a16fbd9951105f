"""The user journey in headless Chromium: log in, file, veto, see the veto, approve, sign a risk decision,
and the auditor sees everything but changes nothing. The app runs under uvicorn on a free local port."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.web.conftest import AS_OF, PASSWORD, SITE, seed_site
from tests.web.test_changes import OPENING_RULE

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="Debian chromium and chromium-driver are not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from tests.sites import copy_example

    folder = tmp_path_factory.mktemp("browser")
    example = copy_example(folder)
    app = create_app(Settings(database_url=f"sqlite:///{folder / 'web.db'}", as_of=AS_OF, check_wait_seconds=120))
    seed_site(app.state.sessions, example)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uvicorn_server.started
    yield f"http://127.0.0.1:{port}", example
    uvicorn_server.should_exit = True
    thread.join(timeout=10)
    app.state.jobs.close()
    app.state.engine.dispose()


def chromium(profile: Path, *flags: str) -> WebDriver:
    """Headless Debian Chromium through its chromedriver, with its own profile folder."""
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                 *flags):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(IMPLICIT_WAIT)
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


def submit(driver: WebDriver, element_id: str) -> None:
    """Click a submitting button and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()
    # while the old document is being torn down, Chrome may answer "node does not belong to the document"
    # instead of "stale element": both mean the page is being replaced, so keep waiting
    WebDriverWait(driver, 60, ignored_exceptions=(WebDriverException,)).until(expected_conditions.staleness_of(page))


def log_in(driver: WebDriver, base: str, username: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(driver, "login")
    assert driver.find_element(By.ID, "whoami").text == username


IMPLICIT_WAIT = 20
"""Seconds a lookup waits for its element: generous, as a loaded 2-core CI machine computes impacts slowly."""


def found_now(driver: WebDriver, by: str, value: str) -> list[WebElement]:
    """The elements on the page as loaded, without the implicit wait (which an absent element would sit out)."""
    driver.implicitly_wait(0)
    try:
        return driver.find_elements(by, value)
    finally:
        driver.implicitly_wait(IMPLICIT_WAIT)


def file_change(driver: WebDriver, base: str, title: str, candidate: Path) -> str:
    driver.get(f"{base}/sites/{SITE}/changes")
    submit(driver, "new-change")
    Select(driver.find_element(By.ID, "firewall")).select_by_value("fw-dmz-ot")  # the candidate is its iptables
    driver.find_element(By.ID, "title").send_keys(title)
    driver.find_element(By.ID, "business_reason").send_keys("Legacy controllers log over UDP syslog.")
    driver.find_element(By.CSS_SELECTOR, "#advanced summary").click()  # "Advanced: edit as YAML"
    driver.find_element(By.ID, "register_edit").send_keys(
        "upsert:\n- id: C-20-ot-syslog-udp\n  from_zone: ops\n  to_zone: idmz\n  services: [{protocol: udp, "
        "ports: [514]}]\n  sources: [10.30.0.22/32]\n  destinations: [172.16.35.40/32]\n  business_reason: logs\n")
    driver.find_element(By.ID, "candidate").send_keys(str(candidate))
    submit(driver, "file-change")
    assert driver.find_element(By.ID, "change-state").text.lower() == "submitted"
    return driver.current_url


def test_user_journey(server: tuple[str, Path], browser: WebDriver, tmp_path: Path) -> None:
    base, example = server
    current = (example / "firewalls" / "fw-dmz-ot.iptables").read_text()
    candidate = tmp_path / "candidate.iptables"
    candidate.write_text(current.replace("-A OT_TO_DMZ -j RETURN\n", OPENING_RULE + "-A OT_TO_DMZ -j RETURN\n"))

    log_in(browser, base, "j.lindqvist")  # an IT engineer files a change
    first = file_change(browser, base, "UDP syslog, first try", candidate)
    assert "10.30.0.22" in browser.find_element(By.TAG_NAME, "main").text  # the impact's witness

    log_in(browser, base, "r.alvarez")  # the OT approver vetoes
    browser.get(first)
    browser.find_element(By.ID, "veto-comment").send_keys("Not during the cracker campaign")
    submit(browser, "veto")
    assert browser.find_element(By.ID, "change-state").text.lower() == "vetoed"

    log_in(browser, base, "j.lindqvist")  # the requester sees the veto
    browser.get(first)
    assert browser.find_element(By.ID, "change-state").text.lower() == "vetoed"
    assert "Not during the cracker campaign" in browser.find_element(By.ID, "decisions").text
    second = file_change(browser, base, "UDP syslog, after the campaign", candidate)
    assert not found_now(browser, By.ID, "approve")  # nobody approves their own change

    log_in(browser, base, "r.alvarez")  # a second change is approved
    browser.get(second)
    submit(browser, "approve")
    log_in(browser, base, "m.okafor")
    browser.get(second)
    submit(browser, "sign-off")
    assert browser.find_element(By.ID, "change-state").text.lower() == "approved"

    log_in(browser, base, "k.soc")  # leadership signs a risk decision
    browser.get(f"{base}/sites/{SITE}/risks")
    browser.find_element(By.ID, "risk-subject").send_keys("CVE-2024-3400 on the DMZ firewall")
    submit(browser, "propose-risk")
    log_in(browser, base, "s.patel")
    browser.get(f"{base}/sites/{SITE}/risks")
    submit(browser, "sign-risk-1")
    assert "signed by s.patel" in browser.find_element(By.ID, "risks").text

    log_in(browser, base, "a.auditor")  # the auditor sees everything but changes nothing
    for page, marker in [("", "findings-card"), ("/register", "conduits"), ("/findings", "findings"),
                         ("/changes", "changes"), ("/risks", "risks"), ("/audit", "audit")]:
        browser.get(f"{base}/sites/{SITE}{page}")
        assert browser.find_element(By.ID, marker).is_displayed()
    assert "change.veto" in browser.find_element(By.ID, "audit").text
    browser.get(second)
    assert not found_now(browser, By.CSS_SELECTOR, "main form")  # no action offered
    status = browser.execute_script(
        "const body = new URLSearchParams({csrf_token: document.body.getAttribute('hx-headers')"
        ".split('\"')[3]});"
        f"return fetch('{second}/veto', {{method: 'POST', body}}).then(r => r.status);")
    assert status == 403  # and the server refuses when tried anyway
    browser.get(f"{base}/sites/{SITE}/register")
    browser.find_element(By.ID, "q").send_keys("time")  # htmx search swaps the rows in place
    deadline = time.monotonic() + 5
    while "C-08-time-sync" not in browser.find_element(By.ID, "conduit-rows").text or \
            "C-01" in browser.find_element(By.ID, "conduit-rows").text:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def wait_for(driver: WebDriver, element_id: str) -> None:
    """Until the page (which polls itself while a job computes what it shows) has the element."""
    WebDriverWait(driver, 120, ignored_exceptions=(WebDriverException,)).until(
        expected_conditions.presence_of_element_located((By.ID, element_id)))


def test_pages_people_read_matrix_and_diagram(server: tuple[str, Path], browser: WebDriver) -> None:
    base, _ = server
    log_in(browser, base, "a.auditor")  # a read-only auditor sees every object and picture
    browser.get(f"{base}/sites/{SITE}/matrix")
    wait_for(browser, "matrix")
    cell = browser.find_element(By.ID, "cell-idmz-sup")
    assert "unregistered exposure" in cell.text  # the verdict in words, beside its colour
    page = browser.find_element(By.TAG_NAME, "html")
    cell.click()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))
    assert browser.find_element(By.ID, "pair-title").text == "idmz \u2192 sup"
    assert browser.find_element(By.CSS_SELECTOR, "code.witness").text  # the pair's witness packet
    browser.find_element(By.CSS_SELECTOR, ".exposure a[href*='/config#L']").click()  # a rule's config line
    assert "#L" in browser.current_url and browser.find_element(By.ID, "config").is_displayed()

    browser.get(f"{base}/sites/{SITE}/diagram")
    wait_for(browser, "diagram")
    zone = browser.find_element(By.XPATH, "//*[local-name()='a'][@*[local-name()='href' and "
                                          f"contains(., '/sites/{SITE}/zones/ops')]]")
    page = browser.find_element(By.TAG_NAME, "html")
    zone.click()  # a zone drawn in the SVG is a link to its page
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Zone ops")
    browser.find_element(By.LINK_TEXT, "C-01-hist-replication").click()
    assert "TCP port 5450" in browser.find_element(By.ID, "conduit-ends").text

    browser.get(f"{base}/sites/{SITE}/findings")  # the head's check is stored (the page polls until it is)
    wait_for(browser, "findings")
    browser.find_element(By.CSS_SELECTOR, "#findings td strong a").click()
    assert browser.find_element(By.ID, "evidence").is_displayed()
    for page_path, marker in [("/zones/sup", "incoming"), ("/assets/ops-historian", "asset-conduits"),
                              ("/firewalls/fw-dmz-ot", "coverage"), ("/firewalls/fw-dmz-ot/config", "config"),
                              ("/trends", "trend")]:
        browser.get(f"{base}/sites/{SITE}{page_path}")
        wait_for(browser, marker)
        assert browser.find_element(By.ID, marker).is_displayed()


def fill_conduit_row(driver: WebDriver, row: str, fields: dict[str, str]) -> None:
    """Type into one conduit row of the change form: text fields, dropdowns (by value) and checkboxes."""
    for name, value in fields.items():
        element = driver.find_element(By.ID, f"{row}-{name}")
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)


def file_change_with_fields(driver: WebDriver, base: str, title: str, conduit_id: str, candidate: Path) -> str:
    """An IT engineer files a change through the form's fields: a row more first (no JavaScript needed), then the
    conduit, the candidate upload and the file button."""
    driver.get(f"{base}/sites/{SITE}/changes/new")
    driver.find_element(By.ID, "title").send_keys(title)
    driver.find_element(By.ID, "business_reason").send_keys("Legacy controllers log over UDP syslog.")
    Select(driver.find_element(By.ID, "firewall")).select_by_value("fw-dmz-ot")
    Select(driver.find_element(By.ID, "ot_approver")).select_by_value("r.alvarez")
    fill_conduit_row(driver, "c0", {"id": conduit_id, "from_zone": "ops", "to_zone": "idmz",
                                    "sources": "10.30.0.22/32", "destinations": "172.16.35.40/32",
                                    "business_reason": "Controller logs", "owner": "r.alvarez",
                                    "ot_approver": "r.alvarez", "s0-protocol": "udp", "s0-ports": "514"})
    driver.find_element(By.ID, "c0-enforced_by-1").click()  # fw-dmz-ot
    submit(driver, "add-row")  # the form comes back with the row kept and a blank one more
    assert driver.find_element(By.ID, "c0-s0-ports").get_attribute("value") == "514"
    assert driver.find_element(By.ID, "c1-id").get_attribute("value") == ""
    driver.find_element(By.ID, "candidate").send_keys(str(candidate))
    submit(driver, "file-change")
    assert driver.find_element(By.ID, "change-state").text.lower() == "submitted", driver.page_source[-3000:]
    return driver.current_url


def waiting_links(driver: WebDriver, base: str) -> list[str]:
    driver.get(base + "/")
    return [a.get_attribute("href") or "" for a in found_now(driver, By.CSS_SELECTOR, "#waiting .waiting-changes a")]


def step(driver: WebDriver, name: str) -> str:
    """The timeline's step called ``name``, as its text."""
    found = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#timeline li")
             if li.find_element(By.CLASS_NAME, "step-name").text == name]
    assert found, name
    return found[0]


def test_a_change_through_its_deciders(server: tuple[str, Path], browser: WebDriver, tmp_path: Path) -> None:
    """File with the field form and an upload, see the proved impact, veto (a reason is required), and approve and
    sign off another, each as the person whose role it is; "waiting for you" follows each decision."""
    base, example = server
    current = (example / "firewalls" / "fw-dmz-ot.iptables").read_text()
    candidate = tmp_path / "candidate.iptables"
    candidate.write_text(current.replace("-A OT_TO_DMZ -j RETURN\n", OPENING_RULE + "-A OT_TO_DMZ -j RETURN\n"))

    log_in(browser, base, "j.lindqvist")
    first = file_change_with_fields(browser, base, "Syslog from the fields", "C-30-syslog-fields", candidate)
    opened = browser.find_element(By.ID, "opened-1")  # the impact, before anyone decides
    assert "10.30.0.22" in opened.find_element(By.CLASS_NAME, "witness").text
    sides = opened.find_element(By.CLASS_NAME, "sides").text
    assert "denies" in sides and ":FORWARD DROP" in sides  # the current config's deciding line
    assert "permits" in sides and "--dport 514" in sides  # and the candidate's
    assert "C-30-syslog-fields" in browser.find_element(By.ID, "gains").text
    diff = browser.find_element(By.ID, "config-diff")
    assert diff.is_displayed() and "+ -A OT_TO_DMZ -s 10.30.0.22/32" in diff.text
    assert not found_now(browser, By.ID, "approve") and not found_now(browser, By.ID, "sign-off")
    page = browser.find_element(By.TAG_NAME, "html")
    opened.find_element(By.PARTIAL_LINK_TEXT, "line 23").click()  # the candidate's line, in its whole text
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))
    assert "--dport 514" in browser.find_element(By.ID, "L23").text

    log_in(browser, base, "r.alvarez")  # the OT approver: the change waits for them
    assert first in waiting_links(browser, base)
    browser.get(first)
    assert not found_now(browser, By.ID, "sign-off")
    browser.find_element(By.ID, "veto-comment").send_keys("   ")  # only blanks: no reason
    submit(browser, "veto")
    assert "a veto needs its reason" in browser.find_element(By.ID, "comment-error").text
    assert browser.find_element(By.ID, "change-state").text.lower() == "submitted"
    browser.find_element(By.ID, "veto-comment").send_keys("Not while the cracker runs")
    submit(browser, "veto")
    assert browser.find_element(By.ID, "change-state").text.lower() == "vetoed"
    assert "Not while the cracker runs" in step(browser, "Vetoed") and "r.alvarez" in step(browser, "Vetoed")
    assert first not in waiting_links(browser, base)

    log_in(browser, base, "j.lindqvist")
    second = file_change_with_fields(browser, base, "Syslog, second try", "C-31-syslog-fields", candidate)
    log_in(browser, base, "r.alvarez")
    assert second in waiting_links(browser, base)
    browser.get(second)
    submit(browser, "approve")
    assert "OT APPROVAL" in step(browser, "OT approval").upper() and "r.alvarez" in step(browser, "OT approval")
    assert second not in waiting_links(browser, base)  # decided: it waits for them no more

    log_in(browser, base, "m.okafor")  # the platform owner signs it off
    assert second in waiting_links(browser, base)
    browser.get(second)
    assert not found_now(browser, By.ID, "approve")
    submit(browser, "sign-off")
    assert browser.find_element(By.ID, "change-state").text.lower() == "approved"
    assert "m.okafor" in step(browser, "Platform sign-off") and "DONE" in step(browser, "Platform sign-off").upper()
    current_step = browser.find_element(By.CSS_SELECTOR, "#timeline li[aria-current=step]")
    assert current_step.find_element(By.CLASS_NAME, "step-name").text == "Implemented"
    assert second not in waiting_links(browser, base)
