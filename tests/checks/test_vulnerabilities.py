"""Vulnerability governance on the example plant: the APE1808 decision, exceptions, VEX, outages, CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from plantgate.checks import run_checks
from plantgate.checks.context import CheckContext
from plantgate.cli import main
from plantgate.decisions.assess import assess, confirmed_pairs, load_feeds
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


def _vex(site: Path, day: dt.date = DAY, spec: str = "1.6") -> dict[str, Any]:
    loaded = load_site(site)
    pairs = confirmed_pairs(loaded.treaty.vulnerabilities, load_feeds(loaded))
    return json.loads(render_vex(build_vex(loaded.treaty, day, pairs), spec))


def test_vex_export_claims_perimeter_protection_not_unaffected(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    assert _vex(site).get("vulnerabilities", []) == []  # nothing signed yet
    _with_exception(site)
    document = _vex(site)
    [vuln] = document["vulnerabilities"]
    assert vuln["id"] == "CVE-2024-3400"
    assert vuln["analysis"]["state"] == "exploitable"
    assert "justification" not in vuln["analysis"]  # CycloneDX: a justification only backs not_affected
    assert vuln["analysis"]["response"] == ["workaround_available"]
    assert vuln["affects"][0]["ref"] == "asset:dmz-ape1808"
    edit(site / "vulns.yaml", "change_record: CR-2026-090}",
         "change_record: CR-2026-090, removes_exploitability: true}")
    edited = _vex(site)
    assert edited["vulnerabilities"][0]["analysis"]["state"] == "not_affected"
    assert edited["vulnerabilities"][0]["analysis"]["justification"] == "protected_at_perimeter"


def test_vex_is_stable_valid_and_speaks_both_spec_versions(tmp_path: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    site = copy_example(tmp_path)
    _with_exception(site)
    runner = CliRunner()
    outputs = []
    for name, spec, day in (("a.json", "1.6", "2026-11-26"), ("b.json", "1.6", "2026-11-26"),
                            ("c.json", "1.5", "2026-11-26"), ("d.json", "1.6", "2026-11-27")):
        result = runner.invoke(main, ["vuln", "export-vex", str(site), "-o", str(tmp_path / name), "--as-of", day,
                                      "--spec-version", spec])
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / name).read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]  # same inputs, same bytes: serial and timestamp derive from them
    first, later = json.loads(outputs[0]), json.loads(outputs[3])
    assert first["metadata"]["timestamp"].startswith("2026-11-26T00:00:00")
    assert first["serialNumber"] != later["serialNumber"]
    assert json.loads(outputs[2])["specVersion"] == "1.5"
    for text, version in ((outputs[0], SchemaVersion.V1_6), (outputs[2], SchemaVersion.V1_5)):
        assert JsonStrictValidator(version).validate_str(text) is None


def test_unsigned_exception_never_silences(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "firewalls" / "fw-ape1808.set", *NARROW_RULE)  # out-of-cycle, controlled
    _with_exception(site)
    edit(site / "vulns.yaml", "      signed_by: s.patel\n      signed_on: 2026-11-24\n", "")
    rules = _rules(site)
    assert "PG-VULN-002" in rules and "exception EX-2026-07 is not signed" in rules["PG-VULN-002"][0]
    assert "PG-VULN-001" in rules
    assert _vex(site).get("vulnerabilities", []) == []


def test_future_dated_signature_is_not_yet_a_signature(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "firewalls" / "fw-ape1808.set", *NARROW_RULE)
    _with_exception(site)
    edit(site / "vulns.yaml", "signed_on: 2026-11-24", "signed_on: 2026-11-30")
    rules = _rules(site)
    assert {"PG-VULN-001", "PG-VULN-002"} <= set(rules)
    assert "dated 2026-11-30, after 2026-11-26" in rules["PG-VULN-002"][0]
    assert _vex(site).get("vulnerabilities", []) == []
    later = dt.date(2026, 12, 1)
    assert not {"PG-VULN-001", "PG-VULN-002"} & set(_rules(site, later))
    assert len(_vex(site, later)["vulnerabilities"]) == 1


def test_wrong_role_counts_as_unsigned_for_every_rule(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "firewalls" / "fw-ape1808.set", *NARROW_RULE)
    _with_exception(site, signer="m.okafor")
    rules = _rules(site)
    for rule_id in ("PG-VULN-001", "PG-VULN-002", "PG-VULN-003"):
        assert rule_id in rules and "m.okafor" in rules[rule_id][0], rule_id
    assert _vex(site).get("vulnerabilities", []) == []


def test_exception_without_a_confirmed_match_is_stale_and_not_exported(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    _with_exception(site)
    edit(site / "vulns.yaml", "cves: [CVE-2024-3400]", "cves: [CVE-2024-3400, CVE-2021-44228]")
    rules = _rules(site)
    assert "PG-VULN-007" in rules and "CVE-2021-44228" in rules["PG-VULN-007"][0]
    assert [v["id"] for v in _vex(site)["vulnerabilities"]] == ["CVE-2024-3400"]
    edit(site / "vulns.yaml", "    - asset: dmz-ape1808\n      advisory: ICSA-24-116-03",
         "    - asset: dmz-ape1808\n      advisory: ICSA-24-116-99")
    rules = _rules(site)
    assert "PG-VULN-008" in rules and "ICSA-24-116-99" in rules["PG-VULN-008"][0]  # a match no feed holds
    assert _vex(site).get("vulnerabilities", []) == []


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


def test_acceptance_expiring_with_nothing_planned_is_not_ready(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    for patch in ("EPKS-R510.2-HF12", "MS-2026-10-QUAL"):
        edit(site / "patch.yaml", f"patch_id: {patch},", f"patch_id: {patch}, staged_in_dmz: true,")
    edit(site / "firewalls" / "fw-ape1808.set", *NARROW_RULE)
    runner = CliRunner()
    ready = runner.invoke(main, ["outage", "plan", str(site), "OUT-2027-03", "--as-of", "2026-11-26"])
    assert ready.exit_code == 0 and "ready" in ready.output, ready.output
    _with_exception(site)  # accepts CVE-2024-3400 until OUT-2027-03; no qualified patch fixes it
    planned = runner.invoke(main, ["outage", "plan", str(site), "OUT-2027-03", "--as-of", "2026-11-26"])
    text = " ".join(planned.output.split())
    assert planned.exit_code == 1 and "NOT READY" in text
    assert "EX-2026-07: CVE-2024-3400 on dmz-ape1808 (valid), nothing planned" in text
    assert "nothing is planned, so the acceptance expires with the vulnerability open" in text
    assert runner.invoke(main, ["outage", "plan", str(site), "OUT-2027-03", "--as-of", "2026-11-26",
                                "--fail-on", "high"]).exit_code == 0  # NOT READY is medium, as PG-PATCH-003
    assert "PG-PATCH-003" in _rules(site)
    over = runner.invoke(main, ["outage", "plan", str(site), "OUT-2027-03", "--as-of", "2027-03-19",
                                "--format", "json"])
    data = json.loads(over.output)
    assert data["state"] == "over" and data["over"] and not data["ready"]
    assert over.exit_code == 1  # the acceptance ended with it and CVE-2024-3400 is still open
    text = " ".join(runner.invoke(main, ["outage", "plan", str(site), "OUT-2027-03", "--as-of", "2027-03-19"])
                    .output.split())
    assert "OVER" in text and "ended on 2027-03-18" in text and "expired and still open" in text


def test_cli_commands(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    runner = CliRunner()
    decided = runner.invoke(main, ["vuln", "decide", str(site), "--format", "json", "--as-of", "2026-11-26"])
    assert decided.exit_code == 1, decided.output  # an unsigned Immediate decision needs action
    [decision] = json.loads(decided.output)["decisions"]
    assert decision["priority"] == "immediate"
    assert {a["rule_id"] for a in decision["action_needed"]} == {"PG-VULN-001", "PG-VULN-002"}
    matched = runner.invoke(main, ["vuln", "match", str(site), "--all", "--format", "json"])
    assert json.loads(matched.output)["suggestions"][0]["status"] == "confirmed"
    planned = runner.invoke(main, ["outage", "plan", str(site), "OUT-2027-03"])
    assert planned.exit_code == 1 and "NOT READY" in planned.output
    unknown = runner.invoke(main, ["outage", "plan", str(site), "OUT-1999"])
    assert unknown.exit_code == 2 and "unknown outage" in unknown.output
    _with_exception(site)
    vex = runner.invoke(main, ["vuln", "export-vex", str(site), "-o", str(tmp_path / "vex.json"),
                               "--as-of", "2026-11-26"])
    assert vex.exit_code == 0 and json.loads((tmp_path / "vex.json").read_text())["vulnerabilities"]
    signed = runner.invoke(main, ["vuln", "decide", str(site), "--as-of", "2026-11-26"])
    assert signed.exit_code == 0, signed.output  # signed, complete: nothing needs action
