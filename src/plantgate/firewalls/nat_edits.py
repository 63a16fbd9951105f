"""Which address translations one config changes against another, where they cannot be compared exactly.

The permitted-set diff compares what the filters permit. A change to NAT alone (a new port
forward, a VIP, an object a NAT statement translates to) leaves every filter as it was, so
that diff calls it "no difference" and the emergency proof calls it "closes only", while the
candidate may publish an OT host to the enterprise. Until a translation's effect is compared
exactly, every NAT edit is evidence that the change cannot be proved harmless, shown with its
line.

Compared here: the NAT statements PlantGate does not model, by their text, with the named
objects they mention or sit inside (an object NAT lives inside its object; a twice NAT names
its objects), followed through group members. The modelled NAT rules are compared by their
effect on packets (``netspace.diff``); ``same_nat_rules`` and ``rule_edits`` compare them by
what each rule does, for where that comparison cannot run.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from plantgate.firewalls.nat import NatRule
from plantgate.firewalls.ruleset import NamedObject, Ruleset, SourceSpan

WORD = re.compile(r"[^\s\"'<>(),;={}\[\]]+")
"""A token that may be an object name in any vendor's syntax (quotes, tags and brackets split)."""


@dataclass(frozen=True)
class NatEdit:
    """A NAT statement, translating object or NAT rule that one config has and the other lacks."""

    change: Literal["added", "removed", "moved"]
    what: str
    span: SourceSpan

    def __str__(self) -> str:
        return f"{self.change} {self.what} at {self.span}: {_squeezed(self.span.text)}"


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def _meaning(rule: NatRule) -> tuple[object, ...]:
    """What the rule does, without where it was written."""
    return (rule.stage, rule.kind, rule.sources.include, rule.sources.exclude, rule.destinations.include,
            rule.destinations.exclude, rule.services, rule.from_zones, rule.to_zones, rule.source,
            rule.destination, rule.widened, rule.uncertain)


def _nat_objects(ruleset: Ruleset) -> list[NamedObject]:
    """The objects the unmodelled NAT statements mention or sit inside, with their members, once each."""
    spans = ruleset.nat_statements
    if not spans:
        return []
    named = {token for span in spans for token in WORD.findall(span.text)}
    lines = [(span.file, span.line) for span in spans]
    chosen: dict[str, NamedObject] = {}
    pending = [o for o in ruleset.objects.values()
               if o.name in named or any(f == o.span.file and o.span.line <= n <= o.span.end_line for f, n in lines)]
    while pending:
        item = pending.pop()
        if item.name in chosen:
            continue
        chosen[item.name] = item
        pending += [ruleset.objects[m] for m in item.members if m in ruleset.objects and m not in chosen]
    return list(chosen.values())


def _edits(old: Iterable[tuple[object, str, SourceSpan]], new: Iterable[tuple[object, str, SourceSpan]]
           ) -> list[NatEdit]:
    """Items (key, label, span) whose key one side has more often than the other, or, where both
    hold the same items in another order, the items that moved (NAT tables are first-match)."""
    old_items, new_items = list(old), list(new)
    if [k for k, _, _ in old_items] == [k for k, _, _ in new_items]:
        return []
    old_count, new_count = Counter(k for k, _, _ in old_items), Counter(k for k, _, _ in new_items)
    edits = []
    for change, items, mine, theirs in (("removed", old_items, old_count, new_count),
                                        ("added", new_items, new_count, old_count)):
        extra = mine - theirs
        for key, label, span in items:
            if extra[key] > 0:
                extra[key] -= 1
                edits.append(NatEdit(change, label, span))  # type: ignore[arg-type]
    if not edits:
        edits = [NatEdit("moved", label, span) for (key, label, span), (other, _, _) in zip(new_items, old_items,
                                                                                    strict=True) if key != other]
    return edits


def meaning(rules: Iterable[NatRule]) -> tuple[tuple[object, ...], ...]:
    """What a sequence of NAT rules does, without where they were written."""
    return tuple(_meaning(rule) for rule in rules)


def same_nat_rules(old: Ruleset, new: Ruleset) -> bool:
    """Whether both configs' modelled NAT tables do the same, rule for rule, in the same order."""
    return meaning(old.nat_rules) == meaning(new.nat_rules) and old.policy_sees == new.policy_sees


def rule_edits(old: Ruleset, new: Ruleset) -> list[NatEdit]:
    """The modelled NAT rules one config has and the other lacks (or moved), by what they do."""
    def rules(ruleset: Ruleset) -> list[tuple[object, str, SourceSpan]]:
        return [(_meaning(r), f"NAT rule {r.rule_id}", r.span) for r in ruleset.nat_rules]

    return _edits(rules(old), rules(new))


def nat_edits(old: Ruleset, new: Ruleset) -> list[NatEdit]:
    """Every edit of the NAT statements PlantGate does not model, with the objects they use.

    The modelled NAT rules are compared by their effect instead (``netspace.diff``); where that
    cannot be done, ``rule_edits`` lists them.
    """
    def statements(ruleset: Ruleset) -> list[tuple[object, str, SourceSpan]]:
        return [(_squeezed(s.text), "NAT statement", s) for s in ruleset.nat_statements]

    def objects(ruleset: Ruleset) -> list[tuple[object, str, SourceSpan]]:
        return [((o.name, _squeezed(o.span.text)), f"object {o.name} used by NAT", o.span)
                for o in sorted(_nat_objects(ruleset), key=lambda o: o.name)]

    edits = _edits(statements(old), statements(new))
    if old.nat_statements and new.nat_statements:  # objects matter only where both translate through them
        edits += _edits(objects(old), objects(new))
    return edits
