"""ASA interface addresses and static routes (``ip address``, ``ipv6 address``, ``route``, ``ipv6 route``).

Configs written from the Cisco ASA command reference: ``route if_name dest mask gateway [distance]``,
``ipv6 route if_name prefix/len gateway [distance]``, ``ip address ip mask [standby ip]``.
"""

from __future__ import annotations

import ipaddress

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
