"""A firewall's permitted flows as the two ends of a session see them, through its NAT.

The treaty speaks of real hosts: a conduit lets the initiating zone's hosts open sessions to
the responding zone's hosts. Through a NAT the packet a host sends is not the packet that
arrives: a port forward turns 203.0.113.10:8502 into the OT host 10.20.0.5:502. So the flows a
firewall lets from zone A to zone B are the pairs (the source the initiator sent from, the
destination the packet is finally delivered to): the source before any translation (a hide-NAT
changes what the responder sees, not who initiated) and the destination, ports and protocol
after every translation. On a firewall without NAT rules this is its permitted set itself.

Each part keeps the packet as sent and the NAT rules that rewrote it, so every finding can show
the packet before and after, with the NAT rule's line. ``check`` compares one set per pair with
the treaty (``pair_endpoints``), built without the parts; the parts are the evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from plantgate.errors import InputError
from plantgate.firewalls.gc_pause import collector_paused
from plantgate.firewalls.nat import NatRule, NatStage, PortMapping
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace.compile import union_all
from plantgate.netspace.flow import Flow
from plantgate.netspace.space import FlowSet, Node, PacketSpace
from plantgate.netspace.translate import (
    FilteredFlows,
    FilterOffers,
    NatPart,
    TranslatedFlows,
    address_bits,
    before_filter_permitted,
    chain_image,
    chain_preimage,
    destination_only,
    filter_offers,
    has_family,
    image,
    nat_offers,
    nat_to_zone,
    outside_in_universe,
    port_image,
    stage_rules,
    translated_permitted,
)


class EndpointFlows:
    """Flows of one combination of NAT rules as the ends see them (``endpoints``).

    The packets as sent (``sent_as``) are worked out only when asked (a finding's evidence): the
    ends' view is what most analyses need, and it is often known without them.
    """

    def __init__(self, part: TranslatedFlows | FilteredFlows, endpoints: FlowSet) -> None:
        self._part = part
        self.endpoints = endpoints
        self.rules = part.rules

    @classmethod
    def of(cls, space: PacketSpace, part: TranslatedFlows | FilteredFlows, decided: bool = False) -> EndpointFlows:
        """``decided``: ``part.after`` is what the filters decided on (the packet after the
        before-filter NAT). Where that rewrote the destination alone, it is the ends' view itself,
        exactly (a pool's other addresses the filters deny stay out)."""
        if decided and all(rule.source.is_identity for rule in part.rules):
            return cls(part, part.after)
        return cls(part, chain_image(space, destination_only(part.rules), part.before))

    def sent_as(self, space: PacketSpace, endpoints: FlowSet) -> FlowSet:
        """The packets as sent whose ends are among ``endpoints``."""
        return chain_preimage(space, destination_only(self.rules), endpoints & self.endpoints) & self._part.before

    def filter_view(self, space: PacketSpace, endpoints: FlowSet, ruleset: Ruleset) -> FlowSet:
        """The packets the filters decided for ``endpoints``: as sent, or after the before-filter NAT."""
        return self.as_decided(space, self.sent_as(space, endpoints), ruleset)

    def as_decided(self, space: PacketSpace, sent: FlowSet, ruleset: Ruleset) -> FlowSet:
        """Packets as sent, as the filters saw them (after the before-filter NAT where the policy sees that)."""
        if ruleset.policy_sees != "translated":
            return sent
        return chain_image(space, [rule for rule in self.rules if rule.stage is NatStage.BEFORE_FILTER], sent)


def endpoint_flows(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> list[EndpointFlows]:
    """The flows of one config zone pair per combination of NAT rules (one part without NAT rules).

    After-filter rules that rewrite only the source (hide-NAT) change nothing the ends' view
    holds, so where every after-filter rule is such a rule only the before-filter ones are combined.
    """
    with collector_paused():  # thousands of live BDD handles per pair: the collector's scans find nothing
        return _endpoint_flows(space, ruleset, from_zone, to_zone)


def _endpoint_flows(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> list[EndpointFlows]:
    if _sources_only_after(ruleset):
        decided = ruleset.policy_sees == "translated"
        return [EndpointFlows.of(space, part, decided)
                for part in before_filter_permitted(space, ruleset, from_zone, to_zone)]
    return [EndpointFlows.of(space, part) for part in translated_permitted(space, ruleset, from_zone, to_zone)]


def _sources_only_after(ruleset: Ruleset) -> bool:
    """Whether every after-filter rule rewrites the source alone (so the ends' view skips that stage)."""
    return all(rule.destination.is_identity for rule in stage_rules(ruleset, NatStage.AFTER_FILTER))


def pair_endpoints(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> FlowSet:
    """The union of ``endpoint_flows``' parts (one zone pair's permitted flows as the ends see them),
    built without making each part: what ``check`` compares with the treaty.

    Each part's own set is a new BDD (a rewritten destination repeats its path under every port
    branch of the part), so a 1,000-rule NAT table spent most of its time making sets that only
    the union needed. Here the parts whose ends' view is what the filters decide on (no rewrite,
    or the policy sees the rewritten packet) are crossed with the permitted set once, together,
    and the rules that publish a host (the destination becomes one of a pool) are grouped by what
    the permitted set lets reach the published address: ``exists dst. deciding and permitted``,
    which many rules share (one policy rule lets many published hosts be reached). A group is then
    one intersection with the union of its rules' new destinations. Exact: an image distributes
    over union; the tests hold this to the union of the parts.
    """
    key = ("pair-endpoints", id(ruleset), from_zone, to_zone)
    hit = space.memo.get(key)
    if hit is None or hit[0] is not ruleset:  # the ruleset is kept alive, so its id stays its own
        with collector_paused():
            hit = space.memo[key] = (ruleset, _pair_endpoints(space, ruleset, from_zone, to_zone))
    return FlowSet(space, hit[1])


def _pair_endpoints(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> Node:
    if not _sources_only_after(ruleset):
        return union_all(space, [part.endpoints.node for part in _endpoint_flows(space, ruleset, from_zone, to_zone)])
    return _EndsUnion(space, ruleset, filter_offers(space, ruleset, from_zone, to_zone)).node()


def prepare_nat_offers(space: PacketSpace, pairs: Iterable[tuple[Ruleset, str, str]]) -> None:
    """Work out the NAT half of these pairs' ends' view (``translate.nat_offers``: the NAT tables'
    partitions and what each outcome offers the filters), which needs no fold: ``prefold``'s
    ``meanwhile``, so that it runs while the children fold. A pair that fails is left to the
    analysis, which reports it."""
    with collector_paused():
        for ruleset, from_zone, to_zone in pairs:
            if ruleset.nat_rules and _sources_only_after(ruleset):
                try:
                    _decided_outside(space, ruleset, nat_offers(space, ruleset, from_zone, to_zone)[1])
                except InputError:
                    pass


def _is_decided(ruleset: Ruleset, rule: NatRule | None) -> bool:
    """Whether a part's ends' view is what the filters decide on: no rule, or one whose rewrite the
    ends do not see there (a source rewrite as sent; the policy seeing the packet after a rule that
    keeps the source)."""
    if rule is None:
        return True
    return rule.source.is_identity if ruleset.policy_sees == "translated" else rule.destination.is_identity


def _decided_outside(space: PacketSpace, ruleset: Ruleset, offered: list[tuple[NatPart, FlowSet]]) -> Node | None:
    """The universe less every decided part's packets (None: no such part), kept per NAT context.

    With the untranslated rest among them the decided parts are most of the universe: the
    permitted set less this complement is their intersection with it, built about three times
    faster (``translate.within_large``), and it needs no fold (``prepare_nat_offers``)."""
    decided = tuple(deciding.node for part, deciding in offered if _is_decided(ruleset, part.rule))
    if not decided:
        return None
    key = ("ends-decided", decided)
    united = space.memo.get(key)
    if united is None:
        united = space.memo[key] = union_all(space, list(decided))
    return outside_in_universe(space, united)


class _EndsUnion:
    """The ends' view of a pair's filter offers, united, part by part as ``EndpointFlows.of`` sees each."""

    def __init__(self, space: PacketSpace, ruleset: Ruleset, offers: FilterOffers) -> None:
        self.space, self.permitted = space, offers.permitted
        self.published: dict[tuple[Node, PortMapping | None], list[Node]] = {}
        self.pieces: list[Node] = []  # finished ends' views
        self.outside = _decided_outside(space, ruleset, offers.offered)
        for part, deciding in offers.offered:
            if part.rule is not None and not _is_decided(ruleset, part.rule):
                self._add(ruleset, part.rule, part.domain, deciding)

    def _add(self, ruleset: Ruleset, rule: NatRule, domain: FlowSet, deciding: FlowSet) -> None:
        space = self.space
        if ruleset.policy_sees == "translated":  # ``deciding`` is after the rule, as the filters see it
            filtered = FilteredFlows(space, rule, domain, deciding & self.permitted)
            self.pieces.append(EndpointFlows.of(space, filtered, decided=True).endpoints.node)
        elif not self._publish(rule, deciding):
            self.pieces.append(chain_image(space, destination_only([rule]), deciding & self.permitted).node)

    def _publish(self, rule: NatRule, deciding: FlowSet) -> bool:
        """Group a rule whose new destination is one of a pool; False where the image is not that
        simple (a prefix map keeps host bits; an IPv6 packet or a pool without IPv4 takes the NAT64
        widening of ``translate``)."""
        space, mapping = self.space, rule.destination.addresses
        if mapping is None or mapping.pool is None or not has_family(space, "dst", mapping, space.ipv4):
            return False
        if (deciding.node & space.ipv6) != space.false:
            return False
        names, target = address_bits(space, "dst", mapping)
        reaching = space.and_exists(deciding.node & space.ipv4, self.permitted.node, names)
        if reaching != space.false:
            self.published.setdefault((reaching, rule.destination.ports), []).append(target)
        return True

    def node(self) -> Node:
        space = self.space
        pieces = list(self.pieces)
        if self.outside is not None:  # the permitted set less what no decided part holds
            pieces.append(self.permitted.node & ~self.outside)
        for (reaching, ports), targets in self.published.items():
            delivered = reaching & union_all(space, targets)
            if ports is not None:
                delivered = port_image(space, "dport", delivered, ports, inverse=False)
            pieces.append(delivered & space.universe_node)
        return union_all(space, pieces)


@dataclass(frozen=True)
class Translated:
    """How one delivered packet was sent: the packet as sent and the rules that rewrote it."""

    sent: Flow
    delivered: Flow
    rules: tuple[NatRule, ...]
    left: Flow | None = None
    """The packet as it leaves the firewall, where an after-filter rule (a hide-NAT) rewrote it."""

    def __str__(self) -> str:
        rules = ", ".join(rule.label for rule in self.rules)
        return f"sent as {self.sent}, translated by {rules}" + (f"; it leaves as {self.left}" if self.left else "")


def leaving(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str, decided: Flow
            ) -> tuple[NatRule, Flow] | None:
    """The after-filter rule that rewrites ``decided`` (a packet the filters permitted) and what it
    leaves as; None when none does."""
    after_rules = stage_rules(ruleset, NatStage.AFTER_FILTER)
    for step in image(space, after_rules, space.flow(decided), from_zone, nat_to_zone(ruleset, to_zone)):
        if step.rule is not None and not step.rule.is_identity:
            left = step.after.witness()
            return (step.rule, left) if left is not None else None
    return None
