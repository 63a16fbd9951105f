"""The union of the first i sets of a growing list, extended only when asked.

Lint needs "every flow the earlier rules decide" only for the few broad rules that meet
many earlier rules. Uniting those rules' meeting parts anew for each broad rule would
repeat most of the work; here one running union is extended, when a broad rule asks,
by a balanced union of the sets appended since, so all broad rules of a filter together
cost about one pass over it.
"""

from __future__ import annotations

from plantgate.netspace.compile import union_all
from plantgate.netspace.space import Node, PacketSpace


class PrefixUnions:
    """Appended sets; ``prefix(i)`` is the union of the first i sets, for i that never shrinks."""

    def __init__(self, space: PacketSpace) -> None:
        self.space = space
        self._sets: list[Node] = []
        self._upto = 0
        self._union: Node = space.false

    def append(self, node: Node) -> None:
        self._sets.append(node)

    def prefix(self, i: int) -> Node:
        if not self._upto <= i <= len(self._sets):
            raise ValueError(f"prefix {i} is not between {self._upto} and {len(self._sets)}")
        if i > self._upto:
            self._union = self._union | union_all(self.space, self._sets[self._upto:i])
            self._upto = i
        return self._union
