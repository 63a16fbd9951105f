"""The values of one field of a packet set, read off its BDD as runs: the one walk the words and reach share.

A field's bits are consecutive BDD levels, most significant first. Walking them from a node
gives the values in ascending order, each with the node the walk reaches below the field;
adjacent values that reach the same node form one run. On a node projected onto the field
every value reaches ``true``, so the runs are its allowed values as merged intervals.
"""

from __future__ import annotations

from plantgate.netspace.space import Node, PacketSpace


class TooManyRuns(Exception):
    """The field's values split into more runs than the caller's limit."""


def value_runs(space: PacketSpace, u: Node, first_level: int, width: int,
               limit: int | None = None) -> list[tuple[int, int, Node]]:
    """(low, high, node below) of each run of the ``width`` levels from ``first_level``, in ascending order;
    TooManyRuns past ``limit`` runs."""
    out: list[tuple[int, int, Node]] = []
    false, last_level = space.false, first_level + width

    def walk(u: Node, bit: int, prefix: int) -> None:
        if u == false:
            return
        if bit == width or u.level >= last_level:
            low = prefix << (width - bit)
            high = low + (1 << (width - bit)) - 1
            if out and out[-1][2] == u and out[-1][1] + 1 == low:
                out[-1] = (out[-1][0], high, u)
            elif limit is not None and len(out) >= limit:
                raise TooManyRuns
            else:
                out.append((low, high, u))
            return
        if u.level == first_level + bit:
            low_child, high_child = space._children(u)
        else:
            low_child = high_child = u
        walk(low_child, bit + 1, prefix << 1)
        walk(high_child, bit + 1, prefix << 1 | 1)

    walk(u, 0, 0)
    return out
