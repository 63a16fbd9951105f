"""PAN-OS layer-3 interface addresses and virtual-router static routes.

Syntax, from the PAN-OS configuration (XML schema, ``set`` and brace forms share one tree):
- ``network interface ethernet|aggregate-ethernet NAME layer3 ip ADDRESS``, their ``layer3 units NAME.N``
  subinterfaces, ``vlan units``, ``loopback units`` and ``tunnel units`` (``ip ADDRESS``), and
  ``layer3 ipv6 address ADDRESS``. An address is ``A/L`` or the name of an address object;
- a zone lists its interfaces under ``zone Z network layer3``;
- ``network virtual-router VR interface [ ... ]`` places interfaces in a virtual router;
  ``network virtual-router VR routing-table ip|ipv6 static-route R destination P nexthop
  ip-address|ipv6-address H interface I admin-dist D`` (``nexthop discard`` / ``next-vr`` carry no address).
A template's ``config devices`` holds the same tree for a Panorama device group. The Advanced
Routing Engine's ``logical-router`` is reported, not read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.panos.xml_syntax import PanNode
from plantgate.firewalls.routes import Interface, IPAddress, IPInterface, StaticRoute
from plantgate.firewalls.ruleset import IPNetwork, SourceSpan

INTERFACE_KINDS = ("ethernet", "aggregate-ethernet")
UNIT_KINDS = ("vlan", "loopback", "tunnel")
NEXTHOP_ADDRESS = ("ip-address", "ipv6-address")
NEXTHOP_WITHOUT_ADDRESS = ("discard", "next-vr")

Spanner = Callable[[PanNode], SourceSpan]
Warn = Callable[[int, str], None]
AddressObject = Callable[[str], str | None]
"""An address object's ``ip-netmask`` by name, None when there is no such object."""


def _names(node: PanNode | None) -> list[str]:
    """A member list whichever form wrote it: ``<entry name=...>`` children, values, or bare brace items."""
    if node is None:
        return []
    named = [c.name if c.tag == "entry" else c.tag for c in node.children
             if (c.tag == "entry" and c.name) or (not c.values and not c.children)]
    return [n for n in named if n] + list(node.values)


def _layer3_nodes(network: PanNode) -> Iterator[tuple[str, PanNode]]:
    """(interface name, node holding its ``ip``/``ipv6``) for every layer-3 interface and unit."""
    interface = network.child("interface")
    if interface is None:
        return
    for kind in INTERFACE_KINDS:
        for entry in interface.entries(kind):
            layer3 = entry.child("layer3")
            if layer3 is None or entry.name is None:
                continue
            yield entry.name, layer3
            for unit in layer3.entries("units"):
                if unit.name:
                    yield unit.name, unit
    for kind in UNIT_KINDS:
        holder = interface.child(kind)
        for unit in holder.entries("units") if holder else []:
            if unit.name:
                yield unit.name, unit


def interfaces(networks: list[PanNode], zone_holders: list[PanNode], span: Spanner, warn: Warn,
               address_object: AddressObject) -> list[Interface]:
    """Every layer-3 interface with an address, in its zone and virtual router."""
    zone_of = {member: zone.name for holder in zone_holders for zone in holder.entries("zone") if zone.name
               for member in _names(zone.path("network", "layer3"))}
    out: list[Interface] = []
    for network in networks:
        router_of = {member: router.name for router in network.entries("virtual-router") if router.name
                     for member in _names(router.child("interface"))}
        for name, node in _layer3_nodes(network):
            texts = _names(node.child("ip")) + _names(node.path("ipv6", "address"))
            addresses = [a for t in texts if (a := _address(t, node, warn, address_object)) is not None]
            if addresses:
                out.append(Interface(name, zone_of.get(name, ""), tuple(addresses), span(node),
                                     router_of.get(name, "")))
        logical = network.child("logical-router")
        if logical is not None:
            warn(logical.line, "logical-router (Advanced Routing Engine) is not read: its interfaces' routing "
                 "tables and static routes are unknown")
    return out


def _address(text: str, node: PanNode, warn: Warn, address_object: AddressObject) -> IPInterface | None:
    literal = text if "/" in text else address_object(text)
    if literal is None:
        try:
            ipaddress.ip_address(text)
        except ValueError:
            warn(node.line, f"interface address {text!r} is neither ADDRESS/LENGTH nor an address object with "
                 "ip-netmask; its connected network is not known")
            return None
        warn(node.line, f"interface address {text!r} has no prefix length; its connected network is not known")
        return None
    try:
        return ipaddress.ip_interface(literal)
    except ValueError:
        warn(node.line, f"interface address {text!r} ({literal!r}) is not ADDRESS/LENGTH; its connected network "
             "is not known")
        return None


def static_routes(networks: list[PanNode], span: Spanner, warn: Warn) -> list[StaticRoute]:
    """Every virtual router's IPv4 and IPv6 static routes; an unreadable one is a warning, left out."""
    routes: list[StaticRoute] = []
    for network in networks:
        for router in network.entries("virtual-router"):
            for family in ("ip", "ipv6"):
                table = router.path("routing-table", family)
                for entry in table.entries("static-route") if table else []:
                    route = _route(entry, router.name or "", span, warn)
                    if route is not None:
                        routes.append(route)
    return routes


def _route(entry: PanNode, router: str, span: Spanner, warn: Warn) -> StaticRoute | None:
    name = entry.name
    try:
        destination: IPNetwork = ipaddress.ip_network(entry.text("destination"), strict=False)
    except ValueError:
        warn(entry.line, f"static route {name}: destination {entry.text('destination')!r} is not a prefix "
             "(an address object is not resolved here); route left out")
        return None
    nexthop = entry.child("nexthop")
    next_hop: IPAddress | None = None
    for kind in nexthop.children if nexthop else []:
        if kind.tag in NEXTHOP_ADDRESS and kind.values:
            try:
                next_hop = ipaddress.ip_address(kind.values[-1])
            except ValueError:
                warn(kind.line, f"static route {name}: next hop {kind.values[-1]!r} is not an address "
                     "(an address object or FQDN is not resolved here); route left out")
                return None
        elif kind.tag == "fqdn":
            warn(kind.line, f"static route {name}: next hop FQDN {kind.text('') or ' '.join(kind.values)!r} is "
                 "resolved at run time; route left out")
            return None
        elif kind.tag not in NEXTHOP_WITHOUT_ADDRESS:
            warn(kind.line, f"static route {name}: next hop type {kind.tag!r} not understood; route left out")
            return None
    distance_text = entry.text("admin-dist")
    distance = int(distance_text) if is_decimal(distance_text) else None
    return StaticRoute(destination, span(entry), next_hop, entry.text("interface") or None, router, distance)
