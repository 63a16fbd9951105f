"""Address translation as a relation on packet sets: the image and preimage of a NAT table.

A NAT rule does not decide a packet, it rewrites it; so analyses need, for a set of packets,
the set they become (``image``) and, for a set of translated packets, the packets they came
from (``preimage``), each part labelled with the rule that did it. Both are set operations on
BDDs (quantify the rewritten bits, then fix them), never a loop over packets; ``nat_oracle``
is the per-packet reference the property tests hold them to.

Semantics (``firewalls.nat``): a stage's rules are first-match; a packet no rule matches is
not translated. Widening, where the outcome is unknown, always to the union of outcomes:
- an ``uncertain`` rule, and a zone-constrained rule evaluated without that zone in the
  context, may or may not apply: its packets are both translated by it and passed on to the
  later rules (the parts of ``nat_parts`` then overlap);
- a mapping with no address of the packet's IP version (NAT64/NAT46) is not modelled: such
  packets may become any packet of either version with the same protocol and kept ports;
- a port outside the range a shift maps becomes any port of the range (a shift inside it is exact).

Encoding (``space``): IPv4 prefixes quantify and fix only the low 32 address bits, so no node
on an IPv4 path ever tests the high 96 bits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from plantgate.firewalls.nat import KEEP, AddressMapping, NatRule, NatStage, PortMapping
from plantgate.firewalls.ruleset import PORT_PROTOCOLS, Ruleset
from plantgate.netspace.box_index import earlier_meeting
from plantgate.netspace.boxes import Boxes
from plantgate.netspace.compile import permitted_between, services_node, union_all
from plantgate.netspace.egress import connected_elsewhere
from plantgate.netspace.flow import MAPPED_V4_BASE
from plantgate.netspace.space import HIGH_BITS, FlowSet, Node, PacketSpace

Applies = Literal["yes", "no", "maybe"]
T = TypeVar("T")


def _zone_applies(zones: tuple[str, ...], context: str | None) -> Applies:
    if not zones:
        return "yes"
    if context is None:
        return "maybe"
    return "yes" if context in zones else "no"


def rule_applies(rule: NatRule, from_zone: str | None, to_zone: str | None) -> Applies:
    """Whether a rule takes part in a zone context: surely, not at all, or maybe (widened)."""
    sides = (_zone_applies(rule.from_zones, from_zone), _zone_applies(rule.to_zones, to_zone))
    if "no" in sides:
        return "no"
    if "maybe" in sides or rule.uncertain:
        return "maybe"
    return "yes"


def nat_match_node(space: PacketSpace, rule: NatRule) -> Node:
    """The packets a NAT rule's fields match (zones aside), inside the universe."""
    key = ("nat-match", id(rule))
    hit = space.memo.get(key)
    if hit is not None and hit[0] is rule:
        return hit[1]
    services = services_node(space, rule.services)
    node = services & space.address_node("dst", rule.destinations) & space.address_node("src", rule.sources)
    node = node & space.universe_node
    space.memo[key] = (rule, node)
    return node


@dataclass(frozen=True)
class NatPart:
    """The packets one outcome of a NAT table applies to: translated by ``rule``, or not at all (None)."""

    rule: NatRule | None
    domain: FlowSet


def nat_parts(
    space: PacketSpace, rules: Sequence[NatRule], from_zone: str | None = None, to_zone: str | None = None
) -> list[NatPart]:
    """The first-match partition of a NAT table in a zone context, untranslated part last.

    A rule that surely applies takes its packets from the later rules; one that maybe applies
    (uncertain, or zones unknown) leaves them to the later rules too, so parts may overlap.
    """
    context, taking = _taking(space, rules, from_zone, to_zone)
    key = ("nat-parts", context)
    hit = space.memo.get(key)
    if hit is not None:
        return [NatPart(rule, FlowSet(space, node)) for rule, node in hit]
    parts = _partition(space, taking)
    # nodes, not FlowSets: a FlowSet holds the space, and a space that holds itself would meet
    # its BDD manager's end after the manager's nodes
    space.memo[key] = [(part.rule, part.domain.node) for part in parts]
    return parts


def _taking(space: PacketSpace, rules: Sequence[NatRule], from_zone: str | None, to_zone: str | None
            ) -> tuple[tuple[object, ...], list[tuple[NatRule, Applies]]]:
    """(a key of the context, the rules that may apply in it and how surely), memoised.

    Whether a rule applies depends only on its zones and ``uncertain``, which a table's rules share
    in a few combinations: the context is told by how each combination applies, so the zone pairs
    of a 1,000-rule table share a handful of contexts instead of each testing every rule.
    """
    table = tuple(map(id, rules))
    shapes = space.memo.get(("nat-shapes", table))
    if shapes is None:  # the rules are kept alive with it, so their ids stay theirs
        index: dict[tuple[tuple[str, ...], tuple[str, ...], bool], int] = {}
        examples: list[NatRule] = []
        of_rule: list[int] = []
        for rule in rules:
            shape = (rule.from_zones, rule.to_zones, rule.uncertain)
            if shape not in index:
                index[shape] = len(examples)
                examples.append(rule)
            of_rule.append(index[shape])
        shapes = space.memo[("nat-shapes", table)] = (list(rules), examples, of_rule)
    kept, examples, of_rule = shapes
    applies = tuple(rule_applies(example, from_zone, to_zone) for example in examples)
    context = (table, applies)
    taking = space.memo.get(("nat-taking", context))
    if taking is None:
        taking = space.memo[("nat-taking", context)] = [
            (rule, applies[shape]) for rule, shape in zip(kept, of_rule, strict=True) if applies[shape] != "no"]
    return context, taking


def _partition(space: PacketSpace, taking: list[tuple[NatRule, Applies]]) -> list[NatPart]:
    """Each rule's packets minus those of the earlier rules that surely apply; the untranslated rest last.

    A NAT table's rules rarely meet (one published address each), so each rule is cut only by the
    earlier rules whose interval boxes meet its own (``box_index``), never by a running "taken so
    far" set, which grows with the table and made every step slow. Where no rule surely applies (a
    zone-based table with the to-zone unknown) no rule is cut, and the boxes are not needed.
    """
    matches = [nat_match_node(space, rule) for rule, _ in taking]
    surely = [applies == "yes" for _, applies in taking]
    meeting: list[list[int]] = [[] for _ in taking]
    if any(surely):
        boxes = Boxes()
        meeting = earlier_meeting([boxes.of_match(rule.sources, rule.destinations, rule.services)
                                   for rule, _ in taking])
    parts: list[NatPart] = []
    for i, (rule, _) in enumerate(taking):
        taken = [matches[k] & matches[i] for k in meeting[i] if surely[k]]
        domain = matches[i] & ~union_all(space, taken) if taken else matches[i]
        if domain != space.false:
            parts.append(NatPart(rule, FlowSet(space, domain)))
    remaining = space.universe_node & ~union_all(space, [m for m, sure in zip(matches, surely, strict=True) if sure])
    if remaining != space.false:
        parts.append(NatPart(None, FlowSet(space, remaining)))
    return parts


# ----- one rule's rewrite -----


def address_bits(space: PacketSpace, field: str, mapping: AddressMapping) -> tuple[tuple[str, ...], Node]:
    """(variables the mapping rewrites, the set the rewritten field lies in) for ``field`` (memoised)."""
    key = ("nat-address-bits", field, mapping)
    hit = space.memo.get(key)
    if hit is None:
        hit = space.memo[key] = _address_bits_of(space, field, mapping)
    found: tuple[tuple[str, ...], Node] = hit
    return found


def _address_bits_of(space: PacketSpace, field: str, mapping: AddressMapping) -> tuple[tuple[str, ...], Node]:
    names = space.field_names(field)
    if mapping.pool is not None:
        return names, space.address_node(field, mapping.pool)  # type: ignore[arg-type]
    prefix = mapping.prefix
    assert prefix is not None
    if prefix.version == 4:
        first, length = HIGH_BITS, HIGH_BITS + prefix.prefixlen
        value = MAPPED_V4_BASE | int(prefix.network_address)
    else:
        first, length, value = 0, prefix.prefixlen, int(prefix.network_address)
    return names[first:length], space.address_prefix(field, value, length)


def _port_vars(space: PacketSpace, field: str) -> tuple[str, ...]:
    return space.field_names(field)


def _port_protocols(space: PacketSpace) -> Node:
    return space.values("proto", PORT_PROTOCOLS)


def _add_power(space: PacketSpace, field: str, node: Node, k: int, up: bool) -> Node:
    """``node`` with 2**k added to the field's value (``up``) or taken from it; values that would wrap are dropped.

    Adding 2**k flips the run of ones at weights k, k+1, ... to zeros and the zero above it to a
    one (taking flips zeros and a one): one piece per run length, each quantifying and fixing only
    the bits of its run, so the other bits of the field and every other field are kept exactly.
    """
    variables, names = space.field_vars(field), space.field_names(field)
    width = len(variables)
    pieces = []
    for run in range(width - k):
        indices = [width - 1 - (k + j) for j in range(run + 1)]  # weights k .. k+run, as bit indices
        before = after = space.true
        for position, index in enumerate(indices):
            carried = position < run  # bits of the run flip; the bit above it takes the carry
            one_before = up == carried
            before = before & (variables[index] if one_before else ~variables[index])
            after = after & (~variables[index] if one_before else variables[index])
        piece = node & before
        if piece != space.false:
            pieces.append(space.bdd.exist([names[i] for i in indices], piece) & after)
    return union_all(space, pieces)


def _shift(space: PacketSpace, field: str, node: Node, shift: int) -> Node:
    """``node`` with every value of ``field`` moved by ``shift`` (the caller keeps the results in range), exactly.

    One addition of a power of two per bit of ``shift``: no value is enumerated.
    """
    magnitude = abs(shift)
    for k in range(magnitude.bit_length()):
        if magnitude >> k & 1:
            node = _add_power(space, field, node, k, shift > 0)
    return node


def port_image(space: PacketSpace, field: str, node: Node, mapping: PortMapping, inverse: bool) -> Node:
    """Ports of ``field`` rewritten by ``mapping`` (or, with ``inverse``, the ports they came from)."""
    ports = _port_protocols(space)
    kept = node & ~ports
    node = node & ports
    names = _port_vars(space, field)
    low, high = mapping.to
    target = space.range(field, low, high)
    anywhere = space.bdd.exist(names, node & target) if inverse else space.bdd.exist(names, node) & target
    shift = mapping.shift
    if shift is None:
        return kept | (anywhere & ports)
    d_low, d_high = max(low - shift, 0), min(high - shift, 65535)
    if d_low > d_high:  # nothing maps into the range: every matched port becomes any of it
        return kept | (anywhere & ports)
    shifted_from = space.range(field, d_low, d_high)
    if inverse:
        inside = _shift(space, field, node & space.range(field, d_low + shift, d_high + shift), -shift)
        outside = space.bdd.exist(names, node & target) & ~shifted_from & ports
        return kept | inside | outside
    inside = _shift(space, field, node & shifted_from, shift)
    outside = space.bdd.exist(names, node & ~shifted_from) & target
    return kept | inside | outside


def has_family(space: PacketSpace, field: str, mapping: AddressMapping | None, family: Node) -> bool:
    if mapping is None:
        return True
    return bool((address_bits(space, field, mapping)[1] & family) != space.false)


def _rewrite(space: PacketSpace, rule: NatRule, node: Node, inverse: bool) -> Node:
    """The image (or preimage) of ``node`` under one rule, not yet cut to the universe."""
    bdd = space.bdd
    ends = (("src", "sport", rule.source), ("dst", "dport", rule.destination))
    out = []
    for family in (space.ipv4, space.ipv6):  # the family of the packet before translation
        if all(has_family(space, field, t.addresses, family) for field, _, t in ends):
            part = node & family
            for field, _, translation in ends:
                if translation.addresses is None or part == space.false:
                    continue
                names, target = address_bits(space, field, translation.addresses)
                part = bdd.exist(names, part & target) if inverse else bdd.exist(names, part) & target
        else:  # NAT64/46 not modelled: any address of either version (see module docstring)
            every = space.field_names("family") + space.field_names("src") + space.field_names("dst")
            part = bdd.exist(every, node if inverse else node & family) & space.universe_node
            if inverse:
                part = part & family
        if part == space.false:
            continue
        for _, port_field, translation in ends:
            if translation.ports is not None:
                part = port_image(space, port_field, part, translation.ports, inverse)
        out.append(part)
    return union_all(space, out) & space.universe_node


def rule_image(space: PacketSpace, rule: NatRule | None, flows: FlowSet) -> FlowSet:
    """What ``flows`` become under ``rule`` (None: unchanged), whether or not the rule matches them."""
    if rule is None or rule.is_identity:
        return flows
    return FlowSet(space, _rewrite(space, rule, flows.node, inverse=False))


def rule_preimage(space: PacketSpace, rule: NatRule | None, flows: FlowSet) -> FlowSet:
    """Every packet that ``rule`` (None: no rule) could turn into one of ``flows``."""
    if rule is None or rule.is_identity:
        return flows
    return FlowSet(space, _rewrite(space, rule, flows.node, inverse=True))


def chain_image(space: PacketSpace, rules: Sequence[NatRule], flows: FlowSet) -> FlowSet:
    """What ``flows`` become under ``rules`` applied one after the other (each whether or not it matches)."""
    for rule in rules:
        flows = rule_image(space, rule, flows)
    return flows


def chain_preimage(space: PacketSpace, rules: Sequence[NatRule], flows: FlowSet) -> FlowSet:
    """Every packet that ``rules``, applied one after the other, could turn into one of ``flows``."""
    for rule in reversed(rules):
        flows = rule_preimage(space, rule, flows)
    return flows


def destination_only(rules: Sequence[NatRule]) -> list[NatRule]:
    """The rules with their source rewrites left out: what the destination of a session becomes."""
    return [replace(rule, source=KEEP) for rule in rules]


# ----- a table -----


@dataclass(frozen=True)
class NatStep:
    """Packets ``before`` that ``rule`` (None: no rule) turns into ``after``."""

    rule: NatRule | None
    before: FlowSet
    after: FlowSet


def image(space: PacketSpace, rules: Sequence[NatRule], flows: FlowSet, from_zone: str | None = None,
          to_zone: str | None = None) -> list[NatStep]:
    """What ``flows`` become after a first-match NAT table, one step per outcome that meets them."""
    steps = []
    for part in nat_parts(space, rules, from_zone, to_zone):
        before = flows & part.domain
        if before:
            steps.append(NatStep(part.rule, before, rule_image(space, part.rule, before)))
    return steps


def preimage(space: PacketSpace, rules: Sequence[NatRule], flows: FlowSet, from_zone: str | None = None,
             to_zone: str | None = None) -> list[NatStep]:
    """The packets that a first-match NAT table turns into some of ``flows``, one step per outcome.

    ``before`` is the part of the outcome's domain that lands in ``flows``; ``after`` what it becomes there.
    """
    steps = []
    for part in nat_parts(space, rules, from_zone, to_zone):
        before = rule_preimage(space, part.rule, flows) & part.domain
        if before:
            steps.append(NatStep(part.rule, before, rule_image(space, part.rule, before) & flows))
    return steps


def union_of(space: PacketSpace, steps: Sequence[NatStep], which: Literal["before", "after"]) -> FlowSet:
    return FlowSet(space, union_all(space, [getattr(step, which).node for step in steps]))


def _part_image(space: PacketSpace, part: NatPart, less: FlowSet | None = None) -> FlowSet:
    """What a NAT table part's packets become, less ``less``, kept per partition: zone pairs whose
    rules apply alike (a VIP on any interface applies to every pair) share it, and pairs that
    lead into one zone share its cut."""
    key = ("nat-part-image", id(part.rule), part.domain.node, None if less is None else less.node)
    hit = space.memo.get(key)
    if hit is None or hit[0] is not part.rule:  # the rule is kept alive, so its id stays its own
        image_of = rule_image(space, part.rule, part.domain) if less is None else _part_image(space, part) - less
        hit = space.memo[key] = (part.rule, image_of.node)
    return FlowSet(space, hit[1])


def moves_destination(rule: NatRule | None) -> bool:
    """Whether the rule rewrites the destination address (so the zone it leaves by may change)."""
    return rule is not None and rule.destination.addresses is not None


def _pair_arrivals(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> list[NatPart]:
    """The before-filter table's outcomes for the packets of one zone pair (named by the zone after NAT).

    Where the policy sees the translated packet the pair is the NAT rules' own context. Where it
    sees the original one (PAN-OS), a NAT rule's to-zone is the zone of the destination before
    translation, which the pair tells only for packets whose destination no rule moves: those
    are decided in the context ``to_zone`` exactly (a rule that keeps the destination and names
    other to-zones never applies to them). A rule that moves the destination may send a packet of
    any pre-NAT zone into the pair, so its part comes from the table with the to-zone unknown
    (widened: rules naming to-zones may or may not apply). Parts stay in table order.
    """
    rules = stage_rules(ruleset, NatStage.BEFORE_FILTER)
    if ruleset.policy_sees == "translated":
        return nat_parts(space, rules, from_zone, to_zone)
    return by_pre_nat_zone(rules, lambda zone: nat_parts(space, rules, from_zone, zone), lambda part: part.rule,
                           to_zone)


def _arrival_contexts(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> tuple[object, ...]:
    """What ``_pair_arrivals`` depends on: the contexts of the tables it reads (see ``_taking``)."""
    rules = stage_rules(ruleset, NatStage.BEFORE_FILTER)
    if ruleset.policy_sees == "translated":
        return (_taking(space, rules, from_zone, to_zone)[0],)
    return _taking(space, rules, from_zone, None)[0], _taking(space, rules, from_zone, to_zone)[0]


def by_pre_nat_zone(rules: Sequence[NatRule], outcomes_in: Callable[[str | None], list[T]],
                    rule_of: Callable[[T], NatRule | None], to_zone: str) -> list[T]:
    """A pair's outcomes where a NAT rule's to-zone is the zone before translation (PAN-OS): those
    that keep the destination from the table in ``to_zone`` (their pre-NAT zone), those that move
    it from the table with the to-zone unknown; in table order, no rule last. ``outcomes_in`` gives
    the outcomes of the table in a to-zone context (sets of packets, or one packet's rules)."""
    moving = [item for item in outcomes_in(None) if moves_destination(rule_of(item))]
    keeping = [item for item in outcomes_in(to_zone) if not moves_destination(rule_of(item))]
    order = {id(rule): index for index, rule in enumerate(rules)}
    return sorted(moving + keeping, key=lambda item: order.get(id(rule_of(item)), len(rules)))


def stage_rules(ruleset: Ruleset, stage: NatStage) -> list[NatRule]:
    """The ruleset's NAT table of one stage, in order."""
    return [rule for rule in ruleset.nat_rules if rule.stage is stage]


# ----- a zone pair, NAT and filters together -----


@dataclass(frozen=True)
class TranslatedFlows:
    """New flows ``before`` (as they arrive) that pass the firewall as ``after`` (as they leave).

    ``rules`` are the NAT rules that rewrote them, before-filter rule first (identity parts left out).
    """

    before: FlowSet
    after: FlowSet
    rules: tuple[NatRule, ...]


def nat_to_zone(ruleset: Ruleset, to_zone: str | None) -> str | None:
    """The to-zone NAT rules are matched against. Where the policy sees the original packet (PAN-OS),
    a NAT rule's to-zone is the zone before translation, which the pair (named by the zone after it)
    does not tell: the rule may apply (widened)."""
    return to_zone if ruleset.policy_sees == "translated" else None


class FilteredFlows:
    """Packets of a zone pair the filters permit through one before-filter NAT rule (None: none).

    ``after`` is the packets after that rule; ``before`` the same packets as they arrived. Either
    is computed on first use from the other (most analyses need only one of them). Shaped as
    ``TranslatedFlows``.
    """

    def __init__(self, space: PacketSpace, rule: NatRule | None, domain: FlowSet, after: FlowSet | None,
                 before: FlowSet | None = None, leaves_elsewhere: FlowSet | None = None) -> None:
        assert after is not None or before is not None
        self.space, self.rule, self.domain = space, rule, domain
        self.rules = _rules(rule)
        self._after, self._before = after, before
        self._elsewhere = leaves_elsewhere

    @property
    def after(self) -> FlowSet:
        """Worked out from ``before``: its image, less what leaves by another zone's interface."""
        if self._after is None:
            assert self._before is not None
            after = rule_image(self.space, self.rule, self._before)
            self._after = after - self._elsewhere if self._elsewhere is not None else after
        return self._after

    @property
    def before(self) -> FlowSet:
        if self._before is None:
            self._before = rule_preimage(self.space, self.rule, self.after) & self.domain
        return self._before


@dataclass(frozen=True)
class FilterOffers:
    """A zone pair's permitted set and each before-filter outcome with the packets of it the filters
    decide on (``deciding``: after the rule where the policy sees the translated packet, as they
    arrived where it sees the original one), empty ones left out, in table order."""

    permitted: FlowSet
    elsewhere: FlowSet
    offered: list[tuple[NatPart, FlowSet]]


def filter_offers(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> FilterOffers:
    """What the filters of one zone pair decide on, per before-filter NAT outcome."""
    elsewhere, offered = nat_offers(space, ruleset, from_zone, to_zone)
    return FilterOffers(permitted_between(space, ruleset, from_zone, to_zone), elsewhere, offered)


def nat_offers(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str
               ) -> tuple[FlowSet, list[tuple[NatPart, FlowSet]]]:
    """The NAT half of ``filter_offers``, which needs no fold: (the destinations connected elsewhere,
    each before-filter outcome with the packets of it the filters decide on).

    A destination a rule rewrote into a network the firewall has connected on another zone's
    interface leaves there, not by ``to_zone`` (``netspace.egress``), so it is not offered on this
    pair, unless the rule itself sends it out of its to-zone's interface (``NatRule.sets_egress``).
    """
    elsewhere = connected_elsewhere(space, ruleset, to_zone)
    # pairs of one NAT context and one egress share the offers (every pair, for a table of VIPs),
    # and so do pairs whose contexts differ but whose arrivals do not (where the policy sees the
    # original packet, the arrivals of two to-zones often agree); the rules are kept alive by the
    # contexts' memo, so their ids stay theirs
    key = ("filter-offers", ruleset.policy_sees, elsewhere.node, _arrival_contexts(space, ruleset, from_zone, to_zone))
    hit = space.memo.get(key)
    if hit is None:
        arrivals = _pair_arrivals(space, ruleset, from_zone, to_zone)
        same = ("filter-offers", ruleset.policy_sees, elsewhere.node,
                tuple((id(part.rule), part.domain.node) for part in arrivals))
        hit = space.memo.get(same)
        if hit is None:
            hit = space.memo[same] = [(part.rule, part.domain.node, deciding.node)
                                      for part, deciding in _deciding(space, ruleset, arrivals, elsewhere)]
        space.memo[key] = hit
    return elsewhere, [(NatPart(rule, FlowSet(space, domain)), FlowSet(space, deciding))
                       for rule, domain, deciding in hit]


def _deciding(space: PacketSpace, ruleset: Ruleset, arrivals: list[NatPart], elsewhere: FlowSet
              ) -> Iterator[tuple[NatPart, FlowSet]]:
    """Each arrival with the packets of it the filters decide on; empty ones left out."""
    translated = ruleset.policy_sees == "translated"
    for first in arrivals:
        moved = _leaves_by_connected(first.rule)
        egress = _pool_egress(space, first, elsewhere) if moved else None
        if egress == "leaves":  # every new destination leaves by another zone's interface
            continue
        if egress == "stays":
            moved = False
        if translated:
            # the new destination leaves by the interface whose network holds it: cut before the
            # (costly) intersection with the permitted set, which leaves nothing for most rewrites
            deciding = _part_image(space, first, elsewhere if moved else None)
        else:
            deciding = first.domain
            if moved:  # only what may leave by ``to_zone`` meets the permitted set
                kept = _part_image(space, first, elsewhere)
                if kept != _part_image(space, first):
                    deciding = deciding & rule_preimage(space, first.rule, kept) if kept else space.empty()
        if deciding:
            yield first, deciding


def _pool_egress(space: PacketSpace, part: NatPart, elsewhere: FlowSet) -> Literal["stays", "leaves"] | None:
    """Where a rule that sends its packets to one of a pool sends them, told from the pool alone
    (``elsewhere`` is a set of destinations): none of it connected elsewhere ("stays"), all of it
    ("leaves"), or some of it, or a NAT64 widening that may send them anywhere (None: cut the image)."""
    assert part.rule is not None
    mapping = part.rule.destination.addresses
    if mapping is None or mapping.pool is None or not has_family(space, "dst", mapping, space.ipv4):
        return None
    pool = address_bits(space, "dst", mapping)[1]
    if pool == space.false or (part.domain.node & space.ipv6) != space.false:
        return None
    if (pool & elsewhere.node) == space.false:
        return "stays"
    if (pool & ~elsewhere.node) == space.false:
        return "leaves"
    return None


def _through_filters(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> Iterator[FilteredFlows]:
    """The flows the filters permit, per before-filter rule (``filter_offers`` cut to the permitted set)."""
    offers = filter_offers(space, ruleset, from_zone, to_zone)
    permitted, offered = offers.permitted, offers.offered
    translated = ruleset.policy_sees == "translated"
    crossed = _each_within(space, [flows for part, flows in offered if part.rule is not None], permitted)
    for first, deciding in offered:
        allowed = within_large(space, deciding, permitted) if first.rule is None else next(crossed)
        if not allowed:
            continue
        if translated:
            yield FilteredFlows(space, first.rule, first.domain, allowed)
        else:
            # what the packets become is worked out when asked (the ends' view does not need it);
            # each of them may become a packet that leaves by ``to_zone``, since ``deciding`` was
            # cut to the preimage of those, so every one of them passes
            cut = offers.elsewhere if _leaves_by_connected(first.rule) else None
            yield FilteredFlows(space, first.rule, first.domain, None, allowed, cut)


def _leaves_by_connected(rule: NatRule | None) -> bool:
    """Whether the rule rewrites the destination and leaves the egress to the connected networks."""
    return moves_destination(rule) and not (rule is not None and rule.sets_egress)


def _each_within(space: PacketSpace, sets: list[FlowSet], permitted: FlowSet) -> Iterator[FlowSet]:
    """Each of ``sets`` cut to ``permitted``, the large set crossed once. A table's translated parts
    are many and small (one published address each), and crossing the whole permitted set costs
    about as much for one of them as for their union: so it is crossed with their union, and each
    part with that."""
    if len(sets) < 3:
        yield from (flows & permitted for flows in sets)
        return
    within = FlowSet(space, union_all(space, [flows.node for flows in sets])) & permitted
    for flows in sets:
        yield flows & within if within else within


def within_large(space: PacketSpace, flows: FlowSet, permitted: FlowSet) -> FlowSet:
    """``flows & permitted`` for a ``flows`` that is most of the universe (the untranslated rest: the
    universe less the NAT rules' packets), computed as ``permitted`` less the rest's complement in
    the universe. That is the same set (``permitted`` lies inside the universe), and CUDD builds
    it about three times faster: the complement holds only the rules' packets, so the walk through
    the permitted set stops at their addresses, where the rest itself repeats the universe's
    structure below them. The complement is kept per rest: every pair of a table context shares it."""
    return FlowSet(space, permitted.node & ~outside_in_universe(space, flows.node))


def outside_in_universe(space: PacketSpace, node: Node) -> Node:
    """The universe less ``node``, kept per node (see ``within_large``)."""
    key = ("outside-in-universe", node)
    outside: Node | None = space.memo.get(key)
    if outside is None:
        outside = space.memo[key] = space.universe_node & ~node
    return outside


def _rules(*rules: NatRule | None) -> tuple[NatRule, ...]:
    return tuple(rule for rule in rules if rule is not None and not rule.is_identity)


def before_filter_permitted(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str
                            ) -> list[FilteredFlows]:
    """The permitted flows of a zone pair per before-filter NAT rule: (as they arrive, after that rule).

    The after-filter NAT is left out: what a pair's ends see needs only this where the after-filter
    rules rewrite sources alone (hide-NAT), and it grows with the before-filter rules, not with their
    product with the after-filter ones as ``translated_permitted`` does.
    """
    return list(_through_filters(space, ruleset, from_zone, to_zone))


def translated_permitted(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> list[TranslatedFlows]:
    """The permitted flows of a zone pair with address translation applied, as (before, after, rules).

    Before-filter NAT rewrites arriving packets; the filters decide on the rewritten packet when
    ``ruleset.policy_sees`` is "translated", on the arriving one when it is "original"; after-filter
    NAT rewrites what they permit. ``before`` is exact for each combination of rules; the union of
    all ``after`` sets is what may leave. Without NAT rules it is one entry: the permitted set itself.
    """
    found: list[TranslatedFlows] = []
    after_filter = stage_rules(ruleset, NatStage.AFTER_FILTER)
    nat_zone = nat_to_zone(ruleset, to_zone)
    for first in _through_filters(space, ruleset, from_zone, to_zone):
        for second in image(space, after_filter, first.after, from_zone, nat_zone):
            origin = rule_preimage(space, first.rule, second.before) & first.before
            found.append(TranslatedFlows(origin, second.after, _rules(first.rule, second.rule)))
    return found
