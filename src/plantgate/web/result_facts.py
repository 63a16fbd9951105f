"""One stored check result's fleet facts, indexed for the fleet pages once, when it is decoded.

The facts are what the judging job counted for a site (``jobs.judge.summary_facts`` and
``fleet_facts``). A fleet page asks every site how many critical and high findings are still
open (all of them less the accepted ones) and which assets a CVE exposes; answered from the raw
lists, each request walked every finding of every site (about 60 ms at 200 plants). Indexed
here, a request costs the sites and their accepted findings. A stored result never changes, so
the index lives as long as the revision cache keeps the result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ResultFacts:
    raw: dict[str, Any]
    severities_of: dict[str, list[str]]
    """Fingerprint -> the severities of its critical and high findings."""
    counts: Counter[str]
    """Critical and high findings by severity."""
    exposures: dict[str, list[dict[str, Any]]]
    """CVE -> the exposed assets, in stored order."""

    @classmethod
    def of(cls, raw: dict[str, Any]) -> ResultFacts:
        severities_of: dict[str, list[str]] = {}
        for fingerprint, severity in raw.get("severe", []):
            severities_of.setdefault(fingerprint, []).append(severity)
        exposures: dict[str, list[dict[str, Any]]] = {}
        for item in raw.get("cves", []):
            exposures.setdefault(item["cve"], []).append(item)
        return cls(raw, severities_of, Counter(severity for _, severity in raw.get("severe", [])), exposures)

    def open_severe(self, accepted: set[str]) -> Counter[str]:
        """Critical and high findings by severity, less those whose fingerprint is accepted."""
        closed = Counter(severity for fingerprint in accepted for severity in self.severities_of.get(fingerprint, ()))
        return self.counts - closed
