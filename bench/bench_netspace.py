"""Timing of the packet-space engine on generated rulesets (not part of the test run).

Run: .venv/bin/python bench/bench_netspace.py [--rules 10000] [--repeat 5]
Prints medians for: permitted sets of every filter, diff of two rulesets, lint.
Each repetition uses a fresh PacketSpace, so nothing is cached across repetitions.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import statistics
import time
from collections.abc import Callable

from plantgate.firewalls.ruleset import (
    ANY_ADDRESS,
    ANY_SERVICE,
    TCP,
    UDP,
    Action,
    AddressSet,
    Filter,
    Rule,
    Ruleset,
    Service,
    SourceSpan,
)
from plantgate.netspace import PacketSpace, diff_rulesets, permitted_sets

V6_SHARE = 0.05


class _Pools:
    """Address and service objects a generated ruleset draws from, like a real config's objects.

    ``fragmented`` draws every address freshly at random instead (the worst case for BDDs:
    no two rules share a prefix, so every rule adds new regions).
    """

    def __init__(self, rng: random.Random, fragmented: bool) -> None:
        self.rng = rng
        self.fragmented = fragmented
        self.v4 = [self._fresh_v4() for _ in range(400)]
        self.v6 = [self._fresh_v6() for _ in range(20)]
        self.services = [self._fresh_service() for _ in range(60)]

    def _fresh_v4(self) -> ipaddress.IPv4Network:
        length = self.rng.choice((16, 20, 24, 24, 28, 32, 32, 32))
        return ipaddress.IPv4Network((0x0A000000 | self.rng.getrandbits(24), length), strict=False)

    def _fresh_v6(self) -> ipaddress.IPv6Network:
        length = self.rng.randint(32, 64)
        return ipaddress.IPv6Network((0x20010DB8 << 96 | self.rng.getrandbits(64) << 32, length), strict=False)

    def _fresh_service(self) -> Service:
        port = self.rng.choice((22, 80, 443, 502, 20000, 44818, self.rng.randint(1, 65535)))
        top = port if self.rng.random() < 0.8 else min(65535, port + self.rng.randint(1, 1000))
        return Service(self.rng.choice((TCP, TCP, UDP)), dst_ports=((port, top),))

    def address(self) -> AddressSet:
        rng = self.rng
        if rng.random() < 0.05:
            return ANY_ADDRESS
        if rng.random() < V6_SHARE:
            return AddressSet((self._fresh_v6() if self.fragmented else rng.choice(self.v6),))
        count = rng.choice((1, 1, 1, 2, 3))
        if self.fragmented:
            return AddressSet(tuple(self._fresh_v4() for _ in range(count)))
        return AddressSet(tuple(rng.sample(self.v4, count)))

    def services_of_rule(self) -> tuple[Service, ...]:
        if self.rng.random() < 0.05:
            return (ANY_SERVICE,)
        count = self.rng.choice((1, 1, 2))
        if self.fragmented:
            return tuple(self._fresh_service() for _ in range(count))
        return tuple(self.rng.sample(self.services, count))


def generate_ruleset(rules: int, filters: int = 4, seed: int = 1, fragmented: bool = False) -> Ruleset:
    """A random ruleset with ``rules`` rules spread over ``filters`` filters."""
    rng = random.Random(seed)
    pools = _Pools(rng, fragmented)
    ruleset = Ruleset(name=f"bench-{seed}", vendor="bench", file="bench.conf")
    position = 0
    for f in range(filters):
        name = f"acl{f}"
        rule_list = []
        for i in range(rules // filters):
            position += 1
            rule_list.append(
                Rule(
                    rule_id=f"{name}#{i + 1}",
                    position=i + 1,
                    action=Action.PERMIT if rng.random() < 0.7 else Action.DENY,
                    span=SourceSpan("bench.conf", position, position, f"rule {position}"),
                    sources=pools.address(),
                    destinations=pools.address(),
                    services=pools.services_of_rule(),
                    destination_negate=rng.random() < 0.01,
                )
            )
        ruleset.filters[name] = Filter(name, rule_list)
    return ruleset


def mutate(ruleset: Ruleset, changes: int, seed: int = 2, fragmented: bool = False) -> Ruleset:
    """A copy with ``changes`` rules replaced by fresh random ones."""
    rng = random.Random(seed)
    pools = _Pools(rng, fragmented)
    copy = Ruleset(name=ruleset.name + "-new", vendor=ruleset.vendor, file=ruleset.file)
    for name, flt in ruleset.filters.items():
        copy.filters[name] = Filter(name, list(flt.rules), flt.default_action)
    names = list(copy.filters)
    for _ in range(changes):
        flt = copy.filters[rng.choice(names)]
        index = rng.randrange(len(flt.rules))
        old = flt.rules[index]
        flt.rules[index] = Rule(
            old.rule_id, old.position, Action.PERMIT, old.span, pools.address(), pools.address(),
            pools.services_of_rule(),
        )
    return copy


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--filters", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-lint", action="store_true", help="skip the (slow) lint timing")
    parser.add_argument("--fragmented", action="store_true", help="fresh random prefixes per rule (worst case)")
    args = parser.parse_args()
    old = generate_ruleset(args.rules, args.filters, seed=1, fragmented=args.fragmented)
    new = mutate(old, 20, fragmented=args.fragmented)

    def build() -> None:
        permitted_sets(PacketSpace(), old)

    def diff_after_build() -> float:
        space = PacketSpace()
        permitted_sets(space, old)
        permitted_sets(space, new)
        start = time.perf_counter()
        diff_rulesets(space, old, new)
        return time.perf_counter() - start

    def lint_run() -> None:
        from plantgate.netspace.lint import lint_ruleset

        lint_ruleset(PacketSpace(), old)

    shape = "fragmented" if args.fragmented else "object pools"
    print(f"{args.rules} rules in {args.filters} filters ({shape}), median of {args.repeat}")
    print(f"permitted sets, cold:      {_median(build, args.repeat):.3f} s")
    diffs = [diff_after_build() for _ in range(args.repeat)]
    print(f"diff after build:          {statistics.median(diffs):.3f} s")
    print(f"diff including build:      {_median(lambda: diff_rulesets(PacketSpace(), old, new), args.repeat):.3f} s")
    if args.no_lint:
        return
    try:
        print(f"lint, cold:                {_median(lint_run, args.repeat):.3f} s")
    except ImportError:
        pass


if __name__ == "__main__":
    main()
