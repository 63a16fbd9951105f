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


def test_corpus_interfaces_read() -> None:
    """Batfish's junos-srx-1: ge-0/0/0.0 (10.12.0.1/24) is in zone untrust."""
    path = shared_path("firewall-configs", "juniper-srx", "batfish__junos-srx-1.cfg")
    rs = PARSER.parse(read_config_text(path), str(path))
    zones = {i.name: (i.zone, str(i.addresses[0])) for i in rs.interfaces}
    assert zones["ge-0/0/0.0"] == ("untrust", "10.12.0.1/24")
