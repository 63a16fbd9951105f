"""From Rulesets to exact FlowSets: rule matches, first-match folding and zone paths.

This is where firewall semantics become set algebra. Every analysis (treaty
reconciliation, emergency-change proofs, lint) reads the permitted sets computed
here, so the rules of interpretation live in exactly one place and mirror the
concrete evaluator in ``evaluate`` (the hypothesis tests hold them to each other).

Interpretation, widening toward "permitted" whenever the packet does not decide:
- a disabled rule and a rule for established sessions only match nothing (analyses
  are about new sessions);
- a rule not decided by the packet (``uncertain`` or application-based): a permit
  matches its packet fields, a deny matches nothing;
- rule zones: empty means any; in a zone context a rule matches only when the context
  zone is listed; without a zone context a zone-constrained permit matches and a
  zone-constrained deny does not;
- a pair absent from ``Ruleset.paths`` is governed by ``default_path_action``; a path
  with no filters permits everything (nothing on the way filters it).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Literal

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import Filter, Rule, Ruleset, Service
from plantgate.netspace.space import FlowSet, Node, PacketSpace

_MEMO_LIMIT = 400_000


@dataclass(frozen=True, order=True)
class PolicyKey:
    """What a permitted set is about: a zone pair of the ruleset, or one filter alone."""

    kind: Literal["pair", "filter"]
    from_zone: str = ""
    to_zone: str = ""
    filter: str = ""

    @classmethod
    def pair(cls, from_zone: str, to_zone: str) -> PolicyKey:
        return cls("pair", from_zone=from_zone, to_zone=to_zone)

    @classmethod
    def of_filter(cls, name: str) -> PolicyKey:
        return cls("filter", filter=name)

    def __str__(self) -> str:
        if self.kind == "pair":
            return f"{self.from_zone} -> {self.to_zone}"
        return f"filter {self.filter}"


Permitter = tuple[Filter | None, Rule | None]
"""Who permits a flow: (filter, rule); (filter, None) is that filter's default action;
(None, None) is the ruleset's default path action for a zone pair with no path."""


def describe_permitter(permitter: Permitter, ruleset: Ruleset | None = None) -> str:
    """Human text for a Permitter, with the source line when there is one."""
    flt, rule = permitter
    if rule is not None:
        return f"rule {rule.rule_id} of {flt.name if flt else '?'} ({rule.span})"
    if flt is not None:
        return f"default action {flt.default_action.value} of {flt.name}"
    where = f" of {ruleset.name}" if ruleset is not None else ""
    return f"default path action{where} (no filter between these zones)"


# ----- one rule -----


def _zone_allows(zones: tuple[str, ...], context: str | None, permit: bool) -> bool:
    if not zones:
        return True
    if context is None:
        return permit  # unknown context: widen toward permitted
    return context in zones


def raw_fields_node(space: PacketSpace, rule: Rule) -> Node:
    """The packet-field match of a rule before it is cut to the canonical universe.

    Folds only need a match to be right inside the universe (their result is cut to it
    once at the end), so they skip the per-rule intersection with the universe, which
    would cost one more BDD operation and copy per rule.
    """
    key = ("raw-fields", id(rule))
    hit = space.memo.get(key)
    if hit is not None and hit[0] is rule:
        return hit[1]
    # Two parses of one config (a change proof) give equal rules as different objects:
    # keyed by content they share one node, and CUDD's cache then serves their folds too.
    content = ("raw-fields-of", rule.sources, rule.destinations, rule.services, rule.source_negate,
               rule.destination_negate, rule.service_negate)
    node = space.memo.get(content)
    if node is None:
        src, dst, svc = _field_parts(space, rule)
        node = svc & (dst & src)  # dst lies above src: this order copies the fewest nodes
        _remember(space, content, node)
    _remember(space, key, (rule, node))
    return node


def fields_node(space: PacketSpace, rule: Rule) -> Node:
    """The packet-field match of a rule (negations applied, zones and state ignored)."""
    key = ("fields", id(rule))
    hit = space.memo.get(key)
    if hit is not None and hit[0] is rule:
        return hit[1]
    raw = space.memo.get(("raw-fields", id(rule)))
    if raw is not None and raw[0] is rule:  # a fold built it already: one cut to the universe
        node = raw[1] & space.universe_node
    else:
        # The services cut to the universe once per services, then the addresses under them:
        # one copy of the match fewer than the raw match cut to the universe.
        src, dst, svc = _field_parts(space, rule)
        services = ("services-in-universe", rule.services, rule.service_negate)
        in_universe = space.memo.get(services)
        if in_universe is None:
            in_universe = svc & space.universe_node
            _remember(space, services, in_universe)
        node = in_universe & (dst & src)
    _remember(space, key, (rule, node))
    return node


def _field_parts(space: PacketSpace, rule: Rule) -> tuple[Node, Node, Node]:
    """(source, destination, service) raw nodes of a rule, negations applied."""
    try:
        src = space.address_node("src", rule.sources)
        dst = space.address_node("dst", rule.destinations)
        svc = services_node(space, rule.services, rule.service_negate)
    except ValueError as exc:
        raise InputError.at(rule.span.file, rule.span.line, 0, f"rule {rule.rule_id}: {exc}") from exc
    if rule.source_negate:
        src = ~src
    if rule.destination_negate:
        dst = ~dst
    return src, dst, svc


def services_node(space: PacketSpace, services: tuple[Service, ...], negate: bool = False) -> Node:
    """The raw service-field set of a rule's services (their union, or its complement)."""
    node = space.false
    for service in services:
        node = node | space.service_node(service)
    return ~node if negate else node


def _remember(space: PacketSpace, key: object, value: object) -> None:
    if len(space.memo) > _MEMO_LIMIT:
        space.memo.clear()
    space.memo[key] = value


def rule_takes_part(rule: Rule) -> bool:
    """Whether the rule can match any new flow at all (zones aside)."""
    if not rule.enabled or rule.stateful_return_only:
        return False
    return rule.decided_by_packet or rule.action.permits


def rule_match_node(
    space: PacketSpace, rule: Rule, from_zone: str | None, to_zone: str | None, raw: bool = False
) -> Node:
    """The node of ``rule_match``; ``raw`` skips the cut to the universe (for folds)."""
    if not rule_takes_part(rule):
        return space.false
    permit = rule.action.permits
    from_ok = _zone_allows(rule.from_zones, from_zone, permit)
    if not (from_ok and _zone_allows(rule.to_zones, to_zone, permit)):
        return space.false
    return raw_fields_node(space, rule) if raw else fields_node(space, rule)


def rule_match(
    space: PacketSpace, rule: Rule, from_zone: str | None = None, to_zone: str | None = None
) -> FlowSet:
    """The new flows a rule matches in the given zone context (see module docstring)."""
    return FlowSet(space, rule_match_node(space, rule, from_zone, to_zone))


# ----- one filter -----


def union_all(space: PacketSpace, nodes: list[Node]) -> Node:
    """The union of many nodes, united pairwise (balanced), far cheaper than a running union."""
    if not nodes:
        return space.false
    layer = list(nodes)
    while len(layer) > 1:
        paired = [layer[i] | layer[i + 1] for i in range(0, len(layer) - 1, 2)]
        if len(layer) % 2:
            paired.append(layer[-1])
        layer = paired
    return layer[0]


class ZoneIndex:
    """Which rules of a filter can match in a zone context, without asking each rule.

    A zone-based policy (FortiGate, PAN-OS) is one list of thousands of rules, each for a few
    zone pairs: a fold in one context would otherwise ask every rule and find most of them out by
    zone. ``candidates`` gives exactly the rules ``rule_match_node`` does not rule out by zones or
    state (``_zone_allows``, unknown context included), in rule order.
    """

    def __init__(self, rules: list[Rule]) -> None:
        self.from_side = _ZoneSide()
        self.to_side = _ZoneSide()
        for index, rule in enumerate(rules):
            if rule_takes_part(rule):
                permit = rule.action.permits
                self.from_side.add(index, rule.from_zones, permit)
                self.to_side.add(index, rule.to_zones, permit)

    def candidates(self, from_zone: str | None, to_zone: str | None) -> list[int]:
        return sorted(self.from_side.allowing(from_zone) & self.to_side.allowing(to_zone))

    @staticmethod
    def of(space: PacketSpace, flt: Filter) -> ZoneIndex:
        """The index of ``flt``'s current rules (cached: kept while the filter holds the same rules)."""
        key = ("zone-index", id(flt))
        hit = space.memo.get(key)
        if hit is not None and hit[0] is flt and _same_rules(hit[1], flt.rules):
            index: ZoneIndex = hit[2]
            return index
        index = ZoneIndex(flt.rules)
        _remember(space, key, (flt, tuple(flt.rules), index))
        return index


class _ZoneSide:
    """One side (from or to) of a ``ZoneIndex``: the rules each context zone lets through."""

    def __init__(self) -> None:
        self.any_zone: set[int] = set()
        self.by_zone: dict[str, set[int]] = {}
        self.zoned_permits: set[int] = set()

    def add(self, index: int, zones: tuple[str, ...], permit: bool) -> None:
        if not zones:
            self.any_zone.add(index)
            return
        for zone in zones:
            self.by_zone.setdefault(zone, set()).add(index)
        if permit:
            self.zoned_permits.add(index)

    def allowing(self, context: str | None) -> set[int]:
        """The rules ``_zone_allows`` lets through on this side: an unknown context lets the zoned permits through."""
        zoned = self.zoned_permits if context is None else self.by_zone.get(context, set())
        return self.any_zone | zoned


def _same_rules(cached: tuple[Rule, ...], rules: list[Rule]) -> bool:
    return len(cached) == len(rules) and all(map(operator.is_, cached, rules))


class _Fold:
    """Raw BDD results of one filter fold, cached in ``space.memo``.

    It holds nodes and rules only, never the PacketSpace: a cache entry that referred back
    to its space would form a reference cycle, and CUDD must not see its manager freed by
    the cycle collector before its nodes. ``matches`` is None for a fold computed in another
    process (``prefold``) until a caller needs the rules one by one.
    """

    def __init__(self, permitted: Node, matches: list[Node] | None, from_zone: str | None,
                 to_zone: str | None) -> None:
        self.permitted = permitted
        self.matches = matches
        self.from_zone = from_zone
        self.to_zone = to_zone
        self.decided: list[Node] | None = None
        self.rest: Node | None = None

    @classmethod
    def of(cls, space: PacketSpace, flt: Filter, from_zone: str | None, to_zone: str | None) -> _Fold:
        taking = ZoneIndex.of(space, flt).candidates(from_zone, to_zone)
        matches = _matches(space, flt.rules, taking)
        bdd, true, false = space.bdd, space.true, space.false
        node = space.universe_node if flt.default_action.permits else false
        # Backward fold: permitted-from-here = ite(match, action, permitted-after). A run of
        # rules with the same action folds as one ite on the union of their matches, and
        # the (small) matches of a run are united pairwise, so the big set is touched once per run.
        run: list[Node] = []
        run_permits = False
        for index in reversed(taking):
            rule, match = flt.rules[index], matches[index]
            if match == false:
                continue
            if run and rule.action.permits != run_permits:
                node = bdd.ite(union_all(space, run), true if run_permits else false, node)
                run = []
            run_permits = rule.action.permits
            run.append(match)
        if run:
            node = bdd.ite(union_all(space, run), true if run_permits else false, node)
        return cls(node & space.universe_node, matches, from_zone, to_zone)

    def rule_matches(self, space: PacketSpace, flt: Filter) -> list[Node]:
        if self.matches is None:
            taking = ZoneIndex.of(space, flt).candidates(self.from_zone, self.to_zone)
            self.matches = _matches(space, flt.rules, taking)
        return self.matches


def _matches(space: PacketSpace, rules: list[Rule], taking: list[int]) -> list[Node]:
    """One raw match per rule, as ``rule_match_node`` gives it: the rules not ``taking`` part match nothing."""
    matches = [space.false] * len(rules)
    for index in taking:
        matches[index] = raw_fields_node(space, rules[index])
    return matches


class FilterAnalysis:
    """The first-match fold of one filter in one zone context.

    ``permitted`` is computed at once (a backward fold: one if-then-else per rule).
    ``decided`` has one entry per rule, in order: the flows that rule decides (its match
    minus everything earlier rules decided); ``default`` is what reaches the default
    action. Both are computed on first use, since most callers only need ``permitted``.
    """

    def __init__(self, space: PacketSpace, flt: Filter, fold: _Fold) -> None:
        self.space = space
        self.filter = flt
        self._fold_data = fold
        self.permitted = FlowSet(space, fold.permitted)

    def _fold(self, within: Node) -> tuple[list[Node], Node]:
        """Forward first-match fold restricted to ``within``: per-rule decided nodes, rest."""
        false = self.space.false
        seen = false
        decided: list[Node] = []
        for match in self._fold_data.rule_matches(self.space, self.filter):
            if match == false:
                decided.append(false)
                continue
            match = match & within
            decided.append(match & ~seen)
            seen = seen | match
        return decided, within & ~seen

    def _ensure_decided(self) -> tuple[list[Node], Node]:
        fold = self._fold_data
        if fold.decided is None or fold.rest is None:
            fold.decided, fold.rest = self._fold(self.space.universe_node)
        return fold.decided, fold.rest

    @property
    def decided(self) -> list[tuple[Rule, FlowSet]]:
        nodes, _ = self._ensure_decided()
        return [(rule, FlowSet(self.space, node)) for rule, node in zip(self.filter.rules, nodes, strict=True)]

    @property
    def default(self) -> FlowSet:
        return FlowSet(self.space, self._ensure_decided()[1])

    def decided_within(self, flows: FlowSet) -> tuple[list[tuple[Rule, FlowSet]], FlowSet]:
        """(rule, decided flows inside ``flows``) for rules deciding some of them, and the rest.

        Cheap when ``flows`` is small: the fold runs on sets restricted to ``flows``.
        """
        false = self.space.false
        if self._fold_data.decided is not None and self._fold_data.rest is not None:
            nodes = [node & flows.node for node in self._fold_data.decided]
            rest = self._fold_data.rest & flows.node
        else:
            nodes, rest = self._fold(flows.node)
        hits = [
            (rule, FlowSet(self.space, node))
            for rule, node in zip(self.filter.rules, nodes, strict=True)
            if node != false
        ]
        return hits, FlowSet(self.space, rest)


    def decided_meeting(self, flows: FlowSet) -> list[tuple[Rule, FlowSet]]:
        """(rule, everything it decides) for each rule that decides some of ``flows``, in rule order.

        Cheap when ``flows`` is small and so are those rules: a fold restricted to ``flows``
        finds them, then each rule's decided set is its match minus the earlier matches, all
        cut to its match. The full fold (``decided``) would build every rule's set instead.
        """
        false = self.space.false
        if self._fold_data.decided is not None:
            return [(rule, FlowSet(self.space, node)) for rule, node in zip(self.filter.rules, self._fold_data.decided,
                                                                            strict=True)
                    if node & flows.node != false]
        matches = self._fold_data.rule_matches(self.space, self.filter)
        found: list[tuple[Rule, FlowSet]] = []
        for position, node in enumerate(self._fold(flows.node)[0]):
            if node == false:
                continue
            own = matches[position] & self.space.universe_node
            earlier = union_all(self.space, [match & own for match in matches[:position] if match != false])
            found.append((self.filter.rules[position], FlowSet(self.space, own & ~earlier)))
        return found


def fold_key(flt: Filter, from_zone: str | None, to_zone: str | None) -> tuple[object, ...]:
    """The cache key of a filter fold in a zone context.

    It keeps a context zone only when some rule of the filter names zones on that side:
    otherwise every rule matches the same flows in every context, and an interface ACL on
    the path to seven zones is folded once, not seven times.
    """
    from_relevant = any(rule.from_zones for rule in flt.rules)
    to_relevant = any(rule.to_zones for rule in flt.rules)
    return ("analysis", id(flt), from_zone if from_relevant else None, to_zone if to_relevant else None)


def cached_fold(space: PacketSpace, flt: Filter, from_zone: str | None, to_zone: str | None) -> _Fold | None:
    """The fold of ``flt`` in this context when ``space`` holds it for the filter's current contents."""
    return _cached(space, fold_key(flt, from_zone, to_zone), flt)


def _cached(space: PacketSpace, key: tuple[object, ...], flt: Filter) -> _Fold | None:
    hit = space.memo.get(key)
    if hit is None:
        return None
    cached_filter, rules, default_action, fold = hit
    if (
        cached_filter is flt
        and default_action is flt.default_action
        and _same_rules(rules, flt.rules)
    ):
        return fold  # type: ignore[no-any-return]
    return None


def install_fold(space: PacketSpace, flt: Filter, from_zone: str | None, to_zone: str | None,
                 permitted: Node) -> None:
    """Cache a fold of ``flt`` in this context computed elsewhere (``prefold``: in another process)."""
    _store(space, fold_key(flt, from_zone, to_zone), flt, _Fold(permitted, None, from_zone, to_zone))


def _store(space: PacketSpace, key: tuple[object, ...], flt: Filter, fold: _Fold) -> None:
    space.memo[key] = (flt, tuple(flt.rules), flt.default_action, fold)


def analyse_filter(
    space: PacketSpace, flt: Filter, from_zone: str | None = None, to_zone: str | None = None
) -> FilterAnalysis:
    """First-match fold of ``flt`` plus its default action (cached per filter contents, ``fold_key``)."""
    key = fold_key(flt, from_zone, to_zone)  # scans the rules: computed once per call
    fold = _cached(space, key, flt)
    if fold is None:
        fold = _Fold.of(space, flt, from_zone, to_zone)
        _store(space, key, flt, fold)
    return FilterAnalysis(space, flt, fold)


# ----- a ruleset -----


def path_filters(ruleset: Ruleset, from_zone: str, to_zone: str) -> list[Filter] | None:
    """The filters on a zone pair's path, in order; None when the pair has no path (an undefined name is an error)."""
    names = ruleset.paths.get((from_zone, to_zone))
    if names is None:
        return None
    filters = []
    for name in names:
        if name not in ruleset.filters:
            raise InputError.at(
                ruleset.file, 0, 0,
                f"path {from_zone} -> {to_zone} names filter {name!r}, which the ruleset does not define",
                ", ".join(sorted(ruleset.filters)) or "a defined filter",
            )
        filters.append(ruleset.filters[name])
    return filters


def permitted_between(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> FlowSet:
    """New flows from ``from_zone`` to ``to_zone`` that every filter on the path permits."""
    filters = path_filters(ruleset, from_zone, to_zone)
    if filters is None:
        return space.universe() if ruleset.default_path_action.permits else space.empty()
    node = space.universe_node  # a path without filters permits everything
    for i, flt in enumerate(filters):  # each permitted set lies inside the universe: the first is taken as is
        permitted = analyse_filter(space, flt, from_zone, to_zone).permitted.node
        node = permitted if i == 0 else node & permitted
    return FlowSet(space, node)


def policy_keys(ruleset: Ruleset) -> list[PolicyKey]:
    """Zone pairs when the ruleset has paths, else one key per filter."""
    if ruleset.paths:
        return [PolicyKey.pair(a, b) for a, b in ruleset.zone_pairs()]
    return [PolicyKey.of_filter(name) for name in ruleset.filters]


def permitted_for(space: PacketSpace, ruleset: Ruleset, key: PolicyKey) -> FlowSet:
    """The permitted set of one key (empty for a filter name the ruleset lacks)."""
    if key.kind == "pair":
        return permitted_between(space, ruleset, key.from_zone, key.to_zone)
    flt = ruleset.filters.get(key.filter)
    if flt is None:
        return space.empty()
    return analyse_filter(space, flt).permitted


def permitted_sets(space: PacketSpace, ruleset: Ruleset) -> dict[PolicyKey, FlowSet]:
    """The permitted set of every policy key of the ruleset."""
    return {key: permitted_for(space, ruleset, key) for key in policy_keys(ruleset)}


def rules_permitting(
    space: PacketSpace, ruleset: Ruleset, key: PolicyKey, flows: FlowSet
) -> list[Permitter]:
    """The rules (and default actions) whose decided permits intersect ``flows``.

    For a pair, every filter on the path is searched; each reports its own permitters.
    """
    if flows.is_empty():
        return []
    if key.kind == "pair":
        filters = path_filters(ruleset, key.from_zone, key.to_zone)
        if filters is None:
            return [(None, None)] if ruleset.default_path_action.permits else []
        contexts: list[tuple[Filter, str | None, str | None]] = [
            (flt, key.from_zone, key.to_zone) for flt in filters
        ]
    else:
        flt = ruleset.filters.get(key.filter)
        if flt is None:
            return []
        contexts = [(flt, None, None)]
    found: list[Permitter] = []
    for flt, from_zone, to_zone in contexts:
        hits, rest = analyse_filter(space, flt, from_zone, to_zone).decided_within(flows)
        found.extend((flt, rule) for rule, _ in hits if rule.action.permits)
        if flt.default_action.permits and not rest.is_empty():
            found.append((flt, None))
    return found
