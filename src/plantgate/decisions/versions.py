"""Version ranges as advisories write them: ``vers:`` URIs exactly, free text with a confidence.

CSAF ``product_version_range`` is machine-readable only when it is a ``vers:`` URI; ICS
advisories mostly carry text such as "<=(R4.10)" or "All versions < V1.5 SP3". The text is
parsed into comparisons where it can be, and every verdict says how sure it is, so the
matcher can only *suggest* a match that a person then confirms.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from univers.version_range import VersionRange

_OPS: dict[str, Callable[[tuple[tuple[int, int | str], ...], tuple[tuple[int, int | str], ...]], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "=": operator.eq, "==": operator.eq}
_CONSTRAINT = re.compile(r"^(<=|>=|==|<|>|=)?\s*(.+)$")
_PRE_RELEASE = {"a", "alpha", "b", "beta", "rc", "pre", "dev"}


@dataclass(frozen=True)
class VersionVerdict:
    """Whether a version lies in a range: True, False or None (cannot tell), and how sure."""

    affected: bool | None
    confidence: float
    reason: str


def version_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """A comparable key: numbers compare as numbers, post-release words (SP, HF, Update) after none.

    "R510.2_HF14" -> 510, 2, hf, 14. A leading V or R in front of a digit is dropped.
    Each part is (rank, value): pre-release words rank 0, numbers 2, other words 3; the end
    of a version ranks 1, so 1.5 < 1.5 SP3 and 1.5rc1 < 1.5.
    """
    parts = re.findall(r"\d+|[a-z]+", text.lower())
    if len(parts) > 1 and parts[0] in ("v", "r") and parts[1].isdigit():
        parts = parts[1:]
    key: list[tuple[int, int | str]] = []
    for part in parts:
        if part.isdigit():
            key.append((2, int(part)))
        else:
            key.append((0 if part in _PRE_RELEASE else 3, part))
    key.append((1, 0))
    return tuple(key)


def _bare(text: str) -> str:
    """Lower case without a leading V or R: 'R151.2' -> '151.2'."""
    text = text.strip().lower()
    return text[1:] if text[:1] in ("v", "r") and text[1:2].isdigit() else text


def _is_plain(text: str) -> bool:
    return re.fullmatch(r"[vVrR]?\d+(\.\d+)*", text.strip()) is not None


def _free_text(range_text: str, version: str) -> VersionVerdict:
    text = range_text.strip()
    all_versions = re.match(r"^all versions\b", text, re.I)
    if all_versions:
        rest = text[all_versions.end():].strip()
        if not rest:
            return VersionVerdict(True, 0.9, "advisory says all versions")
        if not re.match(r"^[<>=]", rest):
            return VersionVerdict(True, 0.5, f"all versions, with a condition not evaluated: {rest!r}")
        text = rest
    constraints = [c.strip().strip("()").strip() for c in text.split("|") if c.strip()]
    confidence = 0.9
    results: list[bool] = []
    for constraint in constraints:
        match = _CONSTRAINT.match(constraint)
        assert match is not None
        op, bound = match.group(1) or "=", match.group(2).strip().strip("()").strip()
        bound = re.sub(r"\s*\(.*\)$", "", bound)  # "15.1 HF001 (including former Unity Pro)"
        if len(re.findall(r"[vV]\d", bound)) > 1 or not re.search(r"\d", bound):
            return VersionVerdict(None, 0.4, f"range {range_text!r} is not a single comparison")
        if bound.lower().endswith("x"):  # R16x: the R16 family
            bound, confidence = bound[:-1], min(confidence, 0.6)
        if not (_is_plain(bound) and _is_plain(version)):
            confidence = min(confidence, 0.7)
        results.append(_OPS[op](version_key(version), version_key(bound)))
    if not results:
        return VersionVerdict(None, 0.4, f"range {range_text!r} has no comparison")
    verdict = all(results)
    return VersionVerdict(verdict, confidence, f"{version!r} {'is' if verdict else 'is not'} in {range_text!r}"
                          f" (free text read as comparisons)")


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
    if re.match(r"^all versions\s*$", text, re.I):
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
        if option.lower().endswith("x") and _bare(version).startswith(_bare(option[:-1])):
            return VersionVerdict(True, 0.6, f"{version!r} is in the {option!r} family")
        if version_key(option) == version_key(version):
            return VersionVerdict(True, 0.95, f"{version!r} is the listed version {option!r}")
    return VersionVerdict(False, 0.8, f"{version!r} is not among {text!r}")
