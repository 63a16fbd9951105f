"""Deriving a firewall's zone map (config zone -> treaty zone) from its interface addresses.

A config zone whose interfaces' connected networks all lie inside one treaty zone's networks
maps to that zone. Anything less certain is not guessed: a zone without addresses, with a
network no treaty zone holds, or with networks in several treaty zones is returned
unresolved, with the reason, for a person to settle. The same facts let a check compare a
zone map a person wrote with what the interfaces say (``checks.firewall``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from plantgate.firewalls.routes import Interface, StaticRoute, egress_interface
from plantgate.firewalls.ruleset import SELF_ZONES, IPNetwork, Ruleset
from plantgate.model import Treaty


@dataclass(frozen=True)
class Placement:
    """Where one connected network lies: the treaty zones holding it (empty: none does)."""

    interface: Interface
    network: IPNetwork
    treaty_zones: tuple[str, ...]


@dataclass
class ZoneDerivation:
    """One config zone: the treaty zone it maps to (None: unresolved, see ``reason``)."""

    config_zone: str
    treaty_zone: str | None
    reason: str
    placements: list[Placement] = field(default_factory=list)


def treaty_zones_holding(treaty: Treaty, network: IPNetwork) -> tuple[str, ...]:
    """The treaty zones one of whose networks contains all of ``network``."""
    return tuple(z.id for z in treaty.zones
                 if any(n.version == network.version and network.subnet_of(n) for n in z.ip_networks()))  # type: ignore[arg-type]


def placements(ruleset: Ruleset, treaty: Treaty, config_zone: str) -> list[Placement]:
    """Every connected network of the config zone's interfaces, with the treaty zones holding it."""
    return [Placement(i, n, treaty_zones_holding(treaty, n))
            for i in ruleset.interfaces if config_zone in i.config_names for n in i.networks]


def _describe(placement: Placement) -> str:
    return f"{placement.network} (interface {placement.interface.name}, {placement.interface.span})"


def derive_zone(ruleset: Ruleset, treaty: Treaty, config_zone: str) -> ZoneDerivation:
    found = placements(ruleset, treaty, config_zone)
    if not found:
        why = ("the config holds no interface addresses (an iptables or nftables ruleset never does: give the "
               "host's ip addr output as its routing file)"
               if not ruleset.interfaces else "no interface of this zone has an address in the config")
        return ZoneDerivation(config_zone, None, why)
    outside = [p for p in found if not p.treaty_zones]
    if outside:
        return ZoneDerivation(config_zone, None, "no treaty zone's networks hold "
                              + ", ".join(_describe(p) for p in outside), found)
    candidates = set.intersection(*(set(p.treaty_zones) for p in found))
    if len(candidates) == 1:
        zone = candidates.pop()
        return ZoneDerivation(config_zone, zone, "inside the networks of treaty zone " + zone + ": "
                              + ", ".join(_describe(p) for p in found), found)
    if candidates:
        return ZoneDerivation(config_zone, None, "inside the networks of several treaty zones ("
                              + ", ".join(sorted(candidates)) + "): " + ", ".join(_describe(p) for p in found), found)
    spread = "; ".join(f"{_describe(p)} in {', '.join(p.treaty_zones)}" for p in found)
    return ZoneDerivation(config_zone, None, "spans several treaty zones: " + spread, found)


def derive_zone_map(ruleset: Ruleset, treaty: Treaty) -> list[ZoneDerivation]:
    """Every config zone of the ruleset (and of its addressed interfaces), in config order; not the firewall itself."""
    names = list(dict.fromkeys([*(z for z in ruleset.zones if z not in SELF_ZONES),
                                *(i.zone for i in ruleset.interfaces if i.zone)]))
    return [derive_zone(ruleset, treaty, name) for name in names]


@dataclass(frozen=True)
class RoutedZone:
    """A treaty zone the firewall reaches only through a static route's next hop."""

    treaty_zone: str
    route: StaticRoute
    next_hop_zone: str
    interface: Interface | None

    def __str__(self) -> str:
        via = f"via {self.route.next_hop}" if self.route.next_hop else "via " + (self.route.interface or "?")
        behind = f" behind interface {self.interface.name}" if self.interface else ""
        return (f"{self.treaty_zone}: route {self.route.destination} {via} (next hop in {self.next_hop_zone}"
                f"{behind}), {self.route.span}")


def routed_zones(ruleset: Ruleset, treaty: Treaty) -> list[RoutedZone]:
    """Treaty zones no interface faces whose networks a (non-default) static route's destination holds.

    Evidence for the entry's ``joins``: the firewall forwards to those zones through the
    router at the next hop, so its policy governs flows to them too.
    """
    connected = {z for i in ruleset.interfaces for n in i.networks for z in treaty_zones_holding(treaty, n)}
    out: list[RoutedZone] = []
    for route in ruleset.routes:
        if route.is_default or route.next_hop is None:
            continue
        hop_zones = treaty_zones_holding(treaty, ipaddress.ip_network(route.next_hop))
        for zone in treaty.zones:
            if zone.id in connected or zone.id in {r.treaty_zone for r in out}:
                continue
            if any(n.version == route.destination.version and n.subnet_of(route.destination)  # type: ignore[arg-type]
                   for n in zone.ip_networks()):
                out.append(RoutedZone(zone.id, route, ", ".join(hop_zones) or "no treaty zone",
                                      egress_interface(ruleset, route)))
    return out
