"""Findings as JSON: the machine-readable contract of ``plantgate check --format json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plantgate.checks.finding import Finding, Severity
from plantgate.errors import Location

if TYPE_CHECKING:
    from plantgate.outputs.formats import CheckReport


def report_dict(site_name: str, revision: str, findings: list[Finding], as_of: str,
                base: Path | None = None) -> dict[str, Any]:
    """The report; evidence paths are made relative to ``base`` (the treaty folder)."""
    counts = {s.value: sum(1 for f in findings if f.severity is s) for s in Severity}
    items = []
    for finding in findings:
        item = finding.to_dict()
        item["evidence"] = [relative_location(e, base) for e in finding.evidence]
        items.append(item)
    return {"site": site_name, "revision": revision, "as_of": as_of, "summary": counts, "findings": items}


def relative_location(location: Location, base: Path | None) -> str:
    """``/x/site/conduits.yaml:3:5`` reads as ``conduits.yaml:3:5`` when the file lies under ``base``."""
    if base is None:
        return str(location)
    try:
        relative = Path(location.file).resolve().relative_to(base.resolve())
    except ValueError:
        return str(location)
    return str(Location(str(relative), location.line, location.column))


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, default=str)


def render(report: CheckReport) -> str:
    """The ``--format json`` renderer."""
    treaty = report.site.treaty
    return dumps(report_dict(treaty.site.name, treaty.site.revision, report.findings, report.as_of.isoformat(),
                             report.base)) + "\n"
