"""SRX logical-interface addresses, security-zone membership, static routes and routing instances.

Configs written from the Junos configuration reference: ``interfaces IFD unit N family inet address A/L``,
``security zones security-zone Z interfaces IFD.N``, ``routing-options static route P next-hop H``,
``qualified-next-hop H preference D``, ``rib inet6.0 static``, ``routing-instances R instance-type
virtual-router; interface IFD.N; routing-options static ...``.
"""

from __future__ import annotations

import ipaddress

from plantgate.firewalls.base import read_config_text
from plantgate.firewalls.routes import route_lookup
from plantgate.firewalls.srx.parser import PARSER
from tests.conftest import shared_path

HIERARCHICAL = """\
interfaces {
    ge-0/0/0 {
        unit 0 {
            family inet {
                address 203.0.113.2/29;
            }
        }
    }
    ge-0/0/1 {
        unit 0 {
            family inet {
                address 10.10.0.1/24;
            }
            family inet6 {
                address 2001:db8:10::1/64;
            }
        }
    }
    ge-0/0/2 {
        unit 20 {
            family inet {
                address 10.20.0.1/24;
            }
        }
    }
}
routing-options {
    rib inet6.0 {
        static {
            route ::/0 next-hop 2001:db8:10::fe;
        }
    }
    static {
        route 0.0.0.0/0 next-hop 203.0.113.1;
        route 10.99.0.0/16 discard;
        route 10.98.0.0/16 next-table inet.0;
    }
}
routing-instances {
    OT-VR {
        instance-type virtual-router;
        interface ge-0/0/2.20;
        routing-options {
            static {
                route 10.30.0.0/16 {
                    next-hop 10.20.0.254;
                    qualified-next-hop 10.20.0.253 {
                        preference 20;
                    }
                    preference 5;
                }
            }
        }
    }
}
security {
    zones {
        security-zone untrust {
            interfaces {
                ge-0/0/0.0;
            }
        }
        security-zone trust {
            interfaces {
                ge-0/0/1.0;
            }
        }
        security-zone ot {
            interfaces {
                ge-0/0/2.20;
            }
        }
    }
}
"""

DISPLAY_SET = """\
set interfaces ge-0/0/0 unit 0 family inet address 203.0.113.2/29
set interfaces ge-0/0/2 unit 20 family inet address 10.20.0.1/24
set routing-options static route 0.0.0.0/0 next-hop 203.0.113.1
set routing-instances OT-VR instance-type virtual-router
set routing-instances OT-VR interface ge-0/0/2.20
set routing-instances OT-VR routing-options static route 10.30.0.0/16 next-hop 10.20.0.254
set security zones security-zone untrust interfaces ge-0/0/0.0
set security zones security-zone ot interfaces ge-0/0/2.20
"""


def test_interfaces_in_zones_and_routing_instance() -> None:
    """By hand: ge-0/0/0.0 untrust, ge-0/0/1.0 trust (IPv4 and IPv6), ge-0/0/2.20 ot in routing instance OT-VR."""
    rs = PARSER.parse(HIERARCHICAL, "srx.conf")
    assert {i.name: (i.zone, i.vrf) for i in rs.interfaces} == {
        "ge-0/0/0.0": ("untrust", ""), "ge-0/0/1.0": ("trust", ""), "ge-0/0/2.20": ("ot", "OT-VR")}
    trust = next(i for i in rs.interfaces if i.name == "ge-0/0/1.0")
    assert trust.networks == (ipaddress.ip_network("10.10.0.0/24"), ipaddress.ip_network("2001:db8:10::/64"))


def test_static_routes_master_rib_and_instance() -> None:
    """By hand: master IPv4 default and the discard route, then the inet6.0 default, and in OT-VR two equal-prefix
    routes to 10.30/16 (next-hop, preference 5; qualified next hop, preference 20). next-table is reported on its
    line (36) and left out."""
    rs = PARSER.parse(HIERARCHICAL, "srx.conf")
    seen = [(str(r.destination), str(r.next_hop), r.vrf, r.distance) for r in rs.routes]
    assert seen == [("0.0.0.0/0", "203.0.113.1", "", None), ("10.99.0.0/16", "None", "", None),
                    ("::/0", "2001:db8:10::fe", "", None), ("10.30.0.0/16", "10.20.0.254", "OT-VR", 5),
                    ("10.30.0.0/16", "10.20.0.253", "OT-VR", 20)]
    assert any(w.line == 36 and "next-table" in w.message for w in rs.warnings)


def test_route_lookup_prefers_lower_preference_and_stays_in_its_instance() -> None:
    """By hand: in OT-VR, 10.30.1.1 takes the preference-5 route via 10.20.0.254, out of ge-0/0/2.20 (zone ot);
    in the master instance it takes the default route out of untrust."""
    rs = PARSER.parse(HIERARCHICAL, "srx.conf")
    hit = route_lookup(rs, "10.30.1.1", "OT-VR")
    assert hit is not None and hit.route is not None and hit.route.distance == 5 and hit.zone == "ot"
    master = route_lookup(rs, "10.30.1.1", "")
    assert master is not None and master.zone == "untrust"


def test_display_set_form() -> None:
    """By hand: the display-set form gives the same facts: two interfaces, the master default and the OT-VR route."""
    rs = PARSER.parse(DISPLAY_SET, "srx.set")
    assert {i.name: (i.zone, i.vrf) for i in rs.interfaces} == {"ge-0/0/0.0": ("untrust", ""),
                                                               "ge-0/0/2.20": ("ot", "OT-VR")}
    assert [(str(r.destination), r.vrf) for r in rs.routes] == [("0.0.0.0/0", ""), ("10.30.0.0/16", "OT-VR")]
    assert rs.routes[1].span.line == 6


def test_static_routes_and_addressed_interfaces_alone_are_no_gap() -> None:
    """By hand: the display-set firewall states addresses, zones, a routing instance and static routes only; the
    hierarchical one adds a next-table route, left out and reported on its line (36)."""
    assert PARSER.parse(DISPLAY_SET, "srx.set").routing_gaps == []
    [gap] = PARSER.parse(HIERARCHICAL, "srx.conf").routing_gaps
    assert gap.span.line == 36 and "next-table" in gap.reason


def test_corpus_interfaces_read() -> None:
    """Batfish's junos-srx-1: ge-0/0/0.0 (10.12.0.1/24) is in zone untrust."""
    path = shared_path("firewall-configs", "juniper-srx", "batfish__junos-srx-1.cfg")
    rs = PARSER.parse(read_config_text(path), str(path))
    zones = {i.name: (i.zone, str(i.addresses[0])) for i in rs.interfaces}
    assert zones["ge-0/0/0.0"] == ("untrust", "10.12.0.1/24")


# -- routing gaps ----------------------------------------------------------------------------------------------
# Configs written from the Junos configuration reference (protocols, routing-options, firewall filter-based
# forwarding, advance-policy-based-routing, services ip-monitoring, l2-learning transparent mode, family
# ethernet-switching/bridge, DHCP/PPPoE clients, IPsec traffic selectors). Line numbers are the configs' own.

def gaps(text: str) -> dict[int, str]:
    """Routing gaps by line (one per line in these configs)."""
    found = PARSER.parse(text, "srx.set").routing_gaps
    assert len({g.span.line for g in found}) == len(found), found
    return {g.span.line: g.reason for g in found}


ROUTING_PROTOCOLS = """\
set interfaces ge-0/0/0 unit 0 family inet address 203.0.113.2/29
set interfaces ge-0/0/1 unit 0 family inet address 10.10.0.1/24
set security zones security-zone untrust interfaces ge-0/0/0.0
set protocols ospf area 0.0.0.0 interface ge-0/0/1.0
set protocols bgp group isp type external
set protocols bgp group isp neighbor 203.0.113.1 peer-as 64500
set protocols lldp interface all
set protocols router-advertisement interface ge-0/0/1.0
set protocols rip group r neighbor ge-0/0/1.0
deactivate protocols rip
set protocols isis disable
set protocols isis interface ge-0/0/1.0
set routing-instances OT instance-type virtual-router
set routing-instances OT interface ge-0/0/2.0
set routing-instances OT protocols ospf3 area 0.0.0.0 interface ge-0/0/2.0
set protocols sflow interfaces ge-0/0/1
"""


def test_dynamic_routing_protocols_are_gaps_unless_deactivated_or_disabled() -> None:
    """By hand: OSPF (line 4), BGP (5) and OSPFv3 in routing instance OT (15) are gaps; LLDP and router
    advertisements learn no route; RIP is deactivated and IS-IS disabled; sflow is not known to leave routing
    alone, so it is a gap too (16)."""
    found = gaps(ROUTING_PROTOCOLS)
    assert sorted(found) == [4, 5, 15, 16]
    assert found[4].startswith("OSPF is configured: routes it learns at run time are not in the config")
    assert "BGP" in found[5] and "OSPFv3" in found[15] and "routing instance OT" in found[15]
    assert "protocols sflow" in found[16] and "not known" in found[16]
    assert all(reason.endswith("so routing does not rule out paths through this firewall") for reason in found.values())


def test_hierarchical_protocol_gap_is_on_its_block_line() -> None:
    """By hand: the ``bgp {`` block opens on line 2."""
    text = "protocols {\n    bgp {\n        group isp {\n            neighbor 203.0.113.1 peer-as 64500;\n" \
           "        }\n    }\n}\nsecurity {\n    zones {\n        security-zone trust;\n    }\n}\n"
    assert list(gaps(text)) == [2]


ROUTE_SHARING = """\
set routing-options static route 0.0.0.0/0 next-hop 203.0.113.1
set routing-options router-id 10.0.0.1
set routing-options autonomous-system 64510
set routing-options forwarding-table export lb
set routing-options rib-groups leak import-rib [ inet.0 OT.inet.0 ]
set routing-options interface-routes rib-group inet leak
set routing-options generate route 10.0.0.0/8 policy summarize
set routing-instances OT instance-type virtual-router
set routing-instances OT routing-options instance-import from-master
set routing-options static route 10.50.0.0/16 next-hop 10.10.0.254
set routing-options static route 10.50.0.0/16 bfd-liveness-detection minimum-interval 300
set routing-instances OT routing-options static route 10.60.0.0/16 next-table inet.0
set security zones security-zone trust interfaces ge-0/0/1.0
set policy-options policy-statement lb then load-balance per-packet
"""


def test_routes_shared_generated_or_withdrawn_are_gaps() -> None:
    """By hand: rib-groups (5), interface-routes rib-group (6), generate (7), OT's instance-import (9), the BFD
    watched static route (11) and the next-table route that is left out (12, also a warning). The static routes,
    router-id, AS and forwarding-table export add no route."""
    rs = PARSER.parse(ROUTE_SHARING, "srx.set")
    found = {g.span.line: g.reason for g in rs.routing_gaps}
    assert [g.span.line for g in rs.routing_gaps] == [5, 6, 7, 9, 11, 12]
    assert "interface-routes rib-group" in found[6] and rs.routing_gaps[1].span.text == ROUTE_SHARING.splitlines()[5]
    assert "routing-options rib-groups" in found[5] and "routing-options generate" in found[7]
    assert "instance-import" in found[9] and "routing instance OT" in found[9]
    assert "BFD" in found[11] and "static route 10.50.0.0/16" in found[11]
    assert "next-table" in found[12] and any(w.line == 12 and "next-table" in w.message for w in rs.warnings)


POLICY_FORWARDING = """\
set interfaces ge-0/0/1 unit 0 family inet filter input FBF
set interfaces ge-0/0/1 unit 0 family inet address 10.10.0.1/24
set firewall family inet filter FBF term via-isp2 from source-address 10.10.0.0/25
set firewall family inet filter FBF term via-isp2 then routing-instance ISP2
set firewall family inet filter FBF term rest then accept
set firewall filter PROTECT term t1 then discard
set routing-instances ISP2 instance-type forwarding
set routing-instances ISP2 routing-options static route 0.0.0.0/0 next-hop 198.51.100.1
set security advance-policy-based-routing profile APBR rule web match dynamic-application junos:HTTP
set security advance-policy-based-routing profile APBR rule web then routing-instance ISP2
set security zones security-zone trust advance-policy-based-routing-profile APBR
set security zones security-zone trust interfaces ge-0/0/1.0
set services rpm probe isp1 test ping target address 203.0.113.1
set services ip-monitoring policy isp1-down match rpm-probe isp1
set services ip-monitoring policy isp1-down then preferred-route route 0.0.0.0/0 next-hop 198.51.100.1
"""


def test_filter_based_forwarding_apbr_and_ip_monitoring_are_gaps() -> None:
    """By hand: the FBF term's ``then routing-instance`` (4), the APBR rule's (10) and the ip-monitoring policy
    (14, its first line); the accept and discard terms and the forwarding instance itself are not gaps."""
    found = gaps(POLICY_FORWARDING)
    assert sorted(found) == [4, 10, 14]
    assert "firewall family inet filter FBF term via-isp2 then routing-instance ISP2" in found[4]
    assert "advance-policy-based-routing profile APBR rule web then routing-instance" in found[10]
    assert "ip-monitoring policy isp1-down" in found[14] and "preferred route" in found[14]


LAYER_TWO = """\
set protocols l2-learning global-mode transparent-bridge
set interfaces ge-0/0/3 unit 0 family ethernet-switching interface-mode access
set interfaces ge-0/0/3 unit 0 family ethernet-switching vlan members v10
set security zones security-zone l2-trust interfaces ge-0/0/3.0
set interfaces ge-0/0/4 unit 0 family bridge interface-mode access
set interfaces ge-0/0/4 unit 0 family bridge vlan-id 10
set routing-instances VS instance-type virtual-switch
"""

SWITCHING = """\
set interfaces ge-0/0/1 unit 0 family ethernet-switching vlan members vlan-trust
set vlans vlan-trust vlan-id 3
set vlans vlan-trust l3-interface irb.0
set interfaces irb unit 0 family inet address 192.168.1.1/24
set security zones security-zone trust interfaces irb.0
"""


def test_layer2_operation_is_a_gap() -> None:
    """By hand: transparent mode (1), an ethernet-switching port in a security zone (2), a bridge port (5) and a
    virtual-switch instance (7, its instance-type line)."""
    found = gaps(LAYER_TWO)
    assert sorted(found) == [1, 2, 5, 7]
    assert "transparent-bridge" in found[1]
    assert "ge-0/0/3.0" in found[2] and "family ethernet-switching" in found[2]
    assert "family bridge" in found[5] and "virtual-switch" in found[7]


def test_switching_ports_behind_an_irb_interface_are_not_gaps() -> None:
    """By hand: the branch SRX factory layout: switch ports in vlan-trust, routed by irb.0 in zone trust. Traffic
    between zones goes through irb.0, so its route lookup stands; no gap."""
    assert gaps(SWITCHING) == {}


RUN_TIME = """\
set interfaces ge-0/0/0 unit 0 family inet dhcp
set interfaces ge-0/0/5 unit 0 family inet6 dhcpv6-client client-type stateful
set interfaces pp0 unit 0 pppoe-options underlying-interface ge-0/0/6.0
set interfaces pp0 unit 0 family inet negotiate-address
set interfaces ge-0/0/7 unit 0 family inet unnumbered-address lo0.0
set interfaces ge-0/0/8 disable
set interfaces ge-0/0/8 unit 0 family inet address 10.8.0.1/24
set interfaces ge-0/0/9 unit 0 family inet address 10.9.0.1
set security ipsec vpn to-hq bind-interface st0.0
set security ipsec vpn to-hq traffic-selector ts1 local-ip 10.1.0.0/24
set security ipsec vpn to-hq traffic-selector ts1 remote-ip 10.200.0.0/16
set security remote-access profile ra-users ipsec-vpn ra-vpn
set security zones security-zone untrust interfaces ge-0/0/0.0
"""


def test_addresses_and_routes_learned_at_run_time_are_gaps() -> None:
    """By hand: DHCP (1), DHCPv6 (2), PPPoE's negotiated address (4), an unnumbered interface (5), a disabled
    interface whose address is still read (6), an address without prefix left out with a warning (8), IPsec
    traffic selectors (10) and remote access (12)."""
    rs = PARSER.parse(RUN_TIME, "srx.set")
    found = {g.span.line: g.reason for g in rs.routing_gaps}
    assert sorted(found) == [1, 2, 4, 5, 6, 8, 10, 12]
    assert "ge-0/0/0.0" in found[1] and "DHCP" in found[1]
    assert "DHCPv6" in found[2] and "PPP" in found[4] and "unnumbered" not in found[4]
    assert "borrows another interface's address" in found[5] and "ge-0/0/8.0 is disabled" in found[6]
    assert "no prefix length" in found[8] and any(w.line == 8 for w in rs.warnings)
    assert "traffic selectors" in found[10] and "security remote-access" in found[12]


UNREAD = """\
set groups node0 system host-name fw-a
set groups node0 interfaces fxp0 unit 0 family inet address 192.0.2.10/24
set groups ospf-base protocols ospf area 0.0.0.0 interface ge-0/0/1.0
set apply-groups "${node}"
set apply-groups ospf-base
set logical-systems LS1 interfaces ge-0/0/9 unit 0 family inet address 10.99.0.1/24
set security zones security-zone trust interfaces ge-0/0/1.0
"""


def test_statements_not_read_are_gaps() -> None:
    """By hand: the group applied on line 5 holds a routing protocol; ``${node}`` (line 4) matches every group,
    ospf-base among them; node0 alone sets only the management interface fxp0, which carries no transit traffic;
    logical systems (6) are not read."""
    found = gaps(UNREAD)
    assert sorted(found) == [4, 5, 6]
    assert "apply-groups ospf-base inherits protocols" in found[5]
    assert "logical-systems" in found[6]
    cluster_only = "".join(line for line in UNREAD.splitlines(keepends=True) if "ospf-base" not in line)
    assert list(gaps(cluster_only)) == [4]  # logical-systems, moved up two lines


CORPUS_GAPS = {
    "batfish__junos-srx-1.cfg": {105: "BGP"},
    "batfish__junos-srx-2.cfg": {89: "BGP"},
    "batfish__junos-srx-3.cfg": {83: "BGP"},
    "batfish__nat-source2.cfg": {14: "instance-type (none)"},
}


def test_corpus_gaps() -> None:
    """Every SRX config of the corpus parses; inspected by hand: the three Batfish testbed firewalls run BGP (their
    ``vpn`` group is deactivated, ``physical`` is not; ``routing-options forwarding-table export`` and the
    autonomous system add no route); nat-source2 puts ge-0/0/0.0 in routing instance RI without an instance-type.
    No other file has a protocol, routing option, filter-based forwarding, layer-2 or run-time address: no gap."""
    directory = shared_path("firewall-configs", "juniper-srx")
    for path in sorted(directory.iterdir()):
        rs = PARSER.parse(read_config_text(path), str(path))
        found = {g.span.line: g.reason for g in rs.routing_gaps}
        expected = CORPUS_GAPS.get(path.name, {})
        assert sorted(found) == sorted(expected), path.name
        assert all(expected[line] in found[line] for line in expected), path.name


def test_groups_with_only_policy_defaults_are_no_gap() -> None:
    """By hand: a group setting zone screens and policy logging for every zone holds no interface, route or zone
    member: applying it leaves routing as written."""
    text = ("set groups defaults security zones security-zone <*> screen untrust-screen\n"
            "set groups defaults security policies from-zone <*> to-zone <*> policy <*> then log session-close\n"
            "set apply-groups defaults\n"
            "set security zones security-zone trust interfaces ge-0/0/1.0\n")
    assert gaps(text) == {}
    assert list(gaps(text.replace("screen untrust-screen", "interfaces ge-0/0/2.0"))) == [3]


HIDDEN_ROUTES = """\
set routing-options static route 10.70.0.0/16 next-hop 10.10.0.254
set routing-options static route 10.70.0.0/16 no-install
set routing-options static rib-group leak
set routing-options forwarding-table export lb
set routing-options forwarding-table export filter-fib
set policy-options policy-statement lb then load-balance per-packet
set policy-options policy-statement filter-fib term t1 from route-filter 10.80.0.0/16 exact
set policy-options policy-statement filter-fib term t1 then reject
set routing-instances OT instance-type virtual-router
set routing-instances OT routing-options static defaults no-install
set security zones security-zone trust interfaces ge-0/0/1.0
"""


def test_routes_kept_out_of_the_forwarding_table_are_gaps() -> None:
    """By hand: a no-install route (2), static rib-group (3), a forwarding-table export policy that rejects (5;
    the load-balancing one on line 4 installs every route) and OT's no-install default (10)."""
    found = gaps(HIDDEN_ROUTES)
    assert sorted(found) == [2, 3, 5, 10]
    assert "10.70.0.0/16 is no-install" in found[2] and "static rib-group" in found[3]
    assert "forwarding-table export filter-fib does reject" in found[5] and "routing instance OT" in found[10]
