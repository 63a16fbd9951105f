"""Rule hygiene of every boundary firewall, as findings: the lint of ``plantgate fw lint`` in ``check``.

Each lint kind has its own rule id so that a site can gate on shadowed rules without
failing on unused objects. The issues of one firewall are grouped by kind, one finding
each that names every rule concerned (the details list them all), so a 10,000-rule
firewall gives a list a person reads, not 10,000 findings; a rule copied into several
filters by its vendor's semantics (PAN-OS universal rules, SRX global policies) is named
once. From the CLI (a context that may fork) a large firewall is linted on every core,
with the very same issues.

The register decides who is to blame for redundancy: when a rule that implements a
registered conduit is covered by an earlier, broader rule, the finding names the broad
rule first and says to narrow it, never to remove the registered one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from plantgate.checks.context import CheckContext, rule_location
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import NIST_CM_3, NIST_SC_7, REF_FIREWALL
from plantgate.checks.registry import Rule, check, rule
from plantgate.errors import Location
from plantgate.firewalls.ruleset import Rule as FirewallRule
from plantgate.netspace import FlowSet, rule_match
from plantgate.netspace.lint import KINDS, LintIssue
from plantgate.reconcile import BoundaryFirewall

_REFS = (REF_FIREWALL, NIST_SC_7, NIST_CM_3)
_HELP = "The platform owner holds the boundary firewall to the same configuration hygiene as every other firewall."
LINT_RULES: dict[str, Rule] = {
    "shadowed": rule("PG-LINT-001", "Shadowed rule: earlier rules take all its packets", Severity.MEDIUM,
                     _REFS, _HELP),
    "redundant": rule("PG-LINT-002", "Redundant rule: removing it changes nothing", Severity.LOW, _REFS, _HELP),
    "correlated": rule("PG-LINT-003", "Correlated rules: partial overlap with opposite actions", Severity.LOW,
                       _REFS, _HELP),
    "any_any": rule("PG-LINT-004", "Any-any permit", Severity.HIGH, _REFS, _HELP),
    "overly_broad": rule("PG-LINT-005", "Overly broad permit", Severity.MEDIUM, _REFS, _HELP),
    "disabled": rule("PG-LINT-006", "Disabled rule left in the policy", Severity.INFO, _REFS, _HELP),
    "never_matches": rule("PG-LINT-007", "Rule that can never match", Severity.LOW, _REFS, _HELP),
    "unused_object": rule("PG-LINT-008", "Object never used", Severity.INFO, _REFS, _HELP),
    "unbound_filter": rule("PG-LINT-009", "Filter bound to nothing: it filters nothing on the device", Severity.LOW,
                           _REFS, "An ACL that no interface binds looks like protection and is none."),
}
KIND_NAMES: dict[str, tuple[str, str]] = {
    "shadowed": ("shadowed rule", "shadowed rules"), "redundant": ("redundant rule", "redundant rules"),
    "correlated": ("correlated rule", "correlated rules"), "any_any": ("any-any permit", "any-any permits"),
    "overly_broad": ("overly broad permit", "overly broad permits"), "disabled": ("disabled rule", "disabled rules"),
    "never_matches": ("rule that never matches", "rules that never match"),
    "unused_object": ("unused object", "unused objects"),
    "unbound_filter": ("filter bound to nothing", "filters bound to nothing"),
}
"""Singular and plural of what each kind counts."""
MAX_NAMED = 12
"""Items named in a finding's message and evidence; ``details`` lists every one."""


@dataclass(frozen=True)
class _Item:
    """One rule (or object, or filter) a lint kind names, as a finding lists it."""

    subject: str
    text: str
    evidence: tuple[Location, ...]
    witness: dict[str, Any] | None


def _evidence(issue: LintIssue, fw: BoundaryFirewall) -> tuple[Location, ...]:
    if issue.rule is not None:
        return (rule_location(issue.rule), *(rule_location(r) for r in issue.related_rules))
    if issue.object is not None:
        return (Location(issue.object.span.file, issue.object.span.line),)
    flt = fw.parsed.filters.get(issue.filter or "")
    if flt is not None and flt.span is not None:
        return (Location(flt.span.file, flt.span.line),)
    return ()


class _Register:
    """The union of every conduit, and which conduits a rule implements (computed once per run)."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self._all: FlowSet | None = None

    @property
    def all(self) -> FlowSet:
        if self._all is None:
            total = self.ctx.space.empty()
            for conduit in self.ctx.treaty.conduits:
                total = total | self.ctx.conduit(conduit.id)
            self._all = total
        return self._all

    def implemented_by(self, fw_rule: FirewallRule) -> list[str]:
        match = rule_match(self.ctx.space, fw_rule)
        return [c.id for c in self.ctx.treaty.conduits if self.ctx.conduit(c.id).intersects(match)]

    def broader(self, fw_rule: FirewallRule) -> bool:
        return not (rule_match(self.ctx.space, fw_rule) - self.all).is_empty()


def _blame_broad_rule(issue: LintIssue, register: _Register, fw: BoundaryFirewall) -> _Item | None:
    """A registered rule covered by an earlier rule broader than the register: the item blames the broad one."""
    covered = issue.rule
    if issue.kind != "redundant" or covered is None or not covered.action.permits or not issue.related_rules:
        return None
    conduits = register.implemented_by(covered)
    if not conduits:  # most covered rules implement no conduit: no related rule is then judged
        return None
    broad = [r for r in issue.related_rules if register.broader(r)]
    if not broad:
        return None
    names = ", ".join(f"{r.rule_id} (line {r.span.line})" for r in broad)
    text = (f"{names} {'is' if len(broad) == 1 else 'are'} broader than the register and cover"
            f"{'s' if len(broad) == 1 else ''} rule {covered.rule_id} (line {covered.span.line}), which implements "
            f"{', '.join(conduits)}: narrow {'it' if len(broad) == 1 else 'them'} to what the register grants and "
            f"keep {covered.rule_id}")
    evidence = (*(rule_location(r) for r in broad), rule_location(covered))
    witness = issue.witness.to_dict() if issue.witness else None
    return _Item(broad[0].rule_id, text, evidence, witness)


def _item(issue: LintIssue, register: _Register, fw: BoundaryFirewall) -> _Item:
    blamed = _blame_broad_rule(issue, register, fw)
    if blamed is not None:
        return blamed
    subject = issue.rule.rule_id if issue.rule else issue.object.name if issue.object else issue.filter or "?"
    return _Item(subject, issue.message, _evidence(issue, fw), issue.witness.to_dict() if issue.witness else None)


@check
def rule_hygiene(ctx: CheckContext) -> Iterator[Finding]:
    register = _Register(ctx)
    firewalls = ctx.firewalls
    findings: dict[int, list[Finding]] = {}
    for index, issues in ctx.lint_as_done():  # each firewall while the workers lint the others
        fw = firewalls[index]
        groups: dict[str, dict[str, _Item]] = {}
        for issue in issues:
            item = _item(issue, register, fw)
            groups.setdefault(issue.kind, {}).setdefault(item.subject, item)
        findings[index] = [_group_finding(fw, kind, list(groups[kind].values())) for kind in KINDS if kind in groups]
    for index in range(len(firewalls)):  # in the order of the firewalls, whatever order the lint ended in
        yield from findings[index]


def _group_finding(fw: BoundaryFirewall, kind: str, items: list[_Item]) -> Finding:
    named = items[:MAX_NAMED]
    listed = "; ".join(item.text for item in named)
    more = f"; and {len(items) - MAX_NAMED} more (listed in the details)" if len(items) > MAX_NAMED else ""
    singular, plural = KIND_NAMES[kind]
    count = f"{len(items)} {plural}" if len(items) > 1 else f"1 {singular}"
    evidence = list(dict.fromkeys(loc for item in named for loc in item.evidence))
    return LINT_RULES[kind].finding(
        [fw.entry.id], f"{fw.entry.id}: {count}: {listed}{more}.", evidence,
        witness=named[0].witness, discriminator=kind,
        details={"rules": [{"subject": item.subject, "message": item.text,
                            "evidence": [str(e) for e in item.evidence]} for item in items]})
