"""FortiGate interface addresses and static routes (``system interface``, ``system zone``, ``router static``).

Config written from the FortiOS CLI reference: ``set ip A M``, ``config secondaryip`` with ``set secondary-IP
enable``, ``set vrf``, ``config router static`` with ``dst``/``gateway``/``device``/``distance``/``vrf``.
"""

from __future__ import annotations

import ipaddress

from plantgate.firewalls.base import read_config_text
from plantgate.firewalls.fortigate.parser import PARSER
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
