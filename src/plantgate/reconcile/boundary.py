"""A boundary firewall seen through the treaty: its permitted flows per pair of treaty zones.

The firewall entry maps the config's own interface or zone names to treaty zones. Flows
entering on an interface come from that zone, so each pair's permitted set is limited to
the two zones' declared networks (a zone without networks stands for any address); config
zones the treaty does not map are reported, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from plantgate.firewalls.base import parse_config
from plantgate.firewalls.ruleset import Ruleset
from plantgate.load import Site
from plantgate.model.firewalls import FirewallEntry
from plantgate.netspace import FlowSet, PacketSpace, Permitter, PolicyKey, permitted_between, rules_permitting
from plantgate.reconcile.conduits import zone_addresses


@dataclass
class BoundaryFirewall:
    """One treaty firewall entry with its parsed ruleset."""

    site: Site
    entry: FirewallEntry
    ruleset: Ruleset
    space: PacketSpace
    unmapped: list[str] = field(default_factory=list)

    @cached_property
    def config_zones_of(self) -> dict[str, list[str]]:
        """Treaty zone id -> the config zones that stand for it."""
        out: dict[str, list[str]] = {}
        for config_zone, zone_id in self.entry.zones.items():
            out.setdefault(zone_id, []).append(config_zone)
        return out

    def treaty_pairs(self) -> list[tuple[str, str]]:
        zones = list(self.config_zones_of)
        return [(a, b) for a in zones for b in zones if a != b]

    def connects(self, zone_a: str, zone_b: str) -> bool:
        return zone_a in self.config_zones_of and zone_b in self.config_zones_of

    def config_pairs(self, zone_a: str, zone_b: str) -> list[tuple[str, str]]:
        return [(x, y) for x in self.config_zones_of.get(zone_a, []) for y in self.config_zones_of.get(zone_b, [])
                if x != y]

    def _in_zones(self, zone_a: str, zone_b: str) -> FlowSet:
        treaty = self.site.treaty
        return (self.space.addresses("src", zone_addresses(treaty, zone_a))
                & self.space.addresses("dst", zone_addresses(treaty, zone_b)))

    def permitted(self, zone_a: str, zone_b: str) -> FlowSet:
        """New flows the firewall permits from treaty zone ``zone_a`` to ``zone_b``."""
        key = (zone_a, zone_b)
        cache = self.__dict__.setdefault("_permitted", {})
        if key not in cache:
            total = self.space.empty()
            for x, y in self.config_pairs(zone_a, zone_b):
                total = total | permitted_between(self.space, self.ruleset, x, y)
            cache[key] = total & self._in_zones(zone_a, zone_b)
        result: FlowSet = cache[key]
        return result

    def permitters(self, zone_a: str, zone_b: str, flows: FlowSet) -> list[Permitter]:
        """The rules (or defaults) that permit some of ``flows`` between the two zones."""
        found: list[Permitter] = []
        for x, y in self.config_pairs(zone_a, zone_b):
            for permitter in rules_permitting(self.space, self.ruleset, PolicyKey.pair(x, y), flows):
                if permitter not in found:
                    found.append(permitter)
        return found


def load_boundary_firewalls(site: Site, space: PacketSpace) -> list[BoundaryFirewall]:
    """Parse every firewall the treaty names (InputError for a config that cannot be read)."""
    firewalls = []
    for entry in site.treaty.firewalls:
        path = site.resolve(entry.config)
        ruleset = parse_config(path, entry.vendor, entry.context)
        unmapped = [z for z in ruleset.zones if z not in entry.zones]
        firewalls.append(BoundaryFirewall(site, entry, ruleset, space, unmapped))
    return firewalls
