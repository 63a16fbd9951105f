"""The leadership report: HTML sections, the PDF's pages (pdftoppm/pdftotext), headless Chromium, the CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.cli import main
from plantgate.cli_report import write_demo_outputs
from plantgate.outputs.formats import CheckReport
from plantgate.outputs.report.html import css_string, render_view, report_html
from plantgate.outputs.report.pdf import html_to_pdf
from plantgate.outputs.report.sections import build_view
from tests.sites import copy_example, edit

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                   reason="pdftoppm/pdftotext not installed (Debian package poppler-utils)")
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
needs_chromium = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                    reason="headless Chromium not installed (Debian chromium, chromium-driver)")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
SECTIONS = ("1. Convergence charter", "2. Shared-services matrix", "3. Patch policy and exception path",
            "4. Firewall RACI", "5. Conduit register", "6. Escalation path", "7. Next outage readiness",
            "8. Findings")


@pytest.fixture(scope="module")
def html(example_report: CheckReport) -> str:
    return report_html(example_report.context, example_report.findings, with_diagram=shutil.which("dot") is not None)


@pytest.fixture(scope="module")
def pdf_pages(html: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("pdf")
    pdf = folder / "report.pdf"
    pdf.write_bytes(html_to_pdf(html))
    if shutil.which("pdftotext") is None:
        return pdf, []
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return pdf, text.split("\f")[:-1]


def test_html_has_every_section_and_the_facts(html: str) -> None:
    for title in SECTIONS:
        assert title in html
    assert "Not signed for this revision." in html and "r6 (not the revision in force)" in html
    assert "Thomas Becker" in html, "leadership signature lines for the revision in force"
    assert "Does the plant keep running?" in html and "+1 281 555 0199" in html
    assert "Spring minor outage" in html and "Work package ready." in html
    assert "firewalls/fw-dmz-ot.iptables:" in html, "findings cite their evidence"


def test_view_judgements(example_report: CheckReport) -> None:
    view = build_view(example_report.context, example_report.findings, "test")
    verdicts = {row.layer: row.verdict for row in view.charter}
    assert verdicts["endpoint management"] == "undecided" and verdicts["identity"] == "as reference"
    assert not view.charter_signed_current
    assert view.outage.outage is not None and view.outage.outage.id == "OUT-2027-03" and view.outage.ready
    register = {status.conduit.id: status.state.value for status in view.register}
    assert register["C-01-hist-replication"] == "implemented"
    assert register["C-14-ews-sis"] == "implemented"
    assert register["C-15-vendor-dashboard"] == "no firewall evidence"


def test_outage_readiness_names_the_gaps(tmp_path: Path) -> None:
    from tests.outputs.conftest import check_report

    folder = copy_example(tmp_path)
    edit(folder / "patch.yaml", "patches: [EPKS-R510.2-HF12, MS-2026-10-QUAL]",
         "patches: [EPKS-R510.2-HF12, KB-UNQUALIFIED]")
    report = check_report(folder)
    view = build_view(report.context, report.findings, "test")
    assert not view.outage.ready and view.outage.gaps == ["patch KB-UNQUALIFIED is not vendor-qualified"]


def test_css_string_escapes() -> None:
    assert css_string('A "plant"\\x\nnext') == 'A \\"plant\\"\\\\x next'


@needs_poppler
def test_charter_fits_on_one_page_with_the_signature_block(pdf_pages: tuple[Path, list[str]]) -> None:
    _, pages = pdf_pages
    charter = next(i for i, page in enumerate(pages) if "Which layers converge and which do not" in page)
    page = pages[charter]
    assert "1. Convergence charter" in page
    assert "Signature block" in page and "Thomas Becker" in page and "Sunita Patel" in page
    assert "endpoint" in page and "Revision in force: r7" in page
    assert "2. Shared-services matrix" not in page
    assert "2. Shared-services matrix" in pages[charter + 1], "the charter ends on its own page"


@needs_poppler
def test_every_page_carries_site_revision_and_number(pdf_pages: tuple[Path, list[str]]) -> None:
    _, pages = pdf_pages
    assert len(pages) > 3
    for number, page in enumerate(pages, start=1):
        assert "Bayport Olefins" in page and "Treaty revision r7" in page
        assert f"Page {number} of {len(pages)}" in page


@needs_poppler
def test_pdf_pages_render_to_png(pdf_pages: tuple[Path, list[str]], tmp_path: Path) -> None:
    pdf, pages = pdf_pages
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == len(pages)
    assert all(image.read_bytes()[:4] == b"\x89PNG" and image.stat().st_size > 2000 for image in images)


@needs_chromium
@needs_dot
def test_html_in_headless_chromium(html: str, tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.get(page.as_uri())
        assert driver.find_element(By.ID, "signature-block").is_displayed()
        assert driver.find_element(By.CSS_SELECTOR, ".diagram svg").size["width"] > 200
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot)) and shot.read_bytes()[:4] == b"\x89PNG"
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
    finally:
        driver.quit()


def test_report_command_writes_html_and_pdf(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    out_html, out_pdf = tmp_path / "out" / "report.html", tmp_path / "out" / "report.pdf"
    result = CliRunner().invoke(main, ["report", str(folder), "--html", str(out_html), "--pdf", str(out_pdf),
                                       "--as-of", "2026-11-26", "--no-diagram"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [str(out_html), str(out_pdf)], "quiet off a terminal: paths only"
    assert "1. Convergence charter" in out_html.read_text(encoding="utf-8")
    assert out_pdf.read_bytes()[:5] == b"%PDF-"


def test_report_command_needs_an_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(copy_example(tmp_path))])
    assert result.exit_code == 2 and "--html FILE and/or --pdf FILE" in result.stderr


@needs_dot
def test_diagram_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["diagram", str(copy_example(tmp_path)), "-o", str(tmp_path / "z.svg"),
                                       "--as-of", "2026-11-26"])
    assert result.exit_code == 0, result.output
    assert "<svg" in (tmp_path / "z.svg").read_text(encoding="utf-8")
    bad = CliRunner().invoke(main, ["diagram", str(copy_example(tmp_path / "b")), "-o", str(tmp_path / "z.gif")])
    assert bad.exit_code == 2 and ".svg, .png or .dot" in bad.stderr


@needs_dot
def test_write_demo_outputs(example_report: CheckReport, tmp_path: Path) -> None:
    paths = write_demo_outputs(example_report.site, example_report.context, tmp_path)
    assert [p.name for p in paths] == ["plantgate-report.html", "plantgate-report.pdf", "plantgate-zones.svg"]
    assert all(p.is_file() and p.stat().st_size > 1000 for p in paths)


def test_access_map_and_observed_matrix_sections(example_report: CheckReport) -> None:
    from plantgate.outputs.report.sections import build_view

    view = build_view(example_report.context, example_report.findings, "test")
    sup = next(z for z in view.access if z.zone.id == "sup")
    enterprise = next(e for e in sup.entries if e.source == "enterprise")
    assert enterprise.path.path.firewall_ids == ["fw-it-dmz", "fw-dmz-ot"]
    assert [d.conduit_id for d in enterprise.decisions] == ["C-15-vendor-dashboard"]
    bypass = [c for c in view.observed if "bypass" in c.firewall_verdict]
    assert [(c.src, c.dst) for c in bypass] == [("enterprise", "ops")]
    html_text = render_view(view)
    assert "Access map: who reaches the control, field and safety zones" in html_text
    assert "Observed flows: zone-to-zone matrix" in html_text


def test_page_one_says_what_needs_action(example_report: CheckReport) -> None:
    import datetime as dt

    from plantgate.checks.finding import Severity

    view = build_view(example_report.context, example_report.findings, "test")
    ranks = [item.severity.rank for item in view.actions]
    assert ranks == sorted(ranks, reverse=True), "ordered by consequence: most severe first"
    assert not [item for item in view.actions if item.rule_id.startswith("PG-LINT")], "hygiene kept apart"
    assert view.hygiene and all(v.finding.rule_id.startswith("PG-LINT") for v in view.hygiene)
    assert not [v for v in view.findings if v.finding.rule_id.startswith("PG-LINT")]
    sis = next(item for item in view.actions if item.rule_id == "PG-PURDUE-003")
    assert sis.severity is Severity.CRITICAL and sis.by == view.as_of
    assert sis.who == "Maria Okafor (firewall platform owner), with OT approver Rosa Alvarez, David Chen"
    coverage = next(item for item in view.actions if item.rule_id == "coverage")
    assert coverage.subjects == ["fw-it-dmz (in part)"] and coverage.by == view.as_of + dt.timedelta(days=30)
    charter = next(item for item in view.actions if item.rule_id == "PG-CHARTER-003")
    assert charter.who.endswith("(plant leadership)")


@needs_poppler
def test_pdf_page_one_is_the_summary(pdf_pages: tuple[Path, list[str]]) -> None:
    _, pages = pdf_pages
    first = " ".join(pages[0].split())
    assert "What needs action" in first and "Who acts" in first
    assert "Not every firewall could be checked: fw-it-dmz was modelled in part" in first
    table = first[first.index("Who acts"):]
    assert table.split()[3:5] == ["1", "CRITICAL"], "the first row is the most consequential"
    assert "Which layers converge and which do not" not in first, "the charter starts on its own page"


def test_report_never_states_an_all_clear_over_an_unmodelled_firewall(tmp_path: Path) -> None:
    from tests.outputs.conftest import check_report

    folder = copy_example(tmp_path)
    edit(folder / "firewalls.yaml", "zones: {port1: ops, port2: sup, port3: ctl, port4: sis}", "zones: {}")
    report = check_report(folder)
    view = build_view(report.context, report.findings, "test")
    html_text = " ".join(render_view(view).split())
    sis = next(z for z in view.access if z.zone.id == "sis")
    assert sis.entries == [] and "fw-ops-ot" in [c.firewall_id for c in sis.unproved]
    assert "Nothing reaches this zone end to end" not in html_text
    assert "No path to this zone was found through the firewalls that were modelled, but this is not proved" \
        in html_text
    assert "Every flow the firewalls permit between treaty zones is registered" not in html_text
    assert "fw-ops-ot was modelled not at all" in html_text
    assert str(folder) not in html_text and str(folder.resolve()) not in html_text
