"""iptables / ip6tables: ``iptables-save`` text, with or without ``*filter``/``COMMIT``, and
plain ``iptables -A ...`` command lists (what aerleon's iptables generator emits).

Linux hosts are common plant boundary devices (jump hosts, historians with two NICs,
protocol gateways), and their rules live in this format. The file is replayed the way
iptables-restore would: chains are declared, rules appended, inserted, deleted,
replaced, flushed and renamed in order. Only the filter table decides what passes; the
nat table's chains become NAT rules (``iptables_nat_rules``); other tables are skipped
with a warning (they can only drop more, so skipping them errs toward "permitted"). The
FORWARD, INPUT and OUTPUT chains are then flattened (see ``linux_chains``) into filters of
those names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from plantgate.errors import InputError
from plantgate.firewalls.gc_pause import with_collector_paused
from plantgate.firewalls.interning import LineTexts
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.linux.chains import (
    SELF_ZONE,
    Chain,
    ChainRule,
    Inliner,
    InterfaceTerm,
    Verdict,
    ZoneMap,
    hook_paths,
)
from plantgate.firewalls.linux.detect import iptables_confidence
from plantgate.firewalls.linux.iptables_nat import NAT_TARGETS, nat_target
from plantgate.firewalls.linux.iptables_spec import (
    NON_TERMINATING_TARGETS,
    UNCERTAIN_TARGETS,
    VERDICT_TARGETS,
    RuleSpec,
    SpecTranslator,
    Token,
    parse_spec,
    tokenize,
)
from plantgate.firewalls.linux.match import Match
from plantgate.firewalls.linux.nat_rules import NatTarget, hook_nat_rules
from plantgate.firewalls.nat import NatRule
from plantgate.firewalls.ruleset import Action, Filter, NamedObject, ParseWarning, Ruleset, SourceSpan

BUILTIN_CHAINS = ("FORWARD", "INPUT", "OUTPUT")
NAT_CHAINS = ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")
TABLE_CHAINS = {"filter": BUILTIN_CHAINS, "nat": NAT_CHAINS}
"""The built-in chains of the tables PlantGate reads."""
POLICIES = {"ACCEPT": Action.PERMIT, "DROP": Action.DROP}
COMMANDS = {
    "-A": "append", "--append": "append", "-I": "insert", "--insert": "insert", "-D": "delete",
    "--delete": "delete", "-R": "replace", "--replace": "replace", "-N": "new", "--new-chain": "new",
    "--new": "new", "-X": "delete-chain", "--delete-chain": "delete-chain", "-P": "policy",
    "--policy": "policy", "-F": "flush", "--flush": "flush", "-E": "rename", "--rename-chain": "rename",
    "-Z": "ignore", "--zero": "ignore", "-L": "ignore", "--list": "ignore", "-S": "ignore",
    "--list-rules": "ignore", "-C": "ignore", "--check": "ignore", "-h": "ignore", "--help": "ignore",
}
_TOOL = re.compile(r"^(?:sudo\s+)?(?:\S*/)?(ip6?tables)(?:-legacy|-nft)?\s+")


@dataclass
class _Draft:
    """A rule as written, kept until every interface name in the file is known."""

    chain: str
    span: SourceSpan
    match: Match | None
    in_term: InterfaceTerm | None
    out_term: InterfaceTerm | None
    verdict: Verdict
    target: str
    target_column: int
    comment: str
    key: tuple[str, ...]
    nat: NatTarget | None = None


@dataclass
class _ChainState:
    name: str
    span: SourceSpan | None
    policy: Action | None = None
    rules: list[_Draft] = field(default_factory=list)
    mentioned: bool = False


class _Reader:
    """Replays one file's commands into chain state."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.line_texts = LineTexts(self.lines)
        self.family = _detect_family(text)
        self.translator = SpecTranslator(self.family)
        self.warnings: list[ParseWarning] = []
        self.other_table_rules: dict[str, int] = {}
        self.tables: dict[str, dict[str, _ChainState]] = {
            table: {n: _ChainState(n, None, Action.PERMIT) for n in names} for table, names in TABLE_CHAINS.items()}
        self.table = "filter"
        self.active = "filter"  # the table the current command changes
        self.understood = 0  # lines read as iptables statements: none means this is not an iptables file

    @property
    def chains(self) -> dict[str, _ChainState]:
        return self.tables[self.active]

    @property
    def builtins(self) -> tuple[str, ...]:
        return TABLE_CHAINS[self.active]

    def warn(self, line: int, message: str, widened: bool = False) -> None:
        text = self.line_texts.text(line, line, strip=True)
        self.warnings.append(ParseWarning(self.file, line, message, text, widened))

    def error(self, line: int, column: int, message: str, expected: str = "") -> InputError:
        return InputError.at(self.file, line, column, message, expected)

    def read(self) -> None:
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                self._line(number, raw, line)
            except InputError as exc:
                if exc.problems[0].location.file:
                    raise
                p = exc.problems[0]
                raise self.error(number, p.location.column, p.message, p.expected) from None

    def _line(self, number: int, raw: str, line: str) -> None:
        if line.startswith("*"):
            self.table = line[1:].strip()
            return
        if line == "COMMIT":
            self.table = "filter"
            return
        if line.startswith(":"):
            self._declare(number, raw, line)
            parts = line[1:].split()
            if len(parts) >= 2 and parts[1] in (*POLICIES, "-"):  # ":NAME POLICY [p:b]", as iptables-save writes
                self.understood += 1
            return
        offset = len(raw) - len(raw.lstrip())
        tool = _TOOL.match(line)
        if tool:
            offset += tool.end()
        tokens = tokenize(line[tool.end() if tool else 0:], self.file, number)
        if offset:  # columns of the line as written
            tokens = [Token(t.text, t.column + offset) for t in tokens]
        if tokens and re.fullmatch(r"\[\d+:\d+\]", tokens[0].text):
            tokens = tokens[1:]
        table = self.table
        while len(tokens) >= 2 and tokens[0].text in ("-t", "--table", "-w", "--wait"):
            if tokens[0].text in ("-t", "--table"):
                table = tokens[1].text
            tokens = tokens[2:] if is_decimal(tokens[1].text) or tokens[0].text in ("-t", "--table") else tokens[1:]
        if not tokens or tokens[0].text not in COMMANDS:
            where = tokens[0].column if tokens else 1
            self.warn(number, f"not an iptables command at column {where}; line ignored")
            return
        command, args = COMMANDS[tokens[0].text], tokens[1:]
        self.understood += 1
        span = SourceSpan(self.file, number, number, raw.strip())
        if table not in TABLE_CHAINS:
            if command in ("append", "insert", "replace") and table not in self.other_table_rules:
                self.other_table_rules[table] = number
            return
        self.active = table
        getattr(self, "_cmd_" + command.replace("-", "_"))(number, span, tokens[0], args)

    def _declare(self, number: int, raw: str, line: str) -> None:
        parts = line[1:].split()
        if not parts:
            raise self.error(number, 2, "chain declaration without a name", ":CHAIN POLICY [packets:bytes]")
        if self.table not in TABLE_CHAINS:
            return
        self.active = self.table
        name = parts[0]
        policy = parts[1] if len(parts) > 1 else "-"
        span = SourceSpan(self.file, number, number, raw.strip())
        state = self.chains.setdefault(name, _ChainState(name, span))
        state.span, state.mentioned = span, True
        if name in self.builtins:
            if policy not in POLICIES:
                raise self.error(number, raw.index(policy) + 1, f"bad policy {policy!r} for {name}", "ACCEPT or DROP")
            state.policy = POLICIES[policy]

    def _chain(self, number: int, token: Token | None, create: bool = False) -> _ChainState:
        if token is None:
            raise self.error(number, 0, "command needs a chain name", "a chain name")
        state = self.chains.get(token.text)
        if state is None:
            raise self.error(number, token.column, f"chain {token.text!r} does not exist",
                             "a built-in chain or one created with -N / :NAME")
        state.mentioned = True
        return state

    def _draft(self, number: int, span: SourceSpan, chain: str, tokens: list[Token]) -> _Draft:
        spec = parse_spec(tokens)
        if spec.family_only and spec.family_only != self.family:
            self.warn(number, f"rule only for IPv{spec.family_only}; ignored in an IPv{self.family} ruleset")
            return _Draft(chain, span, None, None, None, Verdict.CONTINUE, "", 0, "", spec.key)
        match, reasons = self.translator.match(spec)
        target = spec.target
        if self.active == "nat" and target in NAT_TARGETS | {"DROP", "REJECT"} and target not in self.chains:
            return self._nat_draft(number, span, chain, spec, match, reasons)
        verdict = VERDICT_TARGETS.get(target, Verdict.JUMP if target else Verdict.CONTINUE)
        if spec.goto:
            verdict = Verdict.GOTO
        elif target in NON_TERMINATING_TARGETS:
            verdict = Verdict.CONTINUE
        elif target in UNCERTAIN_TARGETS and target not in self.chains:
            verdict = Verdict.ACCEPT
            reasons.append(f"target {target} not modelled; treated as accept")
            if match is not None:
                match = Match(match.sources, match.destinations, match.services, return_only=match.return_only,
                              uncertain=match.uncertain + (reasons[-1],))
        if verdict is Verdict.QUEUE:
            reason = f"target {target}: a userspace program decides; treated as accept"
            reasons.append(reason)
        if verdict is Verdict.QUEUE and match is not None:
            match = Match(match.sources, match.destinations, match.services, return_only=match.return_only,
                          uncertain=match.uncertain + (reason,))
        if reasons and verdict is not Verdict.CONTINUE:
            widened = verdict in (Verdict.ACCEPT, Verdict.QUEUE, Verdict.JUMP, Verdict.GOTO)
            self.warn(number, "not modelled: " + "; ".join(reasons), widened)
        if match is None and verdict is not Verdict.CONTINUE:
            self.warn(number, "rule can never match (contradictory conditions)")
        comments = [o.value for o in spec.get("--comment")]
        return _Draft(chain, span, match, self.translator.interface(spec, "--in-interface"),
                      self.translator.interface(spec, "--out-interface"), verdict, target,
                      spec.target_column, " ".join(comments), spec.key)

    def _nat_draft(self, number: int, span: SourceSpan, chain: str, spec: RuleSpec, match: Match | None,
                   reasons: list[str]) -> _Draft:
        """A nat-table rule with a NAT target (or a filtering one, which the nat table should not hold)."""
        if spec.target in NAT_TARGETS:
            nat = nat_target(spec, self.family)
        else:
            nat = NatTarget("identity")
            reasons.append(f"{spec.target} in the nat table not modelled: the packet may go on to later NAT rules")
            if match is not None:
                match = replace(match, uncertain=match.uncertain + (reasons[-1],))
        if reasons:
            self.warn(number, "not modelled: " + "; ".join(reasons), widened=True)
        if nat.reasons:
            self.warn(number, "translation widened: " + "; ".join(nat.reasons), widened=True)
        if match is None:
            self.warn(number, "rule can never match (contradictory conditions)")
        comments = [o.value for o in spec.get("--comment")]
        return _Draft(chain, span, match, self.translator.interface(spec, "--in-interface"),
                      self.translator.interface(spec, "--out-interface"), Verdict.ACCEPT, spec.target,
                      spec.target_column, " ".join(comments), spec.key, nat)

    def _cmd_append(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        state = self._chain(number, args[0] if args else None)
        state.rules.append(self._draft(number, span, state.name, args[1:]))

    def _index(self, number: int, state: _ChainState, token: Token, allow_end: bool) -> int:
        limit = len(state.rules) + (1 if allow_end else 0)
        if not is_decimal(token.text) or not 1 <= int(token.text) <= max(limit, 1 if allow_end else 0):
            raise self.error(number, token.column, f"rule number {token.text} out of range for {state.name}",
                             f"1..{limit}")
        return int(token.text) - 1

    def _cmd_insert(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        state = self._chain(number, args[0] if args else None)
        position, rest = 0, args[1:]
        if rest and is_decimal(rest[0].text):
            position, rest = self._index(number, state, rest[0], True), rest[1:]
        state.rules.insert(position, self._draft(number, span, state.name, rest))

    def _cmd_replace(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        state = self._chain(number, args[0] if args else None)
        if len(args) < 2:
            raise self.error(number, cmd.column, "-R needs a rule number", "-R CHAIN NUMBER RULE")
        state.rules[self._index(number, state, args[1], False)] = self._draft(number, span, state.name, args[2:])

    def _cmd_delete(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        state = self._chain(number, args[0] if args else None)
        if len(args) == 2 and is_decimal(args[1].text):
            del state.rules[self._index(number, state, args[1], False)]
            return
        key = tuple(t.text for t in args[1:])
        for i, draft in enumerate(state.rules):
            if draft.key == key:
                del state.rules[i]
                return
        raise self.error(number, cmd.column, f"no rule in {state.name} equals the one to delete",
                         "the exact specification of an existing rule")

    def _cmd_new(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        if not args:
            raise self.error(number, cmd.column, "-N needs a chain name", "-N NAME")
        if args[0].text in self.chains:
            self.warn(number, f"chain {args[0].text} already exists")
            return
        self.chains[args[0].text] = _ChainState(args[0].text, span, mentioned=True)

    def _cmd_delete_chain(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        names = [args[0].text] if args else [n for n in self.chains if n not in self.builtins]
        for name in names:
            if name in self.builtins:
                raise self.error(number, args[0].column, "cannot delete a built-in chain", "a user chain")
            state = self._chain(number, args[0]) if args else self.chains[name]
            if state.rules:
                raise self.error(number, cmd.column, f"chain {name} is not empty", "-F before -X")
            del self.chains[name]

    def _cmd_policy(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        state = self._chain(number, args[0] if args else None)
        if len(args) < 2 or args[1].text not in POLICIES:
            raise self.error(number, args[1].column if len(args) > 1 else cmd.column, "bad chain policy",
                             "ACCEPT or DROP")
        if state.name not in self.builtins:
            self.warn(number, f"policy on user chain {state.name} is not allowed by iptables; ignored")
            return
        state.policy = POLICIES[args[1].text]

    def _cmd_flush(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        states = [self._chain(number, args[0])] if args else list(self.chains.values())
        for state in states:
            state.rules.clear()

    def _cmd_rename(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        state = self._chain(number, args[0] if args else None)
        if len(args) < 2 or state.name in self.builtins or args[1].text in self.chains:
            raise self.error(number, cmd.column, "bad chain rename", "-E OLD_USER_CHAIN NEW_UNUSED_NAME")
        new = args[1].text
        del self.chains[state.name]
        for other in self.chains.values():
            for draft in other.rules:
                if draft.target == state.name:
                    draft.target = new
        state.name = new
        for draft in state.rules:
            draft.chain = new
        self.chains[new] = state

    def _cmd_ignore(self, number: int, span: SourceSpan, cmd: Token, args: list[Token]) -> None:
        self.warn(number, f"{cmd.text} does not change the ruleset; ignored")


def _detect_family(text: str) -> int:
    if re.search(r"ip6tables|^#\s*inet6\s*$|--icmpv6-type|-p\s+(ipv6-icmp|icmpv6)", text, re.M):
        return 6
    found = re.search(r"(?:^|\s)(?:-s|-d|--source|--destination|--src|--dst|--src-range|--dst-range)"
                      r"\s+(?:!\s+)?([0-9A-Fa-f:.,/-]+)", text)
    return 6 if found and ":" in found.group(1) else 4


class IptablesParser:
    """iptables-save / iptables command lists -> Ruleset."""

    vendor = "iptables"

    def detect(self, text: str) -> float:
        return iptables_confidence(text)

    @with_collector_paused
    def parse(self, text: str, file: str) -> Ruleset:
        reader = _Reader(text, file)
        reader.read()
        if not reader.understood:
            first = min((w.line for w in reader.warnings), default=1)
            raise InputError.at(file, first, 1, "no iptables statement understood in this file",
                                "iptables-save output or iptables command lines")
        return _build(reader, file)


def _chains(reader: _Reader, table: str, zone_map: ZoneMap, file: str) -> dict[str, Chain]:
    """One table's chains, with interface names mapped to zones and jumps checked."""
    states, builtins = reader.tables[table], TABLE_CHAINS[table]
    chains: dict[str, Chain] = {}
    for state in states.values():
        chain = Chain(state.name, state.span, policy=state.policy if state.name in builtins else None)
        for number, draft in enumerate(state.rules, start=1):
            if draft.verdict in (Verdict.JUMP, Verdict.GOTO):
                if draft.target not in states:
                    raise InputError.at(file, draft.span.line, draft.target_column,
                                        f"jump to undefined chain {draft.target!r}",
                                        "a user chain created with -N or :NAME, or a known target")
                if draft.target in builtins:
                    raise InputError.at(file, draft.span.line, draft.target_column,
                                        f"cannot jump to built-in chain {draft.target}", "a user chain")
            if draft.match is None or draft.verdict is Verdict.CONTINUE:
                continue
            match = Match(draft.match.sources, draft.match.destinations, draft.match.services,
                          zone_map.resolve(draft.in_term), zone_map.resolve(draft.out_term),
                          draft.match.return_only, draft.match.uncertain)
            chain.rules.append(ChainRule(state.name, number, draft.span, match, draft.verdict, draft.target,
                                         draft.target_column, draft.comment))
        chains[state.name] = chain
    return chains


def _nat_rules(reader: _Reader, zone_map: ZoneMap, file: str) -> list[NatRule]:
    """The nat table's PREROUTING, OUTPUT, POSTROUTING and INPUT chains as NAT rules (``nat_rules``)."""
    states = reader.tables["nat"]
    if not any(state.rules for state in states.values()):
        return []
    chains = _chains(reader, "nat", zone_map, file)
    for name in NAT_CHAINS:
        chains[name].policy = Action.PERMIT  # a nat chain's policy: the packet leaves it untranslated
    targets = {f"{state.name}#{number}": draft.nat for state in states.values()
               for number, draft in enumerate(state.rules, start=1) if draft.nat is not None}
    inliner = Inliner(chains, file, reader.translator.universe, zone_map.universe)
    found: list[NatRule] = []
    for hook in ("prerouting", "output", "postrouting", "input"):
        flattened = inliner.flatten(chains[hook.upper()])
        found += hook_nat_rules(hook, flattened, targets, tuple(zone_map.zones), len(found) + 1, "nat/")
    return found


def _build(reader: _Reader, file: str) -> Ruleset:
    drafts = [d for states in reader.tables.values() for state in states.values() for d in state.rules]
    zone_map = ZoneMap.build(t for d in drafts for t in (d.in_term, d.out_term) if t is not None)
    chains = _chains(reader, "filter", zone_map, file)
    filter_states = reader.tables["filter"]
    inliner = Inliner(chains, file, reader.translator.universe, zone_map.universe)
    ruleset = Ruleset(name=Path(file).stem, vendor="iptables", file=file,
                      zones=[*zone_map.zones, SELF_ZONE], warnings=reader.warnings)
    ruleset.nat_rules = _nat_rules(reader, zone_map, file)
    tool = "ip6tables" if reader.family == 6 else "iptables"
    other = "IPv4" if reader.family == 6 else "IPv6"
    reader.warnings.insert(0, ParseWarning(file, 1, f"{tool} rules govern IPv{reader.family} only; {other} "
                                           f"traffic through this host is not described by this file"))
    for table, line in reader.other_table_rules.items():
        reader.warn(line, f"rules of table {table} are not analysed (they can only drop more traffic)")
    for name in BUILTIN_CHAINS:
        state = filter_states[name]
        if not state.mentioned:
            reader.warnings.append(ParseWarning(file, 1, f"chain {name} not in this file; assumed empty with "
                                                "policy ACCEPT (the kernel default)", widened=True))
        assert state.policy is not None
        ruleset.filters[name] = Filter(name, inliner.flatten(chains[name]), state.policy, state.span)
    for state in filter_states.values():
        if state.name not in BUILTIN_CHAINS and state.span is not None:
            ruleset.objects[state.name] = NamedObject(state.name, "chain", state.span)
    ruleset.paths = hook_paths(zone_map, {"forward": ("FORWARD",), "input": ("INPUT",), "output": ("OUTPUT",)})
    return ruleset


PARSER = IptablesParser()
