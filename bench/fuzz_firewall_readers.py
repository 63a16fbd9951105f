"""Long fuzz runs over the six firewall config readers, each input in a forked child with time and memory limits.

The firewall section of the reader fuzzing (bench/fuzz_readers.py runs the data readers). The
suite (tests/fuzz/test_firewall_readers.py) draws a bounded, derandomized number of mutated
configs; this draws many more with the same strategy and holds each to issue 17's limits: it
ends in a ruleset or an InputError with a location, within 10 s for a file under 1 MB, with
under 1 GB of memory (address space capped in the child; its peak RSS is measured). Failures
are listed with the mutations that made them, and a table per vendor is printed.

    python bench/fuzz_firewall_readers.py --examples 300              # every vendor, 300 inputs in all
    python bench/fuzz_firewall_readers.py --examples 100 --seed 7     # reproducible
    HYPOTHESIS_PROFILE=fuzz python bench/fuzz_firewall_readers.py     # the fuzz profile's example count
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import signal
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness lives in tests/fuzz

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from tests.fuzz.firewall_mutations import (  # noqa: E402
    ACCEPTABLE,
    FuzzCase,
    judge,
    mutated_configs,
    project_seeds,
    shared_seeds,
)

SECONDS_PER_INPUT = 10.0
MEMORY_LIMIT = 1 << 30
FUZZ_PROFILE_EXAMPLES = 2000
"""The example count of the ``fuzz`` hypothesis profile (tests/conftest.py), used when it is selected."""


@dataclass
class Tally:
    inputs: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    max_seconds: float = 0.0
    max_rss_mb: float = 0.0


def run_one(case: FuzzCase) -> tuple[str, float, float, str]:
    """(outcome kind, seconds, peak RSS in MB, detail) of parsing ``case`` in a forked child."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: limited, parses, reports, exits without cleanup
        os.close(read_end)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        try:
            outcome = judge(case)
            report = [outcome.kind, outcome.seconds, outcome.detail]
        except MemoryError:
            report = ["out of memory", 0.0, ""]
        os.write(write_end, json.dumps(report).encode()[:60000])
        os._exit(0)
    os.close(write_end)
    limit = SECONDS_PER_INPUT if len(case.data) < 1 << 20 else SECONDS_PER_INPUT * 10
    ready, _, _ = select.select([read_end], [], [], limit * 3)  # the child's own clock decides; this only stops a hang
    if not ready:
        os.kill(pid, signal.SIGKILL)
    raw = os.read(read_end, 65536) if ready else b""
    os.close(read_end)
    _, status, usage = os.wait4(pid, 0)
    rss_mb = usage.ru_maxrss / 1024
    if not raw:
        return ("over time" if not ready else f"died (status {status})"), limit * 3, rss_mb, ""
    kind, seconds, detail = json.loads(raw)
    if kind in ACCEPTABLE and seconds > limit:
        kind, detail = "over time", f"{seconds:.1f} s > {limit:.0f} s"
    if kind in ACCEPTABLE and rss_mb * (1 << 20) > MEMORY_LIMIT:
        kind, detail = "over memory", f"{rss_mb:.0f} MB"
    return kind, seconds, rss_mb, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=None, help="inputs in all (default 200, or the fuzz "
                        "profile's count under HYPOTHESIS_PROFILE=fuzz)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random)")
    parser.add_argument("--no-shared", action="store_true", help="only the project's own test data as seeds")
    args = parser.parse_args()
    examples = args.examples or (FUZZ_PROFILE_EXAMPLES if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 200)
    seeds = project_seeds() + ([] if args.no_shared else shared_seeds())
    tallies: dict[str, Tally] = defaultdict(Tally)
    failures: list[str] = []

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(mutated_configs(seeds))
    def fuzz(case: FuzzCase) -> None:
        kind, seconds, rss_mb, detail = run_one(case)
        tally = tallies[case.vendor]
        tally.inputs += 1
        tally.kinds[kind] += 1
        tally.max_seconds = max(tally.max_seconds, seconds)
        tally.max_rss_mb = max(tally.max_rss_mb, rss_mb)
        if kind not in ACCEPTABLE:
            failures.append(f"{case!r}: {kind} {detail}")

    if args.seed is not None:
        fuzz = seed(args.seed)(fuzz)
    print(f"{examples} inputs from {len(seeds)} seeds, limits {SECONDS_PER_INPUT:.0f} s and "
          f"{MEMORY_LIMIT >> 20} MB per input")
    fuzz()
    print(f"{'vendor':<11}{'inputs':>7}{'parsed':>8}{'input err':>10}{'failures':>9}{'max s':>8}{'max RSS MB':>11}")
    for vendor, tally in sorted(tallies.items()):
        failed = tally.inputs - sum(n for k, n in tally.kinds.items() if k in ACCEPTABLE)
        print(f"{vendor:<11}{tally.inputs:>7}{tally.kinds['parsed']:>8}{tally.kinds['input-error']:>10}"
              f"{failed:>9}{tally.max_seconds:>8.2f}{tally.max_rss_mb:>11.0f}")
    for failure in failures:
        print("FAIL", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
