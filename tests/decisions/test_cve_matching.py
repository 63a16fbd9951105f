"""KEV holes without CSAF: assets matched on CVE records' affected data (real Vulnrichment records)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.checks import run_checks
from plantgate.cli import main
from plantgate.decisions.cve_matching import CveRecordIndex
from plantgate.decisions.cve_ranges import judge_affected
from plantgate.feeds.cve_affected import AffectedProduct, AffectedVersion
from plantgate.feeds.vulnrichment import load_vulnrichment
from plantgate.load import load_site
from plantgate.model.assets import Asset
from tests.conftest import SHARED, shared_path
from tests.sites import AS_OF, MINIMAL, write_files


@pytest.fixture(scope="module")
def records() -> CveRecordIndex:
    return CveRecordIndex(load_vulnrichment(shared_path("ot-data", "vulnrichment")))


def _asset(vendor: str = "", product: str = "", version: str = "", **extra: object) -> Asset:
    return Asset.model_validate({"id": "fw1", "name": "fw", "zone": "dmz", "role": "firewall", "vendor": vendor,
                                 "product": product, "version": version, **extra})


def test_pan_os_10_2_8_is_matched_to_cve_2024_3400(records: CveRecordIndex) -> None:
    [hit] = records.judge(_asset("Palo Alto Networks", "PAN-OS", "10.2.8"))
    assert (hit.advisory, hit.source, hit.version_affected) == ("CVE-2024-3400", "cve-record", True)
    assert "10.2.9-h1" in hit.reasons[1]
    [fixed] = records.judge(_asset("Palo Alto Networks", "PAN-OS", "10.2.9-h1"))
    assert fixed.version_affected is False
    assert records.judge(_asset("Palo Alto Networks", "PAN-OS", "9.1.4"))[0].version_affected is False  # default


def test_match_by_cpe_and_by_software(records: CveRecordIndex) -> None:
    """The ADP container's CPEs (pan-os) and an asset's software entries are seen by matching."""
    by_cpe = records.judge(_asset(cpe="cpe:2.3:o:paloaltonetworks:pan-os:10.2.8:*:*:*:*:*:*:*"))
    assert [(s.advisory, s.version_affected) for s in by_cpe] == [("CVE-2024-3400", True)]
    appliance = _asset("Fortinet", "FortiGate 100F", "", software=[
        {"vendor": "Fortinet", "product": "FortiOS", "version": "7.0.13", "seen_as": "nmap OS match"}])
    hits = {s.advisory: s for s in records.judge(appliance)}
    assert hits["CVE-2024-21762"].version_affected is True
    assert "via software FortiOS" in hits["CVE-2024-21762"].reasons[0]
    assert hits["CVE-2024-23113"].version_affected is True  # <= 7.0.13


def test_firewalls_as_inventories_write_them(records: CveRecordIndex) -> None:
    """KEV names the operating system; inventories often name the box, or put the OS in the version."""
    [box] = records.judge(_asset("Palo Alto Networks", "PA-3220", "10.2.8"))
    assert (box.advisory, box.version_affected) == ("CVE-2024-3400", True) and "PA-3220 runs PAN-OS" in box.reasons[0]
    [text] = records.judge(_asset("Palo Alto Networks", "PA-3220", "PAN-OS 10.2.8"))
    assert text.version_affected is True and "the version text 'PAN-OS 10.2.8'" in text.reasons[0]
    assert records.judge(_asset("Palo Alto Networks", "PA-3220", "PAN-OS 11.1.2-h3"))[0].version_affected is False
    forti = {s.advisory for s in records.judge(_asset("Fortinet", "FortiGate 100F", "7.2.5")) if s.version_affected}
    assert forti == {"CVE-2023-47537", "CVE-2024-21762", "CVE-2024-23113"}


def test_lessthanorequal_changes_and_platforms(records: CveRecordIndex) -> None:
    """CVE-2023-5407: Honeywell C300 per platform, lessThanOrEqual bounds and status changes."""
    assert {s.advisory: s.version_affected for s in records.judge(_asset("Honeywell", "C300", "510.2 HF13"))}[
        "CVE-2023-5407"] is True
    assert {s.advisory: s.version_affected for s in records.judge(_asset("Honeywell", "C300", "510.2 HF14"))}[
        "CVE-2023-5407"] is False


def test_cve_version_semantics() -> None:
    product = AffectedProduct("cna", "V", "P", "unknown", (
        AffectedVersion("affected", "1.0", less_than="2.0", changes=(("1.5", "unaffected"),)),
        AffectedVersion("affected", "8.4.0", less_than="8.4.0"),  # curl's start-equals-end: an upper bound
        AffectedVersion("unaffected", "7.0", less_than="7.5"),
        AffectedVersion("affected", "3.0"),
        AffectedVersion("affected", "5.0", less_than_or_equal="4.0"),  # inverted: ignored, said so
    ))
    assert judge_affected(product, "1.2").affected is True
    assert judge_affected(product, "1.6").affected is False  # 'changes': unaffected from 1.5 (the narrower range)
    assert judge_affected(product, "2.5").affected is True  # only the upper bound 8.4.0 covers it
    assert judge_affected(product, "7.1").affected is False  # the narrower range speaks
    assert judge_affected(product, "3.0").affected is True
    assert judge_affected(product, "9.0").affected is None  # outside, default unknown
    assert "inverted" in judge_affected(product, "9.0").reason
    assert judge_affected(product, "").affected is None


def _site(tmp_path: Path, matches: str = "[]") -> Path:
    kev = shared_path("ot-data", "kev", "known_exploited_vulnerabilities.json")
    vulnrichment = shared_path("ot-data", "vulnrichment")
    csaf = shared_path("ot-data", "csaf")
    return write_files(tmp_path / "site", {**MINIMAL, "assets.yaml": """
        assets:
          - {id: dmz-fw1, name: DMZ firewall, zone: dmz, role: firewall, addresses: [172.16.0.1],
             vendor: Palo Alto Networks, product: PAN-OS, version: 10.2.8}
          - {id: ops-hist, name: Historian, zone: ops, role: historian, addresses: [10.30.0.10],
             vendor: Acme, product: Historian, version: "1.0"}
        """, "vulns.yaml": f"""
        vulnerabilities:
          feeds: {{kev: ["{kev}"], csaf: ["{csaf}"], vulnrichment: ["{vulnrichment}"]}}
          matches: {matches}
        """})


def test_vuln_match_shows_kev_and_check_reports_the_unreviewed_hole(tmp_path: Path) -> None:
    site = _site(tmp_path)
    result = CliRunner().invoke(main, ["vuln", "match", str(site), "--format", "json", "--allow-outside", str(SHARED)])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)["suggestions"]
    assert (row["asset"], row["advisory"], row["in_kev"], row["kev"]) == ("dmz-fw1", "CVE-2024-3400", True,
                                                                         ["CVE-2024-3400"])
    text = CliRunner().invoke(main, ["vuln", "match", str(site), "--allow-outside", str(SHARED)])
    assert "CVE-2024-3400 [KEV]" in text.output
    findings = [f for f in run_checks(load_site(site, allow_outside=[SHARED]), AS_OF) if f.rule_id == "PG-VULN-006"]
    assert [f.subjects for f in findings] == [("dmz-fw1", "CVE-2024-3400")]
    assert findings[0].severity.value == "high" and "in KEV since 2024-04-12" in findings[0].message


def test_confirmed_cve_record_match_is_decided(tmp_path: Path) -> None:
    site = _site(tmp_path, "[{asset: dmz-fw1, advisory: CVE-2024-3400, product_id: 'cna:0', decided_by: ot, "
                           "decided_on: 2026-11-20}]")
    findings = run_checks(load_site(site, allow_outside=[SHARED]), AS_OF)
    assert not [f for f in findings if f.rule_id == "PG-VULN-006"]
    kev = [f for f in findings if f.rule_id == "PG-VULN-001"]
    assert kev and kev[0].subjects == ("dmz-fw1", "CVE-2024-3400")
    decided = CliRunner().invoke(main, ["vuln", "decide", str(site), "--format", "json", "--as-of", str(AS_OF),
                                         "--allow-outside", str(SHARED)])
    [decision] = json.loads(decided.output)["decisions"]
    assert decision["in_kev"] and decision["cvss_v3"] == 10.0 and decision["exploitation"] == "active"
    assert decided.exit_code == 1  # a KEV hole on a DMZ asset without a signed decision needs action
