"""Findings as JSON: the machine-readable contract of ``plantgate check --format json``."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plantgate.checks.finding import Finding, Severity
from plantgate.errors import Location
from plantgate.reconcile.coverage import FirewallCoverage

if TYPE_CHECKING:
    from plantgate.outputs.formats import CheckReport


def report_dict(site_name: str, revision: str, findings: list[Finding], as_of: str,
                base: Path | None = None, coverage: list[FirewallCoverage] | None = None) -> dict[str, Any]:
    """The report; evidence paths are made relative to ``base`` (the treaty folder).

    ``coverage`` says per firewall what was modelled; ``all_modelled`` is False when any
    firewall was not modelled fully, so no tool reads an empty ``findings`` as an all-clear.
    """
    counts = {s.value: sum(1 for f in findings if f.severity is s) for s in Severity}
    items = []
    for finding in findings:
        item = finding.to_dict()
        item["evidence"] = [relative_location(e, base) for e in finding.evidence]
        items.append(item)
    out: dict[str, Any] = {"site": site_name, "revision": revision, "as_of": as_of, "summary": counts,
                           "findings": items}
    if coverage is not None:
        out["all_modelled"] = all(c.full for c in coverage)
        out["coverage"] = coverage_dicts(coverage, base)
    return out


def coverage_dicts(coverage: list[FirewallCoverage], base: Path | None) -> list[dict[str, Any]]:
    """Each firewall's coverage with its locations relative to ``base``."""
    return [c.to_dict(lambda location: relative_location(location, base)) for c in coverage]


def relative_location(location: Location, base: Path | None) -> str:
    """``/x/site/conduits.yaml:3:5`` reads as ``conduits.yaml:3:5`` when the file lies under ``base``."""
    relative = None if base is None else _relative_file(location.file, base)
    if relative is None:
        return str(location)
    return str(Location(relative, location.line, location.column))


@lru_cache(maxsize=4096)
def _relative_file(file: str, base: Path) -> str | None:
    """``file`` relative to ``base``, or None outside it. Cached: a report names the same few files
    thousands of times, and resolving a path asks the file system each time."""
    try:
        return str(Path(file).resolve().relative_to(base.resolve()))
    except ValueError:
        return None


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, default=str)


def render(report: CheckReport) -> str:
    """The ``--format json`` renderer."""
    treaty = report.site.treaty
    return dumps(report_dict(treaty.site.name, treaty.site.revision, report.findings, report.as_of.isoformat(),
                             report.base, report.coverage)) + "\n"
