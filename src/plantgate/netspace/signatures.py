"""Rules and policies by content, so that equal policy in two configs is recognised without folding.

Two parses of one config (or a config and its edited candidate) hold equal rules as
different objects with different source lines. The diff needs to tell, cheaply, which
filters are equal rule for rule (then their keys permit the same flows and are skipped) and
which rules of an edited filter are unchanged (the alignment of ``restricted``). A
signature holds every field that decides which new flows a rule matches and what it does
with them, with address sets written as their exact integer intervals (``boxes``): hashing and
comparing integers is several times cheaper than doing so on ``ipaddress`` objects, and it is
what two 1,500-rule filters cost to compare. Equal intervals mean equal addresses, whatever
the networks were written as. For the same reason a rule's services are written as a number
given to each distinct services tuple (tuples of ``Service`` dataclasses hash and compare in
Python code), and its action as its string value (an enum member hashes in Python code too).
Each distinct content is then numbered, and the number is the rule's signature: the alignment
and the restricted diff's per-signature verdicts hash it many times per rule.
"""

from __future__ import annotations

from collections.abc import Hashable

from plantgate.firewalls.ruleset import Filter, Rule, Ruleset, Service
from plantgate.netspace.boxes import Boxes
from plantgate.netspace.compile import PolicyKey


class Signatures:
    """Content signatures of rules, filters and policy keys, cached per object for one diff.

    Caches are keyed by identity and hold the object, so an id is never reused while its
    entry lives.
    """

    def __init__(self) -> None:
        self.boxes = Boxes()
        """Writes address sets as their exact intervals, and gives the restricted diff its boxes."""
        self._by_filter: dict[int, tuple[Filter, tuple[int, ...]]] = {}
        self._by_rule: dict[int, tuple[Rule, int]] = {}
        self._services_by_id: dict[int, tuple[tuple[Service, ...], int]] = {}
        self._services_numbers: dict[tuple[Service, ...], int] = {}
        self._numbers: dict[Hashable, int] = {}
        """Each distinct rule content's number: the alignment and the per-signature verdicts then
        hash and compare small integers, not tuples of intervals, once per rule and use."""

    def of_rule(self, r: Rule) -> int:
        """The number of the rule's content: every field that decides which new flows the rule
        matches, and how (not its id or line). Equal numbers of one ``Signatures`` mean equal content."""
        hit = self._by_rule.get(id(r))
        if hit is not None and hit[0] is r:
            return hit[1]
        addresses = self.boxes.addresses
        content = (r.action.value, r.enabled, r.stateful_return_only, r.uncertain, r.applications,
                   addresses(r.sources), addresses(r.destinations), self._services_number(r.services),
                   r.source_negate, r.destination_negate, r.service_negate, r.from_zones, r.to_zones)
        signature = self._numbers.setdefault(content, len(self._numbers))
        self._by_rule[id(r)] = (r, signature)
        return signature

    def _services_number(self, services: tuple[Service, ...]) -> int:
        """The same number for equal services tuples (first looked up by identity: parsers share them)."""
        hit = self._services_by_id.get(id(services))
        if hit is not None and hit[0] is services:
            return hit[1]
        number = self._services_numbers.setdefault(services, len(self._services_numbers))
        self._services_by_id[id(services)] = (services, number)
        return number

    def of_rules(self, flt: Filter) -> tuple[int, ...]:
        """The signature of each rule of ``flt``, in order."""
        hit = self._by_filter.get(id(flt))
        if hit is not None and hit[0] is flt:
            return hit[1]
        signatures = tuple(self.of_rule(r) for r in flt.rules)
        self._by_filter[id(flt)] = (flt, signatures)
        return signatures

    def of_filter(self, flt: Filter) -> Hashable:
        return flt.default_action, self.of_rules(flt)

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
        """Whether ``key`` is decided by equal content in both: then it permits the same flows in both.

        A change usually edits a few rules of one filter; every other key is skipped without
        building either permitted set, so a proof costs what the edited filters cost.
        """
        before, after = self.of_key(old, key), self.of_key(new, key)
        return before is not None and before == after
