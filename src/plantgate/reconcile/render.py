"""The register rendered into one firewall's own vendor syntax, and proved right by our parsers.

A fix proposal is only useful in the firewall's own language. Aerleon (a well-kept
policy compiler) does the rendering from a policy and definitions built in memory from
the conduits that cross the firewall; then the rendered text is read back by PlantGate's
own parser for that vendor and its permitted sets are compared, exactly, with the
register's intended sets. A rendering that does not prove equal is refused, never shown
as a fix.

Which conduits land on a firewall: a conduit whose two zones the firewall joins directly;
where the treaty states a route for the conduit's zones, also every hop of that route
(transit, keeping the original addresses: no NAT). Without a route, a transit conduit is
not rendered but named in the limitations: rendering it on every path the topology allows
would permit its sources entering from zones the register does not name (a spoofed jump
host address arriving from the enterprise). A conduit with ``enforced_by`` lands only on
the firewalls it names.

Refused, with the reason: a firewall the treaty does not place between two zones (there is
nothing to render it from), and one joined by network (``joins``) or by ACL names: with no
interface to tie a conduit's sources to, a rendering could not stop spoofed sources.

The proof compares the parsed rendering with the register on every path of the rendering
and every mapped pair, over the whole packet space: nothing more may be permitted anywhere
(IPv6 too, for an IPv4-only target); only the missing part is judged within the target's
address family.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aerleon.api import Generate
from aerleon.lib import naming
from aerleon.lib import policy as aerleon_policy

from plantgate.errors import InputError, PlantGateError
from plantgate.firewalls.base import parser_for
from plantgate.firewalls.ruleset import ANY_ADDRESS, ANY_IPV4, AddressSet, Ruleset
from plantgate.model.conduits import Conduit, ConduitService
from plantgate.netspace import Flow, FlowSet, permitted_between
from plantgate.reconcile.boundary import BoundaryFirewall
from plantgate.reconcile.conduits import narrowed_addresses
from plantgate.reconcile.coverage import GapKind
from plantgate.reconcile.reach import Estate
from plantgate.reconcile.topology import Hop


class RenderError(PlantGateError):
    """The register cannot be rendered for this firewall, or the rendering did not prove equal."""


@dataclass(frozen=True)
class VendorTarget:
    """How one PlantGate vendor maps onto an Aerleon generator."""

    aerleon: str
    extension: str  # of the file Aerleon's Generate returns
    per_pair: bool  # one filter per (ingress, egress) zone pair
    per_ingress: bool  # one ACL per ingress interface, bound with access-group
    interface_terms: bool  # terms match ingress and egress interfaces
    ipv4_only: bool = False


TARGETS: dict[str, VendorTarget] = {
    "asa": VendorTarget("ciscoasa", ".asa", per_pair=False, per_ingress=True, interface_terms=False),
    "iptables": VendorTarget("iptables", "", per_pair=False, per_ingress=False, interface_terms=True, ipv4_only=True),
    "nftables": VendorTarget("nftables", ".nft", per_pair=False, per_ingress=False, interface_terms=True),
    "srx": VendorTarget("srx", ".srx", per_pair=True, per_ingress=False, interface_terms=False),
    "panos": VendorTarget("paloalto", ".xml", per_pair=True, per_ingress=False, interface_terms=False),
    "fortigate": VendorTarget("fortigate", ".fgacl", per_pair=True, per_ingress=False, interface_terms=False),
}
FILE_SUFFIX = {"asa": ".asa", "iptables": ".iptables", "nftables": ".nft", "srx": ".srx.conf", "panos": ".xml",
               "fortigate": ".fortigate.conf"}
SELF_ZONE = "self"
"""The parsers' name for the firewall itself (INPUT/OUTPUT); the rendering does not cover it."""
ICMP_NAMES = {number: name for name, number in aerleon_policy.Term.ICMP_TYPE[4].items()}
ICMP6_NAMES = {number: name for name, number in aerleon_policy.Term.ICMP_TYPE[6].items()}


@dataclass(frozen=True)
class Placement:
    """One conduit crossing this firewall from one treaty zone to another."""

    conduit: Conduit
    hop: Hop


@dataclass
class Rendering:
    """The rendered text, what it was built from, and the proof that it equals the register."""

    firewall_id: str
    vendor: str
    text: str
    placements: list[Placement]
    intended: dict[tuple[str, str], FlowSet]
    mismatches: list[str] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)
    parsed: Ruleset | None = None
    bound: BoundaryFirewall | None = None
    """The parsed rendering bound with the firewall's treaty entry, as ``check`` would see it."""

    @property
    def verified(self) -> bool:
        return self.parsed is not None and not self.mismatches


def _name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper() or "X"


def placements_on(estate: Estate, fw: BoundaryFirewall) -> list[Placement]:
    """The conduits ``fw`` carries: direct ones, and transit ones on the treaty's stated routes."""
    return _placements(estate, fw)[0]


def transit_without_route(estate: Estate, fw: BoundaryFirewall) -> list[str]:
    """Conduits some path would carry across ``fw`` in transit, with no route in the treaty to say so."""
    return _placements(estate, fw)[1]


def _placements(estate: Estate, fw: BoundaryFirewall) -> tuple[list[Placement], list[str]]:
    found: dict[tuple[str, str, str], Placement] = {}
    transit: dict[str, str] = {}  # conduit id -> why it is not rendered
    for conduit in estate.treaty.conduits:
        if conduit.enforced_by and fw.entry.id not in conduit.enforced_by:
            continue
        a, b = conduit.initiating_zone, conduit.responding_zone
        choice = estate.topology.paths(a, b)
        crossing = [hop for path in choice.paths for hop in path.hops if hop.firewall_id == fw.entry.id]
        for hop in crossing:
            if choice.routed or (hop.from_zone, hop.to_zone) == (a, b):
                found.setdefault((conduit.id, hop.from_zone, hop.to_zone), Placement(conduit, hop))
            elif conduit.id not in transit and not fw.connects(a, b):
                transit[conduit.id] = (f"conduit {conduit.id} ({a} -> {b}) would cross {fw.entry.id} in transit "
                                       f"({hop.from_zone} -> {hop.to_zone}); not rendered: no route in the treaty "
                                       "says its packets take this path (add one under routes to place it)")
    return list(found.values()), list(transit.values())


def intended_sets(estate: Estate, placements: list[Placement]) -> dict[tuple[str, str], FlowSet]:
    """Config (ingress, egress) pair -> the union of the conduits placed on it."""
    out: dict[tuple[str, str], FlowSet] = {}
    for placement in placements:
        flows = estate.conduit(placement.conduit)
        for pair in placement.hop.config_pairs():
            out[pair] = out.get(pair, estate.space.empty()) | flows
    return out


class _PolicyBuilder:
    """Aerleon definitions and terms for one firewall's placements."""

    def __init__(self, estate: Estate, target: VendorTarget) -> None:
        self.estate = estate
        self.target = target
        self.networks: dict[str, list[str]] = {}
        self.services: dict[str, list[dict[str, str]]] = {}
        self.count = 0

    def _network(self, name: str, addrs: AddressSet) -> str | None:
        if addrs == ANY_ADDRESS or (self.target.ipv4_only and addrs == ANY_IPV4):
            return None
        if addrs.exclude:
            raise RenderError(f"{name}: address exclusions cannot be rendered")
        self.networks[name] = [str(n) for n in addrs.include]
        return name

    def _service_fields(self, conduit: Conduit, index: int, item: ConduitService) -> dict[str, Any]:
        proto = item.protocol_number
        if proto is None:
            return {}
        protocol = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6", 132: "sctp"}.get(proto, str(proto))
        fields: dict[str, Any] = {"protocol": protocol}
        if item.ports:
            name = _name(f"{conduit.id}_svc{index}")
            self.services[name] = [{"port": f"{a}-{b}" if a != b else str(a), "protocol": protocol}
                                   for a, b in item.port_ranges()]
            fields["destination-port"] = name
        if item.icmp_types:
            names = ICMP6_NAMES if proto == 58 else ICMP_NAMES
            missing = [t for t in item.icmp_types if t not in names]
            if missing:
                raise RenderError(f"conduit {conduit.id}: ICMP type(s) {missing} have no Aerleon name")
            fields["icmp-type"] = " ".join(names[t] for t in item.icmp_types)
        return fields

    def terms(self, placements: list[Placement], pair: tuple[str, str] | None, ingress: str | None) -> list[Any]:
        """Terms for the placements on one pair, one ingress, or all (interface-matching vendors)."""
        terms: list[dict[str, Any]] = []
        treaty = self.estate.treaty
        for placement in placements:
            conduit = placement.conduit
            pairs = placement.hop.config_pairs()
            if pair is not None and pair not in pairs:
                continue
            if ingress is not None and ingress not in {x for x, _ in pairs}:
                continue
            src = self._network(_name(conduit.id + "_src"), narrowed_addresses(
                treaty, conduit.initiating_zone, conduit.sources))
            dst = self._network(_name(conduit.id + "_dst"), narrowed_addresses(
                treaty, conduit.responding_zone, conduit.destinations))
            for index, item in enumerate(conduit.services):
                base: dict[str, Any] = {"action": "accept", "comment": f"{conduit.id}: {conduit.business_reason}"[:200]}
                if src:
                    base["source-address"] = src
                if dst:
                    base["destination-address"] = dst
                base.update(self._service_fields(conduit, index, item))
                crossings = pairs if self.target.interface_terms else [None]
                for crossing in crossings:
                    self.count += 1
                    term = dict(base, name=f"t{self.count}-{_name(conduit.id)}"[:24].lower().strip("_-"))
                    if crossing is not None:
                        term["source-interface"], term["destination-interface"] = crossing
                    terms.append(term)
        self.count += 1
        terms.append({"name": f"t{self.count}-default-deny", "action": "deny"})
        return terms

    def definitions(self) -> naming.Naming:
        defs = naming.Naming()
        defs.ParseDefinitionsObject({
            "networks": {n: {"values": [{"address": a} for a in addrs]} for n, addrs in self.networks.items()},
            "services": {n: entries for n, entries in self.services.items()},
        }, "")
        return defs


def _filters(builder: _PolicyBuilder, fw: BoundaryFirewall,
             placements: list[Placement]) -> tuple[list[Any], str, str]:
    """Aerleon filters, plus the text that goes before and after Aerleon's output (ASA bindings)."""
    target = builder.target
    mapped = list(fw.entry.zones)
    filters: list[dict[str, Any]] = []
    header = trailer = ""
    if target.per_pair:  # every pair of mapped zones, so each zone exists and each pair says "deny" explicitly
        pairs = sorted({p for pl in placements for p in pl.hop.config_pairs()}
                       | {(x, y) for x in mapped for y in mapped if x != y})
        for x, y in pairs:
            filters.append({"header": {"targets": {target.aerleon: f"from-zone {x} to-zone {y}"}},
                            "terms": builder.terms(placements, (x, y), None)})
    elif target.per_ingress:
        header = "same-security-traffic permit inter-interface\n"
        for x in mapped:
            header += f"interface {_name(x)}\n nameif {x}\n security-level 0\n!\n"
        for x in mapped:
            acl = f"PG_{_name(x)}_IN"
            filters.append({"header": {"targets": {target.aerleon: acl}}, "terms": builder.terms(placements, None, x)})
            trailer += f"access-group {acl} in interface {x}\n"
    else:
        options = "FORWARD DROP inet truncateterms" if target.aerleon == "iptables" else "mixed forward"
        terms = builder.terms(placements, None, None)
        filters.append({"header": {"targets": {target.aerleon: options}}, "terms": terms})
    return filters, header, trailer


def render_firewall(estate: Estate, firewall_id: str, vendor: str | None = None) -> Rendering:
    """Render the register for one firewall in its vendor's syntax (or ``vendor``'s) and prove it."""
    fw = next((f for f in estate.firewalls if f.entry.id == firewall_id), None)
    if fw is None:
        raise InputError.at("--firewall", 0, 0, f"unknown firewall '{firewall_id}'",
                            "one of: " + ", ".join(f.entry.id for f in estate.firewalls))
    chosen = vendor or fw.entry.vendor
    target = TARGETS.get(chosen)
    if target is None:
        raise RenderError(f"no renderer for vendor {chosen!r}; supported: {', '.join(sorted(TARGETS))}")
    _refuse_unplaced(fw)
    placements, transit = _placements(estate, fw)
    builder = _PolicyBuilder(estate, target)
    filters, header, trailer = _filters(builder, fw, placements)
    name = _name(firewall_id).lower()
    if not filters:
        raise RenderError(f"no conduit crosses {firewall_id}: nothing to render")
    try:
        generated = Generate([{"filename": name, "filters": filters}], builder.definitions())
    except Exception as exc:  # Aerleon reports its own limits as assorted exception types
        raise RenderError(f"Aerleon could not render {firewall_id} ({target.aerleon}): {exc}") from exc
    text = (generated or {}).get(name + target.extension)
    if text is None:
        raise RenderError(f"Aerleon returned no {target.aerleon} output for {firewall_id}")
    text = header + _without_repeated_lines(text).rstrip("\n") + "\n" + trailer
    rendering = Rendering(firewall_id, chosen, text, placements, intended_sets(estate, placements))
    rendering.limitations = _limitations(fw, target) + transit
    verify(estate, fw, rendering)
    return rendering


def _without_repeated_lines(text: str) -> str:
    """The text without a rule line that repeats the line before it.

    Aerleon's nftables generator writes an IPv4-only term of a "mixed" filter twice (once
    per family, both IPv4); the second copy can never match, and our own lint would rightly
    call it redundant. Only identical consecutive lines go, so nothing else changes.
    """
    out: list[str] = []
    for line in text.splitlines():
        if out and line.strip() and line == out[-1] and not line.strip().startswith(("#", "!", "}", "{")):
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _refuse_unplaced(fw: BoundaryFirewall) -> None:
    """A RenderError unless every zone of the firewall is tied to interfaces or zones of its config."""
    coverage = fw.coverage
    if not fw.treaty_pairs():
        why = "; ".join(item.detail for item in coverage.items if item.kind is GapKind.NO_ZONE_PAIR)
        raise RenderError(f"{fw.entry.id} joins no pair of treaty zones ({why}): there is nothing to render it "
                          "from; map its interfaces or zones in firewalls.yaml")
    by_network = [z for z in fw.entry.joins if z not in fw.entry.zones.values()]
    if by_network or fw.ruleset is not fw.parsed:
        how = (f"joins {', '.join(by_network)} by network" if by_network
               else "its zone map names ACLs of a fragment, not interfaces")
        raise RenderError(f"{fw.entry.id} {how}: a rendering could not tie a conduit's sources to the interface "
                          "they enter on, so it would permit spoofed sources; map the config's interfaces or zones "
                          "in firewalls.yaml to render it")


def _limitations(fw: BoundaryFirewall, target: VendorTarget) -> list[str]:
    notes = ["traffic to and from the firewall itself (management, INPUT/OUTPUT) is not rendered"]
    if target.per_ingress:
        notes.append("ACLs bind per ingress interface: the egress is decided by routing, not by the ACL")
    if target.ipv4_only:
        notes.append("iptables renders IPv4 only; IPv6 conduits need ip6tables")
    notes += [f"NAT not rendered: {span}" for span in fw.ruleset.nat_statements]
    return notes


def verify(estate: Estate, fw: BoundaryFirewall, rendering: Rendering) -> None:
    """Parse the rendering with our own parser, bind it with the firewall's own treaty entry, and compare.

    Per treaty zone pair, the rendering must permit exactly the conduits placed there (for
    ACLs bound per ingress interface: the conduits entering there); every other path of the
    rendering, but the firewall itself and traffic inside one treaty zone, must permit
    nothing. "More than the register" is judged on the whole packet space, "missing" within
    the target's address family.
    """
    space = estate.space
    target = TARGETS[rendering.vendor]
    label = f"<render of {fw.entry.id}>"
    parsed = parser_for(rendering.vendor, "").parse(rendering.text, label)
    rendering.parsed = parsed
    try:
        bound = BoundaryFirewall.bound(estate.site, fw.entry, parsed, space)
    except InputError as exc:
        rendering.mismatches.append(f"the rendering does not carry {fw.entry.id}'s zone map: {exc}")
        return
    rendering.bound = bound
    family = space.addresses("src", ANY_IPV4) if target.ipv4_only else space.universe()
    wanted_by_pair: dict[tuple[str, str], FlowSet] = {}
    for placement in rendering.placements:
        key = (placement.hop.from_zone, placement.hop.to_zone)
        wanted_by_pair[key] = wanted_by_pair.get(key, space.empty()) | estate.conduit(placement.conduit)
    compared: set[tuple[str, str]] = set()
    for (a, b), crossings in bound.binding.crossings.items():
        compared |= set(crossings)
        got = space.empty()
        for x, y in crossings:
            got = got | permitted_between(space, parsed, x, y)
        wanted = space.empty()
        for (c, d), flows in wanted_by_pair.items():
            if c == a and (d == b or target.per_ingress):
                wanted = wanted | flows
        _compare(rendering, f"{a} -> {b}", got, wanted, family)
    zone_of = {name: zone for zone, names in bound.binding.ingress_of.items() for name in names}
    for x, y in sorted({*parsed.zone_pairs(), *parsed.paths} - compared):
        if SELF_ZONE in (x, y) or (x in zone_of and zone_of.get(y) == zone_of[x]):
            continue  # the firewall itself, or traffic inside one treaty zone: the register says nothing
        _compare(rendering, f"{x} -> {y} (no treaty zone pair)", permitted_between(space, parsed, x, y),
                 space.empty(), family)


def _compare(rendering: Rendering, where: str, got: FlowSet, wanted: FlowSet, family: FlowSet) -> None:
    for label_text, extra in (("permits more than the register", got - wanted),
                              ("misses register flows", (wanted - got) & family)):
        witness: Flow | None = extra.witness()
        if witness is not None:
            rendering.mismatches.append(f"{where}: the rendering {label_text}, e.g. {witness}")
