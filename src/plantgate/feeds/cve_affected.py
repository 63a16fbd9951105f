"""The ``affected`` blocks of a CVE JSON 5 record: which vendor's product, which versions, in what status.

Many KEV vulnerabilities on plant equipment (a PAN-OS firewall, a FortiGate, Cisco IOS XE)
never get a CISA ICS advisory; the CVE record's CNA container still says what is affected
(``vendor``, ``product``, ``versions`` with ``lessThan``/``lessThanOrEqual``, ``status``,
``changes`` and ``defaultStatus``), and CISA's ADP container adds CPE names. The blocks are
kept as written; judging a version against them is ``plantgate.decisions.cve_ranges``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plantgate.feeds.jsontext import JsonLocator

STATUSES = frozenset({"affected", "unaffected", "unknown"})


@dataclass(frozen=True)
class AffectedVersion:
    """One ``versions`` entry: a single version, or a range from ``version`` up to a bound."""

    status: str
    version: str
    less_than: str = ""
    less_than_or_equal: str = ""
    version_type: str = ""
    changes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AffectedProduct:
    """One ``affected`` entry of the CNA (or an ADP) container."""

    source: str
    vendor: str
    product: str
    default_status: str
    versions: tuple[AffectedVersion, ...]
    cpes: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _status(value: Any, where: JsonLocator, what: str) -> str:
    status = _text(value).lower()
    if status not in STATUSES:
        raise where.error(f"{what} {value!r} is not a CVE version status", "affected, unaffected or unknown",
                          str(value) if value is not None else "status")
    return status


def _version(entry: Any, where: JsonLocator) -> AffectedVersion:
    entry = where.need_dict(entry, "a 'versions' entry", "versions")
    changes = []
    for change in where.need_list(entry.get("changes", []) or [], "'changes'", "changes"):
        change = where.need_dict(change, "a 'changes' entry", "changes")
        changes.append((_text(change.get("at")), _status(change.get("status"), where, "change status")))
    return AffectedVersion(
        status=_status(entry.get("status"), where, "version status"), version=_text(entry.get("version")),
        less_than=_text(entry.get("lessThan")), less_than_or_equal=_text(entry.get("lessThanOrEqual")),
        version_type=_text(entry.get("versionType")), changes=tuple(changes))


def parse_affected(container: dict[str, Any], source: str, where: JsonLocator) -> tuple[AffectedProduct, ...]:
    """Every ``affected`` entry of one container; a malformed entry is an InputError at its text."""
    out = []
    for item in where.need_list(container.get("affected", []) or [], "'affected'", "affected"):
        item = where.need_dict(item, "an 'affected' entry", "affected")
        default = item.get("defaultStatus")
        versions = tuple(_version(v, where) for v in where.need_list(item.get("versions", []) or [],
                                                                      "'versions'", "versions"))
        cpes = tuple(c.strip() for c in where.need_list(item.get("cpes", []) or [], "'cpes'", "cpes")
                     if isinstance(c, str) and c.strip())
        platforms = tuple(p.strip() for p in where.need_list(item.get("platforms", []) or [], "'platforms'",
                                                              "platforms") if isinstance(p, str) and p.strip())
        out.append(AffectedProduct(
            source=source, vendor=_text(item.get("vendor")), product=_text(item.get("product")),
            default_status=_status(default, where, "defaultStatus") if default is not None else "unknown",
            versions=versions, cpes=cpes, platforms=platforms))
    return tuple(out)


def cna_cvss(container: dict[str, Any]) -> float | None:
    """The highest CVSS v3 or v4 base score the CNA gives, if any."""
    scores = []
    for metric in container.get("metrics", []) or []:
        if not isinstance(metric, dict):
            continue
        for key in ("cvssV4_0", "cvssV3_1", "cvssV3_0"):
            block = metric.get(key)
            score = block.get("baseScore") if isinstance(block, dict) else None
            if isinstance(score, int | float) and not isinstance(score, bool) and 0 <= score <= 10:
                scores.append(float(score))
    return max(scores, default=None)
