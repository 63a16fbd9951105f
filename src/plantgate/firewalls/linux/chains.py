"""Chains, interface zones and inlining, shared by the iptables and nftables parsers.

Both Linux firewalls evaluate a built-in ("base") chain that may ``jump`` into user
chains, ``goto`` them, or ``return`` early. The analyses want flat first-match filters,
so this module inlines every user chain into the built-in chain that reaches it:

* ``jump C`` with match M: C's rules, each conjoined with M, in place.
* ``return`` with match R inside C: C's later rules only see packets outside R, so R is
  subtracted from them (exactly, as disjoint pieces; see ``linux_match``).
* ``return`` in a built-in chain, and falling off a ``goto`` target there: the chain
  policy decides, so it becomes a rule with the policy's action.
* ``goto C`` with match M: C's rules, then a ``return`` with match M.
* loops are impossible in the kernel; we report them as InputError at the jump.

Interface zones: every exact interface name seen becomes a zone; every wildcard
(``eth+`` / ``"eth*"``) becomes a zone standing for the interfaces that match it but are
neither named nor matched by a longer wildcard; ``*`` stands for every other interface.
So a wildcard rule matches exactly the right zones, and ``*`` never matches a wildcard
rule. ``self`` is the firewall host itself (INPUT/OUTPUT).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from plantgate.errors import InputError
from plantgate.firewalls.limits import MAX_NESTING, NESTING_EXPECTED
from plantgate.firewalls.linux.match import Match, ZoneSet, conjoin, subtract_match
from plantgate.firewalls.ruleset import Action, AddressSet, Rule, Service, SourceSpan

OTHER_INTERFACES = "*"
SELF_ZONE = "self"
MAX_PIECES_PER_RULE = 256
MAX_RULES_PER_FILTER = 50_000


def interface_zone(device: str, zones: list[str]) -> str:
    """The ruleset zone holding ``device``: its own name, else the longest wildcard matching it (``eth+``),
    else ``*`` (every interface the rules do not name); ``device`` itself when none does."""
    if device in zones:
        return device
    wildcards = [z for z in zones if len(z) > 1 and z[-1] in "+*" and not z.endswith("\\*")
                 and device.startswith(z[:-1])]
    if wildcards:
        return max(wildcards, key=len)
    return OTHER_INTERFACES if OTHER_INTERFACES in zones else device


class Verdict(StrEnum):
    ACCEPT = "accept"
    DROP = "drop"
    REJECT = "reject"
    RETURN = "return"
    JUMP = "jump"
    GOTO = "goto"
    CONTINUE = "continue"  # LOG, counter, a rule without target: evaluation goes on
    QUEUE = "queue"  # userspace decides


TERMINAL_ACTIONS = {Verdict.ACCEPT: Action.PERMIT, Verdict.DROP: Action.DROP,
                    Verdict.REJECT: Action.REJECT, Verdict.QUEUE: Action.PERMIT}


@dataclass(frozen=True, slots=True)
class InterfaceName:
    """One interface as written: exact, or a prefix wildcard (``eth+``, ``eth*``)."""

    text: str
    prefix: str
    wildcard: bool


@dataclass(frozen=True, slots=True)
class InterfaceTerm:
    """An interface condition: any of ``names`` (or none of them when ``negate``)."""

    names: tuple[InterfaceName, ...]
    negate: bool = False


@dataclass
class ZoneMap:
    """The interface zones of one ruleset and how interface conditions map onto them."""

    named: list[str]
    patterns: dict[str, str]  # prefix -> zone label as written

    @classmethod
    def build(cls, terms: Iterable[InterfaceTerm]) -> ZoneMap:
        named: set[str] = set()
        patterns: dict[str, str] = {}
        for term in terms:
            for name in term.names:
                if not name.wildcard:
                    named.add(name.text)
                elif name.prefix:
                    patterns.setdefault(name.prefix, name.text)
        return cls(sorted(named), dict(sorted(patterns.items())))

    @property
    def zones(self) -> list[str]:
        """Interface zones: names, wildcard zones, then ``*``."""
        return self.named + list(self.patterns.values()) + [OTHER_INTERFACES]

    @property
    def universe(self) -> frozenset[str]:
        return frozenset(self.zones)

    def multi_interface_zones(self) -> list[str]:
        """Zones that may hold several interfaces (a flow may enter and leave through them)."""
        return list(self.patterns.values()) + [OTHER_INTERFACES]

    def _zones_of(self, name: InterfaceName) -> set[str]:
        if not name.wildcard:
            return {name.text}
        if not name.prefix:
            return set(self.universe)
        found = {n for n in self.named if n.startswith(name.prefix)}
        found |= {label for prefix, label in self.patterns.items() if prefix.startswith(name.prefix)}
        return found

    def resolve(self, term: InterfaceTerm | None) -> ZoneSet:
        if term is None:
            return None
        zones: set[str] = set()
        for name in term.names:
            zones |= self._zones_of(name)
        if term.negate:
            zones = set(self.universe) - zones
        return None if zones == set(self.universe) else frozenset(zones)


@dataclass
class ChainRule:
    """One rule of a chain as written, with its match already in Ruleset terms."""

    chain: str
    number: int
    span: SourceSpan
    match: Match
    verdict: Verdict
    target: str = ""
    target_column: int = 0
    comment: str = ""


@dataclass
class Chain:
    name: str
    span: SourceSpan | None
    rules: list[ChainRule] = field(default_factory=list)
    policy: Action | None = None  # set for built-in/base chains only


@dataclass
class _Exclusion:
    match: Match
    line: int


@dataclass
class Inliner:
    """Turns a built-in chain and the user chains it reaches into one flat rule list."""

    chains: dict[str, Chain]
    file: str
    address_universe: AddressSet
    zone_universe: frozenset[str]
    rules: list[Rule] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)
    _services: dict[tuple[Service, ...], tuple[Service, ...]] = field(default_factory=dict)
    """Equal service lists as one object: analyses cache by the object (boxes, packet sets), and
    thousands of rules name a handful of distinct services."""

    def flatten(self, base: Chain) -> list[Rule]:
        self.rules, self._ids = [], {}
        assert base.policy is not None
        top = Match(self.address_universe, self.address_universe)
        self._walk(base, top, [], [base.name], base.policy, ())
        return self.rules

    def _walk(
        self, chain: Chain, guard: Match, outer: list[_Exclusion], stack: list[str],
        policy: Action, refs: tuple[str, ...],
    ) -> None:
        top_level = len(stack) == 1
        local: list[_Exclusion] = []
        for rule in chain.rules:
            match = conjoin(guard, rule.match)
            if match is None:
                continue
            if refs:
                match = replace(match, object_refs=tuple(dict.fromkeys(refs + match.object_refs)))
            exclusions = outer + local
            if rule.verdict in TERMINAL_ACTIONS:
                self._emit(rule, match, exclusions, TERMINAL_ACTIONS[rule.verdict], "")
            elif rule.verdict is Verdict.RETURN:
                if top_level:
                    self._emit(rule, match, exclusions, policy, "return in a base chain: the chain policy applies")
                elif not rule.match.return_only:
                    local.append(_Exclusion(rule.match, rule.span.line))
            elif rule.verdict in (Verdict.JUMP, Verdict.GOTO):
                target = self.chains[rule.target]
                if len(stack) > MAX_NESTING:
                    raise InputError.at(self.file, rule.span.line, rule.target_column,
                                        f"chains jump more than {MAX_NESTING} levels deep here", NESTING_EXPECTED)
                if target.name in stack:
                    raise InputError.at(
                        self.file, rule.span.line, rule.target_column,
                        f"chain loop: {' -> '.join([*stack, target.name])}",
                        "user chains that never reach themselves again",
                    )
                self._walk(target, match, exclusions, [*stack, target.name], policy, refs + (target.name,))
                if rule.verdict is Verdict.GOTO:
                    if top_level:
                        self._emit(rule, match, exclusions, policy,
                                   f"end of goto {target.name} in a base chain: the chain policy applies")
                    elif not rule.match.return_only:
                        local.append(_Exclusion(rule.match, rule.span.line))

    def _emit(self, rule: ChainRule, match: Match, exclusions: list[_Exclusion], action: Action, note: str) -> None:
        permits = action.permits
        pieces: list[tuple[Match, tuple[str, ...]]] = [(match, ())]
        for cut in exclusions:
            if cut.match.uncertain and permits:
                reason = f"return at line {cut.line} has an unmodelled match; rules after it kept whole"
                pieces = [(m, r + (reason,)) for m, r in pieces]
                continue
            nxt: list[tuple[Match, tuple[str, ...]]] = []
            for piece, reasons in pieces:
                parts = subtract_match(piece, cut.match, self.address_universe, self.zone_universe)
                if parts is None:
                    why = f"return at line {cut.line} cannot be subtracted exactly"
                    nxt.append((piece, reasons + (why,)))
                else:
                    refs = cut.match.object_refs
                    nxt.extend((replace(p, object_refs=tuple(dict.fromkeys(p.object_refs + refs))), reasons)
                               for p in parts)
            if len(nxt) > MAX_PIECES_PER_RULE:
                why = f"return at line {cut.line} splits this rule too finely; not subtracted"
                nxt = [(m, r + (why,)) for m, r in pieces]
            pieces = nxt
        for piece, reasons in pieces:
            self._add_rule(rule, piece, action, reasons, note)

    def _add_rule(self, rule: ChainRule, match: Match, action: Action, reasons: tuple[str, ...], note: str) -> None:
        base_id = f"{rule.chain}#{rule.number}"
        copies = self._ids.get(base_id, 0) + 1
        self._ids[base_id] = copies
        rule_id = base_id if copies == 1 else f"{base_id}@{copies}"
        uncertain_reasons = tuple(dict.fromkeys(match.uncertain + reasons))
        if len(self.rules) >= MAX_RULES_PER_FILTER:
            raise InputError.at(self.file, rule.span.line, 0,
                                "inlining the user chains gives more than "
                                f"{MAX_RULES_PER_FILTER} rules", "a smaller chain graph")
        services, service_negate = match.services
        services = self._services.setdefault(services, services)
        self.rules.append(Rule(
            rule_id=rule_id,
            position=len(self.rules) + 1,
            action=action,
            span=rule.span,
            sources=match.sources,
            destinations=match.destinations,
            services=services,
            service_negate=service_negate,
            from_zones=tuple(sorted(match.in_zones)) if match.in_zones is not None else (),
            to_zones=tuple(sorted(match.out_zones)) if match.out_zones is not None else (),
            comment="; ".join(c for c in (rule.comment, note) if c),
            object_refs=match.object_refs,
            widened=uncertain_reasons if action.permits else (),
            stateful_return_only=match.return_only,
            uncertain=bool(uncertain_reasons),
        ))


def hook_paths(zone_map: ZoneMap, hooks: dict[str, tuple[str, ...]]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Zone-pair paths for the forward/input/output hooks that have filters.

    ``hooks`` maps "forward"/"input"/"output" to the filter names on that hook in order.
    Forwarding happens between distinct zones and inside zones that hold several interfaces.
    """
    zones = zone_map.zones
    paths: dict[tuple[str, str], tuple[str, ...]] = {}
    if hooks.get("forward"):
        for a in zones:
            for b in zones:
                if a != b or a in zone_map.multi_interface_zones():
                    paths[(a, b)] = hooks["forward"]
    for zone in zones:
        if hooks.get("input"):
            paths[(zone, SELF_ZONE)] = hooks["input"]
        if hooks.get("output"):
            paths[(SELF_ZONE, zone)] = hooks["output"]
    return paths
