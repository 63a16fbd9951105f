"""Where a firewall's own routes send a hop's packets: the destinations it carries to the next zone.

A path crosses firewall F from zone A into zone B only for the destinations F routes out of an
interface facing B; a path whose every destination F routes elsewhere, or not at all, is one
routing makes impossible. F's table is its connected networks and static routes, longest prefix
first (``firewalls.routes``). Every route to the same prefix counts, whatever its distance: equal
ones share the traffic and a floating backup carries it when the primary fails. A route whose
egress interface is not known, or maps to no treaty zone, may carry the packet anywhere, so it
counts toward B (widening); a destination with no route at all is dropped by F.

Routes decide only where they are the whole story: F states interface addresses, none of its
statements is a routing gap (dynamic routing, policy-based forwarding, layer-2 operation, an
unread route, ``Ruleset.routing_gaps``), and the hop's ingress interfaces are among those
addresses (their routing table decides). Otherwise every destination is carried and the reason
is given. A NAT rule that names its egress interface (ASA NAT divert, ``NatRule.sets_egress``) sends
what it translates out of that interface without a route lookup: reach takes those packets where the
rule places them and routes every other packet. Interface failures that would move traffic to a
shorter prefix are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from plantgate.firewalls.routes import RouteMatch, routes_by_prefix
from plantgate.firewalls.ruleset import AddressSet
from plantgate.netspace.space import FlowSet, PacketSpace
from plantgate.reconcile.boundary import BoundaryFirewall
from plantgate.reconcile.topology import Hop


@dataclass(frozen=True)
class HopRouting:
    """The destinations a hop's firewall routes toward the hop's next zone; None: routes not followed."""

    carried: FlowSet | None
    note: str


def facing_zones(firewall: BoundaryFirewall, match: RouteMatch) -> set[str]:
    """The treaty zones a route leaves toward (through the zone map); empty when not known.

    A zone map key naming the very interface says it; otherwise each treaty zone entered through the
    interface's config zone or name (Linux interfaces no rule names all sit in ``*``, which several
    treaty zones may share).
    """
    if match.interface is None:
        return set()
    exact = firewall.entry.zones.get(match.interface.name)
    if exact is not None:
        return {exact}
    names = match.interface.config_names
    return {zone for zone, config_names in firewall.config_zones_of.items() if names & set(config_names)}


def hop_routing(space: PacketSpace, hop: Hop) -> HopRouting:
    """What ``hop``'s firewall routes from ``hop.from_zone``'s interfaces toward ``hop.to_zone``."""
    ruleset = hop.firewall.ruleset
    if not ruleset.interfaces:
        return HopRouting(None, f"{hop.firewall_id}: the config states no interface addresses, so its routes are "
                                "not known; every path through it is taken")
    if ruleset.routing_gaps:
        gap = ruleset.routing_gaps[0]
        more = f" (and {len(ruleset.routing_gaps) - 1} more)" if len(ruleset.routing_gaps) > 1 else ""
        return HopRouting(None, f"{hop.firewall_id}: routes not followed: {gap}{more}")
    ingress = {name for name, _ in hop.config_pairs()}
    tables = {i.vrf for i in ruleset.interfaces if i.config_names & ingress}
    if not tables:
        return HopRouting(None, f"{hop.firewall_id}: no addressed interface for {', '.join(sorted(ingress))}, so the "
                                "routing table of its ingress is not known; every path through it is taken")
    carried = space.empty()
    for table in sorted(tables):
        covered = space.empty()
        for network, matches in routes_by_prefix(ruleset, table):
            destinations = space.addresses("dst", AddressSet((network,)))
            if any(not (zones := facing_zones(hop.firewall, m)) or hop.to_zone in zones for m in matches):
                carried = carried | (destinations - covered)
            covered = covered | destinations
    where = f" (routing table {', '.join(sorted(tables))})" if tables != {""} else ""
    diverting = {rule.span.line for rule in ruleset.nat_rules if rule.sets_egress}
    divert = (f"; {len(diverting)} static NAT statement(s) send what they un-NAT out of the interface they name "
              "(NAT divert)" if diverting else "")
    return HopRouting(carried, f"{hop.firewall_id}: routes followed{where}, with every interface up: "
                               f"{len(ruleset.routes)} static route(s), "
                               f"{sum(len(i.addresses) for i in ruleset.interfaces)} connected network(s){divert}")
