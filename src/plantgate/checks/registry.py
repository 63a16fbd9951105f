"""The registry of checks and their stable rule ids.

A check is a function from a CheckContext to findings. Registering it with its rule id,
title, severity and standard references here keeps ids unique and lets outputs such as
SARIF list every rule, including those that found nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plantgate.checks.finding import Finding, Severity
from plantgate.errors import Location

if TYPE_CHECKING:
    from plantgate.checks.context import CheckContext


@dataclass(frozen=True)
class Rule:
    """A rule id with what it means and where the requirement comes from."""

    rule_id: str
    title: str
    severity: Severity
    references: tuple[str, ...]
    help: str

    def finding(self, subjects: Iterable[str], message: str, evidence: Iterable[Location] = (), *,
                severity: Severity | None = None, witness: dict[str, Any] | None = None,
                discriminator: str = "", details: dict[str, Any] | None = None) -> Finding:
        return Finding(
            rule_id=self.rule_id, severity=severity or self.severity, title=self.title,
            subjects=tuple(subjects), message=message, evidence=tuple(evidence),
            references=self.references, witness=witness, discriminator=discriminator,
            details=details or {},
        )


CheckFunction = Callable[["CheckContext"], Iterator[Finding]]
RULES: dict[str, Rule] = {}
CHECKS: list[CheckFunction] = []


def rule(rule_id: str, title: str, severity: Severity, references: tuple[str, ...], help: str) -> Rule:
    """Declare a rule id once; a second declaration of the same id is a programming error."""
    if rule_id in RULES:
        raise RuntimeError(f"rule id {rule_id} declared twice")
    declared = Rule(rule_id, title, severity, references, help)
    RULES[rule_id] = declared
    return declared


def check(function: CheckFunction) -> CheckFunction:
    CHECKS.append(function)
    return function
