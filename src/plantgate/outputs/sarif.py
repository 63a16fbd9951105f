"""Findings as SARIF 2.1.0, the format code-scanning tools (GitHub among them) ingest.

A treaty lives in git, so its findings belong beside code findings: each result points at
the treaty or config file and line (relative to the treaty folder, through the uriBaseId
``TREATYROOT``), carries the finding's stable fingerprint so that tools track it across
runs and line moves, and an accepted finding is reported as a suppression with its
justification rather than dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plantgate import __version__
from plantgate.checks import RULES, load_all_checks
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.registry import Rule
from plantgate.errors import Location
from plantgate.outputs.json_report import coverage_dicts

if TYPE_CHECKING:
    from plantgate.outputs.formats import CheckReport

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
ROOT_ID = "TREATYROOT"
FINGERPRINT_KEY = "plantgateFingerprint/v1"

SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
"""GitHub's bands: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low."""

LEVEL: dict[Severity, str] = {
    Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note",
    Severity.INFO: "note",
}
PROBLEM_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "recommendation",
    Severity.INFO: "recommendation",
}


@dataclass(frozen=True)
class Suppression:
    """An accepted finding: who accepted the risk, why, and until when (free text)."""

    justification: str
    status: str = "accepted"
    kind: str = "external"
    """``external``: the decision is recorded outside the treaty file the result points at."""


def rule_name(rule: Rule) -> str:
    """A PascalCase identifier from the title's head: 'Rule broader than ...' -> 'RuleBroaderThan...'."""
    head = re.split(r"[:(,]", rule.title, maxsplit=1)[0]
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", head))


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    references = "".join(f"\n- {ref}" for ref in rule.references)
    return {
        "id": rule.rule_id,
        "name": rule_name(rule),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title}. {rule.help}"},
        "help": {"text": rule.help + ("\nReferences:" + references if references else ""),
                 "markdown": f"**{rule.title}**\n\n{rule.help}" + (f"\n\nReferences:\n{references}"
                                                                    if references else "")},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "problem.severity": PROBLEM_SEVERITY[rule.severity],
            "precision": "high",
            "tags": ["security", "ot", rule.rule_id.split("-")[1].lower()],
        },
    }


def artifact_location(file: str, base: Path) -> dict[str, Any]:
    """Relative to the treaty folder under ``TREATYROOT`` when inside it, else an absolute file URI."""
    path = Path(file)
    try:
        relative = path.resolve().relative_to(base.resolve())
    except ValueError:
        return {"uri": path.resolve().as_uri()}
    return {"uri": relative.as_posix(), "uriBaseId": ROOT_ID}


def physical_location(location: Location, base: Path) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(location.file, base)}
    if location.line > 0:
        region: dict[str, int] = {"startLine": location.line}
        if location.column > 0:
            region["startColumn"] = location.column
        physical["region"] = region
    return {"physicalLocation": physical}


def _message(finding: Finding) -> str:
    text = finding.message
    if finding.witness:
        flow = " ".join(f"{key}={value}" for key, value in finding.witness.items())
        text += f" Witness: {flow}."
    return text


def _result(finding: Finding, rule_index: int, base: Path, fallback: Location,
            suppression: Suppression | None) -> dict[str, Any]:
    evidence = list(finding.evidence) or [fallback]
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [physical_location(evidence[0], base)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "severity": finding.severity.value,
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "subjects": list(finding.subjects),
        },
    }
    if len(evidence) > 1:
        result["relatedLocations"] = [{"id": index, **physical_location(location, base),
                                       "message": {"text": "further evidence"}}
                                      for index, location in enumerate(evidence[1:], start=1)]
    if finding.witness is not None:
        result["properties"]["witness"] = finding.witness
    if suppression is not None:
        result["suppressions"] = [{"kind": suppression.kind, "status": suppression.status,
                                   "justification": suppression.justification}]
    return result


def sarif_log(report: CheckReport, suppressions: Mapping[str, Suppression] | None = None) -> dict[str, Any]:
    """The SARIF log; ``suppressions`` maps a finding fingerprint to its acceptance."""
    load_all_checks()
    accepted = suppressions or {}
    rules = [RULES[rule_id] for rule_id in sorted(RULES)]
    index = {rule.rule_id: position for position, rule in enumerate(rules)}
    base = report.base
    fallback = report.site.locate("site")
    treaty = report.site.treaty
    results = [_result(f, index[f.rule_id], base, fallback, accepted.get(f.fingerprint))
               for f in report.findings]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "PlantGate", "semanticVersion": __version__, "version": __version__,
                                "rules": [_rule_descriptor(rule) for rule in rules]}},
            "originalUriBaseIds": {ROOT_ID: {"uri": base.resolve().as_uri() + "/",
                                             "description": {"text": "The treaty folder."}}},
            "automationDetails": {"id": f"plantgate/{_slug(treaty.site.name)}/"},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"site": treaty.site.name, "plant": treaty.site.plant,
                           "revision": treaty.site.revision, "asOf": report.as_of.isoformat(),
                           "allModelled": all(c.full for c in report.coverage),
                           "coverage": coverage_dicts(report.coverage, base)},
        }],
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "site"


def render(report: CheckReport) -> str:
    """The ``--format sarif`` renderer (no acceptance records exist in the treaty model yet)."""
    return json.dumps(sarif_log(report), indent=2) + "\n"
