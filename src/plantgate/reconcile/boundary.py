"""A boundary firewall seen through the treaty: its permitted flows per pair of treaty zones.

The firewall entry maps the config's own interface, zone or ACL names to treaty zones, or
lists the zones it joins by network (``reconcile.binding``). Each pair's permitted set is
limited to the two zones' declared networks (a zone without networks stands for any
address); what the binding could not place is kept as the firewall's coverage, never
guessed. Loading refuses a config whose content is clearly another vendor's, at the
entry's ``vendor:`` line, and a zone-map key that matches nothing in the config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from plantgate.errors import InputError, InputProblem
from plantgate.firewalls.base import looks_like_other_vendor, parser_for, read_config_text
from plantgate.firewalls.linux.ip_routes import attach_routing, read_routing_file
from plantgate.firewalls.ruleset import Ruleset
from plantgate.load import Site
from plantgate.model.firewalls import FirewallEntry
from plantgate.netspace import FlowSet, PacketSpace, Permitter, PolicyKey, permitted_between, rules_permitting
from plantgate.netspace.flow import Flow
from plantgate.reconcile.binding import Binding, bind
from plantgate.reconcile.conduits import zone_addresses
from plantgate.reconcile.coverage import FirewallCoverage
from plantgate.reconcile.nat_view import EndpointFlows, Translated, endpoint_flows, leaving, pair_endpoints


@dataclass
class BoundaryFirewall:
    """One treaty firewall entry with its config bound to treaty zones.

    ``ruleset`` is the ruleset every analysis reads: the parsed one, with the synthetic
    paths of a fragment's binding added (``reconcile.binding``).
    """

    site: Site
    entry: FirewallEntry
    binding: Binding
    space: PacketSpace

    @classmethod
    def bound(cls, site: Site, entry: FirewallEntry, ruleset: Ruleset, space: PacketSpace) -> BoundaryFirewall:
        """Bind ``ruleset`` (the entry's config, or a candidate of it) to the treaty."""
        index = site.index_of("firewalls", entry.id)
        return cls(site, entry, bind(entry, index, ruleset, site.treaty, site.locate), space)

    @property
    def ruleset(self) -> Ruleset:
        return self.binding.ruleset

    @property
    def parsed(self) -> Ruleset:
        """The config as its parser read it: what lint judges (a fragment's ACLs as written)."""
        return self.binding.parsed

    @property
    def coverage(self) -> FirewallCoverage:
        return self.binding.coverage

    @property
    def unmapped(self) -> list[str]:
        return self.binding.unmapped

    @property
    def joined_zones(self) -> list[str]:
        """The treaty zones this firewall joins (zone map values, then ``joins``)."""
        return self.binding.zones

    @cached_property
    def config_zones_of(self) -> dict[str, list[str]]:
        """Treaty zone id -> the config names its sessions enter through (empty: placed by nothing)."""
        return {zone: list(self.binding.ingress_of.get(zone, [])) for zone in self.binding.zones}

    def treaty_pairs(self) -> list[tuple[str, str]]:
        """The ordered pairs of treaty zones whose sessions the config's filters were placed on."""
        return list(self.binding.crossings)

    def connects(self, zone_a: str, zone_b: str) -> bool:
        return (zone_a, zone_b) in self.binding.crossings

    def config_pairs(self, zone_a: str, zone_b: str) -> list[tuple[str, str]]:
        return list(self.binding.crossings.get((zone_a, zone_b), []))

    def _in_zones(self, zone_a: str, zone_b: str) -> FlowSet:
        treaty = self.site.treaty
        return (self.space.addresses("src", zone_addresses(treaty, zone_a))
                & self.space.addresses("dst", zone_addresses(treaty, zone_b)))

    def _endpoint_parts(self, x: str, y: str) -> list[EndpointFlows]:
        """A config pair's permitted flows through the NAT rules, per combination of rules (cached)."""
        cache = self.__dict__.setdefault("_endpoint_cache", {})
        if (x, y) not in cache:
            cache[x, y] = endpoint_flows(self.space, self.ruleset, x, y)
        parts: list[EndpointFlows] = cache[x, y]
        return parts

    def permitted(self, zone_a: str, zone_b: str) -> FlowSet:
        """New flows the firewall permits from treaty zone ``zone_a`` to ``zone_b``, as their ends see them.

        Through NAT rules that is the source as sent and the destination as delivered
        (``reconcile.nat_view``); without them, the permitted set itself. The per-NAT-rule parts
        are built only for evidence (``permitters``, ``translation``).
        """
        key = (zone_a, zone_b)
        cache = self.__dict__.setdefault("_permitted", {})
        if key not in cache:
            total = self.space.empty()
            for x, y in self.config_pairs(zone_a, zone_b):
                if self.ruleset.nat_rules:
                    total = total | pair_endpoints(self.space, self.ruleset, x, y)
                else:
                    total = total | permitted_between(self.space, self.ruleset, x, y)
            cache[key] = total & self._in_zones(zone_a, zone_b)
        result: FlowSet = cache[key]
        return result

    def permitters(self, zone_a: str, zone_b: str, flows: FlowSet) -> list[Permitter]:
        """The rules (or defaults) that permit some of ``flows`` (as the ends see them) between the two zones."""
        found: list[Permitter] = []
        for x, y in self.config_pairs(zone_a, zone_b):
            decided = flows
            if self.ruleset.nat_rules:
                decided = self.space.empty()
                for part in self._endpoint_parts(x, y):
                    decided = decided | part.filter_view(self.space, flows, self.ruleset)
            for permitter in rules_permitting(self.space, self.ruleset, PolicyKey.pair(x, y), decided):
                if permitter not in found:
                    found.append(permitter)
        return found

    def translation(self, zone_a: str, zone_b: str, delivered: Flow) -> Translated | None:
        """How ``delivered`` (a permitted flow as its ends see it) was sent, when NAT rules rewrote it."""
        for x, y in self.config_pairs(zone_a, zone_b):
            for part in self._endpoint_parts(x, y) if self.ruleset.nat_rules else []:
                if not part.endpoints.contains(delivered):
                    continue
                packet = self.space.flow(delivered)
                as_sent = part.sent_as(self.space, packet) if part.rules else packet
                sent, decided = as_sent.witness(), part.as_decided(self.space, as_sent, self.ruleset).witness()
                if sent is None or decided is None:
                    continue
                rules, left = part.rules, None
                hidden = leaving(self.space, self.ruleset, x, y, decided)
                if hidden is not None and hidden[0] not in rules:
                    rules, left = (*rules, hidden[0]), hidden[1]
                if rules:
                    return Translated(sent, delivered, rules, left)
        return None


def load_boundary_firewalls(site: Site, space: PacketSpace,
                            parsed: Callable[[BoundaryFirewall], None] | None = None) -> list[BoundaryFirewall]:
    """Parse and bind every firewall the treaty names; one InputError listing every problem.

    A config clearly written for another vendor than its entry declares is refused at the
    entry's ``vendor:`` line: the wrong parser would read it as an empty firewall. A Linux
    firewall's ``routing:`` file gives its ruleset the interfaces and routes it lacks.
    ``parsed`` is called with each firewall as soon as it is bound (``check`` starts its lint then).
    """
    firewalls = []
    problems: list[InputProblem] = []
    for index, entry in enumerate(site.treaty.firewalls):
        path = site.resolve(entry.config)
        try:
            text = read_config_text(path)
            other = looks_like_other_vendor(text, entry.vendor, entry.context)
            if other is not None:
                problems.append(InputProblem(
                    site.locate("firewalls", index, "vendor"),
                    f"{entry.config} is not written in {entry.vendor} syntax: its content looks like {other}",
                    f"firewalls.{index}.vendor", f"vendor: {other}, or a config file in {entry.vendor} syntax"))
                continue
            ruleset = parser_for(entry.vendor, entry.context).parse(text, str(path))
            if entry.routing is not None:
                attach_routing(ruleset, read_routing_file(site.resolve(entry.routing)))
            firewalls.append(BoundaryFirewall.bound(site, entry, ruleset, space))
            if parsed is not None:
                parsed(firewalls[-1])
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return firewalls
