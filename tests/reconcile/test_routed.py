"""Reach follows the firewalls' own routes (issue 20 §2): paths routing makes impossible are not reported.

The estate, by hand: corp 10.0.0.0/16, dmz 172.16.0.0/24, control 10.20.0.0/24.
- fw-core (ASA) joins all three: inside 10.0.0.1/16 (corp), dmz 172.16.0.1/24, ot 10.20.0.1/24 (control).
  Its ACL on inside permits corp -> any on tcp/502.
- fw-ot (ASA) joins dmz (outside 172.16.0.2/24) and control (inside 10.20.0.2/24); its ACL on outside
  permits the DMZ and corp to the PLC 10.20.0.5 on tcp/502.
Without routes the topology holds two paths corp -> control: fw-core directly, and fw-core into the DMZ
then fw-ot. fw-core's connected network 10.20.0.0/24 sits on its ot interface, so it never sends a packet
for the PLC into the DMZ: the two-hop path is impossible and only the direct one is reported.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from plantgate.checks import run_checks
from plantgate.load import load_site
from plantgate.netspace import PacketSpace
from plantgate.netspace.flow import Flow
from plantgate.reconcile.reach import Estate
from plantgate.reconcile.topology import Hop
from tests.sites import write_files

CORE = """
    hostname fw-core
    interface GigabitEthernet0/0
     nameif inside
     ip address 10.0.0.1 255.255.0.0
    interface GigabitEthernet0/1
     nameif dmz
     ip address 172.16.0.1 255.255.255.0
    interface GigabitEthernet0/2
     nameif ot
     ip address 10.20.0.1 255.255.255.0
    access-list inside_in extended permit tcp 10.0.0.0 255.255.0.0 any eq 502
    access-group inside_in in interface inside
    {routes}
    """
OT = """
    hostname fw-ot
    interface GigabitEthernet0/0
     nameif outside
     ip address 172.16.0.2 255.255.255.0
    interface GigabitEthernet0/1
     nameif inside
     ip address 10.20.0.2 255.255.255.0
    access-list outside_in extended permit tcp 172.16.0.0 255.255.255.0 host 10.20.0.5 eq 502
    access-list outside_in extended permit tcp 10.0.0.0 255.255.0.0 host 10.20.0.5 eq 502
    access-group outside_in in interface outside
    route outside 10.0.0.0 255.255.0.0 172.16.0.1
    """
SITE = {
    "site.yaml": """
        site: {name: Routed plant, plant: Unit 1, revision: r1}
        people:
          - {id: ot, name: OT Approver, roles: [ot_approver]}
        """,
    "zones.yaml": """
        zones:
          - {id: corp, name: Corporate, level: 4, kind: enterprise, networks: [10.0.0.0/16]}
          - {id: dmz, name: DMZ, level: 3.5, kind: dmz, networks: [172.16.0.0/24]}
          - {id: control, name: Control, level: 2, kind: control, networks: [10.20.0.0/24]}
        """,
    "conduits.yaml": """
        conduits:
          - id: corp-modbus
            from_zone: corp
            to_zone: control
            services: [{protocol: tcp, ports: [502]}]
            destinations: [10.20.0.5/32]
            business_reason: historian polling
            ot_approver: ot
        """,
    "firewalls.yaml": """
        firewalls:
          - {id: fw-core, vendor: asa, config: core.cfg, zones: {inside: corp, dmz: dmz, ot: control}}
          - {id: fw-ot, vendor: asa, config: ot.cfg, zones: {outside: dmz, inside: control}}
        """,
}


def tcp(src: str, dst: str, port: int) -> Flow:
    return Flow(ipaddress.ip_address(src), ipaddress.ip_address(dst), 6, 40000, port)


PLC_PACKET = tcp("10.0.1.1", "10.20.0.5", 502)


def site(tmp_path: Path, routes: str = "", treaty_routes: str = "") -> Path:
    files = dict(SITE, **{"core.cfg": CORE.replace("{routes}", routes), "ot.cfg": OT})
    if treaty_routes:
        files["routes.yaml"] = treaty_routes
    return write_files(tmp_path / "site", files)


def estate(folder: Path) -> Estate:
    return Estate(load_site(folder), PacketSpace())


def test_a_path_the_first_firewall_never_routes_into_is_not_reported(tmp_path: Path) -> None:
    """By hand (module docstring): two paths are considered, only fw-core's direct one delivers."""
    result = estate(site(tmp_path)).reach("corp", "control")
    assert [str(p) for p in result.choice.paths] == ["corp -[fw-core]-> control",
                                                      "corp -[fw-core]-> dmz -[fw-ot]-> control"]
    [path] = result.paths
    assert path.path.firewall_ids == ["fw-core"]
    assert path.flows.contains(PLC_PACKET)
    assert any(note.startswith("fw-core: routes followed") for note in result.routes), result.routes


def test_a_more_specific_static_route_makes_the_two_hop_path_real(tmp_path: Path) -> None:
    """By hand: ``route dmz 10.20.0.5 255.255.255.255 172.16.0.2`` beats the connected /24, so fw-core
    sends the PLC's packets into the DMZ and fw-ot delivers them; the direct path keeps the rest of
    control but no longer the PLC."""
    result = estate(site(tmp_path, "route dmz 10.20.0.5 255.255.255.255 172.16.0.2")).reach("corp", "control")
    by_firewalls = {tuple(p.path.firewall_ids): p for p in result.paths}
    assert set(by_firewalls) == {("fw-core",), ("fw-core", "fw-ot")}
    assert by_firewalls["fw-core", "fw-ot"].flows.contains(PLC_PACKET)
    assert not by_firewalls["fw-core",].flows.contains(PLC_PACKET)
    assert by_firewalls["fw-core",].flows.contains(tcp("10.0.1.1", "10.20.0.6", 502))


def test_a_floating_backup_route_keeps_both_paths(tmp_path: Path) -> None:
    """By hand: a distance-250 route to 10.20.0.0/24 via the DMZ backs up the connected network (a
    failed ot link moves the traffic there), so the two-hop path may carry it too."""
    result = estate(site(tmp_path, "route dmz 10.20.0.0 255.255.255.0 172.16.0.2 250")).reach("corp", "control")
    assert sorted(len(p.path.hops) for p in result.paths) == [1, 2]


def test_a_route_whose_exit_is_unknown_widens(tmp_path: Path) -> None:
    """By hand: a route to the PLC via 192.0.2.9 (on no connected network) names no interface: the
    packet may leave anywhere, so the two-hop path is kept."""
    result = estate(site(tmp_path, "route dmz2 10.20.0.5 255.255.255.255 192.0.2.9")).reach("corp", "control")
    assert sorted(len(p.path.hops) for p in result.paths) == [1, 2]


def test_dynamic_routing_is_a_gap_and_keeps_every_path(tmp_path: Path) -> None:
    """By hand: fw-core runs OSPF (line 13), so routes it learns at run time may send the PLC's packets into
    the DMZ: its routes decide nothing, both paths are reported and the note names the line."""
    result = estate(site(tmp_path, "router ospf 1\n     network 10.0.0.0 255.255.0.0 area 0")).reach("corp", "control")
    assert sorted(len(p.path.hops) for p in result.paths) == [1, 2]
    assert any("routes not followed" in note and "core.cfg:13: OSPF is configured" in note
               for note in result.routes), result.routes


def test_a_firewall_without_interface_addresses_keeps_every_path(tmp_path: Path) -> None:
    """By hand: an iptables ruleset states no addresses, so its hops carry every destination."""
    found = estate(site(tmp_path))
    core = next(fw for fw in found.firewalls if fw.entry.id == "fw-core")
    core.ruleset.interfaces.clear()
    hop = Hop(core, "fw-core", "corp", "dmz")
    routing = found.hop_routing(hop)
    assert routing.carried is None and "states no interface addresses" in routing.note


def test_the_treaty_route_wins_over_the_configs(tmp_path: Path) -> None:
    """By hand: the treaty says corp -> control crosses fw-core then fw-ot. That path is followed as
    stated, although fw-core's connected network contradicts it, and PG-ESTATE-005 reports the
    contradiction with fw-core's ot interface line."""
    treaty_routes = """
        routes:
          - {from_zone: corp, to_zone: control, via: [fw-core, fw-ot]}
        """
    folder = site(tmp_path, treaty_routes=treaty_routes)
    result = estate(folder).reach("corp", "control")
    [path] = result.paths
    assert path.path.firewall_ids == ["fw-core", "fw-ot"] and path.flows.contains(PLC_PACKET)
    assert "fw-core: the treaty's routes for this pair win" in result.routes
    found = [f for f in run_checks(load_site(folder), as_of=dt.date(2026, 11, 26)) if f.rule_id == "PG-ESTATE-005"]
    assert [f.details["config_next_zone"] for f in found] == ["control"]


def test_a_broken_path_is_reported_only_where_routing_takes_it(tmp_path: Path) -> None:
    """By hand: without fw-ot's corp line, fw-ot admits only DMZ sources, so corp's packets for the PLC
    would be denied there (PG-ESTATE-003, fw-core permits, fw-ot denies) on the two-hop path. fw-core
    never routes the PLC into the DMZ (connected /24 on ot), so that path is not taken and nothing is
    broken; with a /32 route to the PLC via fw-ot it is taken, and PG-ESTATE-003 reports it."""
    corp_line = "access-list outside_in extended permit tcp 10.0.0.0 255.255.0.0 host 10.20.0.5 eq 502\n"

    def broken(folder: Path) -> list[str]:
        text = (folder / "ot.cfg").read_text()
        assert corp_line in text
        (folder / "ot.cfg").write_text(text.replace(corp_line, ""))
        return [f.message for f in run_checks(load_site(folder), as_of=dt.date(2026, 11, 26))
                if f.rule_id == "PG-ESTATE-003"]

    assert broken(site(tmp_path / "direct")) == []
    [message] = broken(site(tmp_path / "routed", "route dmz 10.20.0.5 255.255.255.255 172.16.0.2"))
    assert "along corp -[fw-core]-> dmz -[fw-ot]-> control" in message and "fw-ot (dmz -> control) denies" in message


PUBLISHED_PLC = """
    object network plc-published
     host 10.20.0.5
     nat (dmz,inside) static 10.0.250.5{option}
    """


def _two_hop_arrivals(tmp_path: Path, option: str) -> list[Flow] | None:
    """Of the PLC's own address and its published one, the packets corp sends that fw-core lets into the DMZ on
    the two-hop path (None: no such path)."""
    folder = site(tmp_path / option.strip().replace("-", "_") if option else tmp_path,
                  PUBLISHED_PLC.replace("{option}", option))
    found = estate(folder)
    result = found.reach("corp", "control")
    by_firewalls = {tuple(p.path.firewall_ids): p for p in result.paths}
    assert by_firewalls[("fw-core",)].flows.contains(PLC_PACKET)
    assert not any("routes not followed" in note for note in result.routes), result.routes
    two_hop = by_firewalls.get(("fw-core", "fw-ot"))
    if two_hop is None:
        return None
    into_dmz = two_hop.path.hops[0]
    candidates = [PLC_PACKET, tcp("10.0.1.1", "10.0.250.5", 502)]
    return [packet for packet in candidates if found.hop_step(into_dmz, found.space.flow(packet))[1]]


def test_a_static_nat_sends_what_it_un_nats_out_of_its_real_interface(tmp_path: Path) -> None:
    """By hand: fw-core publishes the PLC 10.20.0.5 to corp as 10.0.250.5 with ``nat (dmz,inside) static``. ASA NAT
    divert: a packet to 10.0.250.5 is un-NATed to 10.20.0.5 and leaves by the real interface, dmz, not by ot where
    the connected network would send it; fw-ot then delivers it. So a two-hop path exists, and only for packets
    sent to 10.0.250.5: the routes are still followed (the divert is no routing gap), and they send the PLC's own
    address out of ot (the direct path). With ``route-lookup`` the routing table decides for the un-NATed packet
    too: out of ot, so no two-hop path."""
    assert _two_hop_arrivals(tmp_path, "") == [tcp("10.0.1.1", "10.0.250.5", 502)]
    assert _two_hop_arrivals(tmp_path, " route-lookup") is None
