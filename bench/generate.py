"""Write seeded benchmark configs (ASA, FortiGate, PAN-OS) and packet files to a directory.

Why it exists: the benchmark runner and anyone reproducing a figure need the very same
files; this command writes them from (vendor, rules, seed) alone, into ``bench/out/``
(gitignored) or any directory. Nothing generated is ever committed.

    .venv/bin/python bench/generate.py --rules 20000 --vendor asa fortigate panos
    .venv/bin/python bench/generate.py --rules 10000 --nat 1000 --changes 50   # NAT configs and closing candidates
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import random
from pathlib import Path

from plant_model import PlantPolicy, add_nat, build_policy, mutate_policy
from render import RENDERERS, SUFFIXES

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def write_config(policy: PlantPolicy, vendor: str, directory: Path, stem: str) -> Path:
    """Render ``policy`` for ``vendor`` into ``directory/stem<suffix>`` and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}{SUFFIXES[vendor]}"
    path.write_text(RENDERERS[vendor](policy), encoding="utf-8")
    return path


def generate(vendor: str, rules: int, directory: Path, seed: int = 1) -> Path:
    """The config of a ``rules``-rule policy for ``vendor``."""
    return write_config(build_policy(rules, seed), vendor, directory, f"{vendor}-{rules}-s{seed}")


def generate_change(rules: int, directory: Path, seed: int = 1, changes: int = 50) -> tuple[Path, Path, Path]:
    """ASA configs (current, closing candidate, mixed candidate) of one ``rules``-rule policy.

    The closing candidate turns ``changes`` permits into denies (a subset, so prove-closing
    must succeed); the mixed one also opens every third edit (prove-closing must refuse).
    """
    current = build_policy(rules, seed)
    closing = mutate_policy(current, changes, opening=False)
    mixed = mutate_policy(current, changes, opening=True)
    stem = f"asa-{rules}-s{seed}"
    return (write_config(current, "asa", directory, stem),
            write_config(closing, "asa", directory, f"{stem}-closing{changes}"),
            write_config(mixed, "asa", directory, f"{stem}-mixed{changes}"))


def nat_policy(rules: int, nat: int, seed: int = 1) -> PlantPolicy:
    """The ``rules``-rule policy of ``seed`` with ``nat`` NAT entries (drawn from the same seed)."""
    return add_nat(build_policy(rules, seed), nat, seed)


def generate_nat(vendor: str, rules: int, nat: int, directory: Path, seed: int = 1) -> Path:
    """The config of a ``rules``-rule policy with ``nat`` NAT entries for ``vendor``."""
    return write_config(nat_policy(rules, nat, seed), vendor, directory, f"{vendor}-{rules}-nat{nat}-s{seed}")


def generate_nat_change(vendor: str, rules: int, nat: int, directory: Path, seed: int = 1,
                        changes: int = 50) -> tuple[Path, Path]:
    """(current, closing candidate) with NAT for ``vendor``: the candidate has the very same NAT
    and turns ``changes`` permits into denies, none of them a policy that carries NAT."""
    current = nat_policy(rules, nat, seed)
    closing = mutate_policy(current, changes, opening=False, frozen=current.nat_carriers())
    stem = f"{vendor}-{rules}-nat{nat}-s{seed}"
    return (write_config(current, vendor, directory, stem),
            write_config(closing, vendor, directory, f"{stem}-closing{changes}"))


def random_host(rng: random.Random, network: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    return network[rng.randrange(network.num_addresses)]


def write_packets(rows: list[dict[str, str | int]], path: Path) -> Path:
    """A ``plantgate fw test --packets`` CSV (header src,dst,proto,sport,dport)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["src", "dst", "proto", "sport", "dport"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vendor", nargs="+", choices=sorted(RENDERERS), default=sorted(RENDERERS))
    parser.add_argument("--changes", type=int, default=0,
                        help="also write ASA closing/mixed candidates with this many edits")
    parser.add_argument("--nat", type=int, default=0,
                        help="write configs with this many NAT entries instead (closing candidates with --changes)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    for vendor in args.vendor:
        if args.nat and args.changes:
            print(*generate_nat_change(vendor, args.rules, args.nat, args.out, args.seed, args.changes), sep="\n")
        elif args.nat:
            print(generate_nat(vendor, args.rules, args.nat, args.out, args.seed))
        else:
            print(generate(vendor, args.rules, args.out, args.seed))
    if args.changes and not args.nat:
        for path in generate_change(args.rules, args.out, args.seed, args.changes):
            print(path)


if __name__ == "__main__":
    main()
