"""A translated destination leaves by the interface whose connected network holds it.

FortiGate: wan1 203.0.113.1/24, dmz 10.40.1.1/24, ot 10.20.0.1/24. VIP "web" on any interface
maps 203.0.113.20 to the DMZ server 10.40.1.20. Policy 1 lets wan1 reach the VIP in the DMZ;
policy 2 lets OT out to wan1 to any destination.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from plantgate.firewalls.base import parse_config
from plantgate.netspace import Flow, PacketSpace
from plantgate.reconcile.nat_view import endpoint_flows

CONFIG = """config system interface
    edit "wan1"
        set ip 203.0.113.1 255.255.255.0
    next
    edit "dmz"
        set ip 10.40.1.1 255.255.255.0
    next
    edit "ot"
        set ip 10.20.0.1 255.255.255.0
    next
end
{routes}config firewall vip
    edit "web"
        set extip 203.0.113.20
        set mappedip "10.40.1.20"
        set extintf "any"
    next
end
config firewall policy
    edit 1
        set srcintf "wan1"
        set dstintf "dmz"
        set action accept
        set srcaddr "all"
        set dstaddr "web"
        set schedule "always"
        set service "ALL"
    next
    edit 2
        set srcintf "ot"
        set dstintf "wan1"
        set action accept
        set srcaddr "all"
        set dstaddr "all"
        set schedule "always"
        set service "ALL"
    next
end
"""


def flows(tmp_path: Path, routes: str = "") -> tuple[PacketSpace, dict[tuple[str, str], object]]:
    path = tmp_path / "fw.conf"
    path.write_text(CONFIG.format(routes=routes))
    ruleset = parse_config(path, "fortigate")
    space = PacketSpace()
    return space, {pair: endpoint_flows(space, ruleset, *pair) for pair in (("ot", "wan1"), ("wan1", "dmz"))}


def to_server(src: str) -> Flow:
    return Flow(ipaddress.ip_address(src), ipaddress.ip_address("10.40.1.20"), 6, 40000, 443)


def test_a_vip_on_any_interface_reaches_its_server_only_toward_the_dmz(tmp_path: Path) -> None:
    """By hand: an OT host sending to 203.0.113.20 is translated to 10.40.1.20, which the device sends
    out of dmz (its connected network), not wan1: the ot -> wan1 pair holds no flow translated by the
    VIP, while wan1 -> dmz does (policy 1). Untranslated OT traffic to the internet stays on ot -> wan1
    (the cut is for translated destinations only: untranslated ones are placed by the treaty's zones)."""
    _, pairs = flows(tmp_path)
    ot_out = pairs[("ot", "wan1")]
    assert not any(part.rules for part in ot_out)  # type: ignore[attr-defined]
    assert any(part.endpoints.contains(Flow(ipaddress.ip_address("10.20.0.9"), ipaddress.ip_address("8.8.8.8"),
                                            6, 40000, 443)) for part in ot_out)  # type: ignore[attr-defined]
    assert any(part.endpoints.contains(to_server("198.51.100.7")) for part in pairs[("wan1", "dmz")])  # type: ignore[attr-defined]


def test_a_more_specific_static_route_keeps_the_flow(tmp_path: Path) -> None:
    """A static route for 10.40.1.16/28 via a gateway on wan1's network (203.0.113.254) may send the
    server out of wan1: then the ot -> wan1 pair keeps the translated flow (widened, not cut)."""
    routes = """config router static
    edit 1
        set dst 10.40.1.16 255.255.255.240
        set gateway 203.0.113.254
        set device "wan1"
    next
end
"""
    _, pairs = flows(tmp_path, routes)
    assert any(part.rules and part.endpoints.contains(to_server("10.20.0.9"))  # type: ignore[attr-defined]
               for part in pairs[("ot", "wan1")])


def test_dynamic_routing_keeps_the_flow(tmp_path: Path) -> None:
    """By hand: BGP is in use (an AS and a neighbor): a route it learns at run time may be more specific
    than the connected 10.40.1.0/24 and send the server out of wan1, so nothing is cut: the ot -> wan1
    pair keeps the flow the VIP translates (widened), as with the static route above."""
    routes = """config router bgp
    set as 65001
    config neighbor
        edit "203.0.113.254"
            set remote-as 65002
        next
    end
end
"""
    _, pairs = flows(tmp_path, routes)
    assert any(part.rules and part.endpoints.contains(to_server("10.20.0.9"))  # type: ignore[attr-defined]
               for part in pairs[("ot", "wan1")])
