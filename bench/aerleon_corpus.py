"""Aerleon renderings of one seeded policy, for the whole-command benchmarks.

Why it exists: the whole-command rows of ``run.py`` time what a user runs on configs a
third party wrote, not on our own renderer's output. One policy of N *terms* is drawn from
a seed as Aerleon definitions (networks, services) and terms, split over zone-pair filters
like a plant boundary's rulebase, and Aerleon's own generators write it for Cisco ASA,
FortiGate, PAN-OS and Juniper SRX. A term names a few networks and a few ports, so ASA
gets about two ACEs per term (every source x destination x port). Candidate changes for
``fw diff`` and ``change prove-closing`` flip N actions of the same policy: *closing*
turns accepts into denies (a subset), *opening* also re-accepts denies (not a subset).

    .venv/bin/python bench/aerleon_corpus.py --terms 20000 --vendor asa panos srx fortigate

Only Aerleon calls and plain data live here; nothing generated is ever committed.
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aerleon.api import Generate
from aerleon.lib import naming

DEFAULT_OUT = Path(__file__).resolve().parent / "out"

ZONES = ("corp", "dmz", "idmz", "hist", "ops", "ctl", "field", "safety")
"""Zone names; each filter holds the terms of one (from, to) pair."""

ACL_NAMES = {"asa": "ciscoasa"}
TARGET_FILE = {"asa": ".asa", "srx": ".srx", "panos": ".xml", "fortigate": ".fgacl"}
PORTS = (22, 53, 80, 102, 123, 161, 443, 502, 514, 1433, 2222, 3389, 4840, 8080, 20000, 44818)


@dataclass
class TermPolicy:
    """Definitions and filters of one policy; every filter is a zone pair with ordered terms."""

    seed: int
    networks: dict[str, list[str]] = field(default_factory=dict)
    services: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    filters: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)

    @property
    def term_count(self) -> int:
        return sum(len(terms) for _, _, terms in self.filters)


class _Draw:
    """Networks, services and terms drawn from one ``random.Random``."""

    def __init__(self, policy: TermPolicy) -> None:
        self.policy = policy
        self.rng = random.Random(policy.seed)
        self.zone_nets = {zone: ipaddress.IPv4Network(f"10.{16 + 8 * i}.0.0/13") for i, zone in enumerate(ZONES)}
        self.zone_defs: dict[str, list[str]] = {zone: [] for zone in ZONES}

    def address(self, zone: str) -> str:
        net = self.zone_nets[zone]
        host = net[self.rng.randrange(1, net.num_addresses - 1)]
        length = self.rng.choice((32, 32, 32, 32, 30, 28, 26, 24, 24, 22, 20, 16))
        return str(ipaddress.IPv4Network(f"{host}/{length}", strict=False))

    def add_networks(self, count: int) -> None:
        for i in range(count):
            zone = ZONES[i % len(ZONES)]
            name = f"{zone.upper()}_NET_{i}"
            size = self.rng.choice((1, 1, 1, 1, 1, 1, 2, 2))
            self.policy.networks[name] = sorted({self.address(zone) for _ in range(size)})
            self.zone_defs[zone].append(name)

    def add_services(self, count: int) -> None:
        for i in range(count):
            proto = self.rng.choice(("tcp", "tcp", "tcp", "udp"))
            entries = []
            for _ in range(self.rng.choice((1, 1, 1, 2))):
                low = self.rng.choice(PORTS + (self.rng.randint(1024, 60000),))
                high = low if self.rng.random() < 0.75 else min(65535, low + self.rng.randint(1, 300))
                entries.append((str(low) if low == high else f"{low}-{high}", proto))
            self.policy.services[f"SVC_{proto.upper()}_{i}"] = sorted(set(entries))

    def term(self, number: int, src_zone: str, dst_zone: str) -> dict[str, Any]:
        rng = self.rng
        term: dict[str, Any] = {"name": f"t{number}", "action": "accept" if rng.random() < 0.75 else "deny"}
        if rng.random() > 0.05:
            term["source-address"] = rng.choice(self.zone_defs[src_zone])
        if rng.random() > 0.03:
            term["destination-address"] = rng.choice(self.zone_defs[dst_zone])
        roll = rng.random()
        if roll < 0.04:
            return term  # every protocol
        if roll < 0.08:
            term["protocol"] = "icmp"
            term["platform-exclude"] = "fortigate"  # Aerleon's FortiGate cannot mix ICMP and port services
            return term
        service = rng.choice(list(self.policy.services))
        protocols = sorted({proto for _, proto in self.policy.services[service]})
        term["protocol"] = " ".join(protocols)
        term["destination-port"] = service
        return term


def build_term_policy(terms: int, seed: int = 1, filters: int = 1) -> TermPolicy:
    """A policy of exactly ``terms`` terms over ``filters`` zone-pair filters, definitions in proportion."""
    policy = TermPolicy(seed)
    draw = _Draw(policy)
    draw.add_networks(max(terms // 3, 32))
    draw.add_services(max(terms // 40, 8))
    pairs = [(a, b) for a in ZONES for b in ZONES if a != b]
    draw.rng.shuffle(pairs)
    pairs = pairs[:max(1, min(len(pairs), filters))]
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {pair: [] for pair in pairs}
    for number in range(1, terms + 1):
        pair = pairs[draw.rng.randrange(len(pairs))]
        by_pair[pair].append(draw.term(number, *pair))
    policy.filters = [(a, b, ts) for (a, b), ts in by_pair.items() if ts]
    return policy


def change_policy(policy: TermPolicy, changes: int, opening: bool, seed: int = 7) -> TermPolicy:
    """``changes`` edits of ``policy``: accept -> deny; with ``opening`` every third edit denies -> accept."""
    rng = random.Random(seed)
    changed = copy.deepcopy(policy)
    terms = [term for _, _, ts in changed.filters for term in ts]
    for edit in range(changes):
        opens = opening and edit % 3 == 2
        wanted = "deny" if opens else "accept"
        candidates = [t for t in terms if t["action"] == wanted]
        rng.choice(candidates)["action"] = "accept" if opens else "deny"
    return changed


def _definitions(policy: TermPolicy) -> naming.Naming:
    data = {
        "networks": {name: {"values": [{"address": a} for a in values]} for name, values in policy.networks.items()},
        "services": {name: [{"port": port, "protocol": proto} for port, proto in values]
                     for name, values in policy.services.items()},
    }
    definitions = naming.Naming()
    definitions.ParseDefinitionsObject(data, "bench-corpus")
    return definitions


def _policy_dict(policy: TermPolicy, vendor: str) -> dict[str, Any]:
    filters = []
    for src, dst, terms in policy.filters:
        if vendor == "asa":
            targets = {"ciscoasa": f"{src}_to_{dst}"}
        else:
            target = {"srx": "srx", "panos": "paloalto", "fortigate": "fortigate"}[vendor]
            targets = {target: f"from-zone {src} to-zone {dst}"}
        filters.append({"header": {"targets": targets}, "terms": copy.deepcopy(terms)})
    return {"filename": "corpus", "filters": filters}


def render(policy: TermPolicy, vendor: str) -> str:
    """Aerleon's rendering of ``policy`` for ``vendor`` (asa, srx, panos, fortigate)."""
    generated = Generate([_policy_dict(policy, vendor)], _definitions(policy))  # type: ignore[list-item]
    if not generated:
        raise RuntimeError(f"aerleon rendered nothing for {vendor}")
    (text,) = generated.values()
    return str(text)


def write(policy: TermPolicy, vendor: str, directory: Path, stem: str) -> Path:
    """Render and write ``directory/stem<suffix>``; an existing file is kept (renderings are deterministic)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}{TARGET_FILE[vendor]}"
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(render(policy, vendor), encoding="utf-8")
        tmp.replace(path)
    return path


def corpus_config(vendor: str, terms: int, directory: Path = DEFAULT_OUT, seed: int = 1) -> Path:
    """The Aerleon rendering of the ``terms``-term policy for ``vendor``."""
    return write(build_term_policy(terms, seed), vendor, directory, f"aerleon-{vendor}-{terms}t-s{seed}")


def corpus_change(terms: int, directory: Path = DEFAULT_OUT, seed: int = 1, changes: int = 50
                  ) -> tuple[Path, Path, Path]:
    """ASA renderings (current, closing candidate, opening candidate) of the ``terms``-term policy."""
    current = build_term_policy(terms, seed)
    stem = f"aerleon-asa-{terms}t-s{seed}"
    return (write(current, "asa", directory, stem),
            write(change_policy(current, changes, opening=False), "asa", directory, f"{stem}-closing{changes}"),
            write(change_policy(current, changes, opening=True), "asa", directory, f"{stem}-opening{changes}"))


def corpus_packets(terms: int, count: int, seed: int = 1, packet_seed: int = 11) -> list[dict[str, str | int]]:
    """``count`` packets for the ``terms``-term policy: 80 % aimed inside some term's fields, the rest random."""
    policy = build_term_policy(terms, seed)
    rng = random.Random(packet_seed)
    everything = ipaddress.IPv4Network("10.0.0.0/8")
    all_terms = [term for _, _, ts in policy.filters for term in ts]

    def inside(name: str | None) -> ipaddress.IPv4Address:
        net = ipaddress.IPv4Network(rng.choice(policy.networks[name])) if name else everything
        return net[rng.randrange(net.num_addresses)]

    rows: list[dict[str, str | int]] = []
    while len(rows) < count:
        if rng.random() < 0.8:
            term = rng.choice(all_terms)
            src, dst = inside(term.get("source-address")), inside(term.get("destination-address"))
            protocol = rng.choice(term.get("protocol", "tcp udp icmp").split())
            ports = [p for p, proto in policy.services.get(term.get("destination-port", ""), []) if proto == protocol]
            low, _, high = (rng.choice(ports) if ports else "1-65535").partition("-")
            dport = rng.randint(int(low), int(high or low)) if rng.random() < 0.9 else rng.randint(1, 65535)
        else:
            src, dst = inside(None), inside(None)
            protocol, dport = rng.choice(("tcp", "udp", "icmp")), rng.randint(1, 65535)
        has_ports = protocol in ("tcp", "udp")
        rows.append({"src": str(src), "dst": str(dst), "proto": protocol,
                     "sport": rng.randint(1024, 65535) if has_ports else 0, "dport": dport if has_ports else 0})
    return rows


def write_packets(rows: list[dict[str, str | int]], path: Path) -> Path:
    """A ``plantgate fw test --packets`` CSV (header src,dst,proto,sport,dport); an existing file is kept."""
    import csv

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["src", "dst", "proto", "sport", "dport"])
            writer.writeheader()
            writer.writerows(rows)
        tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terms", type=int, nargs="+", default=[1_000, 10_000, 20_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vendor", nargs="+", choices=sorted(TARGET_FILE), default=sorted(TARGET_FILE))
    parser.add_argument("--changes", type=int, default=0, help="also write ASA closing/opening candidates")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    for terms in args.terms:
        for vendor in args.vendor:
            print(corpus_config(vendor, terms, args.out, args.seed))
        if args.changes:
            for path in corpus_change(terms, args.out, args.seed, args.changes):
                print(path)


if __name__ == "__main__":
    main()
