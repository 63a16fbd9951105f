"""Addresses parsed once per distinct text, and equal values shared: the parsers' interning.

Why it exists: a large config names the same few thousand addresses tens of thousands of
times (Aerleon's ASA rendering of a 20,000-term policy builds 121,000 networks from about
9,000 distinct texts), and building an ``ipaddress`` network is microseconds of pure
Python. The parsers ask here instead. The first request for a text parses it with
``ipaddress`` itself, so every text is accepted or rejected exactly as before; later
requests get the very same object. Networks, address sets and services are immutable, so
sharing them is safe, and the analyses that remember work per object (prefix keys, dump
conversions) then do it once per distinct value. The caches are bounded.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable
from functools import lru_cache
from typing import TypeVar

from plantgate.firewalls.ruleset import IPNetwork

CACHE_SIZE = 1 << 17

H = TypeVar("H", bound=Hashable)


@lru_cache(maxsize=CACHE_SIZE)
def network(text: str) -> IPNetwork:
    """``ipaddress.ip_network(text, strict=False)``: host bits cleared; ValueError as ipaddress raises it."""
    return ipaddress.ip_network(text, strict=False)


@lru_cache(maxsize=CACHE_SIZE)
def host_network(text: str) -> IPNetwork:
    """``ipaddress.ip_network(text)``: an address as a /32 or /128 (or a strict prefix)."""
    return ipaddress.ip_network(text)


@lru_cache(maxsize=CACHE_SIZE)
def ipv4_network(value: int, prefix: int) -> ipaddress.IPv4Network:
    """``IPv4Network((value, prefix))`` for a value with no host bits set."""
    return ipaddress.IPv4Network((value, prefix))


@lru_cache(maxsize=CACHE_SIZE)
def ipv4_mask(text: str) -> int:
    """A dotted IPv4 address (a subnet mask) as an integer; ValueError as ipaddress raises it."""
    return int(ipaddress.IPv4Address(text))


class Interner:
    """One parse's table of equal values: ``intern(x)`` returns the first object equal to ``x``.

    Per parse, not global, so nothing of one config outlives its parse except what the
    Ruleset holds.
    """

    def __init__(self) -> None:
        self._seen: dict[object, object] = {}

    def __call__(self, value: H) -> H:
        found = self._seen.setdefault(value, value)
        return found  # type: ignore[return-value]


class LineTexts:
    """The text of line ranges of one file, one string per distinct range.

    Statements, spans and warnings quote the lines they came from. When many of them share
    one long line (a whole config written on a line), quoting a fresh copy for each made
    memory grow with the square of the file; here they share one string per range.
    """

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._texts: dict[tuple[int, int, bool], str] = {}

    def text(self, first: int, last: int, *, strip: bool = False) -> str:
        """Lines ``first``..``last`` (1-based, inclusive) joined by newlines; stripped on request."""
        key = (first, last, strip)
        found = self._texts.get(key)
        if found is None:
            joined = "\n".join(self.lines[max(first, 1) - 1:last])
            found = self._texts[key] = joined.strip() if strip else joined
        return found
