"""Fixed versions given one per release line, judged only against the asset's own line.

Vendors that maintain several release lines publish one fix per line: Rockwell writes
"<V33.017_V34.014_V35.013_V36.011", Honeywell lists Experion PKS "<R510.2_HF14",
"<R511.5_TCU4_HF4", "<R520.1_TCU5" and "<R520.2_TCU4_HF2" as products of their own. ORing
those bounds makes every fixed release look affected (R510.2_HF14 is below R511.5...).
A version is judged by the bound of its release line, found by walking the dotted numbers:
the first number that tells the listed lines apart decides the line. A version older than
every listed line is affected (the earliest fix is above it), one newer than every line is
not, and one between two listed lines cannot be told.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from plantgate.decisions.version_text import OPS, VersionVerdict, leading_numbers, version_key

_LIST_ITEM = re.compile(r"[vVrR]?\d+(?:\.\d+)+")


def fixed_versions_per_line(bound: str) -> list[str]:
    """'V33.017_V34.014_V35.013' -> ['V33.017', 'V34.014', 'V35.013']; [] for anything else.

    Each item must be a dotted version of its own (so 'R510.2_HF14', one version with a
    hotfix suffix, is not a list).
    """
    items = bound.strip().split("_")
    if len(items) < 2 or not all(_LIST_ITEM.fullmatch(item) for item in items):
        return []
    return items


def _numbers(text: str) -> list[int]:
    return [int(n) for n in leading_numbers(text)]


@lru_cache(maxsize=1 << 16)
def _judge_cached(bounds: tuple[tuple[str, str], ...], version: str) -> tuple[int, str, VersionVerdict]:
    index, where = line_of(bounds, version)
    op, bound = bounds[index]
    listed = ", ".join(b for _, b in bounds)
    if where == "between":
        return index, where, VersionVerdict(None, 0.5, f"{version!r} is on a release line none of {listed} names")
    affected = OPS[op](version_key(version), version_key(bound))
    place = {"line": f"its release line is fixed in {bound}", "older": f"older than every listed line (the "
             f"earliest fix is {bound})", "newer": f"newer than every listed line (the latest fix is {bound})"}[where]
    return index, where, VersionVerdict(affected, 0.85, f"{version!r} {'is' if affected else 'is not'} affected: "
                                        f"{place} (fixes per line: {listed})")


def line_of(bounds: Sequence[tuple[str, str]], version: str) -> tuple[int, str]:
    """Index of the bound whose release line holds ``version``, and where the version stands.

    The second value is 'line' (its own line), 'older' (below every listed line: the index is
    the earliest line), 'newer' (above every line: the index is the latest) or 'between'.
    """
    mine = _numbers(version)
    candidates = list(range(len(bounds)))
    depth = 0
    while len(candidates) > 1:
        components = {i: (_numbers(bounds[i][1]) + [0] * (depth + 1))[depth] for i in candidates}
        if len(set(components.values())) == 1 and depth >= max(len(_numbers(bounds[i][1])) for i in candidates):
            break  # the same line listed twice: judged by the highest bound below
        value = mine[depth] if depth < len(mine) else 0
        same = [i for i in candidates if components[i] == value]
        if same:
            candidates, depth = same, depth + 1
            continue
        ordered = sorted(candidates, key=lambda i: components[i])
        if value < components[ordered[0]]:
            return ordered[0], "older"
        if value > components[ordered[-1]]:
            return ordered[-1], "newer"
        return next(i for i in ordered if components[i] > value), "between"
    best = max(candidates, key=lambda i: version_key(bounds[i][1]))
    return best, "line"


def judge_by_release_line(bounds: Sequence[tuple[str, str]], version: str) -> VersionVerdict:
    """``version`` against the fixed-version bound ('<' or '<=') of its own release line."""
    return _judge_cached(tuple(bounds), version)[2]


def judge_with_line(bounds: Sequence[tuple[str, str]], version: str) -> tuple[int, VersionVerdict]:
    """The index of the bound whose line judged ``version``, and the verdict."""
    index, _, verdict = _judge_cached(tuple(bounds), version)
    return index, verdict
