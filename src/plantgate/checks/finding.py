"""The one shape every finding has, whatever produced it: id, severity, evidence, witness.

Fingerprints are stable across runs and line moves (they hash the rule id, the subjects
and a discriminator, never a line number) so that SARIF tools, acceptances and the web
app recognise the same problem tomorrow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from plantgate.errors import Location


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, threshold: Severity) -> bool:
        return self.rank >= threshold.rank


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


@dataclass(frozen=True)
class Finding:
    """A place where reality, or the treaty itself, disagrees with the treaty's own rules."""

    rule_id: str
    severity: Severity
    title: str
    subjects: tuple[str, ...]
    message: str
    evidence: tuple[Location, ...] = ()
    references: tuple[str, ...] = ()
    witness: dict[str, Any] | None = None
    discriminator: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        key = "\x1f".join([self.rule_id, *sorted(self.subjects), self.discriminator])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "title": self.title,
            "subjects": list(self.subjects),
            "message": self.message,
            "evidence": [str(e) for e in self.evidence],
            "references": list(self.references),
            "fingerprint": self.fingerprint,
        }
        if self.witness is not None:
            out["witness"] = self.witness
        if self.details:
            out["details"] = self.details
        return out
