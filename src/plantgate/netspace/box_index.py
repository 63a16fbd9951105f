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

Lint adds the rules' zones as dimensions of their matches; two rules whose zone sets are
disjoint never meet, however their boxes lie. Such exact, set-valued dimensions come in as
``tags``: per rule one bit mask of values per dimension, and two rules can meet only when
their masks share a bit in every dimension.
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


def earlier_meeting(boxes: Sequence[Box | None], tags: Sequence[tuple[int, ...]] | None = None) -> list[list[int]]:
    """For each rule, the earlier rules (ascending) whose boxes meet its box (and tags, when given).

    None is a rule that matches nothing, and so is a box with an empty axis: such a rule
    has no candidates and is nobody's. ``tags`` (see the module docstring) holds per rule
    one value mask per extra dimension; a rule with a zero mask meets nothing.
    """
    usable = [box if box is not None and all(axis is None or axis for axis in box) else None for box in boxes]
    axes = [AxisIndex([None if box is None else hull(box[axis]) for box in usable]) for axis in range(3)]
    tag_index = TagIndex(tags) if tags is not None else None
    found: list[list[int]] = []
    for i, box in enumerate(usable):
        if box is None:
            found.append([])
            continue
        mask = (1 << i) - 1
        if tag_index is not None:
            mask &= tag_index.meeting(i)
        for axis, index in enumerate(axes):
            if mask:
                mask &= index.meeting(hull(box[axis]))
        found.append([k for k in _bits(mask) if _boxes_meet(box, usable[k])])
    return found


class TagIndex:
    """Bit masks of the rules whose tags share a value with a given rule's in every dimension."""

    def __init__(self, tags: Sequence[tuple[int, ...]]) -> None:
        self._tags = tags
        self._holding: list[dict[int, int]] = []  # per dimension: value bit -> mask of the rules holding it
        for dimension in range(len(tags[0]) if tags else 0):
            holding: dict[int, int] = {}
            for k, tag in enumerate(tags):
                for bit in _bits(tag[dimension]):
                    holding[bit] = holding.get(bit, 0) | 1 << k
            self._holding.append(holding)

    def meeting(self, i: int) -> int:
        mask = -1
        for holding, values in zip(self._holding, self._tags[i], strict=True):
            either = 0
            for bit in _bits(values):
                either |= holding[bit]
            mask &= either
        return mask


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
