"""The straightforward lint of one filter, kept as the oracle for the fast one in ``lint``.

It is the algorithm ``lint`` used before it learnt to consult only the earlier rules that
meet a rule: one forward pass keeps the "decided so far" sets (all, by permits, by denies)
after every rule and finds the rules blocking a flagged rule by binary search over them;
one backward pass keeps what the rest of the filter permits for the removal check (rules
redundant by cover left out, explicit final denies never reported). Slow
and memory-hungry on big filters, obviously right on small ones.
"""

from __future__ import annotations

from functools import partial

from plantgate.firewalls.ruleset import Filter, Rule
from plantgate.netspace.boxes import Boxes
from plantgate.netspace.compile import fields_node
from plantgate.netspace.lint import MAX_RELATED, LintIssue, _FilterLinter, _Witnesses
from plantgate.netspace.space import Node, PacketSpace


def reference_lint_filter(space: PacketSpace, flt: Filter) -> list[LintIssue]:
    """Every rule-level issue of one filter, in the order ``lint.lint_filter`` gives them."""
    return _Reference(space, flt).run()


class _Reference(_FilterLinter):
    """Reuses the zone encoding, witness and breadth checks; replaces the set algebra."""

    def __init__(self, space: PacketSpace, flt: Filter) -> None:
        super().__init__(space, flt, _Witnesses(space), Boxes())

    def run(self) -> list[LintIssue]:
        space, false = self.space, self.space.false
        rules = self.flt.rules
        seen, by_permit, by_deny = false, false, false
        history: dict[str, list[Node]] = {"all": [], "permit": [], "deny": []}
        matches: list[Node] = []
        decided: list[Node] = []
        judged: list[bool] = []
        for rule in rules:
            match, fresh, judge = false, false, False
            if not rule.enabled:
                self._issue("disabled", rule, f"rule {rule.rule_id} is disabled")
            elif not rule.stateful_return_only:
                match = fields_node(space, rule)
                if self.zone_bits:
                    match = match & self._zones("zone_from", rule.from_zones) & self._zones("zone_to", rule.to_zones)
                permit = rule.action.permits
                if not rule.decided_by_packet and not permit:
                    match = false
                elif match == false:
                    self._issue("never_matches", rule, f"rule {rule.rule_id} matches no packet at all")
                else:
                    if permit:
                        self._breadth(rule)
                    fresh = match & ~seen
                    judge = self._judge_old(rule, match, fresh, by_deny if permit else by_permit, history, len(matches))
                    if rule.decided_by_packet:
                        seen = seen | match
                        if permit:
                            by_permit = by_permit | fresh
                        else:
                            by_deny = by_deny | fresh
                    else:
                        fresh = false
                        judge = False
            matches.append(match)
            decided.append(fresh)
            judged.append(judge)
            history["all"].append(seen)
            history["permit"].append(by_permit)
            history["deny"].append(by_deny)
        self._removal_old(rules, matches, decided, judged)
        return self.issues

    def _judge_old(self, rule: Rule, match: Node, fresh: Node, opposite: Node,
                   history: dict[str, list[Node]], index: int) -> bool:
        false = self.space.false
        against = match & opposite
        if fresh == false:
            if against != false:
                related = self._related(history["all"][:index], match)
                names = ", ".join(r.rule_id for r in related)
                self._issue("shadowed", rule,
                            f"rule {rule.rule_id} never decides a packet: earlier rules {names} "
                            f"take all its packets, some with the opposite action",
                            related, partial(self._witness, against))
            else:
                key = "permit" if rule.action.permits else "deny"
                related = self._related(history[key][:index], match)
                names = ", ".join(r.rule_id for r in related)
                self._issue("redundant", rule,
                            f"rule {rule.rule_id} is covered by earlier rules {names} with the same action",
                            related, partial(self._witness, match))
                self.covered.add(index)
            return False
        if against != false:
            key = "deny" if rule.action.permits else "permit"
            related = []
            for i in self._related_indices(history[key][:index], match, 2 * MAX_RELATED):
                own = history[key][i] & ~history[key][i - 1] if i else history[key][i]
                if own & ~match != false:
                    related.append(self.flt.rules[i])
                    if len(related) == MAX_RELATED:
                        break
            if not related:
                return rule.decided_by_packet
            names = ", ".join(r.rule_id for r in related)
            self._issue("correlated", rule,
                        f"rule {rule.rule_id} partly overlaps earlier rules {names} with the opposite "
                        f"action; in the overlap the earlier rules win",
                        related, partial(self._witness, against))
        return rule.decided_by_packet

    def _related(self, history: list[Node], target: Node) -> list[Rule]:
        return [self.flt.rules[i] for i in self._related_indices(history, target, MAX_RELATED)]

    def _related_indices(self, history: list[Node], target: Node, limit: int) -> list[int]:
        """Indices where ``history & target`` grows, by binary search."""
        false = self.space.false
        found: list[int] = []
        start, inside = 0, false
        while start < len(history) and len(found) < limit:
            if history[-1] & target == inside:
                break
            low, high = start, len(history) - 1
            while low < high:
                mid = (low + high) // 2
                if history[mid] & target != inside:
                    high = mid
                else:
                    low = mid + 1
            found.append(low)
            inside = history[low] & target
            start = low + 1
        return found

    def _removal_old(self, rules: list[Rule], matches: list[Node], decided: list[Node], judged: list[bool]) -> None:
        space = self.space
        true, false = space.true, space.false
        universe = space.universe_node & self.zone_domain["zone_from"] & self.zone_domain["zone_to"]
        rest = universe if self.flt.default_action.permits else false
        found: list[LintIssue] = []
        for i in range(len(rules) - 1, -1, -1):
            rule = rules[i]
            if judged[i] and decided[i] != false and not self._explicit_final_deny(rule):
                same = (decided[i] & ~rest if rule.action.permits else decided[i] & rest) == false
                if same:
                    found.append(LintIssue(
                        "redundant", self.flt.name, rule,
                        f"removing rule {rule.rule_id} changes nothing: the later rules or the default "
                        f"action give every packet it decides the same verdict",
                        [], self._witness(decided[i])))
            if matches[i] != false and i not in self.covered:  # a duplicate is gone once removed
                rest = space.bdd.ite(matches[i], true if rule.action.permits else false, rest)
        self.issues.extend(reversed(found))
