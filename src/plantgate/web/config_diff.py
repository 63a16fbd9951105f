"""The current config beside the candidate, line by line: the changed hunks with a few lines of context.

difflib finds the hunks; its automatic junk heuristic (lines such as ``exit`` or ``!`` that
make up more than 1% of a long config cannot anchor a match) keeps a 5 MB config to a
fraction of a second, and the result is still an exact edit script. The page shows at most
MAX_ROWS rows and says how many more changed, so a candidate that rewrites a whole config
never makes a page of megabytes; lines are cut to MAX_LINE characters. The template escapes
every line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from plantgate.firewalls.base import decode_config_bytes

CONTEXT = 3
MAX_ROWS = 400
MAX_LINE = 300


@dataclass(frozen=True)
class DiffRow:
    """One row of the side-by-side table: a line of each config (None where that side has none)."""

    kind: str
    """same, changed, removed or added."""
    old_number: int | None
    old_text: str
    new_number: int | None
    new_text: str


@dataclass
class ConfigDiff:
    hunks: list[list[DiffRow]] = field(default_factory=list)
    changed_lines: int = 0
    """Lines removed plus lines added, over the whole config (shown or not)."""
    rows_left_out: int = 0
    """Rows of hunks past MAX_ROWS, not shown."""

    @property
    def identical(self) -> bool:
        return self.changed_lines == 0


def _cut(line: str) -> str:
    return line if len(line) <= MAX_LINE else line[:MAX_LINE - 1] + "\u2026"


def _rows(tag: str, old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int) -> list[DiffRow]:
    if tag == "equal":
        return [DiffRow("same", i + 1, _cut(old[i]), j + 1, _cut(new[j])) for i, j in zip(range(i1, i2), range(j1, j2),
                                                                                        strict=True)]
    rows = []
    for k in range(max(i2 - i1, j2 - j1)):
        i, j = i1 + k, j1 + k
        has_old, has_new = i < i2, j < j2
        kind = "changed" if has_old and has_new else "removed" if has_old else "added"
        rows.append(DiffRow(kind, i + 1 if has_old else None, _cut(old[i]) if has_old else "",
                            j + 1 if has_new else None, _cut(new[j]) if has_new else ""))
    return rows


def config_diff(current: bytes, candidate: bytes) -> ConfigDiff:
    """The hunks that turn ``current`` into ``candidate``, at most MAX_ROWS rows of them."""
    result = ConfigDiff()
    if current == candidate:
        return result
    old, new = decode_config_bytes(current).splitlines(), decode_config_bytes(candidate).splitlines()
    if old == new:  # the bytes differ in line endings or encoding only
        return result
    room = MAX_ROWS
    for group in SequenceMatcher(None, old, new).get_grouped_opcodes(CONTEXT):
        rows: list[DiffRow] = []
        for tag, i1, i2, j1, j2 in group:
            if tag != "equal":
                result.changed_lines += (i2 - i1) + (j2 - j1)
            rows += _rows(tag, old, new, i1, i2, j1, j2)
        if room > 0:
            result.hunks.append(rows[:room])
        result.rows_left_out += max(0, len(rows) - room)
        room = max(0, room - len(rows))
    return result
