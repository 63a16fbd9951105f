"""The treaty's routing facts against the firewalls' own routes.

A treaty route (``routes:``) decides which path the end-to-end analysis follows between two
zones, so a wrong one hides the path traffic really takes. Every firewall config with
interface addresses also says where each network lies (connected networks, static routes);
where a treaty route sends a zone's traffic through a firewall that would send it elsewhere,
the two disagree, and one of them is wrong.

Only the firewalls' configured routes are known: dynamic routing (OSPF, BGP) is not in the
configs PlantGate reads. So a disagreement is reported as a finding to resolve, never used to
drop a path, and a config without addresses (iptables, nftables without a ``routing:`` file)
claims nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import NIST_CM_3, REF_FIREWALL
from plantgate.checks.registry import check, rule
from plantgate.errors import Location
from plantgate.firewalls.routes import route_lookup
from plantgate.firewalls.ruleset import IPNetwork
from plantgate.reconcile.conduits import zone_addresses
from plantgate.reconcile.routed import facing_zones
from plantgate.reconcile.topology import Hop

ROUTE_CONTRADICTED = rule(
    "PG-ESTATE-005", "Treaty route contradicted by a firewall's configured routes", Severity.MEDIUM,
    (REF_FIREWALL, NIST_CM_3),
    "The treaty's routes decide which paths the end-to-end analysis follows; a route the firewalls' own routing "
    "tables contradict hides the path traffic really takes.")


@check
def treaty_routes_against_configs(ctx: CheckContext) -> Iterator[Finding]:
    treaty = ctx.treaty
    for index, route in enumerate(treaty.routes):
        networks = zone_addresses(treaty, route.to_zone).include
        where = ctx.site.locate("routes", index)
        for path in ctx.estate.topology.paths(route.from_zone, route.to_zone).paths:
            if path.firewall_ids != list(route.via):
                continue
            for hop in path.hops:
                if hop.firewall.ruleset.interfaces:
                    yield from _contradictions(hop, route.from_zone, route.to_zone, networks, where, index)


def _contradictions(hop: Hop, source: str, target: str, networks: tuple[IPNetwork, ...], where: Location,
                    index: int) -> Iterator[Finding]:
    for network in networks:
        match = route_lookup(hop.firewall.ruleset, network.network_address)
        if match is None:
            says, evidence, facing = "holds no route (connected or static) to it", [where], None
        else:
            interface, zones = match.interface, facing_zones(hop.firewall, match)
            if interface is None or not zones or hop.to_zone in zones:
                continue
            facing = ", ".join(sorted(zones))
            span = match.route.span if match.route is not None else interface.span
            says, evidence = f"sends it out {interface.name} toward {facing}", [Location(span.file, span.line), where]
        yield ROUTE_CONTRADICTED.finding(
            [hop.firewall_id, source, target],
            f"The treaty routes {source} -> {target} through {hop.firewall_id} into {hop.to_zone}, but "
            f"{hop.firewall_id}'s configuration {says} for {network} ({target}'s network).", evidence,
            discriminator=f"{index}:{hop.firewall_id}:{network}",
            details={"firewall": hop.firewall_id, "network": str(network), "treaty_next_zone": hop.to_zone,
                     "config_next_zone": facing})
