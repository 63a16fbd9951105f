"""The README's screenshots, taken in headless Chromium of the demo site as ``plantgate serve --demo`` seeds it.

Run with PLANTGATE_SCREENSHOTS=1 to write them into docs/screenshots/ (then commit the PNGs); without it the
test skips, so an ordinary run never changes the tree. Each picture is of a real page after a real action:
an OT approver reading a change's proved impact, a finding accepted by plant leadership, the zone matrix.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from plantgate.cli_web import seed_demo
from plantgate.db import accounts
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.sites import EXAMPLE
from tests.web.conftest import AS_OF, SITE
from tests.web.live_server import live_server
from tests.web.test_browser import CHROMEDRIVER, CHROMIUM, chromium, file_change, submit, wait_for
from tests.web.test_changes import OPENING_RULE

pytestmark = pytest.mark.skipif(os.environ.get("PLANTGATE_SCREENSHOTS") != "1" or not (CHROMIUM and CHROMEDRIVER),
                                reason="set PLANTGATE_SCREENSHOTS=1 (with Debian chromium and chromium-driver) to "
                                       "write the README's screenshots")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTH, MAX_HEIGHT = 1280, 1000


@pytest.fixture
def demo_site(tmp_path: Path) -> Iterator[tuple[FastAPI, str]]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", as_of=AS_OF, check_wait_seconds=120))
    with live_server(app) as base:
        # Chromium keeps the __Host- session cookie only when it is Secure (it is, to 127.0.0.1): as in production
        app.state.settings = app.state.settings.model_copy(update={"secure_cookies": True})
        with app.state.sessions.begin() as session:
            seed_demo(session, base)
        yield app, base
    app.state.jobs.close()
    app.state.engine.dispose()


def enter_as(driver: WebDriver, app: FastAPI, base: str, username: str) -> None:
    """Log in as a demo person through a fresh one-time link, as the demo's printed links do."""
    with app.state.sessions.begin() as session:
        user = accounts.user_by_name(session, username)
        assert user is not None, username
        token = accounts.create_login_link(session, user, actor="screenshots")
    driver.delete_all_cookies()
    driver.get(f"{base}/login/once/{token}")
    found = driver.find_elements(By.ID, "whoami")
    assert found and found[0].text == username, driver.page_source[-1500:]


def shoot(driver: WebDriver, name: str) -> None:
    """The page down to its content's end (at most MAX_HEIGHT), as docs/screenshots/NAME.png."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WIDTH, min(int(height), MAX_HEIGHT))
    driver.execute_script("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(WIDTH, MAX_HEIGHT)


def test_readme_screenshots_of_the_demo_site(demo_site: tuple[FastAPI, str], tmp_path: Path) -> None:
    app, base = demo_site
    candidate = tmp_path / "candidate.iptables"  # the journey's change: UDP syslog from a controller to the DMZ
    candidate.write_text((EXAMPLE / "firewalls" / "fw-dmz-ot.iptables").read_text().replace(
        "-A OT_TO_DMZ -j RETURN\n", OPENING_RULE + "-A OT_TO_DMZ -j RETURN\n"))
    driver = chromium(tmp_path / "chromium", f"--window-size={WIDTH},{MAX_HEIGHT}", "--lang=en-US")
    try:
        enter_as(driver, app, base, "j.lindqvist")
        change = file_change(driver, base, "Legacy controllers log over UDP syslog", candidate)
        enter_as(driver, app, base, "r.alvarez")  # the OT approver reads the proved impact before deciding
        driver.get(change)
        assert driver.find_element(By.ID, "change-state").text.lower() == "submitted"
        shoot(driver, "change-impact")

        enter_as(driver, app, base, "s.patel")  # plant leadership accepts a finding until the spring outage
        driver.get(f"{base}/sites/{SITE}/findings?severity=high")
        wait_for(driver, "findings")
        driver.find_element(By.CSS_SELECTOR, "#findings td strong a").click()
        driver.find_element(By.ID, "accept-reason").send_keys(
            "Compensated by the jump-host policy until the historian is replaced at the spring outage.")
        until = AS_OF + dt.timedelta(days=110)
        driver.find_element(By.ID, "accept-until").send_keys(until.strftime("%m%d%Y"))
        submit(driver, "accept-finding")
        assert driver.find_element(By.ID, "acceptance-state").text == "Accepted"
        driver.get(f"{base}/sites/{SITE}/findings?severity=high")
        wait_for(driver, "findings")
        shoot(driver, "findings")

        enter_as(driver, app, base, "auditor")
        driver.get(f"{base}/sites/{SITE}/matrix")
        wait_for(driver, "matrix")
        shoot(driver, "zone-matrix")
    finally:
        driver.quit()
    assert {p.name for p in SCREENSHOTS.glob("*.png")} >= {"change-impact.png", "findings.png", "zone-matrix.png"}
