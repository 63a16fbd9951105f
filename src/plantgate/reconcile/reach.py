"""End-to-end reachability: the flows every firewall on a path permits, hop after hop.

Each firewall alone can look reasonable while the pair lets an enterprise host reach a
controller. Along every path of the topology the permitted sets of the hops are
intersected, limited at the ends to the source zone's and target zone's networks only: in
the middle of a path a firewall sees the original addresses, e.g. enterprise sources on its
DMZ interface. Where a firewall on the path translates, each hop sees what the one before
let out instead (``reconcile.nat_paths``), and the answer shows the packet at every hop.
Every answer carries the path, each hop's permitting rules with file:line, a witness
packet and the conduits that cover it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from plantgate.firewalls.ruleset import PORT_PROTOCOLS, Filter, IPNetwork, Rule, Ruleset
from plantgate.load import Site
from plantgate.model.conduits import Conduit
from plantgate.netspace import (
    FlowSet,
    PacketSpace,
    Permitter,
    PolicyKey,
    analyse_filter,
    describe_permitter,
    permitted_between,
    rules_permitting,
)
from plantgate.netspace.flow import Flow
from plantgate.netspace.space import Node
from plantgate.netspace.value_runs import value_runs
from plantgate.reconcile.boundary import BoundaryFirewall, load_boundary_firewalls
from plantgate.reconcile.conduits import conduit_flows, zone_addresses
from plantgate.reconcile.coverage import CoverageLevel, FirewallCoverage, GapKind
from plantgate.reconcile.nat_paths import (
    HopPacket,
    HopStep,
    RoutedStep,
    TranslatedPath,
    hop_steps,
    through_hop,
    translated_path,
)
from plantgate.reconcile.routed import HopRouting, hop_routing
from plantgate.reconcile.topology import Hop, NatLimitation, PathChoice, Topology, ZonePath

PROTOCOL_NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6", 132: "sctp", 47: "gre", 50: "esp", 51: "ah"}


@dataclass
class HopEvidence:
    """The rules (or default actions) of one hop that permit some of the path's flows."""

    hop: Hop
    permitters: list[Permitter]

    def rule_texts(self) -> list[str]:
        return [describe_permitter(p, self.hop.firewall.ruleset) for p in self.permitters]

    def to_dict(self) -> dict[str, Any]:
        rules = []
        for flt, rule in self.permitters:
            if rule is not None:
                rules.append({"rule": rule.rule_id, "filter": flt.name if flt else None, "file": rule.span.file,
                              "line": rule.span.line, "text": rule.span.text.strip()})
            else:
                rules.append({"rule": None, "filter": flt.name if flt else None,
                              "default": f"default {flt.default_action.value}" if flt else "default path action"})
        return {"firewall": self.hop.firewall_id, "from_zone": self.hop.from_zone, "to_zone": self.hop.to_zone,
                "interfaces": [list(p) for p in self.hop.config_pairs()], "rules": rules}


@dataclass
class PathReach:
    """What one path delivers end to end and why."""

    path: ZonePath
    flows: FlowSet
    hops: list[HopEvidence]
    conduits: list[Conduit]
    uncovered: FlowSet
    packets: list[HopPacket] = field(default_factory=list)
    """Through NAT: the witness as it arrived at and left every hop, with the NAT rules."""

    @property
    def witness(self) -> Flow | None:
        return self.flows.witness()

    @property
    def uncovered_witness(self) -> Flow | None:
        return self.uncovered.witness()

    def to_dict(self) -> dict[str, Any]:
        witness, uncovered = self.witness, self.uncovered_witness
        return {
            "path": str(self.path), "zones": self.path.zones, "firewalls": self.path.firewall_ids,
            "hops": [h.to_dict() for h in self.hops], "services": service_summary(self.flows),
            "flows": self.flows.count(), "witness": witness.to_dict() if witness else None,
            "conduits": [c.id for c in self.conduits],
            "unregistered_witness": uncovered.to_dict() if uncovered else None,
            **({"hop_packets": [p.to_dict() for p in self.packets]} if self.packets else {}),
        }


@dataclass
class Reach:
    """Every path from ``source`` to ``target`` that delivers something, and the caveats.

    ``unproved`` holds the firewalls not modelled fully whose gaps could add a path or a
    flow here: with any of them, "no path" is what the modelled firewalls show, not a proof.
    """

    source: str
    target: str
    choice: PathChoice
    paths: list[PathReach]
    nat: list[NatLimitation] = field(default_factory=list)
    unproved: list[FirewallCoverage] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    """Per firewall on the paths considered: whether its own routes were followed, and why not."""

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "routing": self.choice.note, "firewall_routes": self.routes,
                "paths_considered": [str(p) for p in self.choice.paths], "paths": [p.to_dict() for p in self.paths],
                "limitations": [str(n) for n in self.nat], "proved": not self.unproved,
                "not_modelled_fully": [c.to_dict() for c in self.unproved]}


class Estate:
    """The boundary firewalls of a site as one network: topology plus exact hop sets."""

    def __init__(self, site: Site, space: PacketSpace, firewalls: list[BoundaryFirewall] | None = None) -> None:
        self.site = site
        self.space = space
        self.firewalls = firewalls if firewalls is not None else load_boundary_firewalls(site, space)
        self.topology = Topology(site.treaty, self.firewalls, site.locate)
        self._hops: dict[tuple[str, str, str, str, str], FlowSet] = {}
        self._relevant: dict[tuple[int, str, str], tuple[Filter, Filter]] = {}
        self._touched: dict[int, tuple[Filter, list[tuple[Rule, frozenset[str] | None, frozenset[str] | None]]]] = {}
        self._zone_locator: _ZoneLocator | None = None
        self._conduits: dict[str, FlowSet] = {}
        self._hop_parts: dict[tuple[str, str, str, bool], list[HopStep]] = {}
        self._routing: dict[tuple[str, str, str], HopRouting] = {}
        self._translated: dict[ZonePath, TranslatedPath] = {}

    @property
    def treaty(self) -> Any:
        return self.site.treaty

    def unproved(self, zones: set[str], paths: list[ZonePath]) -> list[FirewallCoverage]:
        """Firewalls not modelled fully whose gaps could change an answer about ``zones`` along ``paths``.

        A firewall is concerned when it lies on one of the paths, joins one of the zones, or
        could sit anywhere (it was not placed at all, or has interfaces the treaty does not map).
        """
        on_paths = {hop.firewall_id for path in paths for hop in path.hops}
        concerned = []
        for fw in self.firewalls:
            coverage = fw.coverage
            if coverage.full:
                continue
            anywhere = coverage.level is CoverageLevel.NONE or any(
                item.kind is GapKind.UNMAPPED_INTERFACE for item in coverage.gaps())
            if anywhere or fw.entry.id in on_paths or zones & set(fw.joined_zones):
                concerned.append(coverage)
        return concerned

    def hop_permitted(self, hop: Hop, source: str | None = None, target: str | None = None) -> FlowSet:
        """New flows the hop's firewall forwards from ``from_zone``'s interfaces to ``to_zone``'s.

        With ``source`` and ``target`` the answer is exact only inside ``ends(source, target)``
        (callers intersect with it): rules that cannot match a flow between those networks are
        left out of the first-match fold, which makes large rulesets cheap to query per pair.
        """
        key = (hop.firewall_id, hop.from_zone, hop.to_zone, source or "", target or "")
        if key not in self._hops:
            total = self.space.empty()
            for x, y in hop.config_pairs():
                total = total | self._pair_permitted(hop.firewall.ruleset, x, y, source, target)
            self._hops[key] = total
        return self._hops[key]

    def _pair_permitted(self, ruleset: Ruleset, x: str, y: str, source: str | None, target: str | None) -> FlowSet:
        names = ruleset.paths.get((x, y))
        if source is None or target is None or names is None or any(n not in ruleset.filters for n in names):
            return permitted_between(self.space, ruleset, x, y)
        node = self.space.universe_node
        for name in names:
            flt = self.relevant_filter(ruleset.filters[name], source, target)
            node = node & analyse_filter(self.space, flt, x, y).permitted.node
        return FlowSet(self.space, node)

    def relevant_filter(self, flt: Filter, source: str, target: str) -> Filter:
        """``flt`` without the rules that cannot match a flow from ``source``'s to ``target``'s networks."""
        key = (id(flt), source, target)
        hit = self._relevant.get(key)
        if hit is not None and hit[0] is flt:
            return hit[1]
        rules = [rule for rule, sources, destinations in self._zones_touched(flt)
                 if (sources is None or source in sources) and (destinations is None or target in destinations)]
        narrowed = flt if len(rules) == len(flt.rules) else Filter(flt.name, rules, flt.default_action, flt.span,
                                                                  flt.description)
        self._relevant[key] = (flt, narrowed)
        return narrowed

    def _zones_touched(self, flt: Filter) -> list[tuple[Rule, frozenset[str] | None, frozenset[str] | None]]:
        """Per rule, the treaty zones its sources and destinations overlap (None: every zone)."""
        hit = self._touched.get(id(flt))
        if hit is not None and hit[0] is flt and len(hit[1]) == len(flt.rules):
            return hit[1]
        if self._zone_locator is None:
            self._zone_locator = _ZoneLocator({z.id: _intervals(zone_addresses(self.treaty, z.id).include)
                                               for z in self.treaty.zones})
        locate = self._zone_locator.zones_meeting
        known: dict[tuple[IPNetwork, ...], frozenset[str]] = {}  # rules repeat their networks

        def touched(nets: tuple[IPNetwork, ...], negate: bool) -> frozenset[str] | None:
            if negate:
                return None
            found = known.get(nets)
            if found is None:
                found = known[nets] = locate(_intervals(nets))
            return found

        table = [(rule, touched(rule.sources.include, rule.source_negate),
                  touched(rule.destinations.include, rule.destination_negate)) for rule in flt.rules]
        self._touched[id(flt)] = (flt, table)
        return table

    def ends(self, source: str, target: str) -> FlowSet:
        """Flows from the source zone's networks to the target zone's networks."""
        return (self.space.addresses("src", zone_addresses(self.treaty, source))
                & self.space.addresses("dst", zone_addresses(self.treaty, target)))

    def conduit(self, conduit: Conduit) -> FlowSet:
        if conduit.id not in self._conduits:
            self._conduits[conduit.id] = conduit_flows(self.space, self.treaty, conduit)
        return self._conduits[conduit.id]

    def conduits_between(self, initiating: str, responding: str) -> list[Conduit]:
        return [c for c in self.treaty.conduits
                if c.initiating_zone == initiating and c.responding_zone == responding]

    @staticmethod
    def translates(path: ZonePath) -> bool:
        """Whether a firewall on ``path`` rewrites packets (then hops see different packets)."""
        return any(hop.firewall.ruleset.nat_rules for hop in path.hops)

    def hop_routing(self, hop: Hop) -> HopRouting:
        """What the hop's firewall routes toward the hop's next zone (``reconcile.routed``)."""
        key = (hop.firewall_id, hop.from_zone, hop.to_zone)
        if key not in self._routing:
            self._routing[key] = hop_routing(self.space, hop)
        return self._routing[key]

    def follows_routes(self, path: ZonePath) -> bool:
        """Whether the firewalls' own routes limit ``path`` (not where the treaty states the pair's routes)."""
        return not self.topology.stated(path.source, path.target)

    def carried(self, hop: Hop, routes: bool) -> FlowSet | None:
        """The destinations the hop carries by its routes; None when any may pass (not followed)."""
        return self.hop_routing(hop).carried if routes else None

    def hop_parts(self, hop: Hop, routes: bool = True) -> list[HopStep]:
        """The ways through the hop's firewall between its zones (``nat_paths.hop_steps``), limited by
        its routes when ``routes`` (``nat_paths.RoutedStep``), except a way whose NAT rule sends its
        packets out of its own interface (ASA NAT divert): the rule's to-zone already placed it."""
        key = (hop.firewall_id, hop.from_zone, hop.to_zone, routes)
        if key not in self._hop_parts:
            ruleset = hop.firewall.ruleset
            steps = [step for x, y in hop.config_pairs() for step in hop_steps(self.space, ruleset, x, y)]
            carried = self.carried(hop, routes)
            self._hop_parts[key] = steps if carried is None else [
                step if step.sets_egress else RoutedStep(step, carried) for step in steps]
        return self._hop_parts[key]

    def hop_step(self, hop: Hop, flows: FlowSet, routes: bool = True) -> tuple[FlowSet, FlowSet]:
        """(the part of ``flows`` the hop drops, what it lets out of the rest toward its next zone, after NAT)."""
        accepted, out = through_hop(self.space, self.hop_parts(hop, routes), flows)
        return flows - accepted, out

    def translated(self, path: ZonePath) -> TranslatedPath:
        """``path`` followed through its hops' NAT (``reconcile.nat_paths``) and routes."""
        if path not in self._translated:
            sent = self.space.addresses("src", zone_addresses(self.treaty, path.source))
            delivered_to = self.space.addresses("dst", zone_addresses(self.treaty, path.target))
            routes = self.follows_routes(path)
            self._translated[path] = translated_path(
                self.space, len(path.hops), lambda index: self.hop_parts(path.hops[index], routes), sent,
                self.ends(path.source, path.target), delivered_to)
        return self._translated[path]

    def path_flows(self, path: ZonePath, within: FlowSet | None = None) -> FlowSet:
        """Flows every hop of ``path`` permits, between the path's end zones (and inside ``within``).

        Through NAT, the flows as their ends see them: the source as sent, the destination as delivered.
        """
        if self.translates(path):
            flows = self.translated(path).endpoints(self.space)
            return flows & within if within is not None else flows
        flows = self.ends(path.source, path.target)
        if within is not None:
            flows = flows & within
        routes = self.follows_routes(path)
        for hop in path.hops:
            if flows.is_empty():
                break
            carried = self.carried(hop, routes)
            if carried is not None:
                flows = flows & carried
            flows = flows & self.hop_permitted(hop, path.source, path.target)
        return flows

    def hop_evidence(self, path: ZonePath, flows: FlowSet) -> list[HopEvidence]:
        """Per hop, the rules (or default actions) that permit some of ``flows``."""
        if self.translates(path):
            return self._translated_evidence(path, flows)
        evidence = []
        for hop in path.hops:
            found: list[Permitter] = []
            ruleset = hop.firewall.ruleset
            for x, y in hop.config_pairs():
                names = ruleset.paths.get((x, y))
                if names is None or any(n not in ruleset.filters for n in names):
                    permitters = rules_permitting(self.space, ruleset, PolicyKey.pair(x, y), flows)
                else:
                    permitters = []
                    for name in names:
                        flt = ruleset.filters[name]
                        analysis = analyse_filter(self.space, self.relevant_filter(flt, path.source, path.target), x, y)
                        permitters += [(flt, rule) for rule, decided in analysis.decided
                                       if rule.action.permits and decided.intersects(flows)]
                        if flt.default_action.permits and analysis.default is not None \
                                and analysis.default.intersects(flows):
                            permitters.append((flt, None))
                for permitter in permitters:
                    if permitter not in found:
                        found.append(permitter)
            evidence.append(HopEvidence(hop, found))
        return evidence

    def _translated_evidence(self, path: ZonePath, flows: FlowSet) -> list[HopEvidence]:
        """Per hop, the rules that decide the packets the hop sees for ``flows`` (as their ends see them)."""
        seen: list[FlowSet] = [self.space.empty() for _ in path.hops]
        for combination in self.translated(path).combinations:
            meeting = combination.endpoints & flows
            if not meeting or not combination.parts:
                continue
            for index, (part, arriving) in enumerate(zip(combination.parts, combination.arriving, strict=True)):
                seen[index] = seen[index] | part.decided(arriving)
        evidence = []
        for hop, decided in zip(path.hops, seen, strict=True):
            found: list[Permitter] = []
            for x, y in hop.config_pairs():
                for permitter in rules_permitting(self.space, hop.firewall.ruleset, PolicyKey.pair(x, y), decided):
                    if permitter not in found:
                        found.append(permitter)
            evidence.append(HopEvidence(hop, found))
        return evidence

    def reach(self, source: str, target: str, within: FlowSet | None = None, min_hops: int = 1,
              evidence: bool = True) -> Reach:
        """Every path from ``source`` to ``target`` with what it delivers (empty paths left out)."""
        choice = self.topology.paths(source, target)
        conduits = self.conduits_between(source, target)
        registered = self.space.empty()
        for conduit in conduits:
            registered = registered | self.conduit(conduit)
        results = []
        for path in choice.paths:
            if len(path.hops) < min_hops:
                continue
            flows = self.path_flows(path, within)
            if flows.is_empty():
                continue
            covering = [c for c in conduits if self.conduit(c).intersects(flows)]
            hops = self.hop_evidence(path, flows) if evidence else []
            results.append(PathReach(path, flows, hops, covering, flows - registered, self._packets(path, flows)))
        nat = [n for n in self.topology.nat_limitations()
               if any(n.firewall_id in p.path.firewall_ids for p in results)]
        return Reach(source, target, choice, results, nat, self.unproved({source, target}, choice.paths),
                     self.routing_notes(choice.paths))

    def routing_notes(self, paths: list[ZonePath]) -> list[str]:
        """Per firewall on ``paths`` (first hop seen): whether its own routes were followed, and why not."""
        notes: dict[str, str] = {}
        for path in paths:
            for hop in path.hops:
                if hop.firewall_id not in notes:
                    notes[hop.firewall_id] = (self.hop_routing(hop).note if self.follows_routes(path) else
                                              f"{hop.firewall_id}: the treaty's routes for this pair win")
        return list(notes.values())

    def _packets(self, path: ZonePath, flows: FlowSet) -> list[HopPacket]:
        """Through NAT: the path's witness at every hop; empty on a path that translates nothing."""
        witness = flows.witness()
        if witness is None or not self.translates(path):
            return []
        combination = self.translated(path).combination_of(witness)
        if combination is None:
            return []
        return combination.hop_packets(self.space, path.firewall_ids, witness)


Intervals = tuple[tuple[int, int, int], ...]
"""(IP version, first address, last address) of each network, as integers."""


def _intervals(nets: tuple[IPNetwork, ...]) -> Intervals:
    out = []
    for net in nets:
        first = int(net.network_address)
        out.append((net.version, first, first + (1 << (net.max_prefixlen - net.prefixlen)) - 1))
    return tuple(out)


class _ZoneLocator:
    """The zones whose networks overlap given intervals, by bisection: a rule's networks are
    looked up among every zone network at once, not compared with each zone in turn.

    Per IP version the zone networks are sorted by first address, with the running maximum
    of their last addresses: scanning down from the last network that starts at or below an
    interval's end can stop where that maximum falls below the interval's start.
    """

    def __init__(self, zones: dict[str, Intervals]) -> None:
        by_version: dict[int, list[tuple[int, int, str]]] = {}
        for zone, nets in zones.items():
            for version, first, last in nets:
                by_version.setdefault(version, []).append((first, last, zone))
        self._tables: dict[int, tuple[list[int], list[tuple[int, int, str]], list[int]]] = {}
        for version, entries in by_version.items():
            entries.sort()
            reach, top = [], -1
            for _, last, _ in entries:
                top = max(top, last)
                reach.append(top)
            self._tables[version] = ([first for first, _, _ in entries], entries, reach)

    def zones_meeting(self, nets: Intervals) -> frozenset[str]:
        found: set[str] = set()
        for version, low, high in nets:
            table = self._tables.get(version)
            if table is None:
                continue
            firsts, entries, reach = table
            for i in range(bisect_right(firsts, high) - 1, -1, -1):
                if reach[i] < low:
                    break
                if entries[i][1] >= low:
                    found.add(entries[i][2])
        return frozenset(found)


# ----- reading a FlowSet back as services -----


def field_intervals(space: PacketSpace, node: Node, field_name: str) -> list[tuple[int, int]]:
    """The values of one field a projected node allows, as sorted, merged inclusive intervals."""
    first_level = space.bdd.level_of_var(space.field_names(field_name)[0])
    return [(low, high) for low, high, _ in value_runs(space, node, first_level, len(space.field_vars(field_name)))]


def _interval_text(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def service_summary(flows: FlowSet) -> list[str]:
    """The protocols and destination ports of a set of flows, e.g. ``["tcp/443,8530-8531", "udp/53"]``."""
    space = flows.space
    protocols = field_intervals(space, space.project(flows.node, "proto"), "proto")
    if protocols == [(0, 255)]:
        ports = field_intervals(space, space.project(flows.node, "dport"), "dport")
        if ports == [(0, 65535)]:
            return ["any"]
    out: list[str] = []
    for low, high in protocols:
        if high - low > 8:
            out.append(f"ip protocols {_interval_text(low, high)}")
            continue
        for proto in range(low, high + 1):
            name = PROTOCOL_NAMES.get(proto, f"proto {proto}")
            if proto not in PORT_PROTOCOLS:
                out.append(name)
                continue
            only = flows & space.wrap(space.value("proto", proto))
            ports = field_intervals(space, space.project(only.node, "dport"), "dport")
            if ports == [(0, 65535)]:
                out.append(name)
            else:
                out.append(f"{name}/" + ",".join(_interval_text(a, b) for a, b in ports))
    return out
