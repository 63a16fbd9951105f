"""ASA interface addresses and static routes (``ip address``, ``ipv6 address``, ``route``, ``ipv6 route``).

Configs written from the Cisco ASA command reference: ``route if_name dest mask gateway [distance]``,
``ipv6 route if_name prefix/len gateway [distance]``, ``ip address ip mask [standby ip]``.
"""

from __future__ import annotations

import ipaddress

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.asa.parser import PARSER
from plantgate.firewalls.base import read_config_text
from plantgate.firewalls.routes import route_lookup
from plantgate.firewalls.ruleset import Ruleset
from tests.conftest import shared_path

CONFIG = """\
hostname fw-plant
name 10.40.0.0 ot-cell-net
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 203.0.113.2 255.255.255.248 standby 203.0.113.3
!
interface GigabitEthernet0/1
 nameif inside
 security-level 100
 ip address 10.10.0.1 255.255.255.0
 ipv6 address 2001:db8:10::1/64 standby 2001:db8:10::2
 ipv6 address fe80::1 link-local
!
interface GigabitEthernet0/2
 nameif ot
 security-level 90
 ip address 10.20.0.1 255.255.255.0
!
interface Management0/0
 nameif mgmt
 ip address dhcp setroute
!
route outside 0.0.0.0 0.0.0.0 203.0.113.1 1
route ot 10.30.0.0 255.255.0.0 10.20.0.254 5
route ot ot-cell-net 255.255.0.0 10.20.0.253
ipv6 route inside 2001:db8:20::/48 2001:db8:10::fe
route ot 10.50.0.0 255.0.255.0 10.20.0.254
route ot 10.60.0.0 255.255.0.0 10.20.0.254 bogus-option
"""


def parse() -> Ruleset:
    return PARSER.parse(CONFIG, "fw.cfg")


def test_interfaces_carry_nameif_zone_and_prefix() -> None:
    """Three addressed interfaces; the DHCP management port has no fixed address and is left out.

    By hand: outside 203.0.113.2/29 (standby ignored), inside 10.10.0.1/24 and 2001:db8:10::1/64 (link-local
    skipped), ot 10.20.0.1/24.
    """
    rs = parse()
    by_zone = {i.zone: i for i in rs.interfaces}
    assert set(by_zone) == {"outside", "inside", "ot"}
    assert by_zone["outside"].addresses == (ipaddress.ip_interface("203.0.113.2/29"),)
    assert by_zone["inside"].networks == (ipaddress.ip_network("10.10.0.0/24"),
                                          ipaddress.ip_network("2001:db8:10::/64"))
    assert by_zone["ot"].name == "GigabitEthernet0/2" and by_zone["ot"].span.line == 15
    assert "ip address 10.20.0.1 255.255.255.0" in by_zone["ot"].span.text
    assert all(i.vrf == "" for i in rs.interfaces)


def test_static_routes_default_ot_named_and_ipv6() -> None:
    """Four readable routes: the default (distance 1), 10.30/16 (distance 5), the named 10.40/16, the IPv6 /48.

    By hand: the non-contiguous mask and the unknown option are unreadable routes: warnings with their
    lines (28, 29), not guessed routes, and not widened (a route is a fact, not a permission).
    """
    rs = parse()
    routes = {str(r.destination): r for r in rs.routes}
    assert set(routes) == {"0.0.0.0/0", "10.30.0.0/16", "10.40.0.0/16", "2001:db8:20::/48"}
    assert routes["0.0.0.0/0"].is_default and routes["0.0.0.0/0"].distance == 1
    assert routes["10.30.0.0/16"].next_hop == ipaddress.ip_address("10.20.0.254")
    assert routes["10.30.0.0/16"].interface == "ot" and routes["10.30.0.0/16"].distance == 5
    assert routes["10.40.0.0/16"].distance is None and routes["10.40.0.0/16"].span.line == 26
    unreadable = [w for w in rs.warnings if w.line in (28, 29)]
    assert len(unreadable) == 2 and not any(w.widened for w in unreadable)


def test_route_lookup_longest_prefix_connected_static_default() -> None:
    """By hand: 10.20.0.9 is connected on ot; 10.30.1.1 takes the /16 route out of ot; 8.8.8.8 the default
    route out of outside; 2001:db8:20::5 the IPv6 route out of inside."""
    rs = parse()
    connected = route_lookup(rs, "10.20.0.9")
    assert connected is not None and connected.route is None and connected.zone == "ot"
    routed = route_lookup(rs, "10.30.1.1")
    assert routed is not None and routed.route is not None and routed.route.span.line == 25 and routed.zone == "ot"
    default = route_lookup(rs, "8.8.8.8")
    assert default is not None and default.zone == "outside" and default.network.prefixlen == 0
    v6 = route_lookup(rs, "2001:db8:20::5")
    assert v6 is not None and v6.zone == "inside"


def test_no_route_no_answer() -> None:
    """By hand: without the default route, an address outside every connected network matches nothing."""
    rs = PARSER.parse("interface Gi0/0\n nameif inside\n ip address 10.0.0.1 255.255.255.0\n", "x.cfg")
    assert route_lookup(rs, "192.0.2.1") is None
    assert route_lookup(rs, "10.0.0.7") is not None


def test_corpus_interfaces_read() -> None:
    """Batfish's asa-security-level config: four nameif interfaces with /24 addresses (standby ignored)."""
    path = shared_path("firewall-configs", "cisco-asa", "batfish__asa-security-level.cfg")
    rs = PARSER.parse(read_config_text(path), str(path))
    assert len(rs.interfaces) == 4
    assert all(i.zone and i.addresses[0].network.prefixlen == 24 for i in rs.interfaces)
    assert str(rs.interfaces[0].addresses[0]) == "3.0.0.2/24"


def test_ties_connected_first_then_lower_distance() -> None:
    """By hand: a static route for the connected 10.0.0.0/24 loses to the connected network; of two routes to
    10.9.0.0/16, the distance-2 one (line 6) beats the distance-10 one (line 5) whatever their order."""
    rs = PARSER.parse("interface Gi0/0\n nameif inside\n ip address 10.0.0.1 255.255.255.0\n"
                      "route inside 10.0.0.0 255.255.255.0 10.0.0.9\n"
                      "route inside 10.9.0.0 255.255.0.0 10.0.0.10 10\n"
                      "route inside 10.9.0.0 255.255.0.0 10.0.0.20 2\n", "x.cfg")
    connected = route_lookup(rs, "10.0.0.5")
    assert connected is not None and connected.route is None
    routed = route_lookup(rs, "10.9.1.1")
    assert routed is not None and routed.route is not None and routed.route.span.line == 6


# --- routing gaps: what makes the connected networks and static routes incomplete ------------------------------

STATIC_ONLY = """\
hostname fw-static
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 203.0.113.2 255.255.255.248 standby 203.0.113.3
!
interface GigabitEthernet0/1
 nameif inside
 ip address 10.10.0.1 255.255.255.0
 ipv6 address 2001:db8:10::/64 eui-64
 ipv6 address fe80::1 link-local
!
interface GigabitEthernet0/2
 shutdown
 no nameif
 no ip address
!
object network web
 host 10.10.0.5
 nat (any,outside) static 203.0.113.5
object network lan
 subnet 10.10.0.0 255.255.255.0
 nat (inside,outside) dynamic interface
nat (inside,outside) source static lan lan destination static web web no-proxy-arp route-lookup
route outside 0.0.0.0 0.0.0.0 203.0.113.1 1
route inside 10.20.0.0 255.255.0.0 10.10.0.254
ipv6 route inside 2001:db8:20::/48 2001:db8:10::fe
"""


def _gaps(config: str) -> list[tuple[int, str]]:
    return [(gap.span.line, gap.reason) for gap in PARSER.parse(config, "gaps.cfg").routing_gaps]


def test_static_routes_and_addressed_interfaces_leave_no_gap() -> None:
    """By hand: fixed addresses (standby, eui-64, link-local), a shut interface without address, dynamic PAT, a static
    NAT whose real interface is ``any`` and an identity NAT with route-lookup all leave routing to the routing table."""
    assert _gaps(STATIC_ONLY) == []


INTERFACE = "interface GigabitEthernet0/1\n nameif inside\n ip address 10.10.0.1 255.255.255.0\n"


@pytest.mark.parametrize(("config", "named"), [
    ("router ospf 1\n network 10.10.0.0 255.255.255.0 area 0\n", "OSPF is configured"),
    ("router bgp 65010\n address-family ipv4 unicast\n  neighbor 10.10.0.2 remote-as 65020\n", "BGP is"),
    ("router eigrp 10\n network 10.10.0.0 255.255.255.0\n", "EIGRP is"),
    ("router rip\n network 10.0.0.0\n version 2\n", "RIP is"),
    ("router isis\n net 49.0001.0000.0000.0001.00\n", "IS-IS is"),
    ("ipv6 router ospf 2\n", "OSPFv3 is"),
    ("multicast-routing\n", "multicast routing"),
])
def test_dynamic_routing_is_a_gap(config: str, named: str) -> None:
    """Written from the ASA routing chapters: every ``router`` block is one the admin configured (ASA prints no
    empty protocol blocks), so its first line (4, after the interface) is the gap."""
    gaps = _gaps(INTERFACE + config)
    assert [g[0] for g in gaps] == [4] and named in gaps[0][1] and "run time" in gaps[0][1]


POLICY_ROUTING = """\
interface GigabitEthernet0/1
 nameif inside
 ip address 10.10.0.1 255.255.255.0
 policy-route route-map PBR-OT
!
route-map PBR-OT permit 10
 match ip address OT-TRAFFIC
 set ip next-hop 10.10.0.253
wccp interface inside web-cache redirect in
object network historian
 host 10.10.0.5
 nat (inside,outside) static 203.0.113.5
nat (inside,vpn) source static lan lan destination static remote remote
static (inside,dmz) 10.30.0.5 10.10.0.6 netmask 255.255.255.255
nat (inside,outside) source static lan lan destination static web web inactive
"""


def test_policy_routing_wccp_and_unmodelled_nat_divert_are_gaps() -> None:
    """From the PBR chapter (``policy-route route-map`` under the interface, 9.4+), WCCP redirection, and "NAT and the
    egress interface": a static NAT naming its interfaces diverts traffic for its mapped address (object NAT and
    pre-8.3 ``static``: to the real interface; twice NAT ``destination static``: to the mapped one). The 8.3+ NAT
    statements (lines 12, 13) become NAT rules that carry their divert (``sets_egress``), so they are no gap; the
    pre-8.3 ``static`` (line 14) is not modelled as NAT and stays one. The inactive twice NAT (line 15) does nothing."""
    gaps = _gaps(POLICY_ROUTING)
    assert [g[0] for g in gaps] == [4, 9, 14]
    assert "policy-based routing" in gaps[0][1] and "PBR-OT" in gaps[0][1]
    assert "WCCP" in gaps[1][1]
    assert "NAT divert" in gaps[2][1] and "(inside,dmz)" in gaps[2][1] and "out of inside" in gaps[2][1]
    diverting = {(rule.span.line, rule.rule_id.rsplit(" ", 1)[-1], rule.to_zones)
                 for rule in PARSER.parse(POLICY_ROUTING, "gaps.cfg").nat_rules if rule.sets_egress}
    assert diverting == {(12, "rev-dst", ("inside",)), (13, "fwd-dst", ("vpn",)), (13, "rev-dst", ("inside",))}


def test_route_lookup_leaves_the_egress_to_the_routing_table() -> None:
    """``route-lookup`` makes the ASA look the un-NATed destination up in the routing table: no rule sets its egress."""
    config = "object network historian\n host 10.10.0.5\n nat (inside,outside) static 203.0.113.5 route-lookup\n"
    ruleset = PARSER.parse(config, "gaps.cfg")
    assert ruleset.nat_rules and not any(rule.sets_egress for rule in ruleset.nat_rules)
    assert ruleset.routing_gaps == []


LAYER2 = """\
firewall transparent
interface GigabitEthernet0/1
 nameif inside
 bridge-group 1
!
interface GigabitEthernet0/2
 nameif outside
 zone-member wan
 ip address 203.0.113.2 255.255.255.0
"""


def test_transparent_mode_bridge_groups_and_traffic_zones_are_gaps() -> None:
    """From the firewall-mode, bridge-group (transparent and integrated routing and bridging) and traffic-zone chapters:
    each bridges or spreads traffic without the one route lookup the model assumes."""
    gaps = _gaps(LAYER2)
    assert [g[0] for g in gaps] == [1, 4, 8]
    assert "transparent mode" in gaps[0][1]
    assert "bridge-group" in gaps[1][1] and "GigabitEthernet0/1" in gaps[1][1]
    assert "traffic zone wan" in gaps[2][1]


RUN_TIME = """\
interface GigabitEthernet0/0
 nameif outside
 ip address dhcp setroute
 ipv6 address autoconfig
!
interface GigabitEthernet0/1
 nameif isp2
 ip address pppoe setroute
 ipv6 address dhcp default
!
interface GigabitEthernet0/2
 nameif inside
 ip address 10.10.0.1 255.255.255.0
 ipv6 address OUTSIDE-PD ::1:0:0:0:1/64
!
interface GigabitEthernet0/3
 nameif spare
 ip address dhcp
 shutdown
!
route outside 0.0.0.0 0.0.0.0 198.51.100.1 1 track 1
route inside 0.0.0.0 0.0.0.0 10.10.0.254 tunneled
crypto map outside_map 10 set reverse-route
crypto dynamic-map dyn 10 set reverse-route
tunnel-group vendors type remote-access
ip local pool vendor-pool 10.99.0.10-10.99.0.50 mask 255.255.255.0
webvpn
 enable outside
 anyconnect enable
"""


def test_addresses_and_routes_learned_at_run_time_are_gaps() -> None:
    """From the interface, IPv6, static route tracking, VPN and AnyConnect chapters: DHCP/PPPoE (with setroute),
    SLAAC, DHCPv6 and prefix-delegated addresses, tracked and tunneled routes, reverse route injection and remote-access
    clients (their addresses become host routes). The shut interface's DHCP (line 18) learns nothing: no gap."""
    gaps = _gaps(RUN_TIME)
    assert [g[0] for g in gaps] == [3, 4, 8, 9, 14, 21, 22, 23, 24, 25, 26, 29]
    reasons = dict(gaps)
    assert "DHCP and its default route (setroute)" in reasons[3]
    assert "SLAAC" in reasons[4] and "PPPoE" in reasons[8] and "DHCPv6" in reasons[9]
    assert "prefix delegation" in reasons[14]
    assert "tracked static route" in reasons[21] and "tunneled route" in reasons[22]
    assert all("reverse route injection" in reasons[n] for n in (23, 24))
    assert "remote-access" in reasons[25] and "vendor-pool" in reasons[26] and "AnyConnect" in reasons[29]


def test_a_shut_addressed_interface_is_a_gap() -> None:
    """A shut interface's connected network is not in the routing table while it is down: traffic to it
    follows other routes. A shut interface without an address claims nothing."""
    gaps = _gaps("interface GigabitEthernet0/4\n nameif spare\n ip address 10.40.0.1 255.255.255.0\n shutdown\n"
                 "!\ninterface Management0/1\n management-only\n shutdown\n")
    assert [g[0] for g in gaps] == [4]
    assert "shut down" in gaps[0][1]


def test_management_only_interfaces_sit_in_the_management_routing_table() -> None:
    """From the management-interface chapter: since 9.5 a management-only interface and the routes out of it are
    in a separate management routing table that through traffic does not use. They are no gap; the data table
    keeps only the data interfaces, so the default route out of management is not the data table's."""
    rs = PARSER.parse("interface Management0/0\n management-only\n nameif management\n"
                      " ip address 192.168.1.1 255.255.255.0\n"
                      "!\ninterface GigabitEthernet0/0\n nameif inside\n ip address 10.0.0.1 255.255.0.0\n"
                      "route management 0.0.0.0 0.0.0.0 192.168.1.254\n"
                      "route inside 10.20.0.0 255.255.255.0 10.0.0.254\n", "mgmt.cfg")
    assert rs.routing_gaps == []
    assert {(i.zone, i.vrf) for i in rs.interfaces} == {("management", "management"), ("inside", "")}
    assert {(str(r.destination), r.vrf) for r in rs.routes} == {("0.0.0.0/0", "management"), ("10.20.0.0/24", "")}
    assert route_lookup(rs, "8.8.8.8", vrf="") is None
    match = route_lookup(rs, "8.8.8.8", vrf="management")
    assert match is not None and match.zone == "management"


def test_unread_routes_and_addresses_are_gaps_on_their_warning_line() -> None:
    """By hand: the module's CONFIG has two unreadable routes (lines 28, 29); an address without mask is unreadable
    too. Each keeps its warning and is a gap on the same line."""
    rs = parse()
    assert [g.span.line for g in rs.routing_gaps] == [22, 28, 29]  # 22: the DHCP management port
    assert all("could not be read" in g.reason for g in rs.routing_gaps[1:])
    assert {w.line for w in rs.warnings} >= {28, 29}
    rs = PARSER.parse("interface Gi0/0\n nameif inside\n ip address 10.0.0.1\n", "x.cfg")
    assert [(g.span.line, g.span.text) for g in rs.routing_gaps] == [(3, " ip address 10.0.0.1")]
    assert any(w.line == 3 for w in rs.warnings)


def test_corpus_gaps() -> None:
    """Every ASA config of the corpus parses; by hand: the security-level and interface fixtures have only addressed
    interfaces (no gap). The NAT diverts are no gap either, as NAT rules carry them: fworch's asa.conf has the object
    static NAT ``nat (inside,outside) static 203.0.113.10`` on line 27 (un-NATed traffic leaves by inside); batfish's
    asa_nat has line 8 (``destination static`` into outside), as line 9 says route-lookup and the others are dynamic or
    name ``any``."""
    folder = shared_path("firewall-configs", "cisco-asa")
    gaps: dict[str, list[int]] = {}
    for path in sorted(folder.iterdir()):
        try:
            rs = PARSER.parse(read_config_text(path), str(path))
        except InputError:
            continue  # a fragment with nothing ASA in it (the corpus test of test_asa.py covers those)
        gaps[path.name] = [gap.span.line for gap in rs.routing_gaps]
        assert all(gap.span.file == str(path) and gap.span.text for gap in rs.routing_gaps)
    assert gaps["batfish__asa-security-level.cfg"] == [] and gaps["batfish__asa-interface.cfg"] == []
    assert gaps["fworch__asa.conf"] == [] and gaps["batfish-parsing__asa_nat.cfg"] == []
    diverting = {name: {(rule.span.line, rule.to_zones) for rule in PARSER.parse(
        read_config_text(folder / name), name).nat_rules if rule.sets_egress}
        for name in ("fworch__asa.conf", "batfish-parsing__asa_nat.cfg")}
    assert diverting == {"fworch__asa.conf": {(27, ("inside",))}, "batfish-parsing__asa_nat.cfg": {(8, ("outside",))}}
