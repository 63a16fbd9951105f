"""What a ruleset change opens and closes, exactly, with a witness packet and the rules.

The treaty's emergency-change rule ("may only close paths") needs a proof, not a
review: the candidate's permitted set must be a subset of the current one for every
zone pair (or filter). When it is not, the refusal names a concrete flow the change
would open and the new rules that open it. Every change also shows what it closes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from plantgate.firewalls.ruleset import Filter, Ruleset
from plantgate.netspace.compile import (
    Permitter,
    PolicyKey,
    permitted_for,
    policy_keys,
    rules_permitting,
)
from plantgate.netspace.flow import Flow
from plantgate.netspace.space import FlowSet, PacketSpace


@dataclass
class Change:
    """Flows of one policy key whose verdict changed, a witness among them, and the rules.

    For an opened change ``rules`` are the new ruleset's permitters of those flows; for a
    closed change, the old ruleset's permitters that used to permit them.
    """

    key: PolicyKey
    flows: FlowSet
    witness: Flow
    rules: list[Permitter] = field(default_factory=list)

    def count(self) -> int:
        return self.flows.count()


@dataclass
class RulesetDiff:
    opened: list[Change] = field(default_factory=list)
    closed: list[Change] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not self.opened and not self.closed


def _keys(old: Ruleset, new: Ruleset) -> list[PolicyKey]:
    """Keys of either ruleset, old ones first, each once, in a stable order."""
    seen: dict[PolicyKey, None] = {}
    for key in policy_keys(old) + policy_keys(new):
        seen.setdefault(key, None)
    return list(seen)


class _Signatures:
    """What decides a key's permitted set, by content, so identical policy is never folded twice.

    A change usually edits a few rules of one filter. Two keys whose filters are equal rule
    for rule (by match, action and state, not by source line) permit exactly the same
    flows, so the diff skips them without building either set: the proof then costs what
    the edited filters cost, not the whole config.
    """

    def __init__(self) -> None:
        self._by_filter: dict[int, tuple[Filter, Hashable]] = {}

    def of_filter(self, flt: Filter) -> Hashable:
        hit = self._by_filter.get(id(flt))
        if hit is not None and hit[0] is flt:
            return hit[1]
        signature = (flt.default_action, tuple(
            (r.action, r.enabled, r.stateful_return_only, r.uncertain, r.applications, r.sources, r.destinations,
             r.services, r.source_negate, r.destination_negate, r.service_negate, r.from_zones, r.to_zones)
            for r in flt.rules))
        self._by_filter[id(flt)] = (flt, signature)
        return signature

    def of_key(self, ruleset: Ruleset, key: PolicyKey) -> Hashable | None:
        """The key's signature, or None when it cannot be told from content alone."""
        if key.kind == "filter":
            flt = ruleset.filters.get(key.filter)
            return None if flt is None else ("filter", self.of_filter(flt))
        names = ruleset.paths.get((key.from_zone, key.to_zone))
        if names is None:
            return ("default", ruleset.default_path_action)
        if any(name not in ruleset.filters for name in names):
            return None
        return ("path", key.from_zone, key.to_zone, tuple(self.of_filter(ruleset.filters[n]) for n in names))

    def same_policy(self, old: Ruleset, new: Ruleset, key: PolicyKey) -> bool:
        before, after = self.of_key(old, key), self.of_key(new, key)
        return before is not None and before == after


def diff_rulesets(space: PacketSpace, old: Ruleset, new: Ruleset) -> RulesetDiff:
    """Per policy key present in either ruleset: the flows opened and closed by old -> new.

    A key only one ruleset has is compared against that key's permitted set in the other
    (a missing zone pair falls to its default path action; a missing filter permits nothing).
    """
    result = RulesetDiff()
    signatures = _Signatures()
    for key in _keys(old, new):
        if signatures.same_policy(old, new, key):
            continue
        before = permitted_for(space, old, key)
        after = permitted_for(space, new, key)
        if before == after:
            continue
        opened = after - before
        closed = before - after
        opened_witness = opened.witness()
        if opened_witness is not None:
            permitters = rules_permitting(space, new, key, opened)
            result.opened.append(Change(key, opened, opened_witness, permitters))
        closed_witness = closed.witness()
        if closed_witness is not None:
            permitters = rules_permitting(space, old, key, closed)
            result.closed.append(Change(key, closed, closed_witness, permitters))
    return result


def is_subset(space: PacketSpace, candidate: Ruleset, current: Ruleset) -> tuple[bool, RulesetDiff]:
    """Whether ``candidate`` permits nothing ``current`` does not, for every policy key.

    The diff (current -> candidate) comes with it: ``opened`` is the refusal evidence,
    ``closed`` what the change takes away.
    """
    diff = diff_rulesets(space, current, candidate)
    return not diff.opened, diff
