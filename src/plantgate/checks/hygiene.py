"""Rule hygiene of every boundary firewall, as findings: the lint of ``plantgate fw lint`` in ``check``.

Each lint kind has its own rule id so that a site can gate on shadowed rules without
failing on unused objects. A rule copied into several filters by its vendor's semantics
(PAN-OS universal rules, SRX global policies) is reported once. From the CLI (a context
that may fork) a large firewall is linted on every core, with the very same issues.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext, rule_location
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import NIST_CM_3, NIST_SC_7, REF_FIREWALL
from plantgate.checks.registry import Rule, check, rule
from plantgate.errors import Location
from plantgate.netspace.lint import LintIssue, lint_ruleset
from plantgate.netspace.lint_parallel import lint_rulesets_parallel

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
}


def _evidence(issue: LintIssue) -> list[Location]:
    if issue.rule is not None:
        return [rule_location(issue.rule)] + [rule_location(r) for r in issue.related_rules]
    if issue.object is not None:
        return [Location(issue.object.span.file, issue.object.span.line)]
    return []


@check
def rule_hygiene(ctx: CheckContext) -> Iterator[Finding]:
    firewalls = ctx.firewalls
    if ctx.may_fork:  # the CLI: the filters of every firewall spread over every core
        linted = lint_rulesets_parallel([fw.ruleset for fw in firewalls], space=ctx.space)
    else:
        linted = [lint_ruleset(ctx.space, fw.ruleset) for fw in firewalls]
    for fw, issues in zip(firewalls, linted, strict=True):
        seen: set[tuple[str, str]] = set()
        for issue in issues:
            subject = issue.rule.rule_id if issue.rule else issue.object.name if issue.object else "?"
            if (issue.kind, subject) in seen:
                continue
            seen.add((issue.kind, subject))
            yield LINT_RULES[issue.kind].finding(
                [fw.entry.id, subject], f"{fw.entry.id}: {issue.message}", _evidence(issue),
                witness=issue.witness.to_dict() if issue.witness else None, discriminator=issue.kind)
