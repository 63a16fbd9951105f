"""A change's effect computed only where its edits can reach: exact, and cheap for small edits.

A change usually edits a handful of rules in filters of a thousand or more. Folding both
filters in full costs every rule's BDD; this module folds only the flows the edits can
affect, and gives the same opened and closed sets, witnesses and permitter rules.

Why it is exact. Align the old and new rule lists of a filter by rule content (a common
subsequence of equal signatures: match fields, zones, action, state); the edited rules E
are the old rules left unaligned plus the new rules left unaligned. Take a packet that, in
the filter's zone context, matches no rule of E. Every rule of either list that matches it
is aligned, and aligned rules match the same packets, keep their relative order and have
the same action. So its first matching rule in the old list is aligned with its first
matching rule in the new list and gives the same verdict; and when no rule matches, the
default action decides, which must be the same on both sides. Hence opened and closed lie
inside R, the union of the matches of E. For a path of filters, R is the union over the
path's filters, and a packet outside R gets the same verdict from every filter on it.

So ``after - before`` equals ``(after & R) - (before & R)`` node for node (BDDs are
canonical), and each side's ``permitted & R`` is the first-match fold in which every
match is cut to R. Only rules whose match meets R take part, and ``boxes`` rules out most
of the others by integer intervals before any BDD is built. Permitters of flows inside R
come from the same restricted fold: a rule not meeting R decides none of those flows.

The premise fails when the two sides differ in something other than rules: a path or
filter present on one side only, paths of different lengths, a changed default action.
Then ``compare`` returns None and the caller does the full computation.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from plantgate.firewalls.ruleset import Filter, Rule, Ruleset
from plantgate.netspace.boxes import BoxSet
from plantgate.netspace.compile import Permitter, PolicyKey, ZoneIndex, path_filters, rule_match_node, union_all
from plantgate.netspace.signatures import Signatures
from plantgate.netspace.space import FlowSet, Node, PacketSpace

Context = tuple[str | None, str | None]

_MAX_EDITED_SHARE = 0.25
"""Past this share of edited rules the restricted fold saves little; the full one is used."""


def edited_rules(old: Sequence[Rule], new: Sequence[Rule],
                 old_signatures: Sequence[Hashable], new_signatures: Sequence[Hashable]) -> list[Rule]:
    """The old rules and the new rules that a content alignment of the two lists leaves unpaired."""
    ids: dict[Hashable, int] = {}
    old_ids = [ids.setdefault(s, len(ids)) for s in old_signatures]
    new_ids = [ids.setdefault(s, len(ids)) for s in new_signatures]
    old_paired = [False] * len(old)
    new_paired = [False] * len(new)
    for a, b, size in SequenceMatcher(None, old_ids, new_ids, autojunk=False).get_matching_blocks():
        old_paired[a:a + size] = [True] * size
        new_paired[b:b + size] = [True] * size
    return ([rule for rule, paired in zip(old, old_paired, strict=True) if not paired]
            + [rule for rule, paired in zip(new, new_paired, strict=True) if not paired])


@dataclass
class Region:
    """R: the flows some edited rule matches, and boxes around those rules for the prefilter.

    ``edited`` names the edited rules the boxes come from (all of them, whatever the zone context):
    regions of different zone contexts with the same edits share the rules their boxes meet
    (``EditRestriction._meeting``).
    """

    node: Node
    boxes: BoxSet
    edited: tuple[int, ...] = ()


class RestrictedFold:
    """One filter's first-match fold in one zone context, cut to a region.

    ``matches`` holds, in filter order, each rule whose match meets the region with that
    part of its match; ``permitted`` is the filter's permitted set within the region.
    """

    def __init__(self, space: PacketSpace, flt: Filter, context: Context, region: Region,
                 meeting: Sequence[Rule]) -> None:
        """``meeting``: the rules of ``flt``, in order, whose boxes meet the region's (the others cannot)."""
        self.space = space
        self.filter = flt
        false = space.false
        self.matches: list[tuple[Rule, Node]] = []
        for rule in meeting:
            match = rule_match_node(space, rule, *context, raw=True)
            if match == false:
                continue
            match = match & region.node
            if match != false:
                self.matches.append((rule, match))
        node = region.node if flt.default_action.permits else false
        for rule, match in reversed(self.matches):
            node = (node | match) if rule.action.permits else (node & ~match)
        self.permitted: Node = node

    def permitters(self, flows: Node) -> list[Permitter]:
        """The rules (and the default action) deciding a permit for some of ``flows`` (inside the region)."""
        false = self.space.false
        seen = false
        found: list[Permitter] = []
        for rule, match in self.matches:
            match = match & flows
            if match == false:
                continue
            if rule.action.permits and (match & ~seen) != false:
                found.append((self.filter, rule))
            seen = seen | match
        if self.filter.default_action.permits and (flows & ~seen) != false:
            found.append((self.filter, None))
        return found


@dataclass
class RestrictedKey:
    """Both sides of one policy key, folded inside the region its edits can reach."""

    space: PacketSpace
    old: list[RestrictedFold]
    new: list[RestrictedFold]
    region: Region

    def permitted(self, side: list[RestrictedFold]) -> FlowSet:
        """The key's permitted set on ``side`` (``old`` or ``new``) within the region."""
        node = self.region.node
        for fold in side:
            node = node & fold.permitted
        return FlowSet(self.space, node)

    @staticmethod
    def permitters(side: list[RestrictedFold], flows: FlowSet) -> list[Permitter]:
        """``rules_permitting`` on ``side`` for flows inside the region, filter by filter along the path."""
        if flows.is_empty():
            return []
        return [p for fold in side for p in fold.permitters(flows.node)]


class EditRestriction:
    """Restricted comparisons of the keys of one diff, sharing alignments, regions and folds.

    An interface ACL on the paths to seven zones is aligned once and, when no rule names
    zones, folded once per side; caches hold their objects, so ids are never reused.
    """

    def __init__(self, space: PacketSpace, signatures: Signatures) -> None:
        self.space = space
        self._signatures = signatures.of_rules
        self._boxes = signatures.boxes
        self._edits: dict[tuple[int, int], tuple[Filter, Filter, list[Rule]]] = {}
        self._regions: dict[tuple[Hashable, ...], tuple[list[Filter], Region]] = {}
        self._folds: dict[tuple[int, Context, int], tuple[Filter, Node, RestrictedFold]] = {}
        self._meetings: dict[tuple[int, tuple[int, ...]], tuple[Filter, list[Rule], ZoneIndex]] = {}
        self._verdicts: dict[tuple[int, ...], dict[Hashable, bool]] = {}

    def compare(self, old: Ruleset, new: Ruleset, key: PolicyKey) -> RestrictedKey | None:
        """Both sides of ``key`` restricted to what the edits reach, or None when the premise fails."""
        old_filters, new_filters = _filters_of(old, key), _filters_of(new, key)
        if old_filters is None or new_filters is None or len(old_filters) != len(new_filters):
            return None
        if any(a.default_action is not b.default_action for a, b in zip(old_filters, new_filters, strict=True)):
            return None
        pairs = list(zip(old_filters, new_filters, strict=True))
        edits = [self._edited(a, b) for a, b in pairs]
        edited_count = sum(len(e) for e in edits)
        rule_count = sum(len(a.rules) + len(b.rules) for a, b in pairs)
        if edited_count > _MAX_EDITED_SHARE * rule_count:
            return None
        contexts = [_context(key, a, b) for a, b in pairs]
        region = self._region(pairs, edits, contexts)
        return RestrictedKey(
            self.space,
            [self._fold(a, ctx, region) for (a, _), ctx in zip(pairs, contexts, strict=True)],
            [self._fold(b, ctx, region) for (_, b), ctx in zip(pairs, contexts, strict=True)],
            region,
        )

    def _edited(self, old: Filter, new: Filter) -> list[Rule]:
        hit = self._edits.get((id(old), id(new)))
        if hit is not None and hit[0] is old and hit[1] is new:
            return hit[2]
        edited = edited_rules(old.rules, new.rules, self._signatures(old), self._signatures(new))
        self._edits[(id(old), id(new))] = (old, new, edited)
        return edited

    def _region(self, pairs: list[tuple[Filter, Filter]], edits: list[list[Rule]], contexts: list[Context]) -> Region:
        key = tuple((id(a), id(b), ctx) for (a, b), ctx in zip(pairs, contexts, strict=True))
        hit = self._regions.get(key)
        held = [f for pair in pairs for f in pair]
        if hit is not None and all(x is y for x, y in zip(hit[0], held, strict=True)):
            return hit[1]
        space = self.space
        nodes: list[Node] = []
        for edited, ctx in zip(edits, contexts, strict=True):
            for rule in edited:
                match = rule_match_node(space, rule, *ctx, raw=True) & space.universe_node
                if match != space.false:
                    nodes.append(match)
        # the boxes of every edited rule, whatever the context: a prefilter may keep too many rules
        # (their matches are cut to the region node anyway), and so every zone pair shares it
        every = [rule for edited in edits for rule in edited]
        region = Region(union_all(space, nodes), BoxSet([self._boxes.of_rule(rule) for rule in every]),
                        tuple(id(rule) for rule in every))
        self._regions[key] = (held, region)
        return region

    def _fold(self, flt: Filter, context: Context, region: Region) -> RestrictedFold:
        key = (id(flt), context, int(region.node))
        hit = self._folds.get(key)
        if hit is not None and hit[0] is flt and hit[1] == region.node:
            return hit[2]
        meeting, by_zone = self._meeting(flt, region)
        fold = RestrictedFold(self.space, flt, context, region,
                              [meeting[i] for i in by_zone.candidates(*context)])
        self._folds[key] = (flt, region.node, fold)
        return fold

    def _meeting(self, flt: Filter, region: Region) -> tuple[list[Rule], ZoneIndex]:
        """The rules of ``flt`` whose boxes meet the region's, once per filter and set of edits: a
        FortiGate or PAN-OS policy list serves every zone pair, each with a region of its own.

        The verdict is kept per rule signature (a rule's box follows from its signature): the unchanged
        rules of the other side of the change, and rules alike in all but name, are told once."""
        key = (id(flt), region.edited)
        hit = self._meetings.get(key)
        if hit is not None and hit[0] is flt:
            return hit[1], hit[2]
        verdicts = self._verdicts.setdefault(region.edited, {})
        meeting = []
        for rule, signature in zip(flt.rules, self._signatures(flt), strict=True):
            verdict = verdicts.get(signature)
            if verdict is None:
                verdict = verdicts[signature] = region.boxes.meets(self._boxes.of_rule(rule))
            if verdict:
                meeting.append(rule)
        by_zone = ZoneIndex(meeting)  # a context passes over the rules its zones rule out
        self._meetings[key] = (flt, meeting, by_zone)
        return meeting, by_zone


def _filters_of(ruleset: Ruleset, key: PolicyKey) -> list[Filter] | None:
    """The filters deciding ``key`` in order, or None when the filter or the path is missing."""
    if key.kind == "filter":
        flt = ruleset.filters.get(key.filter)
        return None if flt is None else [flt]
    return path_filters(ruleset, key.from_zone, key.to_zone)


def _context(key: PolicyKey, old: Filter, new: Filter) -> Context:
    """The key's zone context, each side kept only when some rule names zones on it (as in ``analyse_filter``)."""
    if key.kind == "filter":
        return None, None
    rules = old.rules + new.rules
    from_zone = key.from_zone if any(r.from_zones for r in rules) else None
    to_zone = key.to_zone if any(r.to_zones for r in rules) else None
    return from_zone, to_zone
