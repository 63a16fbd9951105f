"""Rule hygiene, proved: shadowed, redundant, correlated, over-broad rules and unused objects.

Cleanup advice is only useful when it is exact. "Shadowed" here means no packet can
ever reach the rule, and the issue names the earlier rules that take its packets; the
witness is a concrete packet. The checks follow the classic taxonomy (Al-Shaer's
shadowing/redundancy/correlation, as used by Tufin/AlgoSec/FireMon and Batfish's
filterLineReachability) but run on exact sets.

Zones: a filter may mix rules for different zone pairs (PAN-OS, FortiGate, SRX global
policy). Lint adds the rule's from/to zone as two extra BDD dimensions, so a rule for
one zone pair never shadows a rule for another; the zones named in the filter plus one
"any other zone" value make the domain.

Rules the packet does not decide: an uncertain deny is not judged (its true match is
unknown); an application or uncertain permit is judged (its true match lies inside its
written fields) but never counts as shadowing later rules.

Which filters: ``linted_filters`` - what the device applies (for ASA the interface ACL
followed by the global ACL, not the interface ACL alone), and every rule at least once.

Cost: rules of a real filter rarely meet, so each rule consults only the earlier rules
whose interval boxes and zones meet its own (``box_index``), with small BDD operations; a broad rule
meeting many takes "decided so far" from one running union (``prefix_unions``). The
removal check walks, per rule, only the later rules that meet it, on ever fewer flows.
Witnesses are memoised by node for the whole run.

Explicit final deny: a deny rule that matches every flow of an address family (``deny ip
any any``, ``-j DROP``, Aerleon's default-deny terms, PlantGate's own renderings) states the
policy's intent; it is never reported as "removing it changes nothing", even though the
default action would give the same verdict. A later rule that is itself redundant by cover
(an exact duplicate) does not make an earlier rule removable: only one of the two may go.

Unbound filters: when a ruleset has paths, a filter no path uses but that holds rules of
its own (an ASA ACL no ``access-group`` binds) filters nothing on the device, and says so.

Thresholds (``overly_broad``): a permit is overly broad when its source or destination
covers more than ``MAX_IPV4_ADDRESSES`` IPv4 addresses (a /8) or more than
``MAX_IPV6_ADDRESSES`` IPv6 addresses (a /32), or its services cover every port of TCP
or of UDP. A rule that is ``any_any`` is reported as that alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice

from plantgate.firewalls.gc_pause import collector_paused
from plantgate.firewalls.ruleset import ANY_IPV4, ANY_IPV6, TCP, UDP, Filter, NamedObject, Rule, Ruleset, Service
from plantgate.netspace.box_index import earlier_meeting
from plantgate.netspace.boxes import Box, Boxes, address_counts
from plantgate.netspace.compile import fields_node, services_node, union_all
from plantgate.netspace.flow import Flow
from plantgate.netspace.prefix_unions import PrefixUnions
from plantgate.netspace.space import Node, PacketSpace

MAX_IPV4_ADDRESSES = 2**24
"""More IPv4 addresses than a /8 makes a permit overly broad."""
MAX_IPV6_ADDRESSES = 2**96
"""More IPv6 addresses than a /32 makes a permit overly broad."""
MAX_RELATED = 10
"""At most this many related rules are named per issue (the message says when more exist)."""

MANY_MEETING = 64
"""A rule meeting more earlier rules than this takes its covered part from the running union."""

KINDS = (
    "shadowed", "redundant", "correlated", "any_any", "overly_broad", "disabled", "never_matches",
    "unused_object", "unbound_filter",
)


@dataclass
class LintIssue:
    """One hygiene finding; ``rule`` and ``filter`` are None for an unused object."""

    kind: str
    filter: str | None
    rule: Rule | None
    message: str
    related_rules: list[Rule] = field(default_factory=list)
    witness: Flow | None = None
    object: NamedObject | None = None


class _Witnesses:
    """Witness flows of rule matches, for one lint run: a rule in several filters (the ASA
    global ACL after each interface ACL) is often redundant in each, with its match as
    the witness set, and a witness costs far more than a lookup.

    Only matches are kept: they live in the space's memo anyway, whereas keeping every
    decided set would hold a filter's large sets for the whole run. Each entry keeps its
    node, so the node's id cannot be reused by another node.
    """

    def __init__(self, space: PacketSpace) -> None:
        self.space = space
        self._memo: dict[int, tuple[Node, Flow | None]] = {}

    def of(self, node: Node) -> Flow | None:
        hit = self._memo.get(int(node))
        if hit is not None and hit[0] == node:
            return hit[1]
        flow = self.space.witness_node(node)
        self._memo[int(node)] = (node, flow)
        return flow


def _whole_families(space: PacketSpace) -> tuple[Node, Node]:
    """Every IPv4 flow and every IPv6 flow, as nodes (built once per space)."""
    key = ("lint-whole-families",)
    hit: tuple[Node, Node] | None = space.memo.get(key)
    if hit is None:
        v4, v6 = (space.addresses("src", family).node & space.addresses("dst", family).node
                  for family in (ANY_IPV4, ANY_IPV6))
        hit = space.memo[key] = (v4, v6)
    return hit


def _box_or_none(boxes: Boxes, rule: Rule) -> Box | None:
    """The rule's box, or None when lint gives it no match (it then meets no rule)."""
    if not rule.enabled or rule.stateful_return_only or not (rule.decided_by_packet or rule.action.permits):
        return None
    return boxes.of_rule(rule)


class _FilterLinter:
    """Lints one filter; holds the per-rule sets of the forward pass and which rules meet."""

    def __init__(self, space: PacketSpace, flt: Filter, witnesses: _Witnesses, boxes: Boxes,
                 witness_limit: int | None = None) -> None:
        self.space = space
        self.flt = flt
        self.witnesses = witnesses
        self.boxes = boxes
        self.witness_limit = witness_limit
        self._witnessed: dict[str, int] = {}
        zones = sorted({z for r in flt.rules for z in (*r.from_zones, *r.to_zones)})
        self.zones = tuple(zones)
        self.zone_index = {z: i for i, z in enumerate(zones)}
        # Zone values 0..len(zones) (the last is "a zone the filter does not name") use as
        # few of the zone variables as needed; a filter without zones uses none at all.
        self.zone_bits = len(zones).bit_length() if zones else 0
        self.zone_domain = {
            f: space.values_on_bits(f, range(len(zones) + 1), self.zone_bits) for f in ("zone_from", "zone_to")
        }
        self.zone_vars = space.field_names("zone_from") + space.field_names("zone_to")
        self.issues: list[LintIssue] = []
        self.covered: set[int] = set()  # rules redundant by cover: the removal check treats them as gone
        self._zone_nodes: dict[tuple[str, tuple[str, ...]], Node] = {}
        self._protocol_breadth: dict[tuple[tuple[Service, ...], bool], list[str]] = {}

    def _zones(self, fld: str, zones: tuple[str, ...]) -> Node:
        if not zones:
            return self.zone_domain[fld]
        node = self._zone_nodes.get((fld, zones))
        if node is None:
            node = self._zone_nodes[fld, zones] = self.space.values_on_bits(
                fld, (self.zone_index[z] for z in zones), self.zone_bits)
        return node

    def _zone_tags(self) -> list[tuple[int, ...]] | None:
        """Per rule, (from, to) zone values as bit masks: rules whose zones miss cannot meet."""
        if not self.zone_bits:
            return None
        every = (1 << (len(self.zones) + 1)) - 1

        def mask(zones: tuple[str, ...]) -> int:
            return sum(1 << self.zone_index[z] for z in set(zones)) if zones else every

        return [(mask(rule.from_zones), mask(rule.to_zones)) for rule in self.flt.rules]

    def _witness(self, node: Node) -> Flow | None:
        if self.zone_bits:
            node = self.space.bdd.exist(self.zone_vars, node)
        return self.space.witness_node(node)

    def _match_witness(self, match: Node) -> Flow | None:
        if self.zone_bits:
            return self._witness(match)
        return self.witnesses.of(match)

    def _issue(self, kind: str, rule: Rule, message: str, related: list[Rule] | None = None,
               witness: Callable[[], Flow | None] | None = None) -> None:
        """Record an issue; its witness is worked out only while the kind is under ``witness_limit``."""
        shown = self._witnessed.get(kind, 0)
        wanted = witness is not None and (self.witness_limit is None or shown < self.witness_limit)
        if wanted:
            self._witnessed[kind] = shown + 1
        flow = witness() if wanted and witness is not None else None
        self.issues.append(LintIssue(kind, self.flt.name, rule, message, related or [], flow))

    def run(self) -> list[LintIssue]:
        """Lint the filter: one forward pass in rule order, then the removal check."""
        space, false = self.space, self.space.false
        rules = self.flt.rules
        matches: list[Node] = []
        decided: list[Node] = []  # what each rule decides: its match minus every earlier decided match
        judged: list[bool] = []  # candidates for the removal (redundancy) check
        # per rule, the earlier rules whose boxes and zones meet its own: every rule whose match
        # meets it, and maybe more
        meeting: list[list[int]] = []
        boxes = [_box_or_none(self.boxes, rule) for rule in rules]
        meeting_boxes = earlier_meeting(boxes, self._zone_tags())
        seen = PrefixUnions(space)  # the matches of the rules that decide by the packet
        for i in range(len(rules)):
            rule = rules[i]
            match, fresh, judge = false, false, False
            met: list[int] = []
            if not rule.enabled:
                self._issue("disabled", rule, f"rule {rule.rule_id} is disabled")
            elif not rule.stateful_return_only:
                match = fields_node(space, rule)
                if self.zone_bits:
                    match = match & self._zones("zone_from", rule.from_zones) & self._zones("zone_to", rule.to_zones)
                permit = rule.action.permits
                if not rule.decided_by_packet and not permit:
                    match = false  # an uncertain deny: its true match is unknown
                elif match == false:
                    self._issue("never_matches", rule, f"rule {rule.rule_id} matches no packet at all")
                else:
                    if permit:
                        self._breadth(rule)
                    met = meeting_boxes[i]
                    fresh = self._fresh(match, met, matches, seen)
                    judge = self._judge(rule, match, fresh, met, decided)
                    if fresh == false and self.issues and self.issues[-1].rule is rule \
                            and self.issues[-1].kind == "redundant":
                        self.covered.add(i)
                    if not rule.decided_by_packet:
                        fresh = false
                        judge = False  # still matches in the removal check, never shadows
            matches.append(match)
            seen.append(match if rule.decided_by_packet else false)
            decided.append(fresh)
            judged.append(judge)
            meeting.append(met)
        self._removal_check(rules, matches, decided, judged, meeting)
        return self.issues

    def _fresh(self, match: Node, meeting: list[int], matches: list[Node], seen: PrefixUnions) -> Node:
        """The part of ``match`` that no earlier rule decides.

        Few earlier rules meet it: take each of their matches from it in turn (the rest shrinks,
        and nothing is left to take once a rule is shadowed). Many (a broad rule): subtract the
        running union of every earlier rule instead.
        """
        if len(meeting) > MANY_MEETING:
            return match & ~seen.prefix(len(matches))
        false = self.space.false
        rules = self.flt.rules
        fresh = match
        for k in meeting:
            if rules[k].decided_by_packet:
                fresh = fresh & ~matches[k]
                if fresh == false:
                    break
        return fresh

    def _judge(self, rule: Rule, match: Node, fresh: Node, met: list[int], decided: list[Node]) -> bool:
        """Shadowed / redundant-by-cover / correlated; True when the rule still decides flows.

        ``met`` holds every earlier rule whose match meets this one (and maybe some whose
        match does not), so the earlier rules deciding some of its packets are among them.
        """
        false = self.space.false
        rules = self.flt.rules
        permit = rule.action.permits

        def taken(action: bool | None) -> Iterator[tuple[int, Node]]:
            """(earlier rule's index, the part of this match it decides), in rule order; None: any action."""
            for k in met:
                if decided[k] != false and (action is None or rules[k].action.permits == action):
                    part = decided[k] & match
                    if part != false:
                        yield k, part

        def against() -> Node:
            return union_all(self.space, [part for _, part in taken(not permit)])

        if fresh == false:
            if next(taken(not permit), None) is not None:
                related = [rules[k] for k, _ in islice(taken(None), MAX_RELATED)]
                names = ", ".join(r.rule_id for r in related)
                self._issue("shadowed", rule,
                            f"rule {rule.rule_id} never decides a packet: earlier rules {names} "
                            f"take all its packets, some with the opposite action",
                            related, lambda: self._witness(against()))
            else:
                related = [rules[k] for k, _ in islice(taken(permit), MAX_RELATED)]
                names = ", ".join(r.rule_id for r in related)
                self._issue("redundant", rule,
                            f"rule {rule.rule_id} is covered by earlier rules {names} with the same action",
                            related, lambda: self._match_witness(match))
            return False
        # earlier opposite rules whose decided sets stick out of this rule, among the first
        # 2 * MAX_RELATED that meet it (the message names at most MAX_RELATED of them)
        opposite = [k for k, _ in islice(taken(not permit), 2 * MAX_RELATED)]
        related = [rules[k] for k in opposite if decided[k] & ~match != false][:MAX_RELATED]
        if related:  # without them every overlapping earlier rule lies inside this one: generalisation
            names = ", ".join(r.rule_id for r in related)
            self._issue("correlated", rule,
                        f"rule {rule.rule_id} partly overlaps earlier rules {names} with the opposite "
                        f"action; in the overlap the earlier rules win",
                        related, lambda: self._witness(against()))
        return rule.decided_by_packet

    def _removal_check(self, rules: list[Rule], matches: list[Node], decided: list[Node],
                       judged: list[bool], meeting: list[list[int]]) -> None:
        """Redundant when removing the rule leaves the filter's permitted set unchanged.

        Only the rule's decided flows matter, and once it is gone only the later rules that
        meet its match can decide them: they are walked in order, on ever fewer flows, until
        one gives some flow the other verdict or none are left (small sets throughout).
        """
        false = self.space.false
        later: list[list[int]] = [[] for _ in rules]
        for i, met in enumerate(meeting):
            for k in met:
                later[k].append(i)
        for i, rule in enumerate(rules):
            if not judged[i] or decided[i] == false or self._explicit_final_deny(rule):
                continue
            if self._same_verdict_after(i, later[i], matches, decided):
                self._issue("redundant", rule,
                            f"removing rule {rule.rule_id} changes nothing: the later rules or the default "
                            f"action give every packet it decides the same verdict",
                            [], partial(self._witness, decided[i]))

    def _same_verdict_after(self, i: int, later: list[int], matches: list[Node], decided: list[Node]) -> bool:
        """Whether the rules after rule ``i`` (and the default) give its decided flows its verdict."""
        false = self.space.false
        rules = self.flt.rules
        permit = rules[i].action.permits
        remaining = decided[i]
        for k in later:
            if k in self.covered:
                continue
            if matches[k] & remaining != false:
                if rules[k].action.permits != permit:
                    return False
                remaining = remaining & ~matches[k]
                if remaining == false:
                    return True
        return self.flt.default_action.permits == permit

    def _explicit_final_deny(self, rule: Rule) -> bool:
        """A deny that matches every flow of an address family: the policy's stated last word."""
        if rule.action.permits:
            return False
        fields = fields_node(self.space, rule)
        return any(every & ~fields == self.space.false for every in _whole_families(self.space))

    def _whole_protocols(self, services: tuple[Service, ...], negate: bool) -> list[str]:
        """Why the services are overly broad (every port of TCP or of UDP); once per distinct services:
        a filter's rules name few of them."""
        key = (services, negate)
        reasons = self._protocol_breadth.get(key)
        if reasons is None:
            space = self.space
            service = services_node(space, services, negate)
            reasons = self._protocol_breadth[key] = [
                f"its services cover every {name} port" for proto, name in ((TCP, "TCP"), (UDP, "UDP"))
                if space.value("proto", proto) & space.universe_node & ~service == space.false]
        return reasons

    def _breadth(self, rule: Rule) -> None:
        space = self.space
        fields = fields_node(space, rule)
        if fields == space.universe_node:
            self._issue("any_any", rule, f"rule {rule.rule_id} permits any source to any destination, any service")
            return
        reasons = []
        for label, addrs, negate in (
            ("source", rule.sources, rule.source_negate),
            ("destination", rule.destinations, rule.destination_negate),
        ):
            v4_count, v6_count = address_counts(self.boxes.addresses(addrs), negate)
            if v4_count > MAX_IPV4_ADDRESSES:
                reasons.append(f"its {label} covers {v4_count} IPv4 addresses (more than a /8)")
            if v6_count > MAX_IPV6_ADDRESSES:
                reasons.append(f"its {label} covers more IPv6 addresses than a /32")
        reasons += self._whole_protocols(rule.services, rule.service_negate)
        if reasons:
            self._issue("overly_broad", rule, f"rule {rule.rule_id} is overly broad: " + "; ".join(reasons))


def unused_objects(ruleset: Ruleset) -> list[LintIssue]:
    """Objects no rule references and no other object lists as a member."""
    referenced = {name for _, rule in ruleset.all_rules() for name in rule.object_refs}
    referenced |= {m for obj in ruleset.objects.values() for m in obj.members if m != obj.name}
    return [
        LintIssue("unused_object", None, None,
                  f"{obj.kind} {obj.name} ({obj.span}) is not used by any rule or group", object=obj)
        for name, obj in sorted(ruleset.objects.items())
        if name not in referenced
    ]


def unbound_filters(ruleset: Ruleset) -> list[LintIssue]:
    """Filters with rules of their own that no path applies, in a ruleset with paths.

    On ASA this is an ACL that no ``access-group`` binds: the device never consults it, and
    the interfaces' security levels decide instead. Its rules are still linted (see
    ``linted_filters``), but whoever reads them must know they filter nothing.
    """
    if not ruleset.paths:
        return []
    applied = {name for names in ruleset.paths.values() for name in names}
    covered = {id(rule) for flt in ruleset.filters.values() if flt.name in applied for rule in flt.rules}
    return [LintIssue("unbound_filter", flt.name, None,
                      f"{flt.name} is applied on no path (no interface binds it): it filters nothing on the device")
            for flt in ruleset.filters.values()
            if flt.name not in applied and flt.rules and any(id(rule) not in covered for rule in flt.rules)]


def lint_filter(space: PacketSpace, flt: Filter) -> list[LintIssue]:
    """Every rule-level issue of one filter, in rule order."""
    return _FilterLinter(space, flt, _Witnesses(space), Boxes()).run()


def linted_filters(ruleset: Ruleset) -> list[Filter]:
    """The filters lint reports on: what the device applies, and every rule at least once.

    When the ruleset has paths, a filter that no path uses and whose rules all lie in
    filters that paths use is left out: its rules are linted where the device applies
    them. ASA applies an interface ACL only followed by the global ACL (the filter
    ``combined:<in>+<global>``), so linting the interface ACL alone would judge its rules
    in a filter that never exists on the device: "removing rule X changes nothing" there
    can be false on the device, where the packets then reach the global ACL. A filter no
    path uses that has rules of its own (an ACL bound to no interface) is still linted,
    and so is every filter of a ruleset without paths (a bare ACL fragment).
    """
    filters = list(ruleset.filters.values())
    if not ruleset.paths:
        return filters
    applied = {name for names in ruleset.paths.values() for name in names}
    covered = {id(rule) for flt in filters if flt.name in applied for rule in flt.rules}
    return [flt for flt in filters
            if flt.name in applied or any(id(rule) not in covered for rule in flt.rules)]


def lint_ruleset(space: PacketSpace, ruleset: Ruleset, witness_limit: int | None = None) -> list[LintIssue]:
    """Rule-level issues of every filter of ``linted_filters``, then unused objects."""
    return (lint_filters(space, linted_filters(ruleset), witness_limit) + unbound_filters(ruleset)
            + unused_objects(ruleset))


def lint_filters(space: PacketSpace, filters: list[Filter], witness_limit: int | None = None) -> list[LintIssue]:
    """Rule-level issues of the filters, in order; witnesses and boxes shared between them.

    ``witness_limit``: per filter and kind, only the first issues that many get a witness packet
    (a witness costs more than the rest of a rule's lint; ``check`` shows one per kind). None: all.
    """
    witnesses, boxes = _Witnesses(space), Boxes()
    issues: list[LintIssue] = []
    with collector_paused():  # lint's live BDD handles: the collector's scans of them find nothing
        for flt in filters:
            issues.extend(_FilterLinter(space, flt, witnesses, boxes, witness_limit).run())
    return issues
