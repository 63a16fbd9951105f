"""The treaty sites and the three angles (``fw test``, ``check``, ``reach``) every vendor's NAT scenarios share.

One address plan for all vendors, so each test module holds only its vendor's config:

- internet 198.51.100.0/24 and 203.0.113.0/24 (level 5); the firewall's outside address is 203.0.113.1;
- corp 10.0.0.0/16 (enterprise, level 4); dmz 172.16.0.0/24 (level 3.5); control 10.20.0.0/24 (level 2);
- the DMZ web server 172.16.0.20 is published as 203.0.113.20 (static NAT, tcp/443 permitted);
- the PLC 10.20.0.5:502 is published as 203.0.113.10:8502 (port forward);
- control 10.20.0.0/24 may open tcp/443 to the internet, hidden behind 203.0.113.1.

Two hops: corp | outer (the vendor) | dmz | inner (iptables) | control. The inner firewall admits only DMZ
sources to 10.20.0.5:502; the outer one lets corp out on tcp/502 and hides corp behind its DMZ address
172.16.0.1, so corp reaches the PLC only through that translation. The outer firewall reaches control
only by its static route to 10.20.0.0/24 via the inner firewall's 172.16.0.2: without it, it holds no
route to the PLC and drops the packet, so the path exists only through a route and a NAT.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from plantgate.checks import Finding, run_checks
from plantgate.cli import main
from plantgate.load import load_site
from plantgate.netspace import PacketSpace
from plantgate.reconcile.reach import Estate, PathReach, Reach
from tests.sites import write_files

AS_OF = dt.date(2026, 11, 26)
INTERNET_HOST = "198.51.100.7"
DMZ_PUBLIC, DMZ_SERVER = "203.0.113.20", "172.16.0.20"
PLC_PUBLIC, PLC = "203.0.113.10", "10.20.0.5"
OUTSIDE = "203.0.113.1"
DMZ_SIDE = "172.16.0.1"

SITE_YAML = """
    site: {name: NAT plant, plant: Unit 1, revision: r1}
    people:
      - {id: ot, name: OT Approver, roles: [ot_approver]}
      - {id: boss, name: Plant Manager, roles: [plant_leadership]}
    """
ZONES_YAML = """
    zones:
      - {id: internet, name: Internet, level: 5, kind: external, networks: [198.51.100.0/24, 203.0.113.0/24]}
      - {id: corp, name: Corporate, level: 4, kind: enterprise, networks: [10.0.0.0/16]}
      - {id: dmz, name: DMZ, level: 3.5, kind: dmz, networks: [172.16.0.0/24]}
      - {id: control, name: Control, level: 2, kind: control, networks: [10.20.0.0/24]}
    """
CONDUITS = {
    "dmz-web": """
      - id: dmz-web
        from_zone: internet
        to_zone: dmz
        services: [{protocol: tcp, ports: [443]}]
        destinations: [172.16.0.20/32]
        business_reason: public web server
        ot_approver: ot
    """,
    "vendor-modbus": """
      - id: vendor-modbus
        from_zone: internet
        to_zone: control
        services: [{protocol: tcp, ports: [502]}]
        destinations: [10.20.0.5/32]
        business_reason: vendor telemetry
        ot_approver: ot
    """,
}
INNER_IPTABLES = """
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -i eth0 -o eth1 -s 172.16.0.0/24 -d 10.20.0.5/32 -p tcp --dport 502 -j ACCEPT
    COMMIT
    """


def _conduits(registered: tuple[str, ...]) -> str:
    if not registered:
        return "conduits: []\n"
    return "conduits:\n" + "".join(CONDUITS[name].strip("\n") + "\n" for name in registered)


def edge_site(folder: Path, vendor: str, config_name: str, config: str, zone_map: str,
              registered: tuple[str, ...] = ()) -> Path:
    """One boundary firewall joining internet, dmz and control; ``registered`` names the conduits in the treaty."""
    firewalls = f"firewalls:\n  - {{id: fw-edge, vendor: {vendor}, config: {config_name}, zones: {zone_map}}}\n"
    return write_files(folder, {"site.yaml": SITE_YAML, "zones.yaml": ZONES_YAML,
                                "conduits.yaml": _conduits(registered), "firewalls.yaml": firewalls,
                                config_name: config})


def series_site(folder: Path, vendor: str, config_name: str, config: str, zone_map: str) -> Path:
    """The vendor's firewall outside (corp | dmz), the iptables one inside (dmz | control)."""
    firewalls = (f"firewalls:\n  - {{id: fw-outer, vendor: {vendor}, config: {config_name}, zones: {zone_map}}}\n"
                 "  - {id: fw-inner, vendor: iptables, config: inner.iptables, zones: {eth0: dmz, eth1: control}}\n")
    return write_files(folder, {"site.yaml": SITE_YAML, "zones.yaml": ZONES_YAML, "conduits.yaml": "conduits: []\n",
                                "firewalls.yaml": firewalls, config_name: config, "inner.iptables": INNER_IPTABLES})


def fw_test(config: Path, vendor: str, src: str, dst: str, dport: int, from_zone: str, to_zone: str) -> dict[str, Any]:
    """``plantgate fw test ... --format json`` on one tcp packet."""
    result = CliRunner().invoke(main, ["fw", "test", str(config), "--vendor", vendor, "--src", src, "--dst", dst,
                                       "--proto", "tcp", "--sport", "40000", "--dport", str(dport),
                                       "--from-zone", from_zone, "--to-zone", to_zone, "--format", "json"])
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def translation(answer: dict[str, Any]) -> dict[str, Any]:
    """The one NAT stage of a ``fw test`` answer that rewrote the packet (FortiGate also names its
    policy's no-NAT identity rule for the stage that changed nothing)."""
    [stage] = [stage for stage in answer["nat"] if stage["rule"] is not None and stage["before"] != stage["after"]]
    return stage


def findings(folder: Path) -> list[Finding]:
    return run_checks(load_site(folder), as_of=AS_OF)


def between(found: list[Finding], rule_id: str, a: str, b: str) -> list[Finding]:
    """The findings of ``rule_id`` on the zone pair a -> b."""
    return [f for f in found if f.rule_id == rule_id and f.discriminator == f"{a}>{b}"]


def lines_in(finding: Finding, config_name: str) -> set[int]:
    return {loc.line for loc in finding.evidence if loc.file.endswith(config_name) and loc.line is not None}


def reach_result(folder: Path) -> Reach:
    return Estate(load_site(folder), PacketSpace()).reach("corp", "control")


def reach(folder: Path) -> list[PathReach]:
    return reach_result(folder).paths


def assert_publish_by_fw_test(answer: dict[str, Any], public: tuple[str, int], real: tuple[str, int],
                              nat_line: int) -> None:
    """The packet sent to ``public`` is permitted and delivered to ``real`` by the NAT rule on ``nat_line``."""
    assert answer["verdict"] == "permit", answer
    stage = translation(answer)
    assert (stage["before"]["dst"], stage["before"]["dport"]) == public
    assert (stage["after"]["dst"], stage["after"]["dport"]) == real
    assert stage["before"]["src"] == stage["after"]["src"] == INTERNET_HOST
    assert stage["rule"]["line"] == nat_line, stage["rule"]


def assert_hide_by_fw_test(answer: dict[str, Any], real_src: str, hidden_src: str, nat_line: int) -> None:
    """The OT packet is permitted and leaves with its source rewritten to ``hidden_src``."""
    assert answer["verdict"] == "permit", answer
    stage = translation(answer)
    assert stage["before"]["src"] == real_src and stage["after"]["src"] == hidden_src
    assert stage["before"]["dst"] == stage["after"]["dst"] == INTERNET_HOST
    assert stage["rule"]["line"] == nat_line, stage["rule"]


def assert_exposure(found: list[Finding], a: str, b: str, real: tuple[str, int], sent: tuple[str, int],
                    config_name: str, nat_line: int) -> Finding:
    """One PG-FW-001 on a -> b whose witness is delivered to ``real``, sent to ``sent``, citing ``nat_line``."""
    [finding] = between(found, "PG-FW-001", a, b)
    assert finding.witness is not None
    assert (finding.witness["dst"], finding.witness["dport"]) == real, finding.message
    assert (finding.details["sent"]["dst"], finding.details["sent"]["dport"]) == sent, finding.details
    assert nat_line in {rule["line"] for rule in finding.details["nat_rules"]}
    assert nat_line in lines_in(finding, config_name)
    return finding


def assert_hidden_flow_reported(found: list[Finding], rule_id: str) -> Finding:
    """``rule_id`` on control -> internet names a real OT source: who initiated, not the hiding address."""
    [finding] = between(found, rule_id, "control", "internet")
    assert finding.witness is not None
    assert finding.witness["src"].startswith("10.20.0."), finding.message
    assert finding.witness["dst"].startswith("198.51.100.") and finding.witness["dport"] == 443
    return finding


def assert_hiding_shown(finding: Finding, config_name: str, nat_line: int) -> None:
    """The finding shows the hide-NAT (issue 20 §1: every finding shows the packet before and after each
    translation, with the NAT rule's line): the packet as sent and the rule in details and evidence."""
    assert finding.witness is not None
    assert finding.details.get("sent", {}).get("src") == finding.witness["src"], finding.details
    assert nat_line in {rule["line"] for rule in finding.details["nat_rules"]}
    assert nat_line in lines_in(finding, config_name)


def assert_two_hop_path(paths: list[PathReach], outer_nat_line: int) -> None:
    """corp reaches the PLC on tcp/502 only via fw-outer's hide-NAT to 172.16.0.1, shown at every hop."""
    [path] = paths
    assert path.path.firewall_ids == ["fw-outer", "fw-inner"]
    witness = path.witness
    assert witness is not None and (str(witness.dst), witness.dport) == (PLC, 502)
    assert witness.src.packed[:2] == bytes([10, 0])  # a corp host, as it sent the packet
    outer, inner = path.packets
    assert outer.arrived.src == witness.src and str(outer.left.src) == DMZ_SIDE
    assert [rule.span.line for rule in outer.rules] == [outer_nat_line]
    assert inner.rules == () and inner.arrived == outer.left and str(inner.left.dst) == PLC


def assert_route_needed(tmp_path: Path, vendor: str, config_name: str, without_route: str, zone_map: str,
                        with_route: Reach) -> None:
    """The outer firewall's routes were followed; without its static route to control, no path remains."""
    assert any(note.startswith("fw-outer: routes followed") for note in with_route.routes), with_route.routes
    assert any(note.startswith("fw-inner: the config states no interface addresses") for note in with_route.routes)
    folder = series_site(tmp_path / "no-route", vendor, config_name, without_route, zone_map)
    assert reach_result(folder).paths == []


def assert_estate_bypass(found: list[Finding], config_name: str, outer_nat_line: int) -> None:
    """PG-ESTATE-001 reports corp -> control through the translation, citing the outer NAT line."""
    [finding] = [f for f in found if f.rule_id == "PG-ESTATE-001"]
    assert "through address translation" in finding.message
    assert outer_nat_line in lines_in(finding, config_name)
