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
from dataclasses import dataclass, replace

from plantgate.firewalls.nat import KEEP, NatRule
from plantgate.netspace.flow import Flow
from plantgate.netspace.space import PACKET_FIELDS, FlowSet, PacketSpace
from plantgate.netspace.translate import TranslatedFlows, rule_image, rule_preimage

MAX_COMBINATIONS = 256
"""Combinations of NAT rules along one path followed one by one; the rest are followed together."""

HopParts = Callable[[int], Sequence[TranslatedFlows]]
"""The permitted flows of a path's hop (by index) per combination of its NAT rules."""


def _forward(space: PacketSpace, rules: Sequence[NatRule], flows: FlowSet) -> FlowSet:
    for rule in rules:
        flows = rule_image(space, rule, flows)
    return flows


def _backward(space: PacketSpace, rules: Sequence[NatRule], flows: FlowSet) -> FlowSet:
    for rule in reversed(rules):
        flows = rule_preimage(space, rule, flows)
    return flows


def _destination_only(rules: Sequence[NatRule]) -> list[NatRule]:
    return [replace(rule, source=KEEP) for rule in rules]


@dataclass(frozen=True)
class HopPacket:
    """One hop of a witness: the packet as it arrived and as it left, and the NAT rules between."""

    firewall_id: str
    arrived: Flow
    left: Flow
    rules: tuple[NatRule, ...]

    def to_dict(self) -> dict[str, object]:
        return {"firewall": self.firewall_id, "arrived": self.arrived.to_dict(), "left": self.left.to_dict(),
                "nat_rules": [{"rule": r.rule_id, "kind": r.kind, "file": r.span.file, "line": r.span.line}
                              for r in self.rules]}

    def __str__(self) -> str:
        if not self.rules:
            return f"{self.firewall_id} passes {self.arrived} unchanged"
        rules = ", ".join(f"{r.kind} NAT {r.rule_id} (line {r.span.line})" for r in self.rules)
        return f"{self.firewall_id} turns {self.arrived} into {self.left} by {rules}"


@dataclass(frozen=True)
class Combination:
    """The flows one choice of NAT rules per hop carries: ``arriving[i]`` at hop i, reaching the target."""

    parts: tuple[TranslatedFlows, ...]
    arriving: tuple[FlowSet, ...]
    delivered: FlowSet
    endpoints: FlowSet

    def hop_packets(self, space: PacketSpace, firewall_ids: Sequence[str], delivered: Flow) -> list[HopPacket]:
        """The packet at every hop for one flow of ``endpoints`` (as its ends see it)."""
        rules = [rule for part in self.parts for rule in part.rules]
        origin = _backward(space, _destination_only(rules), space.flow(delivered)) & self.arriving[0]
        packet = origin.witness()
        hops: list[HopPacket] = []
        for index, part in enumerate(self.parts):
            if packet is None:
                break
            ahead = self.arriving[index + 1] if index + 1 < len(self.arriving) else self.delivered
            left = (_forward(space, part.rules, space.flow(packet)) & ahead).witness()
            if left is None:
                break
            hops.append(HopPacket(firewall_ids[index], packet, left, part.rules))
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
    chosen: list[tuple[tuple[TranslatedFlows, ...], tuple[FlowSet, ...], FlowSet]] = []

    def follow(index: int, flows: FlowSet, parts: tuple[TranslatedFlows, ...], arriving: tuple[FlowSet, ...]) -> None:
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
            follow(index + 1, _forward(space, part.rules, taken), (*parts, part), (*arriving, taken))

    follow(0, sent, (), ())
    for parts, arriving, reached in chosen:
        back = [reached]
        for index in range(hops - 1, -1, -1):
            back.insert(0, arriving[index] & _backward(space, parts[index].rules, back[0]))
        origin = back[0]
        rules = [rule for part in parts for rule in part.rules]
        endpoints = _forward(space, _destination_only(rules), origin) & ends
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
        step = space.empty()
        for part in parts_of(index):
            taken = flows & part.before
            if taken:
                step = step | _forward(space, part.rules, taken)
        flows = step
    reached = flows & delivered_to
    senders = _project_out(space, sent, keep=("family", "src"))
    receivers = _project_out(space, reached, keep=("family", "proto", "dst", "dport", "icmp_type", "icmp_code"))
    endpoints = senders & receivers & ends
    return Combination((), (sent,), reached, endpoints)


def _project_out(space: PacketSpace, flows: FlowSet, keep: tuple[str, ...]) -> FlowSet:
    """``flows`` with every field but ``keep`` free (the family is kept: addresses depend on it)."""
    names = [name for field, _ in PACKET_FIELDS if field not in keep for name in space.field_names(field)]
    return FlowSet(space, space.bdd.exist(names, flows.node) & space.universe_node)
