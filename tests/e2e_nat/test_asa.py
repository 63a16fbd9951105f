"""Cisco ASA (8.3+) NAT end to end (issue 20 §3), configs written from the ASA configuration guide
("Network Object NAT", "Static NAT with port translation", "Dynamic PAT") and command reference.

Since 8.3 the interface ACLs name real addresses: a packet to the mapped 203.0.113.20 is un-NATed
to 172.16.0.20 before ``outside_in`` sees it. The address plan is tests.e2e_nat.scenario's.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e_nat import scenario as s

EDGE = """
    hostname edge-asa
    interface GigabitEthernet0/0
     nameif outside
     security-level 0
     ip address 203.0.113.1 255.255.255.0
    interface GigabitEthernet0/1
     nameif dmz
     security-level 50
     ip address 172.16.0.1 255.255.255.0
    interface GigabitEthernet0/2
     nameif ot
     security-level 90
     ip address 10.20.0.1 255.255.255.0
    !
    object network dmz-web
     host 172.16.0.20
     nat (dmz,outside) static 203.0.113.20
    object network ot-plc
     host 10.20.0.5
     nat (ot,outside) static 203.0.113.10 service tcp 502 8502
    object network ot-net
     subnet 10.20.0.0 255.255.255.0
     nat (ot,outside) dynamic interface
    access-list outside_in extended permit tcp any host 172.16.0.20 eq https
    access-list outside_in extended permit tcp any host 10.20.0.5 eq 502
    access-list ot_in extended permit tcp 10.20.0.0 255.255.255.0 any eq https
    access-group outside_in in interface outside
    access-group ot_in in interface ot
    """
EDGE_ZONES = "{outside: internet, dmz: dmz, ot: control}"
# The object NAT lines: dmz-web 17, ot-plc 20, ot-net 23.
STATIC_LINE, FORWARD_LINE, HIDE_LINE = 17, 20, 23

OUTER = """
    hostname outer-asa
    interface GigabitEthernet0/0
     nameif inside
     security-level 100
     ip address 10.0.0.1 255.255.0.0
    interface GigabitEthernet0/1
     nameif dmz
     security-level 50
     ip address 172.16.0.1 255.255.255.0
    !
    object network corp-net
     subnet 10.0.0.0 255.255.0.0
     nat (inside,dmz) dynamic interface
    access-list inside_in extended permit tcp 10.0.0.0 255.255.0.0 any eq 502
    access-group inside_in in interface inside
    route dmz 10.20.0.0 255.255.255.0 172.16.0.2
    """
OUTER_ZONES = "{inside: corp, dmz: dmz}"
OUTER_NAT_LINE = 13


def edge(tmp_path: Path, *registered: str) -> Path:
    return s.edge_site(tmp_path / "site", "asa", "edge.cfg", EDGE, EDGE_ZONES, registered)


def test_dmz_server_published_by_static_nat_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.20:443 arriving on outside: object NAT dmz-web (line 17,
    static, so it also un-NATs inbound) rewrites the destination to 172.16.0.20; outside_in permits tcp
    to host 172.16.0.20 eq https (the real address). PERMIT, delivered to 172.16.0.20:443."""
    answer = s.fw_test(edge(tmp_path) / "edge.cfg", "asa", s.INTERNET_HOST, s.DMZ_PUBLIC, 443, "outside", "dmz")
    s.assert_publish_by_fw_test(answer, (s.DMZ_PUBLIC, 443), (s.DMZ_SERVER, 443), STATIC_LINE)


def test_dmz_server_published_by_static_nat_check(tmp_path: Path) -> None:
    """By hand: with no conduit, internet -> dmz permits tcp/443 to 172.16.0.20 (sent to 203.0.113.20):
    one PG-FW-001 citing line 17; with the dmz-web conduit registered, none."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "dmz", (s.DMZ_SERVER, 443),
                      (s.DMZ_PUBLIC, 443), "edge.cfg", STATIC_LINE)
    assert s.between(s.findings(edge(tmp_path / "b", "dmz-web")), "PG-FW-001", "internet", "dmz") == []


def test_port_forward_to_an_ot_host_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.10:8502 on outside: ot-plc's static NAT with port translation
    (line 20: real tcp/502, mapped 8502) rewrites it to 10.20.0.5:502; outside_in permits host 10.20.0.5
    eq 502. PERMIT, to 10.20.0.5:502."""
    answer = s.fw_test(edge(tmp_path) / "edge.cfg", "asa", s.INTERNET_HOST, s.PLC_PUBLIC, 8502, "outside", "ot")
    s.assert_publish_by_fw_test(answer, (s.PLC_PUBLIC, 8502), (s.PLC, 502), FORWARD_LINE)


def test_port_forward_to_an_ot_host_check(tmp_path: Path) -> None:
    """By hand: unregistered, internet -> control permits tcp/502 to 10.20.0.5 (sent to 203.0.113.10:8502):
    one PG-FW-001 about 10.20.0.5 citing line 20; with vendor-modbus registered, no PG-FW-001 there."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "control", (s.PLC, 502),
                      (s.PLC_PUBLIC, 8502), "edge.cfg", FORWARD_LINE)
    registered = s.findings(edge(tmp_path / "b", "vendor-modbus"))
    assert s.between(registered, "PG-FW-001", "internet", "control") == []
    assert s.between(registered, "PG-PURDUE-002", "internet", "control")


def test_hide_nat_of_the_ot_range_fw_test(tmp_path: Path) -> None:
    """By hand: 10.20.0.7 -> 198.51.100.7:443 from ot to outside: ot_in permits; ot-net's dynamic
    interface PAT (line 23) rewrites the source to outside's 203.0.113.1. PERMIT."""
    answer = s.fw_test(edge(tmp_path) / "edge.cfg", "asa", "10.20.0.7", s.INTERNET_HOST, 443, "ot", "outside")
    s.assert_hide_by_fw_test(answer, "10.20.0.7", s.OUTSIDE, HIDE_LINE)


def test_hide_nat_of_the_ot_range_check(tmp_path: Path) -> None:
    """By hand: control (level 2) -> internet (level 5) on tcp/443 is OT to IT: PG-PURDUE-002 and, with no
    conduit, PG-FW-001, both naming a real 10.20.0.x source (as sent), not 203.0.113.1."""
    found = s.findings(edge(tmp_path))
    s.assert_hidden_flow_reported(found, "PG-PURDUE-002")
    s.assert_hidden_flow_reported(found, "PG-FW-001")


def test_hide_nat_of_the_ot_range_check_shows_the_translation(tmp_path: Path) -> None:
    """By hand: both findings show the packet as sent (source 10.20.0.x) and ot-net's NAT line 23."""
    found = s.findings(edge(tmp_path))
    for rule_id in ("PG-PURDUE-002", "PG-FW-001"):
        s.assert_hiding_shown(s.assert_hidden_flow_reported(found, rule_id), "edge.cfg", HIDE_LINE)


def test_two_hops_exist_only_through_a_route_and_hide_nat(tmp_path: Path) -> None:
    """By hand: fw-outer (ASA) permits corp -> any tcp/502 in on inside, PATs corp behind dmz's
    172.16.0.1 (corp-net, line 13) and routes 10.20.0.0/24 out of dmz via 172.16.0.2 (line 16);
    fw-inner admits only DMZ sources to 10.20.0.5:502. reach corp -> control: one path with the source
    rewritten at fw-outer; without the nat line, none; without the route, fw-outer has no route to
    10.20.0.5 and none. PG-ESTATE-001 reports the bypass."""
    folder = s.series_site(tmp_path / "site", "asa", "outer.cfg", OUTER, OUTER_ZONES)
    found = s.reach_result(folder)
    s.assert_two_hop_path(found.paths, OUTER_NAT_LINE)
    no_route = OUTER.replace("    route dmz 10.20.0.0 255.255.255.0 172.16.0.2\n", "")
    assert no_route != OUTER
    s.assert_route_needed(tmp_path, "asa", "outer.cfg", no_route, OUTER_ZONES, found)
    s.assert_estate_bypass(s.findings(folder), "outer.cfg", OUTER_NAT_LINE)
    no_nat = OUTER.replace("     nat (inside,dmz) dynamic interface\n", "")
    assert no_nat != OUTER
    assert s.reach(s.series_site(tmp_path / "control", "asa", "outer.cfg", no_nat, OUTER_ZONES)) == []
