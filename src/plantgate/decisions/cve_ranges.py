"""A version judged against a CVE record's ``affected`` entry, as the CVE JSON 5 schema defines it.

An entry lists versions: one version alone, or a range from ``version`` up to
``lessThan`` (excluded) or ``lessThanOrEqual`` (included), each with a status; ``changes``
switch the status at a version inside the range; versions no entry covers take
``defaultStatus`` (unknown when absent). Vendors put non-semver text in ranges labelled
"semver" ("520.2 TCU4", "10.2.9-h1"), so every version is compared with the vendor-aware key.
Records also carry slips seen in the wild, read as their writer meant them: a range whose
start equals its end ("8.4.0" to "<8.4.0") is an upper bound only, and an inverted range
is ignored and said so. Where entries overlap, the narrower one speaks. Free text in a
single version ("Versions 8.1.1.3 and prior") is read as a range where it can be; anything
else cannot be told.
"""

from __future__ import annotations

import re

from plantgate.decisions.version_text import Key, VersionVerdict, is_plain, normalise_range, version_key
from plantgate.decisions.versions import version_in_range
from plantgate.feeds.cve_affected import AffectedProduct, AffectedVersion

_EVERY = frozenset({"*", "all", "all versions"})
_NONE = frozenset({"", "n/a", "na", "-", "unspecified", "unknown"})
_SINGLE = re.compile(r"^[vVrR]?\d[\w.+-]*$")


def _covers(entry: AffectedVersion, version: str) -> tuple[str | None, str]:
    """The status this entry gives ``version`` (None when the entry does not cover it), and a note."""
    start = entry.version
    upper = entry.less_than or entry.less_than_or_equal
    if upper:
        unbounded_start = start.lower() in _NONE | _EVERY | {"0"} or start == upper
        if upper != "*" and not unbounded_start and version_key(start) > version_key(upper):
            return None, f"inverted range {start} to {upper} ignored"
        if not unbounded_start and version_key(version) < version_key(start):
            return None, ""
        if upper != "*":
            key, bound = version_key(version), version_key(upper)
            if (key >= bound) if entry.less_than else (key > bound):
                return None, ""
        status = entry.status
        for at, changed in sorted(entry.changes, key=lambda change: version_key(change[0])):
            if version_key(version) >= version_key(at):
                status = changed
        op = "<" if entry.less_than else "<="
        return status, f"{status}: {'' if unbounded_start else start + ' <= '}{version} {op} {upper}"
    text = start.lower()
    if text in _EVERY:
        return entry.status, f"{entry.status}: all versions"
    if text in _NONE:
        return None, ""
    if _SINGLE.match(start):
        return (entry.status, f"{entry.status}: exactly {start}") if version_key(version) == version_key(start) \
            else (None, "")
    readable = normalise_range(start)
    if readable != start and readable[:1] in "<>=":
        verdict = version_in_range(readable, version)
        if verdict.affected is True:
            return entry.status, f"{entry.status}: {start!r}"
        if verdict.affected is False:
            return None, ""
    return "unknown", f"version text {start!r} not understood"


def _specificity(entry: AffectedVersion) -> tuple[int, Key]:
    """Where entries overlap, the narrower one speaks: a single version, then the lowest upper bound."""
    upper = entry.less_than or entry.less_than_or_equal
    if not upper:
        return (1, ()) if entry.version.lower() in _EVERY else (0, ())
    return (2, version_key(upper)) if upper != "*" else (3, ())


def judge_affected(product: AffectedProduct, version: str) -> VersionVerdict:
    """Is ``version`` affected according to this entry of the CVE record?"""
    if not version:
        every = [e for e in product.versions if e.version.lower() in _EVERY and e.status == "affected"]
        if every:
            return VersionVerdict(True, 0.9, "the record says every version is affected")
        return VersionVerdict(None, 0.4, "the asset's version is unknown")
    covering: list[tuple[tuple[int, Key], str]] = []
    notes: list[str] = []
    for entry in product.versions:
        status, note = _covers(entry, version)
        if status is not None:
            covering.append((_specificity(entry), status))
        if note:
            notes.append(note)
    narrowest = min((rank for rank, _ in covering), default=None)
    statuses = [status for rank, status in covering if rank == narrowest]
    confidence = 0.95 if is_plain(version) else 0.85
    where = f"{product.vendor} {product.product}".strip()
    detail = "; ".join(dict.fromkeys(notes))
    if "affected" in statuses:
        return VersionVerdict(True, confidence, f"{version!r} is affected per the CVE record ({where}: {detail})")
    if "unknown" in statuses:
        return VersionVerdict(None, 0.5, f"the CVE record cannot tell for {version!r} ({where}: {detail})")
    if statuses:
        return VersionVerdict(False, confidence, f"{version!r} is unaffected per the CVE record ({where}: {detail})")
    default = product.default_status
    suffix = f"; {detail}" if detail else ""
    if default == "affected":
        return VersionVerdict(True, 0.7, f"{version!r} is outside the listed versions; the record's default "
                              f"status is affected ({where}{suffix})")
    if default == "unaffected":
        return VersionVerdict(False, 0.9, f"{version!r} is outside the affected versions ({where}{suffix})")
    return VersionVerdict(None, 0.4, f"{version!r} is outside the listed versions and the record's default "
                          f"status is unknown ({where}{suffix})")
