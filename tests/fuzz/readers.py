"""The data readers under fuzz: each reader with its seed inputs, and the mutations applied to them.

Shared by tests/fuzz/test_data_readers.py (a bounded, seeded run in the suite) and
bench/fuzz_readers.py (long runs with time and memory limits). Seeds are the project's own test
data and, when present, the third-party corpus in ../shared/ot-data, read by path, never copied.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plantgate.feeds.ad_trusts import load_trust_export
from plantgate.feeds.asset_inventory import read_inventory
from plantgate.feeds.csaf import load_csaf
from plantgate.feeds.flows import read_flows
from plantgate.feeds.inventory_csv import read_inventory_csv
from plantgate.feeds.kev import load_kev
from plantgate.feeds.netbox import read_netbox_files
from plantgate.feeds.nmap import read_nmap
from plantgate.feeds.vulnrichment import load_vulnrichment
from plantgate.load import load_site
from plantgate.netspace.packet_file import read_packet_batch

PROJECT = Path(__file__).resolve().parents[2]
TESTS = PROJECT / "tests"
EXAMPLE = PROJECT / "src" / "plantgate" / "examples" / "petrochem"
SHARED = PROJECT.parent / "shared" / "ot-data"
SEED_LIMIT = 1 << 20
"""Seeds over 1 MB (the full KEV catalog) are left to the benchmark."""

TREATY_FILE = "zones.yaml"
"""The treaty reader is fuzzed through one file of a copy of the example site."""


def _treaty(path: Path) -> Any:
    folder = path.parent / "site"
    if not folder.exists():
        shutil.copytree(EXAMPLE, folder)
    shutil.copyfile(path, folder / TREATY_FILE)
    return load_site(folder)


@dataclass(frozen=True)
class Reader:
    """One reader: how to run it on a file, its seeds, and the file name it expects."""

    name: str
    run: Callable[[Path], Any]
    seeds: tuple[Path, ...]
    file_name: str


def _existing(paths: list[Path], limit: int = SEED_LIMIT) -> tuple[Path, ...]:
    return tuple(p for p in paths if p.is_file() and p.stat().st_size <= limit)


def readers(limit: int = SEED_LIMIT, shared_per_reader: int = 3) -> dict[str, Reader]:
    """Every reader with its seeds; ``shared_per_reader`` files of each ../shared folder join them."""
    def shared(folder: str, pattern: str = "*.json") -> list[Path]:
        return sorted((SHARED / folder).glob(pattern))[:shared_per_reader] if SHARED.is_dir() else []

    onboard, feeds = TESTS / "onboard" / "data", TESTS / "feeds" / "data"
    table = [
        Reader("treaty", _treaty, _existing([EXAMPLE / TREATY_FILE]), TREATY_FILE),
        Reader("trusts", load_trust_export,
               _existing([p for p in sorted((feeds / "ad").iterdir()) if not p.name.startswith("bad")]
                         + sorted((EXAMPLE / "ad").iterdir()) + shared("ad"), limit),
               "trusts.txt"),
        Reader("nmap", read_nmap, _existing([onboard / "scan.xml", onboard / "scan-os.xml"]), "scan.xml"),
        Reader("netbox", lambda p: read_netbox_files([p]),
               _existing([onboard / "devices.json", onboard / "ip-addresses.json", onboard / "prefixes.json"]),
               "devices.json"),
        Reader("asset-csv", read_inventory, _existing([onboard / "inventory.csv"]), "inventory.csv"),
        Reader("import-csv", read_inventory_csv, _existing([onboard / "inventory.csv"]), "inventory.csv"),
        Reader("zeek", lambda p: read_flows([p], progress=False),
               _existing([feeds / "conn_small.log", feeds / "conn_small.json"]), "conn.log"),
        Reader("flow-csv", lambda p: read_flows([p], progress=False), _existing([feeds / "malcolm_flows.csv"]),
               "flows.csv"),
        Reader("pcap", lambda p: read_flows([p], progress=False), (), "capture.pcap"),
        Reader("packets", read_packet_batch, (), "packets.csv"),
        Reader("csaf", load_csaf, _existing(sorted((EXAMPLE / "advisories").glob("icsa-*.json")) + shared("csaf"),
                                            limit), "advisory.json"),
        Reader("kev", load_kev, _existing([EXAMPLE / "advisories" / "kev.json"] + shared("kev", "*.csv"), limit),
               "kev.json"),
        Reader("vulnrichment", load_vulnrichment,
               _existing(sorted((EXAMPLE / "advisories" / "vulnrichment").glob("*.json")) + shared("vulnrichment"),
                         limit), "CVE.json"),
    ]
    return {reader.name: reader for reader in table}


def generated_seeds(name: str) -> list[bytes]:
    """Seeds written by code rather than kept as files (captures, packet CSVs)."""
    if name == "pcap":
        from tests.feeds.test_flow_limits import classic_pcap, pcapng

        return [classic_pcap("<", False), classic_pcap(">", True), pcapng()]
    if name == "packets":
        return [b"src,dst,proto,sport,dport,from_zone,to_zone\n10.0.0.1,10.0.1.2,tcp,40000,502,corp,ops\n"
                b"10.0.0.1,10.0.1.2,udp,,53,,\n10.0.0.1,10.0.1.2,icmp,8,0,,\n"]
    return []


def seed_bytes(reader: Reader) -> list[bytes]:
    return [p.read_bytes() for p in reader.seeds] + generated_seeds(reader.name)


# ----------------------------------------------------------------------------- mutations

HUGE_FIELD = 200_000
"""Longer than the csv module's 128 KiB field limit."""


def flip(data: bytes, at: int, value: int) -> bytes:
    if not data:
        return bytes([value])
    at %= len(data)
    return data[:at] + bytes([value]) + data[at + 1:]


def truncate(data: bytes, at: int, _: int) -> bytes:
    return data[: at % (len(data) + 1)]


def insert(piece: bytes) -> Callable[[bytes, int, int], bytes]:
    def mutate(data: bytes, at: int, _: int) -> bytes:
        at %= len(data) + 1
        return data[:at] + piece + data[at:]
    mutate.__name__ = f"insert {piece[:12]!r}"
    return mutate


def replace_number(data: bytes, at: int, _: int) -> bytes:
    """The digits nearest ``at`` become 5,000 digits (past Python's integer conversion limit)."""
    digits = [i for i, b in enumerate(data) if 48 <= b <= 57]
    if not digits:
        return data + b"9" * 5000
    i = digits[at % len(digits)]
    return data[:i] + b"9" * 5000 + data[i + 1:]


MUTATIONS: tuple[Callable[[bytes, int, int], bytes], ...] = (
    flip, truncate, replace_number,
    insert(b"[" * 100_000 + b"]" * 100_000), insert(b"{\"a\":" * 5000 + b"1" + b"}" * 5000),
    insert(b"x" * HUGE_FIELD), insert(b"\"" + b"y" * HUGE_FIELD + b"\""),
    insert(b"\xff\xfe\xe9\x80"), insert(b"\x00\x00"), insert(b"[/] [bold]"),
    insert(b"- " * 1000), insert(b"\n#separator \n"), insert(b"nan"), insert(b"true"),
)


def mutate(data: bytes, steps: list[tuple[int, int, int]]) -> bytes:
    """Apply (mutation index, position, byte value) steps in order."""
    for index, at, value in steps:
        data = MUTATIONS[index % len(MUTATIONS)](data, at, value)
    return data
