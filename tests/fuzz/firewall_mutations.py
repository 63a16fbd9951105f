"""Mutated firewall configs for the reader fuzz tests and bench/fuzz_readers.py.

Why it exists: the six vendor parsers read untrusted text, and a mutation run over real
configs found recursion, integer-size, quadratic and hang failures that no hand-written
test had. The strategy here starts from real seeds (the project's test data and, when
present, the shared third-party corpus) and applies the mutations that found them: byte
flips, line duplication and deletion, truncation, huge tokens, deep nesting, long
reference chains, random unicode and NUL bytes. ``judge`` runs one input the way the CLI
does and says whether it ended acceptably: a ruleset, or an InputError with a location.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from plantgate.errors import InputError
from plantgate.firewalls.base import decode_config_bytes, parser_for
from plantgate.firewalls.detect import detect_vendor
from plantgate.firewalls.dump import ruleset_to_dict

PROJECT = Path(__file__).resolve().parents[2]
TEST_DATA = PROJECT / "tests" / "firewalls" / "data"
SHARED_CONFIGS = PROJECT.parent / "shared" / "firewall-configs"

VENDOR_DIRS: dict[str, tuple[str, str]] = {
    "asa": ("asa", "cisco-asa"),
    "fortigate": ("fortigate", "fortigate"),
    "panos": ("panos", "paloalto-panos"),
    "srx": ("srx", "juniper-srx"),
    "iptables": ("iptables", "iptables"),
    "nftables": ("nftables", "nftables"),
}
"""vendor -> (folder under tests/firewalls/data, folder under the shared corpus)."""

SEED_LIMIT = 128 * 1024
"""Bytes: larger seeds make each example slow without finding more."""


@dataclass(frozen=True)
class Seed:
    vendor: str
    name: str
    data: bytes

    def __repr__(self) -> str:
        return f"Seed({self.vendor!r}, {self.name!r})"


@dataclass(frozen=True)
class FuzzCase:
    vendor: str
    seed: str
    data: bytes
    mutations: tuple[str, ...]

    def __repr__(self) -> str:  # hypothesis prints it on failure: keep it short but reproducible
        return f"FuzzCase({self.vendor!r}, {self.seed!r}, {self.mutations!r}, {len(self.data)} bytes)"


def _seeds_in(folder: Path, vendor: str) -> list[Seed]:
    if not folder.is_dir():
        return []
    return [Seed(vendor, path.name, path.read_bytes()) for path in sorted(folder.iterdir())
            if path.is_file() and path.stat().st_size <= SEED_LIMIT]


def project_seeds() -> list[Seed]:
    """Seeds from the project's own parser test data (always present)."""
    return [seed for vendor, (own, _) in VENDOR_DIRS.items() for seed in _seeds_in(TEST_DATA / own, vendor)]


def shared_seeds(corpus: Path = SHARED_CONFIGS) -> list[Seed]:
    """Seeds from the shared third-party corpus, read by path (empty when it is absent)."""
    return [seed for vendor, (_, shared) in VENDOR_DIRS.items() for seed in _seeds_in(corpus / shared, vendor)]


# -- mutations ---------------------------------------------------------------------------
Draw = Callable[[st.SearchStrategy[object]], object]

NEST_DEPTH = 3000
"""Deeper than Python's default recursion limit, so any recursive walk of the input fails."""
CHAIN_LENGTH = 1500

_NEST: dict[str, tuple[str, str]] = {
    "asa": ("object-group network N{i}\n", " exit\n"),
    "fortigate": ("config a{i}\n", "end\n"),
    "panos": ("<a{i}>", "</a{i}>"),
    "srx": ("a{i} {{ ", "}} "),
    "iptables": ("-A INPUT -m comment --comment \"", "\"\n"),
    "nftables": ("table inet t{i} {{ chain c{i} {{ ", "}} }} "),
}
"""vendor -> (opening, closing) text repeated NEST_DEPTH times around nothing."""


def _chain(vendor: str, n: int) -> str:
    """A chain of ``n`` objects each referring to the next: recursive resolution fails on it."""
    if vendor == "asa":
        return "".join(f"object-group network G{i}\n group-object G{i + 1}\n" for i in range(n)) + \
            f"object-group network G{n}\n network-object host 10.0.0.1\n" \
            "access-list CH extended permit ip object-group G0 any\n"
    if vendor == "fortigate":
        groups = "".join(f"    edit \"G{i}\"\n        set member \"G{i + 1}\"\n    next\n" for i in range(n))
        return ("config firewall address\n    edit \"A\"\n        set subnet 10.0.0.1 255.255.255.255\n    next\nend\n"
                f"config firewall addrgrp\n{groups}    edit \"G{n}\"\n        set member \"A\"\n    next\nend\n"
                "config firewall policy\n    edit 99\n        set srcintf \"any\"\n        set dstintf \"any\"\n"
                "        set srcaddr \"G0\"\n        set dstaddr \"all\"\n        set action accept\n"
                "        set service \"ALL\"\n    next\nend\n")
    if vendor == "panos":
        return "".join(f"set address-group G{i} static G{i + 1}\n" for i in range(n)) + \
            f"set address G{n} ip-netmask 10.0.0.1/32\n"
    if vendor == "srx":
        sets = "".join(f"set security address-book global address-set S{i} address-set S{i + 1}\n" for i in range(n))
        return sets + f"set security address-book global address-set S{n} address A\n" \
            "set security address-book global address A 10.0.0.1/32\n" \
            "set security policies from-zone a to-zone b policy p match source-address S0\n"
    if vendor == "iptables":
        return "*filter\n" + "".join(f":C{i} - [0:0]\n" for i in range(n + 1)) + \
            "-A FORWARD -j C0\n" + "".join(f"-A C{i} -j C{i + 1}\n" for i in range(n)) + \
            f"-A C{n} -j ACCEPT\nCOMMIT\n"
    return "table inet ch {\n" + "".join(f"chain c{i} {{ jump c{i + 1}\n}}\n" for i in range(n)) + \
        f"chain c{n} {{ accept\n}}\nchain forward {{ type filter hook forward priority 0; jump c0\n}}\n}}\n"


HUGE_TOKENS = (
    "9" * 4301,                 # past Python's int-string limit
    "4" * 40,                   # a number no field can hold
    "x" * 100_000,              # a 100 KB name
    " ".join(["w"] * 1200),     # a statement of 1,200 words
    "²",                        # str.isdigit() but not int()
    "-1",
    "65536",
    "0x1F",
    "[/]",                      # rich markup
)


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _flip(draw: Draw, data: bytes, vendor: str) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    bit = draw(st.integers(0, 7))
    return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1:]


def _duplicate_line(draw: Draw, data: bytes, vendor: str) -> bytes:
    lines = _lines(data)
    at = draw(st.integers(0, len(lines) - 1))
    times = draw(st.sampled_from([1, 2, 50]))
    return b"".join(lines[:at + 1] + [lines[at]] * times + lines[at + 1:])


def _delete_line(draw: Draw, data: bytes, vendor: str) -> bytes:
    lines = _lines(data)
    at = draw(st.integers(0, len(lines) - 1))
    return b"".join(lines[:at] + lines[at + 1:])


def _truncate(draw: Draw, data: bytes, vendor: str) -> bytes:
    return data[:draw(st.integers(0, len(data)))]


def _huge_token(draw: Draw, data: bytes, vendor: str) -> bytes:
    """Replace one word of one line by a huge or awkward token (a port, a name, a count...)."""
    lines = _lines(data)
    at = draw(st.integers(0, len(lines) - 1))
    words = lines[at].split(b" ")
    which = draw(st.integers(0, max(len(words) - 1, 0)))
    token = draw(st.sampled_from(HUGE_TOKENS)).encode()
    ending = b"\n" if words[which].endswith(b"\n") else b""
    words[which] = token + ending
    return b"".join(lines[:at] + [b" ".join(words)] + lines[at + 1:])


def _deep_nesting(draw: Draw, data: bytes, vendor: str) -> bytes:
    opening, closing = _NEST[vendor]
    depth = draw(st.sampled_from([NEST_DEPTH, 50]))
    nest = "".join(opening.format(i=i) for i in range(depth)) + "".join(
        closing.format(i=i) for i in reversed(range(depth)))
    lines = _lines(data)
    at = draw(st.integers(0, len(lines)))
    return b"".join(lines[:at] + [nest.encode() + b"\n"] + lines[at:])


def _reference_chain(draw: Draw, data: bytes, vendor: str) -> bytes:
    return data + b"\n" + _chain(vendor, CHAIN_LENGTH).encode()


def _unicode(draw: Draw, data: bytes, vendor: str) -> bytes:
    text = draw(st.text(min_size=1, max_size=12))
    at = draw(st.integers(0, len(data)))
    return data[:at] + text.encode("utf-8", "surrogatepass") + data[at:]


def _nul_bytes(draw: Draw, data: bytes, vendor: str) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + b"\x00" * draw(st.integers(1, 3)) + data[at:]


MUTATIONS: dict[str, Callable[[Draw, bytes, str], bytes]] = {
    "flip": _flip, "duplicate-line": _duplicate_line, "delete-line": _delete_line, "truncate": _truncate,
    "huge-token": _huge_token, "deep-nesting": _deep_nesting, "reference-chain": _reference_chain,
    "unicode": _unicode, "nul": _nul_bytes,
}


@st.composite
def mutated_configs(draw: Draw, seeds: list[Seed]) -> FuzzCase:
    """One seed with one to four mutations applied in turn."""
    seed = draw(st.sampled_from(seeds))
    names = draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=4))
    data = seed.data
    for name in names:
        data = MUTATIONS[name](draw, data, seed.vendor)
    return FuzzCase(seed.vendor, seed.name, data, tuple(names))


# -- judging one input -------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """How one input ended: "parsed" or "input-error" are acceptable, anything else is a failure."""

    kind: str
    seconds: float
    detail: str = ""


def judge(case: FuzzCase, file: str = "fuzz.cfg") -> Outcome:
    """Parse ``case`` as its vendor (and detect its vendor) in-process, as ``fw show --format json`` does."""
    start = time.perf_counter()
    text = decode_config_bytes(case.data)
    try:
        try:
            detect_vendor(text, file)
        except InputError:
            pass
        ruleset = parser_for(case.vendor).parse(text, file)
        ruleset_to_dict(ruleset, with_text=True)
    except InputError as exc:
        unlocated = [p for p in exc.problems if p.location.file != file or p.location.line < 1]
        kind = "input-error-without-location" if unlocated else "input-error"
        return Outcome(kind, time.perf_counter() - start, str(exc)[:300])
    except RecursionError as exc:  # caught apart: it is the commonest crash and its repr is huge
        return Outcome("crash", time.perf_counter() - start, f"RecursionError: {str(exc)[:200]}")
    except Exception as exc:  # noqa: BLE001 - the point is to catch every other exception and report it
        return Outcome("crash", time.perf_counter() - start, f"{type(exc).__name__}: {str(exc)[:300]}")
    return Outcome("parsed", time.perf_counter() - start)


ACCEPTABLE = frozenset({"parsed", "input-error"})
