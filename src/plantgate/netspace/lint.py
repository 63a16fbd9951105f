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

Cost: one forward pass keeps the "decided so far" sets (all, by permits, by denies) and
one backward pass keeps "what the rest of the filter permits", so a filter of n rules
costs O(n) BDD operations. The rules blocking a flagged rule are found by binary search
over the stored "decided so far" sets, O(log n) operations per named rule.

Thresholds (``overly_broad``): a permit is overly broad when its source or destination
covers more than ``MAX_IPV4_ADDRESSES`` IPv4 addresses (a /8) or more than
``MAX_IPV6_ADDRESSES`` IPv6 addresses (a /32), or its services cover every port of TCP
or of UDP. A rule that is ``any_any`` is reported as that alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from plantgate.firewalls.ruleset import TCP, UDP, Filter, NamedObject, Rule, Ruleset
from plantgate.netspace.compile import fields_node
from plantgate.netspace.flow import Flow
from plantgate.netspace.space import Node, PacketSpace

MAX_IPV4_ADDRESSES = 2**24
"""More IPv4 addresses than a /8 makes a permit overly broad."""
MAX_IPV6_ADDRESSES = 2**96
"""More IPv6 addresses than a /32 makes a permit overly broad."""
MAX_RELATED = 10
"""At most this many related rules are named per issue (the message says when more exist)."""

KINDS = (
    "shadowed", "redundant", "correlated", "any_any", "overly_broad", "disabled", "never_matches",
    "unused_object",
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


@dataclass
class _ForwardState:
    """The forward pass after a filter's rules: a filter that starts with the same rules resumes here.

    ASA writes every interface ACL twice (alone and followed by the global ACL), so
    resuming halves the lint of such a ruleset. Holds nodes only, never the space.
    """

    rules: tuple[Rule, ...]
    zones: tuple[str, ...]
    seen: Node
    by_permit: Node
    by_deny: Node
    history: dict[str, list[Node]]
    matches: list[Node]
    decided: list[Node]
    judged: list[bool]
    issues: list[LintIssue]


class _FilterLinter:
    """Lints one filter; holds the per-rule sets of the forward and backward passes."""

    def __init__(self, space: PacketSpace, flt: Filter) -> None:
        self.space = space
        self.flt = flt
        zones = sorted({z for r in flt.rules for z in (*r.from_zones, *r.to_zones)})
        self.zones = tuple(zones)
        self.state: _ForwardState | None = None
        self.zone_index = {z: i for i, z in enumerate(zones)}
        self.rule_index = {id(r): i for i, r in enumerate(flt.rules)}
        # Zone values 0..len(zones) (the last is "a zone the filter does not name") use as
        # few of the zone variables as needed; a filter without zones uses none at all.
        self.zone_bits = len(zones).bit_length() if zones else 0
        self.zone_domain = {
            f: space.values_on_bits(f, range(len(zones) + 1), self.zone_bits) for f in ("zone_from", "zone_to")
        }
        self.zone_vars = space.field_names("zone_from") + space.field_names("zone_to")
        self.universe = space.universe_node & self.zone_domain["zone_from"] & self.zone_domain["zone_to"]
        self.issues: list[LintIssue] = []

    def _zones(self, fld: str, zones: tuple[str, ...]) -> Node:
        if not zones:
            return self.zone_domain[fld]
        return self.space.values_on_bits(fld, (self.zone_index[z] for z in zones), self.zone_bits)

    def _witness(self, node: Node) -> Flow | None:
        if self.zone_bits:
            node = self.space.bdd.exist(self.zone_vars, node)
        return self.space.witness_node(node)

    def _issue(self, kind: str, rule: Rule, message: str, related: list[Rule] | None = None,
               witness: Flow | None = None) -> None:
        self.issues.append(LintIssue(kind, self.flt.name, rule, message, related or [], witness))

    def run(self, resume: _ForwardState | None = None) -> list[LintIssue]:
        """Lint the filter; ``resume`` is the state after a prefix of its rules (same zones)."""
        space, false = self.space, self.space.false
        rules = self.flt.rules
        start = 0
        seen, by_permit, by_deny = false, false, false
        history: dict[str, list[Node]] = {"all": [], "permit": [], "deny": []}
        matches: list[Node] = []
        decided: list[Node] = []
        judged: list[bool] = []  # candidates for the removal (redundancy) check
        if resume is not None:
            start = len(resume.rules)
            seen, by_permit, by_deny = resume.seen, resume.by_permit, resume.by_deny
            history = {key: list(nodes) for key, nodes in resume.history.items()}
            matches, decided, judged = list(resume.matches), list(resume.decided), list(resume.judged)
            self.issues = [replace(issue, filter=self.flt.name, related_rules=list(issue.related_rules))
                           for issue in resume.issues]
        for rule in rules[start:]:
            match, fresh, judge = false, false, False
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
                    fresh = match & ~seen
                    judge = self._judge(rule, match, fresh, by_deny if permit else by_permit, history,
                                        len(matches))
                    if rule.decided_by_packet:
                        seen = seen | match
                        if permit:
                            by_permit = by_permit | fresh
                        else:
                            by_deny = by_deny | fresh
                    else:
                        fresh = false
                        judge = False  # still matches in the backward pass, never shadows
            matches.append(match)
            decided.append(fresh)
            judged.append(judge)
            history["all"].append(seen)
            history["permit"].append(by_permit)
            history["deny"].append(by_deny)
        self.state = _ForwardState(tuple(rules), self.zones, seen, by_permit, by_deny, history, matches,
                                   decided, judged, list(self.issues))
        self._removal_check(rules, matches, decided, judged)
        return self.issues

    def _judge(self, rule: Rule, match: Node, fresh: Node, opposite: Node,
               history: dict[str, list[Node]], index: int) -> bool:
        """Shadowed / redundant-by-cover / correlated; True when the rule still decides flows."""
        false = self.space.false
        against = match & opposite
        if fresh == false:
            if against != false:
                related = self._related(history["all"][:index], match)
                names = ", ".join(r.rule_id for r in related)
                self._issue("shadowed", rule,
                            f"rule {rule.rule_id} never decides a packet: earlier rules {names} "
                            f"take all its packets, some with the opposite action",
                            related, self._witness(against))
            else:
                key = "permit" if rule.action.permits else "deny"
                related = self._related(history[key][:index], match)
                names = ", ".join(r.rule_id for r in related)
                self._issue("redundant", rule,
                            f"rule {rule.rule_id} is covered by earlier rules {names} with the same action",
                            related, self._witness(match))
            return False
        if against != false:
            key = "deny" if rule.action.permits else "permit"
            related = self._partially_overlapping(history[key][:index], match)
            if not related:  # every overlapping earlier rule lies inside this one: generalisation
                return rule.decided_by_packet
            names = ", ".join(r.rule_id for r in related)
            self._issue("correlated", rule,
                        f"rule {rule.rule_id} partly overlaps earlier rules {names} with the opposite "
                        f"action; in the overlap the earlier rules win",
                        related, self._witness(against))
        return rule.decided_by_packet

    def _partially_overlapping(self, history: list[Node], target: Node) -> list[Rule]:
        """Earlier rules whose decided sets meet ``target`` without lying inside it."""
        false = self.space.false
        found: list[Rule] = []
        for rule in self._related(history, target, limit=2 * MAX_RELATED):
            i = self.rule_index[id(rule)]
            own = history[i] & ~history[i - 1] if i else history[i]
            if own & ~target != false:
                found.append(rule)
                if len(found) == MAX_RELATED:
                    break
        return found

    def _related(self, history: list[Node], target: Node, limit: int = MAX_RELATED) -> list[Rule]:
        """Earlier rules whose decided sets meet ``target``, by binary search on the history."""
        false = self.space.false
        found: list[Rule] = []
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
            found.append(self.flt.rules[low])
            inside = history[low] & target
            start = low + 1
        return found

    def _removal_check(self, rules: list[Rule], matches: list[Node], decided: list[Node],
                       judged: list[bool]) -> None:
        """Redundant when removing the rule leaves the filter's permitted set unchanged.

        One backward pass: ``rest`` is what the rules after rule i (and the default action)
        permit, checked against rule i's decided flows before rule i is folded in.
        """
        space = self.space
        true, false = space.true, space.false
        rest = self.universe if self.flt.default_action.permits else false
        found: list[LintIssue] = []
        for i in range(len(rules) - 1, -1, -1):
            rule = rules[i]
            if judged[i] and decided[i] != false:
                if rule.action.permits:
                    same = decided[i] & ~rest == false
                else:
                    same = decided[i] & rest == false
                if same:
                    found.append(LintIssue(
                        "redundant", self.flt.name, rule,
                        f"removing rule {rule.rule_id} changes nothing: the later rules or the default "
                        f"action give every packet it decides the same verdict",
                        [], self._witness(decided[i])))
            if matches[i] != false:
                rest = space.bdd.ite(matches[i], true if rule.action.permits else false, rest)
        self.issues.extend(reversed(found))

    def _breadth(self, rule: Rule) -> None:
        space = self.space
        fields = fields_node(space, rule)
        if fields == space.universe_node:
            self._issue("any_any", rule, f"rule {rule.rule_id} permits any source to any destination, any service")
            return
        reasons = []
        for label, fld, addrs, negate in (
            ("source", "src", rule.sources, rule.source_negate),
            ("destination", "dst", rule.destinations, rule.destination_negate),
        ):
            node = space.address_node(fld, addrs)  # type: ignore[arg-type]
            if negate:
                node = ~node
            v4_count, v6_count = space.address_counts(fld, node)  # type: ignore[arg-type]
            if v4_count > MAX_IPV4_ADDRESSES:
                reasons.append(f"its {label} covers {v4_count} IPv4 addresses (more than a /8)")
            if v6_count > MAX_IPV6_ADDRESSES:
                reasons.append(f"its {label} covers more IPv6 addresses than a /32")
        service = space.false
        for svc in rule.services:
            service = service | space.service_node(svc)
        if rule.service_negate:
            service = ~service
        for proto, name in ((TCP, "TCP"), (UDP, "UDP")):
            if space.value("proto", proto) & space.universe_node & ~service == space.false:
                reasons.append(f"its services cover every {name} port")
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


def lint_filter(space: PacketSpace, flt: Filter) -> list[LintIssue]:
    """Every rule-level issue of one filter, in rule order."""
    return _FilterLinter(space, flt).run()


def _is_prefix(shorter: Filter, longer: Filter) -> bool:
    """Whether ``longer`` starts with exactly the rule objects of ``shorter``."""
    if len(shorter.rules) > len(longer.rules) or shorter is longer or not shorter.rules:
        return False
    return all(a is b for a, b in zip(shorter.rules, longer.rules[: len(shorter.rules)], strict=True))


def lint_ruleset(space: PacketSpace, ruleset: Ruleset) -> list[LintIssue]:
    """Rule-level issues of every filter, then unused objects.

    A filter whose rules start with another filter's rules (an ASA interface ACL followed
    by the global ACL) resumes that filter's forward pass instead of repeating it; the
    issues are the same as linting it alone.
    """
    filters = list(ruleset.filters.values())
    parent: dict[int, Filter] = {}
    for position, flt in enumerate(filters):
        # a filter with the very same rules as a later one is never that one's extension (no cycles)
        prefixes = [other for i, other in enumerate(filters) if _is_prefix(other, flt)
                    and (len(other.rules) < len(flt.rules) or i < position)]
        if prefixes:
            parent[id(flt)] = max(prefixes, key=lambda other: len(other.rules))
    waiting = {id(flt): sum(1 for p in parent.values() if p is flt) for flt in filters}
    states: dict[int, _ForwardState] = {}
    results: dict[int, list[LintIssue]] = {}

    def lint_one(flt: Filter) -> None:
        if id(flt) in results:
            return
        base = parent.get(id(flt))
        resume = None
        if base is not None:
            lint_one(base)
            resume = states.get(id(base))
            waiting[id(base)] -= 1
            if waiting[id(base)] <= 0:
                states.pop(id(base), None)  # keep a state only while an extension still needs it
        linter = _FilterLinter(space, flt)
        if resume is not None and resume.zones != linter.zones:
            resume = None  # the zone encoding differs: the stored sets do not apply
        results[id(flt)] = linter.run(resume)
        if waiting[id(flt)] > 0 and linter.state is not None:
            states[id(flt)] = linter.state

    for flt in filters:
        lint_one(flt)
    issues: list[LintIssue] = []
    for flt in filters:
        issues.extend(results[id(flt)])
    issues.extend(unused_objects(ruleset))
    return issues
