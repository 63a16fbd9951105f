"""Long fuzz runs over every data reader, each input in a child process with time and memory limits.

The suite (tests/fuzz/test_data_readers.py) draws a dozen inputs per reader; this draws many more,
randomly (or seeded with --seed), and holds each input to issue 17's limits: it ends in a result
or an InputError with a location, within 10 s for a file under 1 MB, under 1 GB of memory. A child
that dies, overruns or raises anything else is a failure; each is listed with the mutation plan
that made it, and a table per reader family is printed.

    python bench/fuzz_readers.py --examples 200            # every reader
    python bench/fuzz_readers.py --examples 50 csaf zeek   # some readers
    HYPOTHESIS_PROFILE=fuzz python bench/fuzz_readers.py   # the fuzz profile's example count

The firewall config parsers are a family of their own: bench/fuzz_firewall_readers.py.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness lives in tests/fuzz

from tests.fuzz.readers import MUTATIONS, Reader, mutate, readers, seed_bytes  # noqa: E402

SECONDS_PER_INPUT = 10.0
MEMORY_LIMIT = 1 << 30
FUZZ_PROFILE_EXAMPLES = 2000
"""The example count of the ``fuzz`` hypothesis profile (tests/conftest.py), used when it is selected."""


def _child(reader_name: str, path: str, answer: multiprocessing.connection.Connection) -> None:
    """Run one reader on one file under the memory limit; send back what became of it."""
    from plantgate.errors import InputError

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - scapy warnings; lives with the child
    try:
        readers(limit=1 << 30)[reader_name].run(Path(path))
        answer.send(("result", ""))
    except InputError as exc:
        located = all(p.location.file for p in exc.problems)
        answer.send(("input error" if located else "error without location", str(exc)[:200]))
    except MemoryError:
        answer.send(("out of memory", ""))
    except BaseException as exc:  # noqa: BLE001 - the point is to see every other exception
        answer.send(("crash", f"{type(exc).__name__}: {str(exc)[:200]}"))


def run_one(reader: Reader, data: bytes, folder: Path) -> tuple[str, float, str]:
    path = folder / reader.file_name
    path.write_bytes(data)
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_child, args=(reader.name, str(path), send))
    started = time.perf_counter()
    child.start()
    limit = SECONDS_PER_INPUT if len(data) < 1 << 20 else SECONDS_PER_INPUT * 10
    ready = receive.poll(limit)
    elapsed = time.perf_counter() - started
    if not ready:
        child.kill()
        child.join()
        return "over time", elapsed, f"> {limit:.0f} s"
    kind, detail = receive.recv()
    child.join()
    return kind, elapsed, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("readers", nargs="*", help="reader names (default: all)")
    parser.add_argument("--examples", type=int, default=None, help="inputs per reader (default 100, or the fuzz "
                        "profile's count under HYPOTHESIS_PROFILE=fuzz)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    parser.add_argument("--shared", type=int, default=20, help="files per ../shared/ot-data folder used as seeds")
    args = parser.parse_args()
    examples = args.examples or (FUZZ_PROFILE_EXAMPLES if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 100)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rng = random.Random(seed)
    table = readers(limit=1 << 30, shared_per_reader=args.shared)
    chosen = args.readers or sorted(table)
    print(f"seed {seed}, {examples} inputs per reader, limits {SECONDS_PER_INPUT:.0f} s and "
          f"{MEMORY_LIMIT >> 20} MB per input")
    print(f"{'reader':<14}{'inputs':>7}{'results':>9}{'input err':>10}{'failures':>9}{'max s':>8}{'mean s':>8}")
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fuzz-readers-") as scratch:
        for name in chosen:
            reader = table[name]
            seeds = seed_bytes(reader)
            counts: Counter[str] = Counter()
            times: list[float] = []
            for index in range(examples):
                plan = [(rng.randrange(len(MUTATIONS)), rng.randrange(1 << 20), rng.randrange(256))
                        for _ in range(rng.randint(1, 3))]
                which = rng.randrange(len(seeds))
                folder = Path(scratch) / f"{name}-{index}"
                folder.mkdir()
                kind, elapsed, detail = run_one(reader, mutate(seeds[which], plan), folder)
                counts[kind] += 1
                times.append(elapsed)
                if kind not in ("result", "input error"):
                    origin = reader.seeds[which] if which < len(reader.seeds) else "generated"
                    steps = [(MUTATIONS[m].__name__, at, value) for m, at, value in plan]
                    failures.append(f"{name}: {kind} {detail} (seed {origin}, plan {steps})")
            failed = sum(n for k, n in counts.items() if k not in ("result", "input error"))
            print(f"{name:<14}{examples:>7}{counts['result']:>9}{counts['input error']:>10}{failed:>9}"
                  f"{max(times):>8.2f}{sum(times) / len(times):>8.2f}", flush=True)
    for failure in failures:
        print("FAIL", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
