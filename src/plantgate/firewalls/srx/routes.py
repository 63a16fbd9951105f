"""Junos SRX logical-interface addresses and static routes (global and per routing instance).

Syntax, from the Junos configuration reference:
- ``interfaces IFD unit N family inet|inet6 address A/L`` gives logical interface ``IFD.N``;
- ``security zones security-zone Z interfaces IFD.N`` puts it in zone Z (a name without a
  unit means unit 0);
- ``routing-options static route P next-hop H`` (several next hops are equal-cost routes;
  ``qualified-next-hop H preference D``; ``discard``/``reject`` drop; ``preference`` is the
  distance), IPv6 under ``routing-options rib inet6.0 static``;
- ``routing-instances R interface IFD.N`` and ``routing-instances R routing-options static ...``
  put interfaces and routes in routing instance R; the master instance is the default table.
``next-table`` (a lookup in another table) is reported and left out: its egress is not a hop.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.routes import Interface, IPAddress, IPInterface, StaticRoute
from plantgate.firewalls.ruleset import IPNetwork, SourceSpan
from plantgate.firewalls.srx.hierarchy import ConfigNode

Spanner = Callable[[ConfigNode], SourceSpan]
Warn = Callable[[ConfigNode, str], None]
DROP_NEXT_HOPS = frozenset({"discard", "reject"})
ROUTE_ATTRIBUTES = frozenset({
    "preference", "metric", "tag", "no-readvertise", "readvertise", "retain", "no-retain", "install",
    "no-install", "active", "passive", "resolve", "no-resolve", "community", "as-path", "bfd-liveness-detection",
    "description",
})


def _unit_name(name: str) -> str:
    return name if "." in name else f"{name}.0"


def interfaces(root: ConfigNode, span: Spanner, warn: Warn) -> list[Interface]:
    """Every logical interface with an address, in its security zone and routing instance."""
    zone_of: dict[str, str] = {}
    zones = root.find("security", "zones", "security-zone")
    for zone in zones.kids() if zones else []:
        members = zone.child("interfaces")
        for member in members.kids() if members else []:
            zone_of[_unit_name(member.word)] = zone.word
    instance_of: dict[str, str] = {}
    instances = root.child("routing-instances")
    for instance in instances.kids() if instances else []:
        members = instance.child("interface")
        for member in members.kids() if members else []:
            instance_of[_unit_name(member.word)] = instance.word
    out: list[Interface] = []
    physical = root.child("interfaces")
    for ifd in physical.kids() if physical else []:
        units = ifd.child("unit")
        for unit in units.kids() if units else []:
            name = f"{ifd.word}.{unit.word}"
            addresses = [a for family in ("inet", "inet6")
                         for a in _addresses(unit.find("family", family, "address"), name, warn)]
            if addresses:
                out.append(Interface(name, zone_of.get(name, ""), tuple(addresses), span(unit),
                                     instance_of.get(name, "")))
    return out


def _addresses(node: ConfigNode | None, name: str, warn: Warn) -> list[IPInterface]:
    out: list[IPInterface] = []
    for item in node.kids() if node else []:
        try:
            address = ipaddress.ip_interface(item.word)
        except ValueError:
            warn(item, f"interface {name}: address {item.word!r} is not ADDRESS/LENGTH; its connected network "
                       "is not known")
            continue
        if "/" not in item.word:
            warn(item, f"interface {name}: address {item.word!r} has no prefix length; its connected network "
                       "is not known")
            continue
        out.append(address)
    return out


def static_routes(root: ConfigNode, span: Spanner, warn: Warn) -> list[StaticRoute]:
    """The master instance's and every routing instance's static routes, IPv4 and IPv6."""
    tables: list[tuple[str, ConfigNode | None]] = [("", root.child("routing-options"))]
    instances = root.child("routing-instances")
    tables += [(i.word, i.child("routing-options")) for i in (instances.kids() if instances else [])]
    routes: list[StaticRoute] = []
    for instance, options in tables:
        if options is None:
            continue
        statics = [options.child("static")]
        rib = options.child("rib")
        statics += [r.child("static") for r in (rib.kids() if rib else [])]
        for static in statics:
            route_node = static.child("route") if static else None
            for destination in route_node.kids() if route_node else []:
                routes += _routes(destination, instance, span, warn)
    return routes


def _routes(node: ConfigNode, instance: str, span: Spanner, warn: Warn) -> list[StaticRoute]:
    try:
        destination: IPNetwork = ipaddress.ip_network(node.word, strict=False)
    except ValueError:
        warn(node, f"static route {node.word!r}: not a prefix; route left out")
        return []
    preference = node.find("preference")
    distance = int(preference.words()[0]) if preference and preference.words() and is_decimal(
        preference.words()[0]) else None
    evidence = span(node)
    out: list[StaticRoute] = []
    for kid in node.kids():
        if kid.word == "next-hop":
            for hop in kid.kids():
                out.append(_hop(destination, hop.word, instance, distance, evidence))
        elif kid.word == "qualified-next-hop":
            for hop in kid.kids():
                own = hop.find("preference")
                own_distance = int(own.words()[0]) if own and own.words() and is_decimal(own.words()[0]) else distance
                out.append(_hop(destination, hop.word, instance, own_distance, evidence))
        elif kid.word in DROP_NEXT_HOPS:
            out.append(StaticRoute(destination, evidence, None, None, instance, distance))
        elif kid.word == "next-table":
            warn(kid, f"static route {node.word}: next-table (a lookup in another routing table) is not followed; "
                      "route left out")
            return []
        elif kid.word not in ROUTE_ATTRIBUTES:
            warn(kid, f"static route {node.word}: {kid.word!r} not understood; route left out")
            return []
    if not out:
        warn(node, f"static route {node.word}: no next hop; route left out")
    return out


def _hop(destination: IPNetwork, word: str, instance: str, distance: int | None,
         evidence: SourceSpan) -> StaticRoute:
    """A next hop is an address, or a point-to-point interface (``st0.0``) when it is not one."""
    try:
        address: IPAddress = ipaddress.ip_address(word)
    except ValueError:
        return StaticRoute(destination, evidence, None, _unit_name(word), instance, distance)
    return StaticRoute(destination, evidence, address, None, instance, distance)
