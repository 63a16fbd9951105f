"""Timing of the end-to-end access map on a generated estate (not part of the test run).

Run: .venv/bin/python bench/bench_estate.py [--rules 5000] [--repeat 3]
The estate: 12 zones (enterprise, external, vendor, DMZ, three operations zones, two
control zones, a field zone and a safety zone) joined by 10 iptables firewalls of
``--rules`` rules each, written as a treaty folder. Prints the medians of: loading and
parsing, and the access map of every control, field and safety zone (fresh PacketSpace
each repetition, so nothing is cached across repetitions).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from plantgate.load import load_site
from plantgate.netspace import PacketSpace
from plantgate.reconcile.access_map import access_map
from plantgate.reconcile.reach import Estate

ZONES = [("ent1", 4, "enterprise"), ("ent2", 5, "enterprise"), ("ext", 5, "external"), ("vend", 4, "vendor"),
         ("dmz", 3.5, "dmz"), ("ops1", 3, "operations"), ("ops2", 3, "operations"), ("ops3", 3, "operations"),
         ("ctl1", 1, "control"), ("ctl2", 2, "control"), ("fld1", 0, "field"), ("sis", 1, "safety")]
FIREWALLS = [["ent1", "ent2", "dmz"], ["ext", "ent1"], ["vend", "dmz"], ["dmz", "ops1", "ops2"], ["dmz", "ops3"],
             ["ops1", "ctl1"], ["ops2", "ctl2"], ["ops1", "fld1"], ["ops2", "sis"], ["ops3", "ctl2"]]


def _net(zone_index: int, rng: random.Random) -> str:
    length = rng.choice([16, 24, 24, 28, 32])
    third, fourth = rng.randrange(256), rng.randrange(256)
    address = {16: f"10.{zone_index}.0.0", 24: f"10.{zone_index}.{third}.0",
               28: f"10.{zone_index}.{third}.{fourth & 0xF0}", 32: f"10.{zone_index}.{third}.{fourth}"}[length]
    return f"{address}/{length}"


def _config(zones: list[str], rules: int, rng: random.Random) -> str:
    index = {z[0]: i for i, z in enumerate(ZONES)}
    lines = ["*filter", ":FORWARD DROP [0:0]"]
    for _ in range(rules):
        a, b = rng.sample(range(len(zones)), 2)
        src_zone = rng.choice([zones[a], rng.choice(ZONES)[0]])  # transit sources come from anywhere
        dst_zone = rng.choice([zones[b], rng.choice(ZONES)[0]])
        src = "" if rng.random() < 0.05 else f"-s {_net(index[src_zone], rng)} "
        proto, port = rng.choice([("tcp", rng.choice([443, 502, 3389, 4840, 8443])), ("udp", rng.choice([53, 123]))])
        action = "ACCEPT" if rng.random() < 0.7 else "DROP"
        lines.append(f"-A FORWARD {src}-d {_net(index[dst_zone], rng)} -i eth{a} -o eth{b} -p {proto} "
                     f"--dport {port} -j {action}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def write_estate(folder: Path, rules: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    (folder / "site.yaml").write_text("site: {name: Bench, plant: Bench unit}\n"
                                      "people:\n  - {id: ot, name: OT, roles: [ot_approver]}\n")
    zone_lines = ["zones:"] + [f"  - {{id: {z}, name: {z}, level: {lvl}, kind: {k}, networks: [10.{i}.0.0/16]}}"
                               for i, (z, lvl, k) in enumerate(ZONES)]
    (folder / "zones.yaml").write_text("\n".join(zone_lines) + "\n")
    (folder / "conduits.yaml").write_text(
        "conduits:\n  - {id: c1, from_zone: ops1, to_zone: ctl1, services: [{protocol: tcp, ports: [502]}], "
        "business_reason: polling, ot_approver: ot, review_by: 2027-01-01}\n")
    fw_lines = ["firewalls:"]
    for n, zones in enumerate(FIREWALLS):
        (folder / f"fw{n}.iptables").write_text(_config(zones, rules, rng))
        mapping = ", ".join(f"eth{i}: {z}" for i, z in enumerate(zones))
        fw_lines.append(f"  - {{id: fw{n}, vendor: iptables, config: fw{n}.iptables, zones: {{{mapping}}}}}")
    (folder / "firewalls.yaml").write_text("\n".join(fw_lines) + "\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_estate(Path(tmp), args.rules)
        load_times, map_times = [], []
        entries = 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            estate = Estate(load_site(folder), PacketSpace())
            loaded = time.perf_counter()
            zones = access_map(estate)
            done = time.perf_counter()
            load_times.append(loaded - start)
            map_times.append(done - loaded)
            entries = sum(len(z.entries) for z in zones)
        print(f"estate: {len(FIREWALLS)} firewalls x {args.rules} rules, {len(ZONES)} zones; "
              f"access map of {len(zones)} zones, {entries} entries")
        print(f"load + parse      median {statistics.median(load_times):7.2f} s")
        print(f"access map        median {statistics.median(map_times):7.2f} s  (target < 15 s)")


if __name__ == "__main__":
    main()
