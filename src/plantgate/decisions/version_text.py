"""How vendors spell versions: comparable keys, release families and the prose around ranges.

Advisories compare versions that are not semver: "R510.2_HF14", "V1.5 SP3 Update 2",
"15.1 HF001", "10.2.9-h1". A key compares numbers as numbers and ranks the words after a
release (SP, HF, TCU, -h) above the release itself. A range is first stripped of what is
prose ("(including former Unity Pro)", "and prior") so that only the comparison is judged,
and a family such as "R16x" (releases R160 to R169) is compared as a family, never as the
number 16.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Key = tuple[tuple[int, int | str], ...]

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "=": operator.eq, "==": operator.eq}
_PRE_RELEASE = {"a", "alpha", "b", "beta", "rc", "pre", "dev"}
_VERSION_LIKE = re.compile(r"^(<=|>=|==|<|>|=)?\s*[vVrR]?\d")
_PARENTHETICAL = re.compile(r"\(([^()]*)\)")
_AND_PRIOR = re.compile(r"^(?:all\s+)?(?:versions?\s+)?(?P<v>\S.*?)\s+(?:and|or)\s+(?:prior|earlier|older|before|"
                        r"lower|below)$", re.I)
_PRIOR_TO = re.compile(r"^(?:all\s+)?(?:versions?\s+)?(?:prior\s+to|before|earlier\s+than|older\s+than)\s+"
                       r"(?P<v>\S.*)$", re.I)
_UP_TO = re.compile(r"^(?:all\s+)?(?:versions?\s+)?up\s+to\s+(?:and\s+including\s+)?(?P<v>\S.*)$", re.I)
_FAMILY = re.compile(r"[vVrR]?\d+(?:\.\d+)*\.?[xX]")


@dataclass(frozen=True)
class VersionVerdict:
    """Whether a version lies in a range: True, False or None (cannot tell), and how sure."""

    affected: bool | None
    confidence: float
    reason: str


@lru_cache(maxsize=1 << 17)
def version_key(text: str) -> Key:
    """A comparable key: numbers compare as numbers, post-release words (SP, HF, Update) after none.

    "R510.2_HF14" -> 510, 2, hf, 14. A leading V or R in front of a digit is dropped.
    Each part is (rank, value): pre-release words rank 0, numbers 2, other words 3; the end
    of a version ranks 1, so 1.5 < 1.5 SP3, 10.2.9 < 10.2.9-h1 and 1.5rc1 < 1.5. Trailing
    zeros do not count: 10.2 is 10.2.0.
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
    while key and key[-1] == (2, 0):
        key.pop()
    key.append((1, 0))
    return tuple(key)


def bare(text: str) -> str:
    """Lower case without a leading V or R: 'R151.2' -> '151.2'."""
    text = text.strip().lower()
    return text[1:] if text[:1] in ("v", "r") and text[1:2].isdigit() else text


def is_plain(text: str) -> bool:
    """Only numbers and dots, with at most a leading V or R: 'V1.5', '10.2.8'."""
    return re.fullmatch(r"[vVrR]?\d+(\.\d+)*", text.strip()) is not None


def is_family(text: str) -> bool:
    """'R16x' (R160-R169) or 'R210.X' (every R210 release)."""
    return _FAMILY.fullmatch(text.strip()) is not None


@lru_cache(maxsize=1 << 17)
def leading_numbers(text: str) -> tuple[str, ...]:
    """The dotted numbers a version starts with: 'R510.2_HF14' -> ('510', '2')."""
    found = re.match(r"\d+(?:\.\d+)*", bare(text))
    return tuple(found.group().split(".")) if found else ()


def family_compare(op: str, family: str, version: str) -> bool | None:
    """Compare a version with a release family as a family; None when the version has another shape.

    'R16x' stands for one more digit after 16: R141.1 is in family 14, below 16. 'R210.X'
    stands for every release below R210: R211.1 is in family 211, above it.
    """
    text = bare(family)[:-1]
    numbers = re.findall(r"\d+", text)
    components = leading_numbers(version)
    if not numbers or not components:
        return None
    if text.endswith("."):
        if len(components) < len(numbers):
            return None
        head = tuple(int(c) for c in components[:len(numbers)])
    else:
        index = len(numbers) - 1
        if len(components) <= index or len(components[index]) != len(numbers[-1]) + 1:
            return None
        head = (*(int(c) for c in components[:index]), int(components[index][:-1]))
    return OPS[op](head, tuple(int(n) for n in numbers))


def normalise_range(text: str) -> str:
    """A range with its prose removed: remarks in parentheses dropped, '8.1 and prior' as '<=8.1'.

    A parenthesis that holds a version is the version ('<=(R4.10)' -> '<=R4.10'); one that
    holds words is a remark ('< 2021 (including former HDCS)' -> '< 2021').
    """
    text = " ".join(text.split())
    while True:
        replaced = _PARENTHETICAL.sub(
            lambda m: m.group(1).strip() if _VERSION_LIKE.match(m.group(1).strip()) else " ", text)
        if replaced == text:
            break
        text = replaced
    text = " ".join(text.split())
    for pattern, op in ((_AND_PRIOR, "<="), (_PRIOR_TO, "<"), (_UP_TO, "<=")):
        found = pattern.match(text)
        if found and re.search(r"\d", found.group("v")):
            return f"{op}{found.group('v').strip()}"
    return text
