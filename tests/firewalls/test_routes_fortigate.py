"""FortiGate interface addresses and static routes (``system interface``, ``system zone``, ``router static``).

Config written from the FortiOS CLI reference: ``set ip A M``, ``config secondaryip`` with ``set secondary-IP
enable``, ``set vrf``, ``config router static`` with ``dst``/``gateway``/``device``/``distance``/``vrf``.
"""

from __future__ import annotations

import ipaddress

import pytest

from plantgate.firewalls.base import read_config_text
from plantgate.firewalls.fortigate.parser import PARSER, parse_vdoms
from plantgate.firewalls.routes import route_lookup
from plantgate.firewalls.ruleset import Ruleset
from tests.conftest import shared_path

CONFIG = """\
config system interface
    edit "wan1"
        set vdom "root"
        set ip 203.0.113.2 255.255.255.248
        set type physical
    next
    edit "port2"
        set vdom "root"
        set ip 10.10.0.1 255.255.255.0
        set secondary-IP enable
        config secondaryip
            edit 1
                set ip 10.11.0.1 255.255.255.0
            next
        end
    next
    edit "port3"
        set vdom "root"
        set ip 10.20.0.1/24
        set vrf 7
    next
    edit "port4"
        set vdom "root"
        set ip 0.0.0.0 0.0.0.0
    next
end
config system zone
    edit "ot-zone"
        set interface "port3"
    next
end
config router static
    edit 1
        set gateway 203.0.113.1
        set device "wan1"
    next
    edit 2
        set dst 10.30.0.0 255.255.0.0
        set gateway 10.20.0.254
        set device "port3"
        set distance 20
        set vrf 7
    next
    edit 3
        set dst 10.99.0.0 255.255.0.0
        set status disable
        set gateway 10.10.0.254
        set device "port2"
    next
    edit 4
        set dstaddr "plc-net"
        set gateway 10.20.0.254
        set device "port3"
    next
end
config firewall policy
    edit 1
        set srcintf "port2"
        set dstintf "ot-zone"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set service "ALL"
        set schedule "always"
    next
end
"""


def parse() -> Ruleset:
    return PARSER.parse(CONFIG, "fgt.conf")


def test_interfaces_zone_membership_secondary_and_vrf() -> None:
    """By hand: wan1 and port2 are their own zones (in no system zone); port3 is in ot-zone, VRF 7;
    port2 holds its secondary 10.11.0.1/24; port4 (0.0.0.0) has no address and is left out."""
    rs = parse()
    by_name = {i.name: i for i in rs.interfaces}
    assert set(by_name) == {"wan1", "port2", "port3"}
    assert by_name["port3"].zone == "ot-zone" and by_name["port3"].vrf == "7"
    assert by_name["port2"].zone == "port2" and by_name["port2"].vrf == ""
    assert by_name["port2"].networks == (ipaddress.ip_network("10.10.0.0/24"), ipaddress.ip_network("10.11.0.0/24"))
    assert by_name["wan1"].span.line == 2 and 'edit "wan1"' in by_name["wan1"].span.text


def test_static_routes_default_ot_disabled_and_unresolved() -> None:
    """By hand: entry 1 has no dst, so it is the default route (FortiOS default 0.0.0.0 0.0.0.0); entry 2 is
    the OT route in VRF 7 with distance 20; entry 3 is disabled (not installed); entry 4 names an address object
    as destination, which is not resolved: a warning on its edit line (50), not a guessed route."""
    rs = parse()
    assert [str(r.destination) for r in rs.routes] == ["0.0.0.0/0", "10.30.0.0/16"]
    default, ot = rs.routes
    assert default.interface == "wan1" and default.next_hop == ipaddress.ip_address("203.0.113.1")
    assert ot.vrf == "7" and ot.distance == 20 and ot.interface == "port3"
    assert any(w.line == 50 and "dstaddr" in w.message and not w.widened for w in rs.warnings)


def test_route_lookup_per_vrf() -> None:
    """By hand: in VRF 7, 10.30.5.5 takes route 2 out of port3 (zone ot-zone); the default table has no route to
    it but the default route out of wan1; with no VRF given, the /16 wins over the default by prefix length."""
    rs = parse()
    in_vrf = route_lookup(rs, "10.30.5.5", "7")
    assert in_vrf is not None and in_vrf.zone == "ot-zone" and in_vrf.route is rs.routes[1]
    in_default = route_lookup(rs, "10.30.5.5", "")
    assert in_default is not None and in_default.zone == "wan1" and in_default.network.prefixlen == 0
    anywhere = route_lookup(rs, "10.30.5.5")
    assert anywhere is not None and anywhere.zone == "ot-zone"


def test_corpus_zone_members_read() -> None:
    """Batfish's zone.conf: five addressed ports, each in the zone whose interface list names it."""
    rs = PARSER.parse(read_config_text(shared_path("firewall-configs", "fortigate", "batfish__zone.conf")), "x")
    zones = {i.name: i.zone for i in rs.interfaces}
    assert zones["port1"] == "zone1" and zones["port3"] == "zone2" and len(zones) == 5


# --- routing gaps: what makes the connected networks and static routes incomplete ------------------------------

INTERFACES = """\
config system interface
    edit "port1"
        set vdom "root"
        set ip 10.10.0.1 255.255.255.0
    next
    edit "wan1"
        set vdom "root"
        set ip 203.0.113.2 255.255.255.248
    next
end
"""
STATIC_ONLY = INTERFACES + """\
config router static
    edit 1
        set gateway 203.0.113.1
        set device "wan1"
    next
    edit 2
        set dst 10.20.0.0 255.255.0.0
        set gateway 10.10.0.254
        set device "port1"
    next
end
"""


def _gaps(config: str) -> list[tuple[int, str]]:
    return [(gap.span.line, gap.reason) for gap in PARSER.parse(config, "gaps.conf").routing_gaps]


def _line(config: str, text: str) -> int:
    """The 1-based line of the one line of ``config`` that contains ``text``."""
    found = [n for n, line in enumerate(config.splitlines(), start=1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


def test_static_routes_and_addressed_interfaces_leave_no_gap() -> None:
    """By hand: fixed addresses and static routes with gateway and device are the whole story."""
    assert _gaps(STATIC_ONLY) == []


UNUSED_BLOCKS = STATIC_ONLY + """\
config system interface
    edit "modem"
        set vdom "root"
        set mode pppoe
        set status down
        set type physical
    next
end
config router rip
    config redistribute "connected"
    end
end
config router ospf
    set abr-type standard
    set router-id 0.0.0.0
    config area
    end
    config redistribute "connected"
        set status disable
    end
end
config router ospf6
    set router-id 0.0.0.0
end
config router bgp
    set as 0
    set router-id 0.0.0.0
    config neighbor
    end
    config redistribute "static"
        set status disable
    end
end
config router isis
    config redistribute6 "connected"
    end
end
config router multicast
    set multicast-routing disable
end
config system sdwan
    set status disable
    config health-check
        edit "Default_DNS"
            set server "8.8.8.8"
        next
    end
end
config vpn ssl settings
    set servercert "Fortinet_Factory"
    set tunnel-ip-pools "SSLVPN_TUNNEL_ADDR1"
    set source-interface ""
end
config vpn l2tp
    set status disable
end
config router policy
    edit 1
        set input-device "port1"
        set status disable
        set gateway 10.10.0.254
    next
    edit 2
        set input-device "port1"
        set action deny
    next
end
"""


def test_unused_default_blocks_are_not_gaps() -> None:
    """A FortiOS 7.0 backup prints every routing block with empty ``redistribute`` tables, and ``show
    full-configuration`` adds defaults (``router-id 0.0.0.0``, ``as 0``, ``multicast-routing disable``, SD-WAN
    ``status disable`` with its default health checks, an SSL VPN without a source interface); small models carry a
    ``modem`` interface in PPPoE mode that is down. None of them routes anything; a disabled policy route and an
    ``action deny`` one (which only stops the policy-route search) do not either."""
    assert _gaps(UNUSED_BLOCKS) == []


@pytest.mark.parametrize(("block", "named"), [
    ("config router ospf\n    set router-id 10.255.0.1\nend\n", "OSPF is configured"),
    ("config router ospf\n    set router-id 0.0.0.0\n    config network\n        edit 1\n"
     "            set prefix 10.10.0.0 255.255.255.0\n        next\n    end\nend\n", "OSPF is configured"),
    ("config router ospf6\n    set router-id 10.255.0.1\nend\n", "OSPFv3 is"),
    ('config router bgp\n    set as 65010\n    config neighbor\n        edit "10.10.0.2"\n'
     "            set remote-as 65020\n        next\n    end\nend\n", "BGP is"),
    ("config router rip\n    config network\n        edit 1\n            set prefix 10.0.0.0 255.0.0.0\n"
     "        next\n    end\nend\n", "RIP is"),
    ('config router ripng\n    config interface\n        edit "port1"\n        next\n    end\nend\n', "RIPng is"),
    ("config router isis\n    config isis-net\n        edit 1\n            set net 49.0001.0000.0000.0001.00\n"
     "        next\n    end\nend\n", "IS-IS is"),
])
def test_dynamic_routing_in_use_is_a_gap(block: str, named: str) -> None:
    """From the FortiOS CLI reference: a protocol is in use once its identity (router-id, AS) is set or one of its
    tables holds an entry; the gap is the ``config router`` line."""
    gaps = _gaps(STATIC_ONLY + block)
    assert [g[0] for g in gaps] == [len(STATIC_ONLY.splitlines()) + 1]
    assert named in gaps[0][1] and "run time" in gaps[0][1]


def test_multicast_routing_enabled_is_a_gap() -> None:
    config = STATIC_ONLY + "config router multicast\n    set multicast-routing enable\nend\n"
    assert [g[0] for g in _gaps(config)] == [_line(config, "multicast-routing enable")]


POLICY_ROUTING = INTERFACES + """\
config router policy
    edit 7
        set input-device "port1"
        set src "10.10.0.0/255.255.255.0"
        set dst "10.30.0.0/255.255.0.0"
        set gateway 10.10.0.253
        set output-device "port1"
    next
end
config router policy6
    edit 8
        set input-device "port1"
        set output-device "wan1"
    next
end
config system sdwan
    set status enable
    config members
        edit 1
            set interface "wan1"
        next
    end
    config service
        edit 5
            set name "ot-vendor"
            set dst "all"
        next
        edit 6
            set status disable
        next
    end
end
config router static
    edit 3
        set sdwan-zone "virtual-wan-link"
    next
end
config router auth-path
    edit "contractors"
        set device "port1"
        set gateway 10.10.0.252
    next
end
"""


def test_policy_routes_sdwan_and_auth_paths_are_gaps() -> None:
    """From the CLI reference (``router policy``, ``system sdwan``, ``router auth-path``): each enabled policy route
    and SD-WAN rule, SD-WAN itself, and an authentication-based route decide the egress without the routing table.
    The SD-WAN route names no gateway or device: a warning and a gap on its ``edit`` line."""
    config = POLICY_ROUTING
    gaps = _gaps(config)
    sdwan_route = _line(config, "edit 3")
    assert [g[0] for g in gaps] == [_line(config, "edit 7"), _line(config, "edit 8"),
                                    _line(config, "set status enable"), _line(config, "edit 5"), sdwan_route,
                                    _line(config, '"contractors"')]
    reasons = [g[1] for g in gaps]
    assert "policy route 7 (router policy)" in reasons[0] and "router policy6" in reasons[1]
    assert "SD-WAN is enabled" in reasons[2] and "SD-WAN rule 5" in reasons[3]
    assert "SD-WAN" in reasons[4] and "left out" in reasons[4]
    assert "authentication-based route contractors" in reasons[5]
    rs = PARSER.parse(config, "gaps.conf")
    assert any(w.line == sdwan_route and "SD-WAN" in w.message for w in rs.warnings)


LAYER2 = INTERFACES + """\
config system settings
    set opmode transparent
    set manageip 10.10.0.9/24
end
config system virtual-wire-pair
    edit "ot-wire"
        set member "port3" "port4"
        set wildcard-vlan enable
    next
end
config system switch-interface
    edit "lan-sw"
        set vdom "root"
        set member "port5" "port6"
    next
end
"""


def test_transparent_mode_virtual_wire_and_software_switch_are_gaps() -> None:
    """From the CLI reference (``system settings`` opmode, ``system virtual-wire-pair``, ``system switch-interface``):
    each passes traffic between ports without a route lookup."""
    gaps = _gaps(LAYER2)
    assert [g[0] for g in gaps] == [_line(LAYER2, "opmode transparent"), _line(LAYER2, '"ot-wire"'),
                                    _line(LAYER2, '"lan-sw"')]
    assert "transparent mode" in gaps[0][1]
    assert "virtual wire pair ot-wire (port3 port4)" in gaps[1][1] and "software switch lan-sw" in gaps[2][1]


RUN_TIME = """\
config system interface
    edit "wan1"
        set vdom "root"
        set mode dhcp
        set defaultgw enable
    next
    edit "wan2"
        set vdom "root"
        set mode pppoe
        set username "isp"
    next
    edit "port1"
        set vdom "root"
        set ip 10.10.0.1 255.255.255.0
        config ipv6
            set ip6-mode delegated
            set autoconf enable
        end
    next
end
config vpn ipsec phase1-interface
    edit "dialup"
        set type dynamic
        set interface "wan1"
        set mode-cfg enable
    next
    edit "hub"
        set interface "wan1"
        set remote-gw 198.51.100.1
        set add-gw-route enable
        set auto-discovery-receiver enable
    next
    edit "no-routes"
        set type dynamic
        set interface "wan1"
        set add-route disable
    next
end
config vpn ssl settings
    set tunnel-ip-pools "SSLVPN_TUNNEL_ADDR1"
    set source-interface "wan1"
end
config vpn l2tp
    set status enable
    set sip 10.99.0.10
    set eip 10.99.0.50
end
config system link-monitor
    edit "isp1"
        set srcintf "wan1"
        set server "198.51.100.53"
        set gateway-ip 198.51.100.1
    next
end
config system modem
    set status enable
end
"""


def test_addresses_and_routes_learned_at_run_time_are_gaps() -> None:
    """From the CLI reference and the routing concepts page (a DHCP interface adds its default route, distance 5):
    DHCP and PPPoE interfaces, delegated and autoconfigured IPv6, dial-up IPsec with add-route (its default; the one
    with ``add-route disable`` is no gap), add-gw-route, ADVPN shortcuts, SSL VPN and L2TP clients, a link monitor
    that withdraws routes, and the modem."""
    config = RUN_TIME
    gaps = _gaps(config)
    lines = [_line(config, "set mode dhcp"), _line(config, "set mode pppoe"), _line(config, "ip6-mode delegated"),
             _line(config, "autoconf enable"), _line(config, '"dialup"') + 1,  # its "set type dynamic"
             _line(config, "add-gw-route"), _line(config, "auto-discovery-receiver"),
             _line(config, 'source-interface "wan1"'), _line(config, "set sip") - 1,  # L2TP's "set status enable"
             _line(config, '"isp1"'), _line(config, "config system modem") + 1]
    assert [g[0] for g in gaps] == lines
    reasons = [g[1] for g in gaps]
    assert "DHCP" in reasons[0] and "PPPoE" in reasons[1] and "delegated" in reasons[2] and "autoconf" in reasons[3]
    assert "dial-up IPsec dialup" in reasons[4] and "add-gw-route" in reasons[5] and "ADVPN" in reasons[6]
    assert "SSL VPN" in reasons[7] and "L2TP" in reasons[8] and "link monitor isp1" in reasons[9]
    assert "modem" in reasons[10]


OWN_TABLES = """\
config system interface
    edit "port1"
        set vdom "root"
        set ip 10.10.0.1 255.255.255.0
    next
    edit "port9"
        set vdom "root"
        set ip 10.90.0.1 255.255.255.0
        set status down
    next
    edit "mgmt"
        set vdom "root"
        set ip 192.168.1.99 255.255.255.0
        set dedicated-to management
    next
    edit "port10"
        set vdom "root"
        set ip 192.168.2.1 255.255.255.0
    next
end
config system ha
    set group-name "plant"
    set mode a-p
    set ha-mgmt-status enable
    config ha-mgmt-interfaces
        edit 1
            set interface "port10"
            set gateway 192.168.2.254
        next
    end
end
"""


def test_down_and_management_interfaces_are_gaps() -> None:
    """From the dedicated management and HA reserved management articles (a routing table separate from the data
    one): their addresses are no connected network of through traffic, nor is a down interface's."""
    gaps = _gaps(OWN_TABLES)
    assert [g[0] for g in gaps] == [_line(OWN_TABLES, "status down"), _line(OWN_TABLES, "dedicated-to"),
                                    _line(OWN_TABLES, "ha-mgmt-status")]
    assert "port9 is down" in gaps[0][1] and "dedicated to management" in gaps[1][1]
    assert "HA reserved management interfaces (port10)" in gaps[2][1]


def test_unread_routes_and_addresses_are_gaps_on_their_warning_line() -> None:
    """By hand: the module's CONFIG route 4 names an address object (line 50): warning and gap on the same line.
    An IPv6 address with a /129 prefix cannot be read: warning and gap on its ``ip6-address`` line."""
    rs = parse()
    assert [(g.span.line, "dstaddr" in g.reason) for g in rs.routing_gaps] == [(50, True)]
    assert any(w.line == 50 for w in rs.warnings)
    config = INTERFACES.replace('        set ip 10.10.0.1 255.255.255.0\n', '        set ip 10.10.0.1 255.255.255.0\n'
                                '        config ipv6\n            set ip6-address 2001:db8::1/129\n        end\n')
    rs = PARSER.parse(config, "x.conf")
    line = _line(config, "ip6-address")
    assert [g.span.line for g in rs.routing_gaps] == [line] and any(w.line == line for w in rs.warnings)


VDOMS = """\
config vdom
edit root
next
edit OT
next
end
config global
config system interface
    edit "port1"
        set vdom "root"
        set mode dhcp
    next
    edit "port2"
        set vdom "OT"
        set ip 10.20.0.1 255.255.255.0
    next
end
end
config vdom
edit root
config router static
    edit 1
        set device "port1"
    next
end
next
edit OT
config router bgp
    set as 65020
end
next
end
"""


def test_gaps_belong_to_their_vdom() -> None:
    """By hand: the DHCP interface is root's, BGP is the OT VDOM's."""
    rulesets = parse_vdoms(VDOMS, "vdoms.conf")
    assert [g.span.line for g in rulesets["root"].routing_gaps] == [_line(VDOMS, "mode dhcp")]
    assert [g.span.line for g in rulesets["OT"].routing_gaps] == [_line(VDOMS, "config router bgp")]


def test_corpus_gaps() -> None:
    """Every FortiGate config of the corpus parses without a gap. By hand: batfish's iface.conf has a ``tunnel``
    interface that is down but holds no address and a VRF 31 interface with fixed addresses; zone.conf has five
    addressed ports; none has a routing block, policy route, DHCP or VPN."""
    folder = shared_path("firewall-configs", "fortigate")
    for path in sorted(folder.iterdir()):
        for vdom, rs in parse_vdoms(read_config_text(path), str(path)).items():
            assert rs.routing_gaps == [], (path.name, vdom)
    iface = PARSER.parse(read_config_text(folder / "batfish__iface.conf"), "iface.conf")
    assert {i.name for i in iface.interfaces} == {"port1", "longest if name"}
