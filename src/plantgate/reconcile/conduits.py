"""A conduit as an exact set of new flows: initiator side to responder side, on its services.

Sessions are what a firewall permits, so a conduit's flows run from the initiating zone
(narrowed to ``sources``) to the responding zone (narrowed to ``destinations``) on the
registered services, whatever the direction the data itself travels.
"""

from __future__ import annotations

from plantgate.firewalls.ruleset import ANY_ADDRESS, AddressSet, Service
from plantgate.model import Treaty
from plantgate.model.conduits import Conduit, ConduitService
from plantgate.model.networks import IPNetwork, cidr, cidrs
from plantgate.netspace import FlowSet, PacketSpace


def zone_addresses(treaty: Treaty, zone_id: str) -> AddressSet:
    """A zone's declared networks; a zone that declares none stands for any address."""
    zone = treaty.zone(zone_id)
    if zone is None or not zone.networks:
        return ANY_ADDRESS
    return AddressSet(tuple(zone.ip_networks()), names=(zone_id,))


def narrowed_addresses(treaty: Treaty, zone_id: str, items: list[str]) -> AddressSet:
    """A conduit side: its CIDRs and asset addresses, or the whole zone when it names none."""
    if not items:
        return zone_addresses(treaty, zone_id)
    networks: list[IPNetwork] = []
    for item in items:
        if (network := cidr(item)) is not None:
            networks.append(network)
        elif (asset := treaty.asset(item)) is not None:
            networks.extend(cidrs(asset.addresses))
    return AddressSet(tuple(networks), names=tuple(items))


def services_of(conduit_service: ConduitService) -> list[Service]:
    protocol = conduit_service.protocol_number
    if protocol is None:
        return [Service()]
    if conduit_service.icmp_types:
        return [Service(protocol, icmp_type=t) for t in conduit_service.icmp_types]
    return [Service(protocol, dst_ports=tuple(conduit_service.port_ranges()))]


def conduit_flows(space: PacketSpace, treaty: Treaty, conduit: Conduit) -> FlowSet:
    """Every new flow the conduit allows, as an exact set."""
    sources = narrowed_addresses(treaty, conduit.initiating_zone, conduit.sources)
    destinations = narrowed_addresses(treaty, conduit.responding_zone, conduit.destinations)
    services = space.empty()
    for item in conduit.services:
        for service in services_of(item):
            services = services | space.service(service)
    return space.addresses("src", sources) & space.addresses("dst", destinations) & services


def register_flows(space: PacketSpace, treaty: Treaty, initiating: str, responding: str) -> FlowSet:
    """The union of every conduit whose sessions go from ``initiating`` to ``responding``."""
    total = space.empty()
    for conduit in treaty.conduits:
        if conduit.initiating_zone == initiating and conduit.responding_zone == responding:
            total = total | conduit_flows(space, treaty, conduit)
    return total
