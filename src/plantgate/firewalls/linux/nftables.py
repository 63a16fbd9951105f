"""nftables: ``nft list ruleset`` text to a Ruleset.

Modern Linux boundary hosts use nftables instead of iptables. Structure (tables, chains,
sets, braces) is read by ``nft_syntax``; this module gives rules their meaning and maps
base chains onto the firewall's paths:

* a base chain ``type filter hook forward|input|output`` becomes a filter named
  ``<table>/<chain>``; user chains are inlined into it (``linux_chains``);
* several base chains on one hook are all traversed, in priority order; ``accept`` only
  ends one of them, ``drop`` ends all: exactly the Ruleset's path semantics;
* a table of family ``ip`` (``ip6``) never sees IPv6 (IPv4) packets, so its filters start
  with a rule that lets the other family through;
* a hook with no base chain filters nothing, so ``default_path_action`` is permit;
* nat chains on the prerouting, output, postrouting and input hooks become NAT rules
  (``nat_rules``), several on one hook in priority order; other hooks and families are
  skipped with a warning (they can only drop more, so skipping them errs toward "permitted").
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from pathlib import Path

from plantgate.errors import InputError
from plantgate.firewalls.gc_pause import with_collector_paused
from plantgate.firewalls.interning import LineTexts
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
from plantgate.firewalls.linux.detect import nftables_confidence
from plantgate.firewalls.linux.match import Match
from plantgate.firewalls.linux.nat_rules import HOOK_STAGES, NatTarget, hook_nat_rules, written_id
from plantgate.firewalls.linux.nft_nat import nat_statement_at, nft_nat_target
from plantgate.firewalls.linux.nft_rules import RuleDraft, SetInfo, interpret_rule, read_set
from plantgate.firewalls.linux.nft_syntax import NftTable, Statement, parse_structure
from plantgate.firewalls.nat import NatRule
from plantgate.firewalls.ruleset import (
    ANY_V4,
    ANY_V6,
    Action,
    AddressSet,
    Filter,
    NamedObject,
    ParseWarning,
    Rule,
    Ruleset,
    SourceSpan,
)

FILTER_HOOKS = ("forward", "input", "output")
FAMILY_UNIVERSE = {"ip": AddressSet((ANY_V4,)), "ip6": AddressSet((ANY_V6,)),
                   "inet": AddressSet((ANY_V4, ANY_V6))}


@dataclass
class _TableDrafts:
    table: NftTable
    sets: dict[str, SetInfo]
    rules: dict[str, list[RuleDraft]] = field(default_factory=dict)


class NftablesParser:
    """``nft list ruleset`` -> Ruleset."""

    vendor = "nftables"

    def detect(self, text: str) -> float:
        return nftables_confidence(text)

    @with_collector_paused
    def parse(self, text: str, file: str) -> Ruleset:
        structure = parse_structure(text, file)
        lines = LineTexts(text.splitlines())
        warnings = [ParseWarning(file, line, what + "; ignored", lines.text(line, line, strip=True))
                    for line, what in structure.skipped]
        tables: list[_TableDrafts] = []
        for table in structure.tables:
            if table.family not in FAMILY_UNIVERSE:
                header = table.header.line
                warnings.append(ParseWarning(file, header, f"table family {table.family} not analysed "
                                             "(it can only drop more traffic)", lines.text(header, header, strip=True)))
                continue
            sets = {name: read_set(s, file) for name, s in table.sets.items()}
            drafts = _TableDrafts(table, sets)
            for chain in table.chains.values():
                # user chains of a nat table have no type: any rule with a NAT statement is read as one
                drafts.rules[chain.name] = [nat_draft(stmt, table.family, sets, file, warnings)
                                            for stmt in chain.rules]
            tables.append(drafts)
        includes = [SourceSpan(file, line, line, lines.text(line, line, strip=True)) for line, _ in structure.includes]
        for span in includes:
            warnings.append(ParseWarning(file, span.line, "included file not read: every filter chain is widened to "
                                         "accept what it may add", span.text, widened=True))
        return _build(tables, file, warnings, includes)


def _build(tables: list[_TableDrafts], file: str, warnings: list[ParseWarning],
           includes: list[SourceSpan] | None = None) -> Ruleset:
    terms: list[InterfaceTerm] = [t for td in tables for rules in td.rules.values() for d in rules
                                  for t in (d.in_term, d.out_term) if t is not None]
    zone_map = ZoneMap.build(terms)
    ruleset = Ruleset(name=Path(file).stem, vendor="nftables", file=file, zones=[*zone_map.zones, SELF_ZONE],
                      warnings=warnings, default_path_action=Action.PERMIT)
    hooks: dict[str, list[tuple[int, int, str]]] = {h: [] for h in FILTER_HOOKS}
    nat_hooks: list[NatHook] = []
    table_names = [td.table.name for td in tables]
    for td in tables:
        table = td.table
        prefix = table.name if table_names.count(table.name) == 1 else f"{table.family} {table.name}"
        chains = _chains(td, zone_map, file, prefix)
        for name, info in td.sets.items():
            ruleset.objects[f"{prefix}/@{name}"] = NamedObject(f"{prefix}/@{name}", info.kind,
                                                               info.span, info.members)
        inliner = Inliner(chains, file, FAMILY_UNIVERSE[table.family], zone_map.universe)
        targets = {f"{prefix}/{name}#{number}": draft.nat for name, drafts in td.rules.items()
                   for number, draft in enumerate(drafts, start=1) if draft.nat is not None}
        for chain_name in table.order:
            chain = table.chains[chain_name]
            label = f"{prefix}/{chain_name}"
            span = SourceSpan(file, chain.header.line, chain.header.line, chain.header_text)
            if not chain.hook:
                ruleset.objects[label] = NamedObject(label, "chain", span)
                continue
            if chain.chain_type == "nat" and chain.hook in HOOK_STAGES:
                base = chains[label]
                base.policy = Action.PERMIT  # falling off a nat chain: the packet goes on untranslated
                nat_hooks.append((chain.hook, chain.priority, len(nat_hooks), inliner.flatten(base), targets))
                continue
            if chain.chain_type != "filter" or chain.hook not in FILTER_HOOKS:
                warnings.append(ParseWarning(file, chain.header.line, f"{chain.chain_type} chain on hook "
                                             f"{chain.hook} not analysed (it can only drop more traffic)",
                                             chain.header_text))
                continue
            base = chains[label]
            base.policy = Action.PERMIT if chain.policy == "accept" else Action.DROP
            rules = inliner.flatten(base)
            if table.family != "inet":
                rules = [_other_family_passes(table, prefix, span)] + rules
            if includes:
                rules = [_include_may_accept(label, include) for include in includes] + rules
            if table.family != "inet" or includes:
                rules = [replace(r, position=i) for i, r in enumerate(rules, start=1)]
            ruleset.filters[label] = Filter(label, rules, base.policy, span, "; ".join(chain.comments))
            hooks[chain.hook].append((chain.priority, len(hooks[chain.hook]), label))
    ruleset.nat_rules = _nat_rules(nat_hooks, tuple(zone_map.zones))
    # NAT rules keep no object references: a chain they use is not listed, or the unused-object lint flags it
    for _, _, _, flattened, _ in nat_hooks:
        for rule in flattened:
            for ref in rule.object_refs:
                if ref in ruleset.objects and ruleset.objects[ref].kind == "chain":
                    del ruleset.objects[ref]
    ordered = {h: tuple(name for _, _, name in sorted(items)) for h, items in hooks.items()}
    for hook, names in ordered.items():
        if not names:
            warnings.append(ParseWarning(file, 1, f"no filter chain on hook {hook}: that traffic is not "
                                         "filtered by this ruleset", widened=True))
    ruleset.paths = hook_paths(zone_map, ordered)
    return ruleset


NatHook = tuple[str, int, int, list[Rule], dict[str, NatTarget]]
"""(hook, priority, order read, flattened rules, NAT targets by written rule id) of one nat base chain."""


def _nat_rules(nat_hooks: list[NatHook], interface_zones: tuple[str, ...]) -> list[NatRule]:
    """The nat base chains as NAT rules, hook by hook, chains of a hook in priority order.

    On one hook the kernel runs the next nat chain only when the previous one set up no
    translation: an ``accept`` without NAT ends one chain, not the hook. So a chain's identity
    rules are dropped unless it is the hook's last; its translating rules stay first-match.
    """
    found: list[NatRule] = []
    for hook in HOOK_STAGES:
        chains = sorted((item for item in nat_hooks if item[0] == hook), key=lambda item: (item[1], item[2]))
        for position, (_, _, _, flattened, targets) in enumerate(chains):
            last = position == len(chains) - 1
            kept = flattened if last else [r for r in flattened if written_id(r) in targets]
            found += hook_nat_rules(hook, kept, targets, interface_zones, len(found) + 1, "")
    return found


def nat_draft(stmt: Statement, family: str, sets: dict[str, SetInfo], file: str,
              warnings: list[ParseWarning]) -> RuleDraft:
    """A nat-chain rule: its match as any rule's, and its NAT statement (``nft_nat``) as an accepting target."""
    k = nat_statement_at(stmt.tokens)
    if k is None:
        return interpret_rule(stmt, family, sets, file, warnings)
    span = SourceSpan(file, stmt.line, stmt.end_line, stmt.text)
    if k:
        draft = interpret_rule(Statement(stmt.tokens[:k], stmt.text), family, sets, file, [])
    else:
        draft = RuleDraft(span, Match(FAMILY_UNIVERSE[family], FAMILY_UNIVERSE[family]), None, None,
                          Verdict.CONTINUE)
    nat = nft_nat_target(stmt.tokens[k:], family)
    if draft.match is not None and draft.match.uncertain:
        warnings.append(ParseWarning(file, stmt.line, "not modelled: " + "; ".join(draft.match.uncertain),
                                     stmt.text, widened=True))
    if nat.reasons:
        warnings.append(ParseWarning(file, stmt.line, "translation widened: " + "; ".join(nat.reasons), stmt.text,
                                     widened=True))
    return replace(draft, span=span, verdict=Verdict.ACCEPT, target="", nat=nat)


def _chains(td: _TableDrafts, zone_map: ZoneMap, file: str, prefix: str) -> dict[str, Chain]:
    table = td.table
    chains: dict[str, Chain] = {}
    for chain_name, drafts in td.rules.items():
        label = f"{prefix}/{chain_name}"
        chain = Chain(label, None)
        for number, draft in enumerate(drafts, start=1):
            if draft.verdict in (Verdict.JUMP, Verdict.GOTO) and draft.target not in table.chains:
                raise InputError.at(file, draft.span.line, draft.target_column,
                                    f"jump to undefined chain {draft.target!r}",
                                    f"a chain of table {table.family} {table.name}")
            if draft.match is None or draft.verdict is Verdict.CONTINUE:
                continue
            match = replace(draft.match, in_zones=zone_map.resolve(draft.in_term),
                            out_zones=zone_map.resolve(draft.out_term),
                            object_refs=tuple(f"{prefix}/{ref}" for ref in draft.match.object_refs))
            target = f"{prefix}/{draft.target}" if draft.target else ""
            chain.rules.append(ChainRule(label, number, draft.span, match, draft.verdict, target,
                                         draft.target_column, draft.comment))
        chains[label] = chain
    return chains


def _include_may_accept(label: str, include: SourceSpan) -> Rule:
    """A rule standing for what an unread included file may add to this chain: anything, so it accepts all.

    An include can add rules before the chain's own (``insert rule``), elements to its sets and
    the chains it jumps to; not knowing them, the chain is widened, never taken as complete.
    """
    reason = f"include at line {include.line} not read: its rules may accept anything"
    return Rule(rule_id=f"{label}/include@{include.line}", position=1, action=Action.PERMIT, span=include,
                widened=(reason,), uncertain=True, comment=reason)


def _other_family_passes(table: NftTable, prefix: str, span: SourceSpan) -> Rule:
    other = ipaddress.ip_network("::/0" if table.family == "ip" else "0.0.0.0/0")
    passes = AddressSet((other,))
    return Rule(
        rule_id=f"{prefix}/family", position=1, action=Action.PERMIT, span=span, sources=passes,
        destinations=passes,
        comment=f"table family {table.family}: IPv{6 if table.family == 'ip' else 4} packets do not traverse it",
    )


PARSER = NftablesParser()
