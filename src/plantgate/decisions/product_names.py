"""Product names compared as product lines: "SIMATIC WinCC" is not "SIMATIC WinCC Runtime Professional".

Names in inventories and advisories never agree exactly ("Schneider Electric" vs "Schneider
Electric Software, LLC", "ControlLogix 5580" vs "ControlLogix® 5580"), so names are compared
as sets of word tokens without corporate suffixes, trademarks or parenthetical remarks
("Stratix 5800 (running Cisco IOS XE Software ...)" is the Stratix 5800). A name that only
contains the asset's name, or is contained in it, is a weaker match; and where one advisory
lists several product lines, only the line closest to the asset's name is its product: an
asset named exactly like one line is never also matched to the longer names beside it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import combinations
from typing import Generic, TypeVar

T = TypeVar("T")

_NOISE = frozenset({"inc", "llc", "ltd", "co", "corp", "corporation", "gmbh", "ag", "sa", "plc", "the", "company"})
_PARENTHETICAL = re.compile(r"\([^()]*\)")


@lru_cache(maxsize=65536)
def name_tokens(text: str) -> frozenset[str]:
    """Lower-case word tokens without corporate suffixes: 'Siemens AG' -> {'siemens'}."""
    return frozenset(t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in _NOISE)


@lru_cache(maxsize=65536)
def product_token_sets(text: str) -> tuple[frozenset[str], ...]:
    """The name's tokens without its parenthetical remarks, and (when different) with them."""
    full = name_tokens(text)
    stripped = name_tokens(_PARENTHETICAL.sub(" ", text))
    if stripped and stripped != full:
        return (stripped, full)
    return (full,) if full else ()


def name_score(mine: frozenset[str], theirs: frozenset[str]) -> float:
    """1.0 for the same tokens, 0.8 when one name's tokens contain the other's, else 0."""
    if not mine or not theirs:
        return 0.0
    if mine == theirs:
        return 1.0
    if mine <= theirs or theirs <= mine:
        return 0.8
    return 0.0


def vendor_score(asset_vendor: str, advisory_vendor: str) -> float:
    return name_score(name_tokens(asset_vendor), name_tokens(advisory_vendor))


def closest_lines(mine: frozenset[str], candidates: Iterable[T], tokens_of: Callable[[T], frozenset[str]]) -> list[T]:
    """The candidates whose product line is closest to the asset's name: the same name if any, else the
    names with the fewest words more or less."""
    items = list(candidates)
    if not items:
        return []
    distance = {id(item): len(tokens_of(item) ^ mine) for item in items}
    best = min(distance.values())
    return [item for item in items if distance[id(item)] == best]


class NameIndex(Generic[T]):
    """Items by the token sets of their product names, found from an asset's name without a full scan.

    Sets inside the asset's tokens are found by looking up the subsets of its tokens (names
    have few words), sets around them through the rarest of its tokens.
    """

    def __init__(self) -> None:
        self._items: dict[frozenset[str], list[T]] = defaultdict(list)
        self._sets_with: dict[str, set[frozenset[str]]] = defaultdict(set)
        self._lookups: dict[str, list[frozenset[str]]] = {}

    def add(self, name: str, item: T) -> None:
        for tokens in product_token_sets(name):
            self._items[tokens].append(item)
            for token in tokens:
                self._sets_with[token].add(tokens)

    def related_sets(self, name: str) -> list[frozenset[str]]:
        """Indexed token sets equal to, inside or around one of the name's token sets."""
        if name in self._lookups:
            return self._lookups[name]
        found: set[frozenset[str]] = set()
        for mine in product_token_sets(name):
            tokens = sorted(mine)
            if len(tokens) <= 10:
                for size in range(1, len(tokens) + 1):
                    found.update(s for s in map(frozenset, combinations(tokens, size)) if s in self._items)
            rarest = min(tokens, key=lambda t: len(self._sets_with.get(t, ())))
            found.update(s for s in self._sets_with.get(rarest, ()) if mine <= s)
        self._lookups[name] = sorted(found, key=sorted)
        return self._lookups[name]

    def items(self, tokens: frozenset[str]) -> list[T]:
        return self._items.get(tokens, [])
