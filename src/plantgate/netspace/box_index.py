"""Which earlier rules of a filter can meet each rule, told by interval boxes instead of BDDs.

Lint needs, for every rule, the earlier rules whose matches meet it. Rules of a real
filter rarely meet (about ten thousand meeting pairs among a million in a 1,500-rule ACL),
so testing boxes (``boxes``: exact intervals per axis, an over-approximation of the
match) first and BDDs only for the few candidates is far cheaper than folding every rule
into one large "seen so far" set. Rules whose boxes miss never meet: the index may keep
too many rules, never too few.

Each axis is indexed by the hulls of the boxes (lowest to highest value) as bit masks
(bit k = rule k), so a rule's hull candidates cost a few bisections and integer ANDs;
the exact intervals then decide each candidate.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from plantgate.netspace.boxes import Axis, Box, axes_meet

Interval = tuple[int, int]

_WHOLE: Interval = (0, (1 << 128) - 1)
"""Wider than every axis (addresses are 128-bit, services ``protocol << 16 | port``)."""


def hull(axis: Axis) -> Interval:
    return _WHOLE if axis is None else (axis[0][0], axis[-1][1])


class AxisIndex:
    """Bit masks of the rules whose hull on one axis meets a query interval.

    Two sorted views: by lower end with prefix unions of masks (rules starting at or below
    the query's high end), by upper end with suffix unions (rules ending at or above its
    low end); their intersection is the rules whose hulls meet the query.
    """

    def __init__(self, hulls: Sequence[Interval | None]) -> None:
        present = [(k, hull) for k, hull in enumerate(hulls) if hull is not None]
        by_low = sorted(present, key=lambda item: item[1][0])
        by_high = sorted(present, key=lambda item: item[1][1])
        self._lows = [hull[0] for _, hull in by_low]
        self._highs = [hull[1] for _, hull in by_high]
        self._low_prefix: list[int] = []
        mask = 0
        for k, _ in by_low:
            mask |= 1 << k
            self._low_prefix.append(mask)
        self._high_suffix: list[int] = [0] * (len(by_high) + 1)
        mask = 0
        for j in range(len(by_high) - 1, -1, -1):
            mask |= 1 << by_high[j][0]
            self._high_suffix[j] = mask

    def meeting(self, query: Interval) -> int:
        low, high = query
        starts = bisect_right(self._lows, high)
        if not starts:
            return 0
        return self._low_prefix[starts - 1] & self._high_suffix[bisect_left(self._highs, low)]


def earlier_meeting(boxes: Sequence[Box | None]) -> list[list[int]]:
    """For each rule, the earlier rules (ascending) whose boxes meet its box.

    None is a rule that matches nothing, and so is a box with an empty axis: such a rule
    has no candidates and is nobody's.
    """
    usable = [box if box is not None and all(axis is None or axis for axis in box) else None for box in boxes]
    axes = [AxisIndex([None if box is None else hull(box[axis]) for box in usable]) for axis in range(3)]
    found: list[list[int]] = []
    for i, box in enumerate(usable):
        if box is None:
            found.append([])
            continue
        mask = (1 << i) - 1
        for axis, index in enumerate(axes):
            if mask:
                mask &= index.meeting(hull(box[axis]))
        found.append([k for k in _bits(mask) if _boxes_meet(box, usable[k])])
    return found


def _boxes_meet(a: Box, b: Box | None) -> bool:
    return b is not None and all(axes_meet(x, y) for x, y in zip(a, b, strict=True))


def _bits(mask: int) -> list[int]:
    """The positions of the set bits of ``mask``, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out
