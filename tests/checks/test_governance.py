"""Firewall RACI (IT platform owner, joint policy with OT veto) and the joint escalation decision."""

from __future__ import annotations

from pathlib import Path

from plantgate.checks.governance import escalation_joint, firewall_raci
from tests.sites import EXAMPLE, copy_example, edit
from tests.sites import run_check as run


def test_example_raci_and_escalation_pass() -> None:
    assert run(EXAMPLE, firewall_raci) == [] and run(EXAMPLE, escalation_joint) == []


def test_platform_owner_missing_or_not_in_raci(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "firewalls.yaml", "    config: firewalls/fw-dmz-ot.iptables\n    platform_owner: m.okafor\n",
         "    config: firewalls/fw-dmz-ot.iptables\n    platform_owner: j.lindqvist\n")
    [finding] = run(site, firewall_raci)
    assert finding.rule_id == "PG-RACI-001" and finding.subjects == ("fw-dmz-ot",)
    assert "platform_owner role" in finding.message


def test_policy_not_joint_or_no_ot_veto(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "firewalls.yaml", "    veto: [r.alvarez, d.chen]\n", "")
    edit(site / "firewalls.yaml", "    config: firewalls/fw-it-dmz.asa\n    platform_owner: m.okafor\n"
         "    policy_owners: [m.okafor, r.alvarez]", "    config: firewalls/fw-it-dmz.asa\n"
         "    platform_owner: m.okafor\n    policy_owners: [m.okafor]")
    found = {f.subjects[0]: f.message for f in run(site, firewall_raci)}
    assert {"fw-it-dmz", "fw-dmz-ot"} <= set(found)
    assert "not both IT and OT" in found["fw-it-dmz"] and "veto" in found["fw-it-dmz"]
    assert "not both" not in found["fw-dmz-ot"]


def test_escalation_decided_by_one_side_only(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "firewalls.yaml", 'contact: "+1 281 555 0141", decides: true}', 'contact: "+1 281 555 0141"}')
    [finding] = run(site, escalation_joint)
    assert finding.rule_id == "PG-ESCALATION-002" and "nobody from IT" in finding.message
