"""FortiGate NAT end to end (issue 20 §3), configs written from the FortiOS CLI reference
(``config firewall vip``, ``config firewall policy`` with ``set nat enable``).

A policy to a VIP permits the mapped server: the VIP rewrites the destination before the policy,
whose service is the mapped port. ``set nat enable`` without an IP pool hides the source behind the
egress interface's address. The address plan is tests.e2e_nat.scenario's.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e_nat import scenario as s

EDGE = """
    config system interface
        edit "wan1"
            set vdom "root"
            set ip 203.0.113.1 255.255.255.0
        next
        edit "dmz"
            set vdom "root"
            set ip 172.16.0.1 255.255.255.0
        next
        edit "ot"
            set vdom "root"
            set ip 10.20.0.1 255.255.255.0
        next
    end
    config firewall address
        edit "OT-NET"
            set subnet 10.20.0.0 255.255.255.0
        next
    end
    config firewall vip
        edit "dmz-web"
            set extip 203.0.113.20
            set mappedip "172.16.0.20"
            set extintf "wan1"
        next
        edit "plc-modbus"
            set extip 203.0.113.10
            set mappedip "10.20.0.5"
            set extintf "wan1"
            set portforward enable
            set protocol tcp
            set extport 8502
            set mappedport 502
        next
    end
    config firewall service custom
        edit "web443"
            set tcp-portrange 443
        next
        edit "modbus"
            set tcp-portrange 502
        next
    end
    config firewall policy
        edit 1
            set name "publish web"
            set srcintf "wan1"
            set dstintf "dmz"
            set action accept
            set srcaddr "all"
            set dstaddr "dmz-web"
            set schedule "always"
            set service "web443"
        next
        edit 2
            set name "vendor modbus"
            set srcintf "wan1"
            set dstintf "ot"
            set action accept
            set srcaddr "all"
            set dstaddr "plc-modbus"
            set schedule "always"
            set service "modbus"
        next
        edit 3
            set name "OT web out"
            set srcintf "ot"
            set dstintf "wan1"
            set action accept
            set srcaddr "OT-NET"
            set dstaddr "all"
            set schedule "always"
            set service "web443"
            set nat enable
        next
    end
    """
EDGE_ZONES = "{wan1: internet, dmz: dmz, ot: control}"
# The VIPs' edit lines are 21 (dmz-web) and 26 (plc-modbus); policy 3 (hide-NAT) begins on line 65.
STATIC_LINE, FORWARD_LINE, HIDE_LINE = 21, 26, 65

OUTER = """
    config system interface
        edit "internal"
            set vdom "root"
            set ip 10.0.0.1 255.255.0.0
        next
        edit "dmz"
            set vdom "root"
            set ip 172.16.0.1 255.255.255.0
        next
    end
    config firewall address
        edit "CORP-NET"
            set subnet 10.0.0.0 255.255.0.0
        next
    end
    config firewall service custom
        edit "modbus"
            set tcp-portrange 502
        next
    end
    config firewall policy
        edit 1
            set name "corp modbus"
            set srcintf "internal"
            set dstintf "dmz"
            set action accept
            set srcaddr "CORP-NET"
            set dstaddr "all"
            set schedule "always"
            set service "modbus"
            set nat enable
        next
    end
    config router static
        edit 1
            set dst 10.20.0.0 255.255.255.0
            set gateway 172.16.0.2
            set device "dmz"
        next
    end
    """
OUTER_ZONES = "{internal: corp, dmz: dmz}"
OUTER_NAT_LINE = 22


def edge(tmp_path: Path, *registered: str) -> Path:
    return s.edge_site(tmp_path / "site", "fortigate", "edge.conf", EDGE, EDGE_ZONES, registered)


def test_dmz_server_published_by_static_nat_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.20:443 arriving on wan1: VIP dmz-web (line 21) maps it to
    172.16.0.20; policy 1 (wan1 -> dmz, dstaddr dmz-web, tcp/443) accepts. PERMIT, to 172.16.0.20:443."""
    answer = s.fw_test(edge(tmp_path) / "edge.conf", "fortigate", s.INTERNET_HOST, s.DMZ_PUBLIC, 443, "wan1", "dmz")
    s.assert_publish_by_fw_test(answer, (s.DMZ_PUBLIC, 443), (s.DMZ_SERVER, 443), STATIC_LINE)


def test_dmz_server_published_by_static_nat_check(tmp_path: Path) -> None:
    """By hand: with no conduit, internet -> dmz permits tcp/443 to 172.16.0.20 (sent to 203.0.113.20):
    one PG-FW-001 citing the VIP (line 21); with the dmz-web conduit registered, none."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "dmz", (s.DMZ_SERVER, 443),
                      (s.DMZ_PUBLIC, 443), "edge.conf", STATIC_LINE)
    assert s.between(s.findings(edge(tmp_path / "b", "dmz-web")), "PG-FW-001", "internet", "dmz") == []


def test_port_forward_to_an_ot_host_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.10:8502 on wan1: VIP plc-modbus (line 26, port forward
    8502 -> 502) maps it to 10.20.0.5:502; policy 2 (wan1 -> ot, service modbus = the mapped port 502)
    accepts. PERMIT, to 10.20.0.5:502."""
    answer = s.fw_test(edge(tmp_path) / "edge.conf", "fortigate", s.INTERNET_HOST, s.PLC_PUBLIC, 8502, "wan1", "ot")
    s.assert_publish_by_fw_test(answer, (s.PLC_PUBLIC, 8502), (s.PLC, 502), FORWARD_LINE)


def test_port_forward_to_an_ot_host_check(tmp_path: Path) -> None:
    """By hand: unregistered, internet -> control permits tcp/502 to 10.20.0.5 (sent to 203.0.113.10:8502):
    one PG-FW-001 about 10.20.0.5 citing line 26; with vendor-modbus registered, no PG-FW-001 there."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "control", (s.PLC, 502),
                      (s.PLC_PUBLIC, 8502), "edge.conf", FORWARD_LINE)
    registered = s.findings(edge(tmp_path / "b", "vendor-modbus"))
    assert s.between(registered, "PG-FW-001", "internet", "control") == []
    assert s.between(registered, "PG-PURDUE-002", "internet", "control")


def test_hide_nat_of_the_ot_range_fw_test(tmp_path: Path) -> None:
    """By hand: 10.20.0.7 -> 198.51.100.7:443 from ot to wan1: policy 3 accepts and, with nat enable and
    no IP pool, rewrites the source to wan1's 203.0.113.1. PERMIT, source 203.0.113.1 (policy 3, line 65)."""
    answer = s.fw_test(edge(tmp_path) / "edge.conf", "fortigate", "10.20.0.7", s.INTERNET_HOST, 443, "ot", "wan1")
    s.assert_hide_by_fw_test(answer, "10.20.0.7", s.OUTSIDE, HIDE_LINE)


def test_hide_nat_of_the_ot_range_check(tmp_path: Path) -> None:
    """By hand: control (level 2) -> internet (level 5) on tcp/443 is OT to IT: PG-PURDUE-002 and, with no
    conduit, PG-FW-001, both naming a real 10.20.0.x source (as sent), not 203.0.113.1."""
    found = s.findings(edge(tmp_path))
    s.assert_hidden_flow_reported(found, "PG-PURDUE-002")
    s.assert_hidden_flow_reported(found, "PG-FW-001")


def test_hide_nat_of_the_ot_range_check_shows_the_translation(tmp_path: Path) -> None:
    """By hand: both findings show the packet as sent (source 10.20.0.x) and the hiding rule's line 65."""
    found = s.findings(edge(tmp_path))
    for rule_id in ("PG-PURDUE-002", "PG-FW-001"):
        s.assert_hiding_shown(s.assert_hidden_flow_reported(found, rule_id), "edge.conf", HIDE_LINE)


def test_two_hops_exist_only_through_a_route_and_hide_nat(tmp_path: Path) -> None:
    """By hand: fw-outer (FortiGate) policy 1 (line 22) lets corp out to dmz on tcp/502 with nat enable,
    so corp leaves as dmz's 172.16.0.1; fw-inner admits only DMZ sources to 10.20.0.5:502. reach corp ->
    control: one path, the source rewritten at fw-outer; without ``set nat enable`` no path.
    fw-outer routes 10.20.0.0/24 out of dmz via 172.16.0.2 (``config router static``); without that
    route it holds none to 10.20.0.5 and no path remains.
    PG-ESTATE-001 reports the bypass."""
    folder = s.series_site(tmp_path / "site", "fortigate", "outer.conf", OUTER, OUTER_ZONES)
    found = s.reach_result(folder)
    s.assert_two_hop_path(found.paths, OUTER_NAT_LINE)
    no_route = OUTER[:OUTER.index("    config router static")] + "    "
    assert no_route != OUTER
    s.assert_route_needed(tmp_path, "fortigate", "outer.conf", no_route, OUTER_ZONES, found)
    s.assert_estate_bypass(s.findings(folder), "outer.conf", OUTER_NAT_LINE)
    no_nat = OUTER.replace("            set nat enable\n", "")
    assert no_nat != OUTER
    assert s.reach(s.series_site(tmp_path / "control", "fortigate", "outer.conf", no_nat, OUTER_ZONES)) == []
