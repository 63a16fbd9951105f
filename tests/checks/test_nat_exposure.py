"""Single-firewall checks through NAT: an OT host published under a public-looking address is exposure.

The PAN-OS security policy matches the packet as sent (203.0.113.10:8502) and the zone after NAT;
the device then forwards it to the PLC 10.20.0.5:502. Before NAT was followed, the permitted flow
had a destination in no treaty zone and no finding named it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plantgate.checks import run_checks
from plantgate.load import load_site
from tests.sites import write_files

PANOS = """
    set network interface ethernet ethernet1/1 layer3 ip 203.0.113.1/24
    set network interface ethernet ethernet1/3 layer3 ip 10.20.0.1/24
    set zone untrust network layer3 ethernet1/1
    set zone ot network layer3 ethernet1/3
    set address ot-plc ip-netmask 10.20.0.5
    set service modbus-ext protocol tcp port 8502
    set rulebase nat rules modbus-forward from untrust
    set rulebase nat rules modbus-forward to untrust
    set rulebase nat rules modbus-forward source any
    set rulebase nat rules modbus-forward destination 203.0.113.10
    set rulebase nat rules modbus-forward service modbus-ext
    set rulebase nat rules modbus-forward destination-translation translated-address ot-plc
    set rulebase nat rules modbus-forward destination-translation translated-port 502
    set rulebase security rules vendor-modbus from untrust
    set rulebase security rules vendor-modbus to ot
    set rulebase security rules vendor-modbus source any
    set rulebase security rules vendor-modbus destination 203.0.113.10
    set rulebase security rules vendor-modbus application any
    set rulebase security rules vendor-modbus service modbus-ext
    set rulebase security rules vendor-modbus action allow
    """
SITE = {
    "site.yaml": """
        site: {name: NAT plant, plant: Unit 1, revision: r1}
        people:
          - {id: ot, name: OT Approver, roles: [ot_approver]}
        """,
    "zones.yaml": """
        zones:
          - {id: internet, name: Internet, level: 5, kind: external, networks: [0.0.0.0/0]}
          - {id: control, name: Control, level: 2, kind: control, networks: [10.20.0.0/24]}
        """,
    "conduits.yaml": "conduits: []\n",
    "firewalls.yaml": """
        firewalls:
          - {id: fw-edge, vendor: panos, config: edge.set, zones: {untrust: internet, ot: control}}
        """,
    "edge.set": PANOS,
}


def test_a_port_forward_to_a_plc_is_unregistered_exposure_shown_as_sent(tmp_path: Path) -> None:
    """By hand: any internet host sending tcp to 203.0.113.10:8502 reaches the PLC 10.20.0.5:502, so
    internet -> control permits an unregistered flow (PG-FW-001 or its safety form), e.g. a packet to
    10.20.0.5:502, sent as 203.0.113.10:8502; evidence: the security rule and the NAT rule's lines
    (the NAT rule's first line is 7, the security rule's 14)."""
    folder = write_files(tmp_path / "site", SITE)
    findings = run_checks(load_site(folder), as_of=dt.date(2026, 11, 26))
    exposure = [f for f in findings if "internet" in f.subjects and "control" in f.subjects
                and f.witness is not None and f.details.get("nat_rules")]
    assert exposure, [f.rule_id + " " + f.message for f in findings]
    finding = exposure[0]
    assert finding.witness is not None
    assert (finding.witness["dst"], finding.witness["dport"]) == ("10.20.0.5", 502)
    sent = finding.details["sent"]
    assert (sent["dst"], sent["dport"]) == ("203.0.113.10", 8502)
    assert "sent as" in finding.message and "modbus-forward" in finding.message
    lines = {loc.line for loc in finding.evidence if loc.file.endswith("edge.set")}
    assert 7 in lines and 14 in lines
