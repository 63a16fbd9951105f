"""Vulnerability governance on the example plant: the APE1808 decision, exceptions, VEX, outages, CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from plantgate.checks import run_checks
from plantgate.checks.context import CheckContext
from plantgate.cli import main
from plantgate.decisions.assess import assess
from plantgate.decisions.vex import build_vex, render_vex
from plantgate.decisions.workpackage import build_plan
from plantgate.load import load_site
from tests.sites import copy_example, edit

DAY = dt.date(2026, 11, 26)
NARROW_RULE = ("set rulebase security rules gp-portal source any",
               "set rulebase security rules gp-portal source vendor-bastion")
EXCEPTION = """  exceptions:
    - id: EX-2026-07
      asset: dmz-ape1808
      cves: [CVE-2024-3400]
      action: accept_until_outage
      until_outage: OUT-2027-03
      controls:
        - {kind: conduit_tightening, description: GlobalProtect only from the vendor bastion,
           conduits: [C-16-vendor-vpn], change_record: CR-2026-090}
        - {kind: virtual_patch, description: Threat IDs 95187 95189 95191 blocking, firewall: fw-ape1808}
      escalation: [control-room, d.chen, s.patel]
      signed_by: SIGNER
      signed_on: 2026-11-24
      rationale: The vendor-qualified PAN-OS release arrives before the spring outage.
"""


def _with_exception(site: Path, signer: str = "s.patel") -> None:
    edit(site / "vulns.yaml", "  exceptions: []\n", EXCEPTION.replace("SIGNER", signer))


def _decision(site: Path, day: dt.date = DAY) -> tuple[str, str]:
    ctx = CheckContext(load_site(site), day)
    decision = assess(ctx)[1][0]
    return decision.priority.value, decision.inputs.exposure


def _rules(site: Path, day: dt.date = DAY) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for finding in run_checks(load_site(site), day):
        if finding.rule_id.startswith(("PG-VULN", "PG-PATCH")):
            out.setdefault(finding.rule_id, []).append(finding.message)
    return out


def test_example_ape1808_is_immediate_and_unsigned(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    assert _decision(site) == ("immediate", "open")
    rules = _rules(site)
    assert "PG-VULN-001" in rules and "PG-VULN-002" in rules
    assert "CVE-2024-3400" in rules["PG-VULN-001"][0] and "fw-ape1808" in rules["PG-VULN-001"][0]


def test_tightening_the_rule_changes_the_decision(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "firewalls" / "fw-ape1808.set", *NARROW_RULE)
    assert _decision(site) == ("out-of-cycle", "controlled")
    assert "PG-VULN-002" in _rules(site)  # still needs a signed exception


def test_signed_exception_clears_and_then_expires(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "firewalls" / "fw-ape1808.set", *NARROW_RULE)
    _with_exception(site)
    rules = _rules(site)
    assert not {"PG-VULN-001", "PG-VULN-002", "PG-VULN-003", "PG-VULN-004"} & set(rules)
    expired = _rules(site, dt.date(2027, 3, 19))
    assert "PG-VULN-004" in expired and "expired on 2027-03-18" in expired["PG-VULN-004"][0]


def test_immediate_needs_escalation_and_leadership_signature(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    _with_exception(site, signer="m.okafor")
    edit(site / "vulns.yaml", "      escalation: [control-room, d.chen, s.patel]\n", "")
    rules = _rules(site)
    assert "PG-VULN-003" in rules and "plant_leadership" in rules["PG-VULN-003"][0]
    assert "PG-VULN-002" in rules and "escalation path" in rules["PG-VULN-002"][0]


def test_vex_export_claims_perimeter_protection_not_unaffected(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    assert len(build_vex(load_site(site).treaty, DAY).vulnerabilities) == 0  # nothing signed yet
    _with_exception(site)
    document = json.loads(render_vex(build_vex(load_site(site).treaty, DAY)))
    [vuln] = document["vulnerabilities"]
    assert vuln["id"] == "CVE-2024-3400"
    assert vuln["analysis"]["state"] == "exploitable"
    assert vuln["analysis"]["justification"] == "protected_at_perimeter"
    assert vuln["affects"][0]["ref"] == "asset:dmz-ape1808"
    edit(site / "vulns.yaml", "change_record: CR-2026-090}",
         "change_record: CR-2026-090, removes_exploitability: true}")
    edited = json.loads(render_vex(build_vex(load_site(site).treaty, DAY)))
    assert edited["vulnerabilities"][0]["analysis"]["state"] == "not_affected"


def test_outage_plan_and_unqualified_patches(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    plan = build_plan(load_site(site).treaty, "OUT-2027-03", [], DAY)
    assert not plan.ready and any("not staged" in p for p in plan.not_ready)
    edit(site / "patch.yaml", "patch_id: EPKS-R510.2-HF12,", "patch_id: EPKS-R510.2-HF12, staged_in_dmz: true,")
    edit(site / "patch.yaml", "patch_id: MS-2026-10-QUAL,", "patch_id: MS-2026-10-QUAL, staged_in_dmz: true,")
    assert build_plan(load_site(site).treaty, "OUT-2027-03", [], DAY).ready
    edit(site / "patch.yaml", "        notes:", "        firewall_changes: [CR-2027-001]\n        notes:")
    edit(site / "patch.yaml", "patches: [EPKS-R510.2-HF12, MS-2026-10-QUAL]",
         "patches: [EPKS-R510.2-HF12, MS-2026-10-QUAL, KB5099999]")
    rules = _rules(site)
    assert "PG-PATCH-002" in rules and "KB5099999" in rules["PG-PATCH-002"][0]
    assert "CR-2027-001 is not approved" in rules["PG-PATCH-003"][0]


def test_cli_commands(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    runner = CliRunner()
    decided = runner.invoke(main, ["vuln", "decide", str(site), "--format", "json", "--as-of", "2026-11-26"])
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.output)["decisions"][0]["priority"] == "immediate"
    matched = runner.invoke(main, ["vuln", "match", str(site), "--all", "--format", "json"])
    assert json.loads(matched.output)["suggestions"][0]["status"] == "confirmed"
    planned = runner.invoke(main, ["outage", "plan", str(site), "OUT-2027-03"])
    assert planned.exit_code == 0 and "NOT READY" in planned.output
    unknown = runner.invoke(main, ["outage", "plan", str(site), "OUT-1999"])
    assert unknown.exit_code == 2 and "unknown outage" in unknown.output
    _with_exception(site)
    vex = runner.invoke(main, ["vuln", "export-vex", str(site), "-o", str(tmp_path / "vex.json"),
                               "--as-of", "2026-11-26"])
    assert vex.exit_code == 0 and json.loads((tmp_path / "vex.json").read_text())["vulnerabilities"]
