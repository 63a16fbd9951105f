"""Version ranges as advisories write them: ``vers:`` URIs exactly, free text with a confidence.

CSAF ``product_version_range`` is machine-readable only when it is a ``vers:`` URI; ICS
advisories mostly carry text such as "<=(R4.10)", "All versions < V1.5 SP3" or
"< 15.1 HF001 (including former Unity Pro)". The text is read the way the advisory means
it: a parenthetical that is not a version is a remark, "R16x" is a release family and
"V33.017_V34.014" lists one fixed version per release line. Every verdict says how sure it
is, so the matcher can only *suggest* a match that a person then confirms.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import lru_cache

from univers.version_range import VersionRange

from plantgate.decisions.release_lines import fixed_versions_per_line, judge_by_release_line
from plantgate.decisions.version_text import (
    Key,
    VersionVerdict,
    family_compare,
    is_family,
    is_plain,
    normalise_range,
    version_key,
)

_OPS: dict[str, Callable[[Key, Key], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "=": operator.eq, "==": operator.eq}
_CONSTRAINT = re.compile(r"^(<=|>=|==|<|>|=)?\s*(.+)$")

__all__ = ["VersionVerdict", "single_upper_bound", "version_equals", "version_in_range", "version_key"]


def _constraints(text: str) -> list[tuple[str, str]]:
    """'>=R3.08.10|<=R3.09.50' -> [('>=', 'R3.08.10'), ('<=', 'R3.09.50')]; every part must hold."""
    out = []
    for part in (p.strip() for p in text.split("|") if p.strip()):
        match = _CONSTRAINT.match(part)
        assert match is not None
        out.append((match.group(1) or "=", match.group(2).strip()))
    return out


def single_upper_bound(range_text: str) -> tuple[str, str] | None:
    """('<', 'R510.2_HF14') for a range that is one upper bound of one version, else None."""
    text = normalise_range(range_text)
    if text.lower().startswith(("vers:", "all versions")):
        return None
    parts = _constraints(text)
    if len(parts) != 1 or parts[0][0] not in ("<", "<="):
        return None
    op, bound = parts[0]
    if is_family(bound) or fixed_versions_per_line(bound) or not re.search(r"\d", bound):
        return None
    return op, bound


def _free_text(range_text: str, version: str) -> VersionVerdict:
    text = normalise_range(range_text)
    all_versions = re.match(r"^all versions\b", text, re.I)
    if all_versions:
        rest = text[all_versions.end():].strip()
        if not rest:
            return VersionVerdict(True, 0.9, "advisory says all versions")
        if not re.match(r"^[<>=]", rest):
            return VersionVerdict(True, 0.5, f"all versions, with a condition not evaluated: {rest!r}")
        text = rest
    confidence = 0.9
    results: list[bool] = []
    notes: list[str] = []  # release-line judgements explain themselves
    for op, bound in _constraints(text):
        lines = fixed_versions_per_line(bound)
        if lines and op in ("<", "<="):
            by_line = judge_by_release_line([(op, line) for line in lines], version)
            if by_line.affected is None:
                return VersionVerdict(None, 0.5, f"{range_text!r}: {by_line.reason}")
            results.append(by_line.affected)
            notes.append(by_line.reason)
            confidence = min(confidence, 0.8)
            continue
        if not re.search(r"\d", bound) or len(re.findall(r"[vV]\d", bound)) > 1:
            return VersionVerdict(None, 0.4, f"range {range_text!r} is not a comparison PlantGate can read")
        if is_family(bound):
            family = family_compare(op, bound, version)
            if family is None:
                return VersionVerdict(None, 0.5, f"{version!r} cannot be placed against the release family "
                                      f"{bound!r} of {range_text!r}")
            results.append(family)
            confidence = min(confidence, 0.8)
            continue
        if not (is_plain(bound) and is_plain(version)):
            confidence = min(confidence, 0.7)
        results.append(_OPS[op](version_key(version), version_key(bound)))
    if not results:
        return VersionVerdict(None, 0.4, f"range {range_text!r} has no comparison")
    verdict = all(results)
    if notes and len(results) == 1:
        return VersionVerdict(verdict, confidence, f"{notes[0]} ({range_text!r})")
    return VersionVerdict(verdict, confidence, f"{version!r} {'is' if verdict else 'is not'} in {range_text!r}"
                          " (free text read as comparisons)")


@lru_cache(maxsize=65536)
def version_in_range(range_text: str, version: str) -> VersionVerdict:
    """Is ``version`` inside the advisory's range text (``vers:`` or free text)?"""
    text = range_text.strip()
    if text.lower().startswith("vers:"):
        try:
            parsed = VersionRange.from_string(text)
            if text.lower().startswith("vers:all/"):
                return VersionVerdict(True, 1.0, f"{text} covers every version")
            if not version:
                return VersionVerdict(None, 0.4, "the asset's version is unknown")
            return VersionVerdict(parsed.version_class(version) in parsed, 1.0, f"{version!r} checked against {text}")
        except Exception as exc:  # univers raises many types for unparseable input
            return VersionVerdict(None, 0.4, f"vers range {text!r} not understood ({type(exc).__name__})")
    if re.match(r"^all versions\s*$", normalise_range(text), re.I):
        return VersionVerdict(True, 0.9, "advisory says all versions")
    if not version:
        return VersionVerdict(None, 0.4, "the asset's version is unknown")
    return _free_text(text, version)


@lru_cache(maxsize=65536)
def version_equals(listed: str, version: str) -> VersionVerdict:
    """A ``product_version`` branch: one version, or alternatives joined by '|'; 'R15x' is a family."""
    text = listed.strip()
    if text.lower().startswith("vers:"):
        return version_in_range(text, version)
    if not version:
        return VersionVerdict(None, 0.4, "the asset's version is unknown")
    for option in (o.strip() for o in text.split("|") if o.strip()):
        if is_family(option):
            inside = family_compare("=", option, version)
            if inside is None:
                return VersionVerdict(None, 0.5, f"{version!r} cannot be placed against the family {option!r}")
            if inside:
                return VersionVerdict(True, 0.8, f"{version!r} is in the {option!r} family")
            continue
        if version_key(option) == version_key(version):
            return VersionVerdict(True, 0.95, f"{version!r} is the listed version {option!r}")
    return VersionVerdict(False, 0.8, f"{version!r} is not among {text!r}")
