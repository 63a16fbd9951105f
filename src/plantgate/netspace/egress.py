"""Which destinations a firewall certainly sends out of another zone's interface.

A destination NAT hands the packet to the routing table: a VIP on any interface, or a NAT rule
evaluated without its egress zone, rewrites packets on every zone pair, yet the device sends the
translated packet out of the interface whose network holds the new address, and nowhere else.
Counting it on every pair reports paths the device never forwards, and multiplies the work of
every pair by the number of such rules.

Only what the config proves is used: a destination inside a network connected to an interface of
another zone leaves there, unless a more specific static route (toward any other interface, or
one PlantGate cannot place) may take it elsewhere. Networks connected on the pair's own zone stay.
Static routes alone decide nothing here (a route learned by OSPF or BGP, which the configs do
not hold, may be more specific), and policy-based routing is not read. So a firewall with a
routing gap (``Ruleset.routing_gaps``: dynamic routing, policy routing, layer-2 operation, an
address learned at run time, a route not read) proves nothing: no destination is cut there.
"""

from __future__ import annotations

from plantgate.firewalls.routes import connected_networks, egress_interface
from plantgate.firewalls.ruleset import AddressSet, IPNetwork, Ruleset
from plantgate.netspace.space import FlowSet, Node, PacketSpace


def _destinations(space: PacketSpace, network: IPNetwork) -> Node:
    return space.address_node("dst", AddressSet((network,)))


def connected_elsewhere(space: PacketSpace, ruleset: Ruleset, zone: str) -> FlowSet:
    """Packets whose destination the firewall's connected networks send out of a zone other than ``zone``."""
    if ruleset.routing_gaps:  # a route the config does not hold may take any destination anywhere
        return space.empty()
    key = ("connected-elsewhere", id(ruleset), zone)
    hit = space.memo.get(key)
    if hit is not None and hit[0] is ruleset:
        return FlowSet(space, hit[1])
    node = space.false
    for interface, network in connected_networks(ruleset):
        if not interface.zone or interface.zone == zone:
            continue
        part = _destinations(space, network)
        for route in ruleset.routes:
            inside = (route.destination.version == network.version and route.destination != network
                      and route.destination.subnet_of(network))  # type: ignore[arg-type]
            if inside:
                egress = egress_interface(ruleset, route)
                if egress is None or egress.zone != interface.zone:
                    part = part & ~_destinations(space, route.destination)
        node = node | part
    for interface, network in connected_networks(ruleset):
        if interface.zone == zone:
            node = node & ~_destinations(space, network)
    space.memo[key] = (ruleset, node)
    return FlowSet(space, node)
