"""End-to-end paths through firewalls that translate: each hop sees the packet the last one sent.

Without NAT a path's flows are the intersection of its hops' permitted sets: the packet is
the same at every hop. With NAT the second firewall sees what the first one let out: a hide-NAT
gives it the first firewall's address as the source, a port forward the real server as the
destination. So a path is followed forward, hop by hop, through each hop's permitted flows as
pairs (arriving, leaving) per combination of NAT rules (``netspace.translate``), and the packets
that reach the target zone are followed back to the packets the source zone's hosts sent.

A path's flows are then reported as its ends see them (``reconcile.nat_view``): the source the
initiating host sent from, the destination it was finally delivered to. Each combination keeps,
per hop, the packet before and after, so a witness can be shown at every hop with the NAT rules'
lines. Where the combinations of NAT rules along a path exceed ``MAX_COMBINATIONS`` the rest are
followed together and their ends are widened (any initiating source with any delivered
destination of those flows), never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from plantgate.firewalls.nat import NatRule, NatStage
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace.flow import Flow
from plantgate.netspace.space import FlowSet, PacketSpace
from plantgate.netspace.translate import (
    FilteredFlows,
    TranslatedFlows,
    before_filter_permitted,
    chain_image,
    chain_preimage,
    destination_only,
    image,
    nat_to_zone,
    preimage,
    rule_image,
    rule_preimage,
    stage_rules,
    translated_permitted,
)

MAX_COMBINATIONS = 256
"""Combinations of NAT rules along one path followed one by one; the rest are followed together."""


class HopStep(Protocol):
    """One way through a hop: the packets it takes (``before``, as they arrive) and what it makes of them."""

    @property
    def before(self) -> FlowSet: ...

    @property
    def sets_egress(self) -> bool:
        """Whether its NAT rule sends the packets out of the rule's own interface (``NatRule.sets_egress``),
        so the firewall's routes do not decide where they leave."""
        ...

    def forward(self, flows: FlowSet) -> FlowSet:
        """What packets of ``before`` leave as."""
        ...

    def backward(self, flows: FlowSet) -> FlowSet:
        """The packets of ``before`` that leave as some of ``flows``."""
        ...

    def destination_forward(self, flows: FlowSet) -> FlowSet:
        """``flows`` with only their destinations rewritten as this way rewrites them."""
        ...

    def destination_backward(self, flows: FlowSet) -> FlowSet:
        ...

    def rules_for(self, packet: Flow, left: FlowSet) -> tuple[NatRule, ...]:
        """The NAT rules that turn ``packet`` into one of ``left``."""
        ...

    def decided(self, flows: FlowSet) -> FlowSet:
        """What the hop's filters decided on for ``flows`` (as they arrive)."""
        ...


HopParts = Callable[[int], Sequence[HopStep]]
"""The ways through a path's hop (by index)."""


@dataclass(frozen=True)
class CombinedStep:
    """A hop's way through one combination of NAT rules (before and after the filters)."""

    space: PacketSpace
    part: TranslatedFlows
    policy_sees: str

    @property
    def before(self) -> FlowSet:
        return self.part.before

    @property
    def sets_egress(self) -> bool:
        # identity rules are not among ``part.rules``; combined steps serve after-filter rules that
        # rewrite destinations, which no vendor with a diverting rule has (ASA's rewrite sources)
        return any(rule.sets_egress for rule in self.part.rules)

    def forward(self, flows: FlowSet) -> FlowSet:
        return chain_image(self.space, self.part.rules, flows)

    def backward(self, flows: FlowSet) -> FlowSet:
        return chain_preimage(self.space, self.part.rules, flows)

    def destination_forward(self, flows: FlowSet) -> FlowSet:
        return chain_image(self.space, destination_only(self.part.rules), flows)

    def destination_backward(self, flows: FlowSet) -> FlowSet:
        return chain_preimage(self.space, destination_only(self.part.rules), flows)

    def rules_for(self, packet: Flow, left: FlowSet) -> tuple[NatRule, ...]:
        return self.part.rules

    def decided(self, flows: FlowSet) -> FlowSet:
        if self.policy_sees == "original":
            return flows
        return chain_image(self.space, [r for r in self.part.rules if r.stage is NatStage.BEFORE_FILTER], flows)


@dataclass(frozen=True)
class FilteredStep:
    """A hop's way through one before-filter NAT rule, its after-filter NAT applied as a whole table.

    Used where the after-filter rules rewrite sources only (hide-NAT): the ends' view then needs
    the before-filter rule alone, and the ways through a hop grow with its before-filter rules,
    not with their product with the after-filter ones.
    """

    space: PacketSpace
    first: FilteredFlows
    after_rules: tuple[NatRule, ...]
    zones: tuple[str | None, str | None]
    policy_sees: str

    @property
    def before(self) -> FlowSet:
        return self.first.before

    @property
    def sets_egress(self) -> bool:
        return self.first.rule is not None and self.first.rule.sets_egress

    def forward(self, flows: FlowSet) -> FlowSet:
        passed = rule_image(self.space, self.first.rule, flows & self.first.before) & self.first.after
        total = self.space.empty()
        for step in image(self.space, self.after_rules, passed, *self.zones):
            total = total | step.after
        return total

    def backward(self, flows: FlowSet) -> FlowSet:
        passed = self.space.empty()
        for step in preimage(self.space, self.after_rules, flows, *self.zones):
            passed = passed | step.before
        return rule_preimage(self.space, self.first.rule, passed & self.first.after) & self.first.before

    def destination_forward(self, flows: FlowSet) -> FlowSet:
        return chain_image(self.space, destination_only(self.first.rules), flows)

    def destination_backward(self, flows: FlowSet) -> FlowSet:
        return chain_preimage(self.space, destination_only(self.first.rules), flows)

    def rules_for(self, packet: Flow, left: FlowSet) -> tuple[NatRule, ...]:
        passed = rule_image(self.space, self.first.rule, self.space.flow(packet)) & self.first.after
        second = next((step.rule for step in image(self.space, self.after_rules, passed, *self.zones)
                       if step.after.intersects(left)), None)
        return tuple(rule for rule in (*self.first.rules, second) if rule is not None and not rule.is_identity)

    def decided(self, flows: FlowSet) -> FlowSet:
        if self.policy_sees == "original":
            return flows & self.first.before
        return rule_image(self.space, self.first.rule, flows & self.first.before) & self.first.after


@dataclass(frozen=True)
class RoutedStep:
    """A way through a hop whose packets leave only where the firewall routes them to the hop's next zone.

    Routing looks at the destination after the hop's destination NAT, which is what leaves.
    """

    step: HopStep
    carried: FlowSet

    @property
    def before(self) -> FlowSet:
        return self.step.before

    @property
    def sets_egress(self) -> bool:
        return False

    def forward(self, flows: FlowSet) -> FlowSet:
        return self.step.forward(flows) & self.carried

    def backward(self, flows: FlowSet) -> FlowSet:
        return self.step.backward(flows & self.carried)

    def destination_forward(self, flows: FlowSet) -> FlowSet:
        return self.step.destination_forward(flows)

    def destination_backward(self, flows: FlowSet) -> FlowSet:
        return self.step.destination_backward(flows)

    def rules_for(self, packet: Flow, left: FlowSet) -> tuple[NatRule, ...]:
        return self.step.rules_for(packet, left)

    def decided(self, flows: FlowSet) -> FlowSet:
        return self.step.decided(flows)


def through_hop(space: PacketSpace, steps: Sequence[HopStep], flows: FlowSet) -> tuple[FlowSet, FlowSet]:
    """(the packets of ``flows`` some way through the hop takes, what those leave the hop as)."""
    taken_all, out = space.empty(), space.empty()
    for step in steps:
        taken = flows & step.before
        if taken:
            taken_all = taken_all | taken
            out = out | step.forward(taken)
    return taken_all, out


def hop_steps(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> list[HopStep]:
    """The ways through a firewall between two of its zones: per before-filter NAT rule where its
    after-filter rules rewrite sources only, else per combination of rules."""
    after_rules = stage_rules(ruleset, NatStage.AFTER_FILTER)
    if all(rule.destination.is_identity for rule in after_rules):
        zones = (from_zone, nat_to_zone(ruleset, to_zone))
        return [FilteredStep(space, first, tuple(after_rules), zones, ruleset.policy_sees)
                for first in before_filter_permitted(space, ruleset, from_zone, to_zone)]
    return [CombinedStep(space, part, ruleset.policy_sees)
            for part in translated_permitted(space, ruleset, from_zone, to_zone)]


@dataclass(frozen=True)
class HopPacket:
    """One hop of a witness: the packet as it arrived and as it left, and the NAT rules between."""

    firewall_id: str
    arrived: Flow
    left: Flow
    rules: tuple[NatRule, ...]

    def to_dict(self) -> dict[str, object]:
        return {"firewall": self.firewall_id, "arrived": self.arrived.to_dict(), "left": self.left.to_dict(),
                "nat_rules": [rule.reference() for rule in self.rules]}

    def __str__(self) -> str:
        if not self.rules:
            return f"{self.firewall_id} passes {self.arrived} unchanged"
        rules = ", ".join(rule.label for rule in self.rules)
        return f"{self.firewall_id} turns {self.arrived} into {self.left} by {rules}"


@dataclass(frozen=True)
class Combination:
    """The flows one choice of NAT rules per hop carries: ``arriving[i]`` at hop i, reaching the target."""

    parts: tuple[HopStep, ...]
    arriving: tuple[FlowSet, ...]
    delivered: FlowSet
    endpoints: FlowSet

    def hop_packets(self, space: PacketSpace, firewall_ids: Sequence[str], delivered: Flow) -> list[HopPacket]:
        """The packet at every hop for one flow of ``endpoints`` (as its ends see it)."""
        origin = space.flow(delivered)
        for part in reversed(self.parts):
            origin = part.destination_backward(origin)
        packet = (origin & self.arriving[0]).witness()
        hops: list[HopPacket] = []
        for index, part in enumerate(self.parts):
            if packet is None:
                break
            ahead = self.arriving[index + 1] if index + 1 < len(self.arriving) else self.delivered
            leaving = part.forward(space.flow(packet)) & ahead
            left = leaving.witness()
            if left is None:
                break
            hops.append(HopPacket(firewall_ids[index], packet, left, part.rules_for(packet, space.flow(left))))
            packet = left
        return hops


@dataclass
class TranslatedPath:
    """A path's flows through its hops' NAT, per combination of NAT rules."""

    combinations: list[Combination]
    widened: bool = False

    def endpoints(self, space: PacketSpace) -> FlowSet:
        total = space.empty()
        for combination in self.combinations:
            total = total | combination.endpoints
        return total

    def combination_of(self, flow: Flow) -> Combination | None:
        return next((c for c in self.combinations if c.endpoints.contains(flow)), None)


def translated_path(space: PacketSpace, hops: int, parts_of: HopParts, sent: FlowSet, ends: FlowSet,
                    delivered_to: FlowSet) -> TranslatedPath:
    """Follow ``sent`` (what the source zone's hosts send) through ``hops`` hops into ``delivered_to``.

    ``ends`` bounds the flows as their ends see them (the source zone's sources, the target
    zone's destinations).
    """
    result = TranslatedPath([])
    chosen: list[tuple[tuple[HopStep, ...], tuple[FlowSet, ...], FlowSet]] = []

    def follow(index: int, flows: FlowSet, parts: tuple[HopStep, ...], arriving: tuple[FlowSet, ...]) -> None:
        if index == hops:
            reached = flows & delivered_to
            if reached:
                chosen.append((parts, arriving, reached))
            return
        for part in parts_of(index):
            taken = flows & part.before
            if not taken:
                continue
            if len(chosen) >= MAX_COMBINATIONS:
                result.widened = True
                return
            follow(index + 1, part.forward(taken), (*parts, part), (*arriving, taken))

    follow(0, sent, (), ())
    for parts, arriving, reached in chosen:
        back = [reached]
        for index in range(hops - 1, -1, -1):
            back.insert(0, arriving[index] & parts[index].backward(back[0]))
        endpoints = back[0]
        for part in parts:
            endpoints = part.destination_forward(endpoints)
        endpoints = endpoints & ends
        if endpoints:
            result.combinations.append(Combination(parts, tuple(back[:-1]), reached, endpoints))
    if result.widened:
        result.combinations.append(_widened_rest(space, hops, parts_of, sent, ends, delivered_to))
    return result


def _widened_rest(space: PacketSpace, hops: int, parts_of: HopParts, sent: FlowSet, ends: FlowSet,
                  delivered_to: FlowSet) -> Combination:
    """Every combination followed together: any sender of the path with any delivered destination."""
    flows = sent
    for index in range(hops):
        flows = through_hop(space, parts_of(index), flows)[1]
    reached = flows & delivered_to
    senders = _project_out(space, sent, keep=("family", "src"))
    receivers = _project_out(space, reached, keep=("family", "proto", "dst", "dport", "icmp_type", "icmp_code"))
    endpoints = senders & receivers & ends
    return Combination((), (sent,), reached, endpoints)


def _project_out(space: PacketSpace, flows: FlowSet, keep: tuple[str, ...]) -> FlowSet:
    """``flows`` with every field but ``keep`` free (the family is kept: addresses depend on it)."""
    return FlowSet(space, space.project(flows.node, *keep) & space.universe_node)
