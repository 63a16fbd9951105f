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

from dataclasses import dataclass, field
from typing import Literal

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import Filter, Rule, Ruleset
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


def fields_node(space: PacketSpace, rule: Rule) -> Node:
    """The raw packet-field match of a rule (negations applied, zones and state ignored)."""
    key = ("fields", id(rule))
    hit = space.memo.get(key)
    if hit is not None and hit[0] is rule:
        return hit[1]
    try:
        src = space.address_node("src", rule.sources)
        dst = space.address_node("dst", rule.destinations)
        svc = space.false
        for service in rule.services:
            svc = svc | space.service_node(service)
    except ValueError as exc:
        raise InputError.at(rule.span.file, rule.span.line, 0, f"rule {rule.rule_id}: {exc}") from exc
    if rule.source_negate:
        src = ~src
    if rule.destination_negate:
        dst = ~dst
    if rule.service_negate:
        svc = ~svc
    node = src & dst & svc & space.universe_node
    if len(space.memo) > _MEMO_LIMIT:
        space.memo.clear()
    space.memo[key] = (rule, node)
    return node


def rule_takes_part(rule: Rule) -> bool:
    """Whether the rule can match any new flow at all (zones aside)."""
    if not rule.enabled or rule.stateful_return_only:
        return False
    return rule.decided_by_packet or rule.action.permits


def rule_match_node(space: PacketSpace, rule: Rule, from_zone: str | None, to_zone: str | None) -> Node:
    if not rule_takes_part(rule):
        return space.false
    permit = rule.action.permits
    from_ok = _zone_allows(rule.from_zones, from_zone, permit)
    if not (from_ok and _zone_allows(rule.to_zones, to_zone, permit)):
        return space.false
    return fields_node(space, rule)


def rule_match(
    space: PacketSpace, rule: Rule, from_zone: str | None = None, to_zone: str | None = None
) -> FlowSet:
    """The new flows a rule matches in the given zone context (see module docstring)."""
    return FlowSet(space, rule_match_node(space, rule, from_zone, to_zone))


# ----- one filter -----


@dataclass
class FilterAnalysis:
    """The first-match fold of one filter in one zone context.

    ``decided`` has one entry per rule, in order: the flows that rule decides (its match
    minus everything earlier rules decided). ``default`` is what reaches the default action.
    """

    permitted: FlowSet
    decided: list[tuple[Rule, FlowSet]] = field(default_factory=list)
    default: FlowSet | None = None


def analyse_filter(
    space: PacketSpace, flt: Filter, from_zone: str | None = None, to_zone: str | None = None
) -> FilterAnalysis:
    """First-match fold of ``flt`` plus its default action (cached per filter contents)."""
    key = ("analysis", id(flt), from_zone, to_zone)
    hit = space.memo.get(key)
    if hit is not None:
        cached_filter, rules, default_action, analysis = hit
        if (
            cached_filter is flt
            and default_action is flt.default_action
            and len(rules) == len(flt.rules)
            and all(a is b for a, b in zip(rules, flt.rules, strict=True))
        ):
            return analysis  # type: ignore[no-any-return]
    seen = space.false
    permitted = space.false
    decided: list[tuple[Rule, FlowSet]] = []
    for rule in flt.rules:
        match = rule_match_node(space, rule, from_zone, to_zone)
        if match == space.false:
            decided.append((rule, FlowSet(space, space.false)))
            continue
        fresh = match & ~seen
        decided.append((rule, FlowSet(space, fresh)))
        seen = seen | match
        if rule.action.permits:
            permitted = permitted | fresh
    rest = space.universe_node & ~seen
    if flt.default_action.permits:
        permitted = permitted | rest
    analysis = FilterAnalysis(FlowSet(space, permitted), decided, FlowSet(space, rest))
    space.memo[key] = (flt, tuple(flt.rules), flt.default_action, analysis)
    return analysis


# ----- a ruleset -----


def _path_filters(ruleset: Ruleset, from_zone: str, to_zone: str) -> list[Filter] | None:
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
    filters = _path_filters(ruleset, from_zone, to_zone)
    if filters is None:
        return space.universe() if ruleset.default_path_action.permits else space.empty()
    node = space.universe_node
    for flt in filters:
        node = node & analyse_filter(space, flt, from_zone, to_zone).permitted.node
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
        filters = _path_filters(ruleset, key.from_zone, key.to_zone)
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
        analysis = analyse_filter(space, flt, from_zone, to_zone)
        for rule, decided in analysis.decided:
            if rule.action.permits and decided.intersects(flows):
                found.append((flt, rule))
        if flt.default_action.permits and analysis.default is not None and analysis.default.intersects(flows):
            found.append((flt, None))
    return found
