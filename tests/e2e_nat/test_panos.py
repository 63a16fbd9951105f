"""PAN-OS NAT end to end (issue 20 §3), configs written from the PAN-OS NAT policy documentation (set format).

PAN-OS matches the security policy on the packet's pre-NAT addresses and its post-NAT destination zone;
NAT rules carry the pre-NAT zones (an inbound destination NAT rule is ``from untrust to untrust``).
The address plan is tests.e2e_nat.scenario's.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e_nat import scenario as s

EDGE = """
    set network interface ethernet ethernet1/1 layer3 ip 203.0.113.1/24
    set network interface ethernet ethernet1/2 layer3 ip 172.16.0.1/24
    set network interface ethernet ethernet1/3 layer3 ip 10.20.0.1/24
    set zone untrust network layer3 ethernet1/1
    set zone dmz network layer3 ethernet1/2
    set zone ot network layer3 ethernet1/3
    set address dmz-web ip-netmask 172.16.0.20
    set address dmz-web-public ip-netmask 203.0.113.20
    set address ot-plc ip-netmask 10.20.0.5
    set address ot-net ip-netmask 10.20.0.0/24
    set service https-tcp protocol tcp port 443
    set service modbus-ext protocol tcp port 8502
    set rulebase nat rules dmz-web-static from dmz
    set rulebase nat rules dmz-web-static to untrust
    set rulebase nat rules dmz-web-static source dmz-web
    set rulebase nat rules dmz-web-static destination any
    set rulebase nat rules dmz-web-static service any
    set rulebase nat rules dmz-web-static source-translation static-ip translated-address dmz-web-public
    set rulebase nat rules dmz-web-static source-translation static-ip bi-directional yes
    set rulebase nat rules modbus-forward from untrust
    set rulebase nat rules modbus-forward to untrust
    set rulebase nat rules modbus-forward source any
    set rulebase nat rules modbus-forward destination 203.0.113.10
    set rulebase nat rules modbus-forward service modbus-ext
    set rulebase nat rules modbus-forward destination-translation translated-address ot-plc
    set rulebase nat rules modbus-forward destination-translation translated-port 502
    set rulebase nat rules ot-hide from ot
    set rulebase nat rules ot-hide to untrust
    set rulebase nat rules ot-hide source ot-net
    set rulebase nat rules ot-hide destination any
    set rulebase nat rules ot-hide service any
    set rulebase nat rules ot-hide source-translation dynamic-ip-and-port interface-address interface ethernet1/1
    set rulebase security rules publish-web from untrust
    set rulebase security rules publish-web to dmz
    set rulebase security rules publish-web source any
    set rulebase security rules publish-web destination dmz-web-public
    set rulebase security rules publish-web application any
    set rulebase security rules publish-web service https-tcp
    set rulebase security rules publish-web action allow
    set rulebase security rules vendor-modbus from untrust
    set rulebase security rules vendor-modbus to ot
    set rulebase security rules vendor-modbus source any
    set rulebase security rules vendor-modbus destination 203.0.113.10
    set rulebase security rules vendor-modbus application any
    set rulebase security rules vendor-modbus service modbus-ext
    set rulebase security rules vendor-modbus action allow
    set rulebase security rules ot-web from ot
    set rulebase security rules ot-web to untrust
    set rulebase security rules ot-web source ot-net
    set rulebase security rules ot-web destination any
    set rulebase security rules ot-web application any
    set rulebase security rules ot-web service https-tcp
    set rulebase security rules ot-web action allow
    """
EDGE_ZONES = "{untrust: internet, dmz: dmz, ot: control}"
# NAT rules begin on lines 13 (dmz-web-static), 20 (modbus-forward) and 27 (ot-hide).
STATIC_LINE, FORWARD_LINE, HIDE_LINE = 13, 20, 27

OUTER = """
    set network interface ethernet ethernet1/1 layer3 ip 10.0.0.1/16
    set network interface ethernet ethernet1/2 layer3 ip 172.16.0.1/24
    set zone corp network layer3 ethernet1/1
    set zone dmz network layer3 ethernet1/2
    set address corp-net ip-netmask 10.0.0.0/16
    set service modbus protocol tcp port 502
    set rulebase nat rules corp-hide from corp
    set rulebase nat rules corp-hide to dmz
    set rulebase nat rules corp-hide source corp-net
    set rulebase nat rules corp-hide destination any
    set rulebase nat rules corp-hide service any
    set rulebase nat rules corp-hide source-translation dynamic-ip-and-port interface-address interface ethernet1/2
    set rulebase security rules corp-modbus from corp
    set rulebase security rules corp-modbus to dmz
    set rulebase security rules corp-modbus source corp-net
    set rulebase security rules corp-modbus destination any
    set rulebase security rules corp-modbus application any
    set rulebase security rules corp-modbus service modbus
    set rulebase security rules corp-modbus action allow
    set network virtual-router default interface [ ethernet1/1 ethernet1/2 ]
    set network virtual-router default routing-table ip static-route to-control destination 10.20.0.0/24
    set network virtual-router default routing-table ip static-route to-control interface ethernet1/2
    set network virtual-router default routing-table ip static-route to-control nexthop ip-address 172.16.0.2
    """
OUTER_ZONES = "{corp: corp, dmz: dmz}"
OUTER_NAT_LINE = 7


def edge(tmp_path: Path, *registered: str) -> Path:
    return s.edge_site(tmp_path / "site", "panos", "edge.set", EDGE, EDGE_ZONES, registered)


def test_dmz_server_published_by_static_nat_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.20:443 from untrust: the bi-directional static NAT (line 13)
    maps 203.0.113.20 back to 172.16.0.20, whose zone is dmz; publish-web (untrust -> dmz, pre-NAT
    destination dmz-web-public, tcp/443) allows it. PERMIT, delivered to 172.16.0.20:443."""
    answer = s.fw_test(edge(tmp_path) / "edge.set", "panos", s.INTERNET_HOST, s.DMZ_PUBLIC, 443, "untrust", "dmz")
    s.assert_publish_by_fw_test(answer, (s.DMZ_PUBLIC, 443), (s.DMZ_SERVER, 443), STATIC_LINE)
    assert answer["rule"]["id"].endswith("publish-web")


def test_dmz_server_published_by_static_nat_check(tmp_path: Path) -> None:
    """By hand: with no conduit, internet -> dmz permits tcp/443 to 172.16.0.20 (sent to 203.0.113.20):
    one PG-FW-001 citing the NAT rule's line 13; with the dmz-web conduit (tcp/443 to 172.16.0.20)
    registered, internet -> dmz has nothing unregistered."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "dmz", (s.DMZ_SERVER, 443),
                      (s.DMZ_PUBLIC, 443), "edge.set", STATIC_LINE)
    assert s.between(s.findings(edge(tmp_path / "b", "dmz-web")), "PG-FW-001", "internet", "dmz") == []


def test_port_forward_to_an_ot_host_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.10:8502 from untrust: modbus-forward (line 20) rewrites it to
    10.20.0.5:502 (zone ot); vendor-modbus allows untrust -> ot to 203.0.113.10 on 8502. PERMIT."""
    answer = s.fw_test(edge(tmp_path) / "edge.set", "panos", s.INTERNET_HOST, s.PLC_PUBLIC, 8502, "untrust", "ot")
    s.assert_publish_by_fw_test(answer, (s.PLC_PUBLIC, 8502), (s.PLC, 502), FORWARD_LINE)
    assert answer["rule"]["id"].endswith("vendor-modbus")


def test_port_forward_to_an_ot_host_check(tmp_path: Path) -> None:
    """By hand: unregistered, internet -> control permits tcp/502 to the PLC 10.20.0.5, sent to
    203.0.113.10:8502: one PG-FW-001 about 10.20.0.5 citing line 20; with vendor-modbus (tcp/502 to
    10.20.0.5) registered, no PG-FW-001 on internet -> control (the Purdue finding stays)."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "control", (s.PLC, 502),
                      (s.PLC_PUBLIC, 8502), "edge.set", FORWARD_LINE)
    registered = s.findings(edge(tmp_path / "b", "vendor-modbus"))
    assert s.between(registered, "PG-FW-001", "internet", "control") == []
    assert s.between(registered, "PG-PURDUE-002", "internet", "control")


def test_hide_nat_of_the_ot_range_fw_test(tmp_path: Path) -> None:
    """By hand: 10.20.0.7 -> 198.51.100.7:443 from ot to untrust: ot-web allows it; ot-hide (line 27)
    rewrites the source to ethernet1/1's address 203.0.113.1. PERMIT, source 203.0.113.1."""
    answer = s.fw_test(edge(tmp_path) / "edge.set", "panos", "10.20.0.7", s.INTERNET_HOST, 443, "ot", "untrust")
    s.assert_hide_by_fw_test(answer, "10.20.0.7", s.OUTSIDE, HIDE_LINE)


def test_hide_nat_of_the_ot_range_check(tmp_path: Path) -> None:
    """By hand: control (level 2) -> internet (level 5) on tcp/443 is OT to IT: PG-PURDUE-002 and, with no
    conduit, PG-FW-001, both naming a real 10.20.0.x source (as sent), not 203.0.113.1."""
    found = s.findings(edge(tmp_path))
    s.assert_hidden_flow_reported(found, "PG-PURDUE-002")
    s.assert_hidden_flow_reported(found, "PG-FW-001")


def test_hide_nat_of_the_ot_range_check_shows_the_translation(tmp_path: Path) -> None:
    """By hand: both findings show the packet as sent (source 10.20.0.x) and the hiding rule's line 27."""
    found = s.findings(edge(tmp_path))
    for rule_id in ("PG-PURDUE-002", "PG-FW-001"):
        s.assert_hiding_shown(s.assert_hidden_flow_reported(found, rule_id), "edge.set", HIDE_LINE)


def test_two_hops_exist_only_through_a_route_and_hide_nat(tmp_path: Path) -> None:
    """By hand: fw-outer (PAN-OS) allows corp -> dmz tcp/502 to anywhere and hides corp behind
    ethernet1/2's 172.16.0.1 (corp-hide, line 7); fw-inner admits only DMZ sources to 10.20.0.5:502.
    reach corp -> control: one path, fw-outer then fw-inner; the witness leaves fw-outer from 172.16.0.1
    and fw-inner passes it unchanged. Without the NAT rule, no path.
    Both interfaces sit in virtual router default, whose static route sends 10.20.0.0/24 out of
    ethernet1/2 via 172.16.0.2; without that route no path remains.
    PG-ESTATE-001 reports the bypass."""
    folder = s.series_site(tmp_path / "site", "panos", "outer.set", OUTER, OUTER_ZONES)
    found = s.reach_result(folder)
    s.assert_two_hop_path(found.paths, OUTER_NAT_LINE)
    no_route = "\n".join(line for line in OUTER.splitlines() if "static-route" not in line)
    assert no_route != OUTER
    s.assert_route_needed(tmp_path, "panos", "outer.set", no_route, OUTER_ZONES, found)
    s.assert_estate_bypass(s.findings(folder), "outer.set", OUTER_NAT_LINE)
    no_nat = "\n".join(line for line in OUTER.splitlines() if "rulebase nat" not in line)
    assert s.reach(s.series_site(tmp_path / "control", "panos", "outer.set", no_nat, OUTER_ZONES)) == []
