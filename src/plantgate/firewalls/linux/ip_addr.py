"""The interface half of an iproute2 capture: links and their addresses from ``ip addr``.

Three forms, as iproute2 prints them (ip-address(8), ``ipaddress.c``):
- full: a header ``2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ... state UP ...`` then
  indented ``link/ether ...``, ``altname ...``, ``inet A/L [brd B] scope S [flags] [label]`` and
  ``inet6 A/L scope S [flags]`` lines, each followed by ``valid_lft ... preferred_lft ...``;
  a point-to-point address reads ``inet A peer P/L``;
- ``-o`` (one line each): ``2: eth0    inet A/L ... eth0\\       valid_lft ...``;
- ``-br``: ``eth0             UP             A/L A6/L6`` (``ip -br link`` shows a MAC and flags instead).
A name ``eth0.10@eth0`` is the device ``eth0.10`` on top of ``eth0``: rules name ``eth0.10``.

What an address says about routing: its network is connected to the device, unless the address is
link-local (``fe80::/10``) or loopback (``scope host``, 127/8, ::1), which are never forwarded.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from plantgate.errors import InputError
from plantgate.firewalls.routes import IPInterface
from plantgate.firewalls.ruleset import IPNetwork

PASSING_STATES = frozenset({"UP", "UNKNOWN"})
"""Operational states in which a device passes packets (UNKNOWN: loopback, tunnels, drivers that do not say)."""
OPERSTATES = PASSING_STATES | {"DOWN", "LOWERLAYERDOWN", "DORMANT", "NOTPRESENT", "TESTING"}
LINK_DETAIL_LINES = ("link/", "altname", "valid_lft")
"""Indented lines of a link that state no address: the link layer, alternative names, lifetimes."""
ADDRESS_EXPECTED = "an address with its prefix length, such as 192.0.2.1/24 or 2001:db8::1/64"

HEADER = re.compile(r"^\d+:\s+([^\s:]+):\s+<([^>]*)>(.*)$")
ONELINE_ADDRESS = re.compile(r"^\d+:\s+([^\s:]+)\s+(inet6?)\s")
_STATE = re.compile(r"\bstate\s+(\S+)")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2})+$", re.I)


class Word(NamedTuple):
    """One whitespace-separated word of a line and its 1-based column."""

    text: str
    column: int


def words(text: str, offset: int = 0) -> list[Word]:
    return [Word(m.group(), m.start() + 1 + offset) for m in re.finditer(r"\S+", text)]


@dataclass(frozen=True)
class Address:
    """One ``inet``/``inet6`` address of a device, with what makes it a routing gap."""

    address: IPInterface
    line: int
    text: str
    dynamic: bool = False
    no_prefix_route: bool = False
    peer: IPNetwork | None = None


@dataclass
class Link:
    """A device as the capture shows it: why it passes nothing (empty: up or not said), its addresses."""

    name: str
    line: int
    lines: dict[int, str] = field(default_factory=dict)
    down: str = ""
    down_line: int = 0
    addresses: list[Address] = field(default_factory=list)

    def mark_down(self, line: int, text: str, why: str) -> None:
        """The first line that says the device passes nothing is the evidence."""
        if why and not self.down:
            self.down, self.down_line = why, line
            self.lines.setdefault(line, text)

    def add(self, address: Address) -> None:
        if all(a.address != address.address for a in self.addresses):
            self.addresses.append(address)
            self.lines.setdefault(address.line, address.text)


def device_name(name: str) -> str:
    """``eth0.10@eth0`` -> ``eth0.10``: the part after ``@`` is the lower device, not the name."""
    return name.split("@", 1)[0]


def header_down(flags: str, rest: str) -> str:
    """Why a link header says the device passes nothing ("" when it passes packets)."""
    if "UP" not in flags.split(","):
        return "administratively down (no UP flag)"
    state = _STATE.search(rest)
    if state and state.group(1) not in PASSING_STATES:
        return f"state {state.group(1)}"
    return ""


def parse_address(family: Word, tail: list[Word], file: str, line: int, text: str) -> Address | None:
    """``inet[6] A/L [peer P/L] ... [scope S] [flags]``; None for link-local and loopback addresses."""
    if not tail:
        raise InputError.at(file, line, family.column, f"{family.text} without an address", ADDRESS_EXPECTED)
    version = 6 if family.text == "inet6" else 4
    local, rest = tail[0], tail[1:]
    peer: IPNetwork | None = None
    if rest and rest[0].text == "peer":
        if len(rest) < 2:
            raise InputError.at(file, line, rest[0].column, "peer without an address", ADDRESS_EXPECTED)
        peer = _network(rest[1], version, file, line)
        address = _interface(Word(f"{local.text}/{peer.max_prefixlen}", local.column), version, file, line)
        rest = rest[2:]
    else:
        address = _interface(local, version, file, line)
    flags = [w.text for w in rest]
    scope = flags[flags.index("scope") + 1] if "scope" in flags[:-1] else ""
    if scope == "host" or address.ip.is_loopback or address.ip.is_link_local:
        return None
    return Address(address, line, text, "dynamic" in flags, "noprefixroute" in flags, peer)


def brief_addresses(tail: list[Word], file: str, line: int, text: str) -> list[Address] | None:
    """The addresses of an ``ip -br addr`` line (None: an ``ip -br link`` line, which holds none)."""
    if tail and (_MAC.match(tail[0].text) or tail[0].text.startswith("<")):
        return None
    out: list[Address] = []
    index = 0
    while index < len(tail):
        family = Word("inet6" if ":" in tail[index].text else "inet", tail[index].column)
        has_peer = index + 1 < len(tail) and tail[index + 1].text == "peer"
        span = tail[index:index + (3 if has_peer else 1)]
        found = parse_address(family, span, file, line, text)
        if found is not None:
            out.append(found)
        index += len(span)
    return out


def _interface(word: Word, version: int, file: str, line: int) -> IPInterface:
    try:
        found = ipaddress.ip_interface(word.text)
    except ValueError:
        found = None
    if found is None or "/" not in word.text or found.version != version:
        raise InputError.at(file, line, word.column, f"{word.text!r} is not an IPv{version} address with its "
                            "prefix length", ADDRESS_EXPECTED)
    return found


def _network(word: Word, version: int, file: str, line: int) -> IPNetwork:
    """A peer address: ``P/L`` or a bare host address."""
    try:
        found = ipaddress.ip_network(word.text, strict=False)
    except ValueError:
        found = None
    if found is None or found.version != version:
        raise InputError.at(file, line, word.column, f"{word.text!r} is not an IPv{version} peer address",
                            ADDRESS_EXPECTED)
    return found
