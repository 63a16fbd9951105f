"""Interfaces and static routes, vendor-neutral: where a firewall's zones sit in address space.

Every config already says which networks each interface faces (its addresses and their
prefixes) and where other networks lie (static routes). Those facts let PlantGate derive a
zone map and check the treaty's, instead of trusting routing facts typed in by hand.

Semantics, shared by all vendors:
- An ``Interface`` belongs to one config zone (the security zone, or the ASA nameif) or to
  none (``zone`` empty: an interface no policy can name). Its addresses carry their prefix,
  so each gives a connected network.
- ``vrf`` is the routing table the interface or route belongs to (VRF, virtual router,
  routing instance); empty is the vendor's default table.
- A route that PlantGate cannot read is a ParseWarning and is left out: routes are facts,
  not permissions, so a guessed route would be a wrong fact, not a wider one.
- What makes the configured routes an incomplete account of where a packet goes (a dynamic
  routing protocol, policy-based forwarding, a layer-2 or virtual-wire interface, an address
  learned at run time, a route or address PlantGate could not read) is a ``RoutingGap`` with
  its line. A firewall with a gap keeps every path through it: the routes it states are then
  facts to compare (PG-ESTATE-005), never grounds to drop a path.
- iptables and nftables rulesets hold no interface addresses and no routes (those live in
  ``ip addr``/``ip route``, not in the ruleset file): both lists stay empty unless the treaty
  entry names the host's iproute2 output as its ``routing:`` file (``linux.ip_routes``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plantgate.firewalls.ruleset import IPNetwork, SourceSpan

if TYPE_CHECKING:
    from plantgate.firewalls.ruleset import Ruleset

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface

KEEPS_PATHS = "so routing does not rule out paths through this firewall"
"""How every routing gap's reason ends: what the gap means for end-to-end paths."""

CONNECTED_DISTANCE = 0
"""Connected networks beat a static route of the same prefix length, as on every vendor."""


@dataclass(frozen=True, slots=True)
class Interface:
    """One layer-3 interface: its config name, config zone, addresses and routing table."""

    name: str
    zone: str
    addresses: tuple[IPInterface, ...]
    span: SourceSpan
    vrf: str = ""

    @property
    def networks(self) -> tuple[IPNetwork, ...]:
        """The connected networks (address and prefix, host bits cleared)."""
        return tuple(address.network for address in self.addresses)

    @property
    def config_names(self) -> frozenset[str]:
        """The names a zone map or a path may use for it: its config zone, and its own name (Linux and
        FortiGate rules name interfaces, and a Linux zone map may name one its rules do not)."""
        return frozenset({self.zone, self.name} - {""})


@dataclass(frozen=True, slots=True)
class StaticRoute:
    """One static route: traffic to ``destination`` leaves by ``interface`` and/or via ``next_hop``.

    ``distance`` is the administrative distance (or metric, where the vendor has only that)
    when the config gives one; None means the vendor's default.
    """

    destination: IPNetwork
    span: SourceSpan
    next_hop: IPAddress | None = None
    interface: str | None = None
    vrf: str = ""
    distance: int | None = None

    @property
    def is_default(self) -> bool:
        return self.destination.prefixlen == 0


@dataclass(frozen=True, slots=True)
class RoutingGap:
    """A statement that makes the config's static routes and connected networks incomplete."""

    span: SourceSpan
    reason: str

    def __str__(self) -> str:
        return f"{self.span.file}:{self.span.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """The answer of ``route_lookup``: the egress interface (if known), its zone, the route used.

    ``route`` is None for a connected network. ``interface`` is None when a static route names
    neither an interface nor a next hop inside a connected network.
    """

    network: IPNetwork
    interface: Interface | None
    route: StaticRoute | None

    @property
    def zone(self) -> str:
        return self.interface.zone if self.interface is not None else ""


def connected_networks(ruleset: Ruleset, vrf: str | None = None) -> Iterator[tuple[Interface, IPNetwork]]:
    """Every (interface, connected network) of the firewall, in one routing table or (None) in all."""
    for interface in ruleset.interfaces:
        if vrf is None or interface.vrf == vrf:
            for network in interface.networks:
                yield interface, network


def interface_named(ruleset: Ruleset, name: str, vrf: str | None = None) -> Interface | None:
    """The interface called ``name``, else the one whose zone is ``name`` (ASA routes name the nameif)."""
    candidates = [i for i in ruleset.interfaces if vrf is None or i.vrf == vrf]
    by_name = next((i for i in candidates if i.name == name), None)
    return by_name if by_name is not None else next((i for i in candidates if i.zone == name), None)


def route_lookup(ruleset: Ruleset, address: IPAddress | str, vrf: str | None = None) -> RouteMatch | None:
    """The longest-prefix match for ``address`` over connected networks and static routes.

    ``vrf`` None searches every routing table (right for a firewall with one, which is most);
    a name restricts the search to that table. Equal prefixes: connected first, then the lower
    distance, then the first written. None when nothing, not even a default route, matches.
    """
    target = ipaddress.ip_address(address) if isinstance(address, str) else address
    best: tuple[tuple[int, int, int], RouteMatch] | None = None
    order = 0
    for interface, network in connected_networks(ruleset, vrf):
        order += 1
        if network.version == target.version and target in network:
            key = (-network.prefixlen, CONNECTED_DISTANCE, order)
            if best is None or key < best[0]:
                best = (key, RouteMatch(network, interface, None))
    for route in ruleset.routes:
        order += 1
        if vrf is not None and route.vrf != vrf:
            continue
        if route.destination.version == target.version and target in route.destination:
            key = (-route.destination.prefixlen, route.distance if route.distance is not None else 1, order)
            if best is None or key < best[0]:
                best = (key, RouteMatch(route.destination, egress_interface(ruleset, route), route))
    return best[1] if best else None


def egress_interface(ruleset: Ruleset, route: StaticRoute) -> Interface | None:
    """The interface a static route leaves by: the one it names, else the one whose network holds the next hop."""
    if route.interface:
        named = interface_named(ruleset, route.interface, route.vrf)
        return named if named is not None else interface_named(ruleset, route.interface)
    if route.next_hop is None:
        return None
    for interface, network in connected_networks(ruleset, route.vrf):
        if network.version == route.next_hop.version and route.next_hop in network:
            return interface
    return None


def routes_by_prefix(ruleset: Ruleset, vrf: str) -> list[tuple[IPNetwork, list[RouteMatch]]]:
    """One routing table's destinations, longest prefix first, each with every route to it.

    Connected networks and static routes of any distance are kept side by side: equal routes
    share the traffic and a floating backup carries it when the primary fails, so each may.
    """
    table: dict[IPNetwork, list[RouteMatch]] = {}
    for interface, network in connected_networks(ruleset, vrf):
        table.setdefault(network, []).append(RouteMatch(network, interface, None))
    for route in ruleset.routes:
        if route.vrf == vrf:
            table.setdefault(route.destination, []).append(
                RouteMatch(route.destination, egress_interface(ruleset, route), route))
    return sorted(table.items(), key=lambda item: -item[0].prefixlen)
