"""SSVC System Exposure computed from reality: which zones can actually reach the vulnerable service.

A scanner guesses exposure from an asset's label; PlantGate derives it from the packets the
boundary firewalls permit (where a parsed firewall joins the two zones) and from the
conduit register otherwise. Tightening a conduit or a rule therefore changes the exposure,
and with it the decision, before anyone touches the asset.

The documented mapping (adjustable in ``vulnerabilities.exposure_mapping``):

* **Open**: some zone of an ``open_from_kinds`` kind (enterprise, external, vendor by
  default) reaches the service from sources that are not narrowed.
* **Controlled**: such zones reach it only through narrowed sources (every permitted source
  address belongs to at most ``narrow_source_max_hosts`` named treaty hosts, such as a jump
  host), or only other zones (OT, DMZ) reach it.
* **Small**: no other zone reaches it over the network.

Reachability is one hop: a session from another zone straight to the asset. Pivoting through
an intermediate host is what the Controlled level stands for; it is not followed further.
An asset without addresses is judged as if every address of its zone were its own.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from plantgate.checks.context import CheckContext
from plantgate.firewalls.ruleset import AddressSet
from plantgate.model.assets import Asset
from plantgate.model.conduits import ConduitService
from plantgate.model.vulns import ExposureLevel, ExposureMapping, HumanImpactLevel
from plantgate.netspace import FlowSet
from plantgate.netspace.space import Node
from plantgate.reconcile.conduits import services_of, zone_addresses

_IMPACT_ORDER = list(HumanImpactLevel)


@dataclass(frozen=True)
class ZoneReach:
    """One zone that can open sessions to the vulnerable service, and how we know."""

    zone: str
    via: str
    narrowed: bool
    sources: tuple[str, ...]
    flows: FlowSet

    @property
    def witness(self) -> dict[str, Any] | None:
        """A concrete packet of the reach (computed on demand: witnesses are costly at estate scale)."""
        flow = self.flows.witness()
        return flow.to_dict() if flow else None


@dataclass(frozen=True)
class Exposure:
    level: ExposureLevel
    reaches: tuple[ZoneReach, ...]
    reason: str
    overridden: bool = False


def _asset_addresses(ctx: CheckContext, asset: Asset) -> AddressSet:
    if asset.addresses:
        return AddressSet(tuple(ipaddress.ip_network(a) for a in asset.addresses), names=(asset.id,))
    return zone_addresses(ctx.treaty, asset.zone)


def target_flows(ctx: CheckContext, asset: Asset, services: list[ConduitService]) -> FlowSet:
    """Sessions to the asset's vulnerable service (every service when none is named).

    Built from raw nodes without the universe constraint: it is only ever intersected with
    permitted sets, which lie inside the universe already.
    """
    space = ctx.space
    node = space.address_node("dst", _asset_addresses(ctx, asset))
    if services:
        wanted = space.false
        for item in services:
            for service in services_of(item):
                wanted = wanted | space.service_node(service)
        node = node & wanted
    return FlowSet(space, node)


def permitted_into(ctx: CheckContext, from_zone: str, to_zone: str) -> tuple[FlowSet, str]:
    """What may open sessions from one zone to another: firewalls that join them, else the register."""
    firewalls = [fw for fw in ctx.firewalls if fw.connects(from_zone, to_zone)]
    if firewalls:
        total = ctx.space.empty()
        for fw in firewalls:
            total = total | fw.permitted(from_zone, to_zone)
        return total, "firewall " + ", ".join(fw.entry.id for fw in firewalls)
    return ctx.register(from_zone, to_zone), "conduit register"


def _named_sources(ctx: CheckContext, zone_id: str) -> tuple[Node, list[tuple[str, Node]]]:
    """Raw source-address BDDs of the zone's named hosts, as one union and per host (cached per run)."""
    cache: dict[str, tuple[Node, list[tuple[str, Node]]]] = ctx.__dict__.setdefault("_named_sources", {})
    if zone_id not in cache:
        space = ctx.space
        per_host = [(a.id, space.address_node("src", _asset_addresses(ctx, a)))
                    for a in ctx.treaty.assets if a.zone == zone_id and a.addresses]
        union = space.false
        for _, node in per_host:
            union = union | node
        cache[zone_id] = (union, per_host)
    return cache[zone_id]


def _narrowed(ctx: CheckContext, reach: FlowSet, zone_id: str, limit: int) -> tuple[bool, tuple[str, ...]]:
    """Do all permitted sources belong to at most ``limit`` named hosts of the zone? Which hosts reach?

    Only the source addresses matter, so the reach is projected onto them first; the answer is
    cached per projection, since thousands of assets are reached from the same few sources.
    """
    space = ctx.space
    others = ctx.__dict__.get("_non_source_vars")
    if others is None:
        others = [name for field in ("proto", "dst", "dport", "sport", "icmp_type", "icmp_code")
                  for name in space.field_names(field)]
        ctx.__dict__["_non_source_vars"] = others
    sources = space.bdd.exist(others, reach.node)
    cache: dict[tuple[str, Node], tuple[bool, tuple[str, ...]]] = ctx.__dict__.setdefault("_narrowed", {})
    key = (zone_id, sources)
    if key in cache:
        return cache[key]
    named, per_host = _named_sources(ctx, zone_id)
    result: tuple[bool, tuple[str, ...]]
    if (sources & ~named) != space.false:
        result = (False, ("unnamed sources",))
    else:
        reaching: list[str] = []
        for host_id, node in per_host:
            if (sources & node) != space.false:
                reaching.append(host_id)
                if len(reaching) > limit:
                    break
        result = (len(reaching) <= limit, tuple(reaching) if len(reaching) <= limit else (*reaching, "..."))
    cache[key] = result
    return result


def compute_exposure(ctx: CheckContext, asset: Asset, services: list[ConduitService],
                     mapping: ExposureMapping) -> Exposure:
    """The SSVC System Exposure of one asset's vulnerable service, with the zones behind it."""
    target = target_flows(ctx, asset, services)
    reaches: list[ZoneReach] = []
    for zone in ctx.treaty.zones:
        if zone.id == asset.zone:
            continue
        permitted, via = permitted_into(ctx, zone.id, asset.zone)
        reach = permitted & target
        if reach.is_empty():
            continue
        narrowed, sources = _narrowed(ctx, reach, zone.id, mapping.narrow_source_max_hosts)
        reaches.append(ZoneReach(zone.id, via, narrowed, sources, reach))
    open_kinds = set(mapping.open_from_kinds)
    kinds = {z.id: z.kind for z in ctx.treaty.zones}
    wide = [r for r in reaches if kinds.get(r.zone) in open_kinds and not r.narrowed]
    if wide:
        reason = "reachable from " + ", ".join(f"{r.zone} ({r.via})" for r in wide)
        return Exposure(ExposureLevel.OPEN, tuple(reaches), reason)
    if reaches:
        parts = [f"{r.zone} ({r.via}" + (f", only from {', '.join(r.sources)})" if r.narrowed else ")")
                 for r in reaches]
        return Exposure(ExposureLevel.CONTROLLED, tuple(reaches), "reachable only from " + "; ".join(parts))
    return Exposure(ExposureLevel.SMALL, (), "no other zone can open a session to the vulnerable service")


def human_impact(ctx: CheckContext, asset: Asset, mapping: ExposureMapping) -> tuple[HumanImpactLevel, str]:
    """Human impact from the zone (safety, mission) and the asset's role; the higher one wins."""
    zone = ctx.treaty.zone(asset.zone)
    by_zone = HumanImpactLevel.MEDIUM
    reason = f"zone {asset.zone}"
    if zone is not None:
        kind = zone.kind if not zone.is_safety else type(zone.kind)("safety")
        by_zone = mapping.human_impact_by_zone_kind.get(kind, HumanImpactLevel.MEDIUM)
        reason = f"zone {zone.id} ({kind.value}) -> {by_zone.value}"
    by_role = mapping.human_impact_by_role.get(asset.role.value)
    if by_role is not None and _IMPACT_ORDER.index(by_role) > _IMPACT_ORDER.index(by_zone):
        return by_role, f"{reason}; role {asset.role.value} -> {by_role.value}"
    return by_zone, reason
