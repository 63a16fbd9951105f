"""A firewall as the device applies it: its filters in order, each rule with its action and config line,
and where each filter is placed between treaty zones.

The firewall page reads this (stored once per revision by a job) instead of parsing a config
on a request. Lint annotations are not computed here: the check job's PG-LINT findings carry
each rule's line, and the page joins them on (file, line).
"""

from __future__ import annotations

from typing import Any

from plantgate.checks.context import CheckContext
from plantgate.reconcile import BoundaryFirewall

MAX_RULE_TEXT = 400
"""Characters of a rule's config text kept per rule (a rule's lines are shown whole on the config page)."""


def firewall_listing(ctx: CheckContext, relative: Any = str) -> dict[str, Any]:
    """Every boundary firewall of the treaty by id, as its rules apply (``relative``: file names as the treaty's)."""
    return {fw.entry.id: _listing(fw, relative) for fw in ctx.firewalls}


def _listing(fw: BoundaryFirewall, relative: Any) -> dict[str, Any]:
    parsed = fw.parsed
    placed: dict[str, list[str]] = {}
    for (ingress, egress), names in fw.ruleset.paths.items():
        for name in names:
            placed.setdefault(name, []).append(f"{ingress} \u2192 {egress}")
    filters = []
    for flt in parsed.filters.values():
        filters.append({
            "name": flt.name, "default": flt.default_action.value, "description": flt.description,
            "file": relative(flt.span.file) if flt.span else "", "line": flt.span.line if flt.span else 0,
            "placed": placed.get(flt.name, []),
            "rules": [{"id": r.rule_id, "position": r.position, "action": r.action.value, "enabled": r.enabled,
                       "file": relative(r.span.file), "line": r.span.line, "end_line": r.span.end_line,
                       "text": r.span.text.strip()[:MAX_RULE_TEXT], "comment": r.comment,
                       "widened": list(r.widened)} for r in flt.rules],
        })
    coverage = fw.coverage
    return {"id": fw.entry.id, "vendor": parsed.vendor, "file": relative(parsed.file), "filters": filters,
            "default_path_action": parsed.default_path_action.value,
            "zones": {zone: names for zone, names in fw.config_zones_of.items()},
            "pairs": [f"{a} \u2192 {b}" for a, b in fw.treaty_pairs()],
            "coverage": {"level": coverage.level.value, "sentence": coverage.sentence(),
                         "gaps": [{"kind": i.kind.value, "subject": i.subject, "detail": i.detail,
                                   "line": i.location.line if i.location else 0} for i in coverage.gaps()],
                         "notes": [{"kind": i.kind.value, "subject": i.subject, "detail": i.detail,
                                    "line": i.location.line if i.location else 0} for i in coverage.notes()]},
            "warnings": [{"line": w.line, "message": w.message, "widened": w.widened} for w in parsed.warnings]}
