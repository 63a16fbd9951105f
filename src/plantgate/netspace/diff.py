"""What a ruleset change opens and closes, exactly, with a witness packet and the rules.

The treaty's emergency-change rule ("may only close paths") needs a proof, not a
review: the candidate's permitted set must be a subset of the current one for every
zone pair (or filter). When it is not, the refusal names a concrete flow the change
would open and the new rules that open it. Every change also shows what it closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plantgate.firewalls.gc_pause import collector_paused
from plantgate.firewalls.nat_edits import NatEdit, nat_edits
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace.compile import (
    Permitter,
    PolicyKey,
    permitted_for,
    policy_keys,
    rules_permitting,
)
from plantgate.netspace.flow import Flow
from plantgate.netspace.restricted import EditRestriction
from plantgate.netspace.signatures import Signatures
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
    """Flows opened and closed per policy key, and the NAT edits the flow comparison cannot see."""

    opened: list[Change] = field(default_factory=list)
    closed: list[Change] = field(default_factory=list)
    nat_edits: list[NatEdit] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not self.opened and not self.closed and not self.nat_edits

    @property
    def only_closes(self) -> bool:
        """Nothing opened, and no translation edited (which could open what the filters do not show)."""
        return not self.opened and not self.nat_edits


def _keys(old: Ruleset, new: Ruleset) -> list[PolicyKey]:
    """Keys of either ruleset, old ones first, each once, in a stable order."""
    seen: dict[PolicyKey, None] = {}
    for key in policy_keys(old) + policy_keys(new):
        seen.setdefault(key, None)
    return list(seen)


def diff_rulesets(space: PacketSpace, old: Ruleset, new: Ruleset) -> RulesetDiff:
    """Per policy key present in either ruleset: the flows opened and closed by old -> new.

    A key only one ruleset has is compared against that key's permitted set in the other
    (a missing zone pair falls to its default path action; a missing filter permits nothing).
    A key whose filters differ only in rules is compared inside the flows its edited rules
    match (``restricted``, exact); any other key by its full permitted sets.
    """
    with collector_paused():  # millions of live parsed objects make every collector scan slow
        return _diff(space, old, new)


def _diff(space: PacketSpace, old: Ruleset, new: Ruleset) -> RulesetDiff:
    result = RulesetDiff(nat_edits=nat_edits(old, new))
    signatures = Signatures()
    restriction = EditRestriction(space, signatures)
    for key in _keys(old, new):
        if signatures.same_policy(old, new, key):
            continue
        restricted = restriction.compare(old, new, key)
        if restricted is None:
            before, after = permitted_for(space, old, key), permitted_for(space, new, key)
        else:
            before, after = restricted.permitted(restricted.old), restricted.permitted(restricted.new)
        if before == after:
            continue
        opened = after - before
        closed = before - after
        opened_witness = opened.witness()
        if opened_witness is not None:
            permitters = (rules_permitting(space, new, key, opened) if restricted is None
                          else restricted.permitters(restricted.new, opened))
            result.opened.append(Change(key, opened, opened_witness, permitters))
        closed_witness = closed.witness()
        if closed_witness is not None:
            permitters = (rules_permitting(space, old, key, closed) if restricted is None
                          else restricted.permitters(restricted.old, closed))
            result.closed.append(Change(key, closed, closed_witness, permitters))
    return result


def is_subset(space: PacketSpace, candidate: Ruleset, current: Ruleset) -> tuple[bool, RulesetDiff]:
    """Whether ``candidate`` permits nothing ``current`` does not, for every policy key.

    The diff (current -> candidate) comes with it: ``opened`` and ``nat_edits`` are the refusal
    evidence (an edited translation is never proved harmless), ``closed`` what the change takes away.
    """
    diff = diff_rulesets(space, current, candidate)
    return diff.only_closes, diff
