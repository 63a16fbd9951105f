"""Findings in the terminal: never "No findings" without naming the firewalls that were not modelled fully."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from plantgate.checks import CheckContext, run_checks
from plantgate.load import load_site
from plantgate.outputs.text import print_findings
from tests.outputs.conftest import AS_OF
from tests.sites import MINIMAL, write_files

FRAGMENT = "access-list CORP_IN extended permit tcp 10.0.0.0 255.255.0.0 host 172.16.0.10 eq 443\n"


def _printed(folder: Path) -> str:
    site = load_site(folder)
    context = CheckContext(site, AS_OF)
    findings = [f for f in run_checks(site, AS_OF, context) if f.rule_id.startswith("PG-FW")]
    console = Console(record=True, width=200)
    print_findings(console, findings, "title", site.folder, [fw.coverage for fw in context.firewalls])
    return console.export_text()


def test_no_findings_is_not_an_all_clear_when_a_firewall_was_not_modelled(tmp_path: Path) -> None:
    files = dict(MINIMAL, **{"fw.asa": FRAGMENT, "firewalls.yaml": """
        firewalls:
          - {id: fw1, vendor: asa, config: fw.asa, zones: {CORP_IN: corp}, joins: [dmz, ops]}
        """})
    text = _printed(write_files(tmp_path / "partial", files))
    assert "No findings." not in text
    assert "fw1 (asa): modelled in part; 2 zone pairs placed" in text
    assert "not modelled: dmz -> corp: sessions from dmz to corp are not modelled" in text
    assert "at firewalls.yaml:2:5" in text, "locations relative to the treaty folder"


def test_no_findings_on_a_fully_modelled_firewall(tmp_path: Path) -> None:
    files = dict(MINIMAL, **{"fw.asa": FRAGMENT, "firewalls.yaml": """
        firewalls:
          - {id: fw1, vendor: asa, config: fw.asa, joins: [corp, dmz]}
        """})
    files["conduits.yaml"] = """
        conduits:
          - {id: c1, from_zone: corp, to_zone: dmz, services: [{protocol: tcp, ports: [443]}],
             destinations: [172.16.0.10/32], business_reason: web, ot_approver: ot}
        """
    text = _printed(write_files(tmp_path / "full", files))
    assert "No findings." in text and "fw1 (asa): modelled fully; 2 zone pairs placed" in text
