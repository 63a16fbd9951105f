"""What a ruleset change opens and closes, exactly, with a witness packet and the rules.

The treaty's emergency-change rule ("may only close paths") needs a proof, not a
review: the candidate's permitted set must be a subset of the current one for every
zone pair (or filter). When it is not, the refusal names a concrete flow the change
would open and the new rules that open it. Every change also shows what it closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plantgate.firewalls.gc_pause import collector_paused
from plantgate.firewalls.nat import NatRule
from plantgate.firewalls.nat_edits import NatEdit, meaning, nat_edits, rule_edits, same_nat_rules
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
from plantgate.netspace.translate import translated_permitted


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
class TranslationChange:
    """Packets of one zone pair the new config forwards as the old one did not: translated by other
    NAT rules, or newly translated, or no longer translated. ``witness`` is one, as it arrives."""

    key: PolicyKey
    flows: FlowSet
    witness: Flow
    nat_rules: list[NatRule]

    def __str__(self) -> str:
        rules = ", ".join(rule.label for rule in self.nat_rules)
        return f"{self.key}: e.g. {self.witness}, " + (f"translated by {rules}" if rules else "now untranslated")


@dataclass
class RulesetDiff:
    """Flows opened and closed per policy key, translations that changed, and the NAT edits that
    cannot be compared by their effect."""

    opened: list[Change] = field(default_factory=list)
    closed: list[Change] = field(default_factory=list)
    nat_edits: list[NatEdit] = field(default_factory=list)
    translations: list[TranslationChange] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return self.only_closes and not self.closed

    @property
    def only_closes(self) -> bool:
        """Nothing opened, no packet translated anew, and no NAT edit that could not be compared."""
        return not self.opened and not self.nat_edits and not self.translations


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
    if not same_nat_rules(old, new):
        keys = _keys(old, new)
        if all(key.kind == "pair" for key in keys):
            opened_by_key = {change.key: change.flows for change in result.opened}
            result.translations = [change for key in keys
                                   if (change := _translation_change(space, old, new, key, opened_by_key.get(key)))]
        else:  # a filter bound to no zone pair: its packets' translation cannot be told apart
            result.nat_edits += rule_edits(old, new)
    return result


def _translation_change(space: PacketSpace, old: Ruleset, new: Ruleset, key: PolicyKey,
                        opened: FlowSet | None) -> TranslationChange | None:
    """What ``new`` forwards on ``key`` with a translation ``old`` does not give those packets.

    Each config's forwarded packets come as (arriving, the NAT rules applied); a packet that the
    new config forwards through rules doing what the old config's rules did to it is no change.
    The rest (another translation, a new one, one dropped) is new: a port forward added, a pool
    moved, an exemption removed. Identical tables with fewer permitted packets give nothing.
    """
    before: dict[tuple[object, ...], FlowSet] = {}
    for part in translated_permitted(space, old, key.from_zone, key.to_zone):
        sig = meaning(part.rules)
        before[sig] = before[sig] | part.before if sig in before else part.before
    fresh, rules = space.empty(), []
    for part in translated_permitted(space, new, key.from_zone, key.to_zone):
        extra = part.before - before.get(meaning(part.rules), space.empty())
        if not part.rules and opened is not None:
            extra = extra - opened
        if extra:
            fresh = fresh | extra
            rules += [rule for rule in part.rules if rule not in rules]
    witness = fresh.witness()
    return TranslationChange(key, fresh, witness, rules) if witness is not None else None


def is_subset(space: PacketSpace, candidate: Ruleset, current: Ruleset) -> tuple[bool, RulesetDiff]:
    """Whether ``candidate`` permits nothing ``current`` does not, for every policy key.

    The diff (current -> candidate) comes with it: ``opened``, ``translations`` and ``nat_edits``
    are the refusal evidence (a changed translation is never proved harmless), ``closed`` what the
    change takes away.
    """
    diff = diff_rulesets(space, current, candidate)
    return diff.only_closes, diff
