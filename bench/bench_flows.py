"""Benchmark: stream a generated multi-million-line Zeek conn.log through aggregation and reconciliation.

Run: .venv/bin/python bench/bench_flows.py [--lines 5000000] [--runs 3]
Each run happens in a fresh process so its peak RSS is its own; a run at a fifth of the
lines is measured too, so "flat memory" is a comparison, not a claim.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from plantgate.feeds.flows import read_flows
from plantgate.load import load_site
from plantgate.netspace import default_space
from plantgate.reconcile import load_boundary_firewalls
from plantgate.reconcile.observed import ObservedReconciler, observed_matrix
from plantgate.reconcile.topology import Topology

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "plantgate" / "examples" / "petrochem"
FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state "
          "local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents")
TYPES = ("time string addr port addr port enum string interval count count string bool bool count string count count "
         "count count set[string]")


def generate(path: Path, lines: int, seed: int = 11) -> None:
    """A conn.log of ``lines`` connections among ~4000 distinct flows of the example plant's networks."""
    rng = random.Random(seed)
    hosts = [f"10.10.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(40)] + \
        [f"172.16.35.{i}" for i in (10, 20, 25, 30, 40, 50)] + [f"10.30.0.{i}" for i in range(10, 42)] + \
        [f"10.20.0.{i}" for i in range(10, 30)] + [f"10.1.0.{i}" for i in range(10, 20)] + ["8.8.8.8"]
    services = [("tcp", 443, "ssl"), ("tcp", 3389, "rdp"), ("tcp", 502, "modbus"), ("udp", 53, "dns"),
                ("udp", 123, "ntp"), ("tcp", 5450, "-"), ("tcp", 8530, "http"), ("tcp", 44818, "enip")]
    templates = []
    for _ in range(4000):
        proto, port, service = rng.choice(services)
        templates.append(f"\tC{{}}\t{rng.choice(hosts)}\t{{}}\t{rng.choice(hosts)}\t{port}\t{proto}\t{service}\t"
                         f"0.5\t{rng.randrange(40, 5000)}\t{rng.randrange(40, 90000)}\t{rng.choice(['SF', 'S1', 'S0'])}"
                         "\tT\tT\t0\tShADadFf\t5\t600\t5\t900\t-\n")
    with path.open("w", encoding="utf-8") as out:
        out.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
                  "#open\t2026-11-20-00-00-00\n#fields\t" + FIELDS.replace(" ", "\t") + "\n#types\t"
                  + TYPES.replace(" ", "\t") + "\n")
        start = 1795132800.0
        batch = []
        for i in range(lines):
            batch.append(f"{start + i * 0.01:.6f}" + templates[i % 4000 if i % 7 else rng.randrange(4000)]
                         .format(i, 1024 + i % 60000))
            if len(batch) == 100_000:
                out.writelines(batch)
                batch.clear()
        out.writelines(batch)
        out.write("#close\t2026-11-21-00-00-00\n")


def _run(path: Path, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    began = time.perf_counter()
    flows = read_flows([path], progress=False)
    site = load_site(EXAMPLE)
    firewalls = load_boundary_firewalls(site, default_space())
    reconciler = ObservedReconciler(site.treaty, firewalls, Topology(site.treaty, firewalls, site.locate))
    cells = observed_matrix(reconciler.judge_all(flows))
    elapsed = time.perf_counter() - began
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((elapsed, peak_mib, len(flows), len(cells)))


def measure(path: Path) -> tuple[float, float, int, int]:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    child = multiprocessing.get_context("fork").Process(target=_run, args=(path, queue))
    child.start()
    result: tuple[float, float, int, int] = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for lines in (args.lines // 5, args.lines):
            path = Path(scratch) / f"conn-{lines}.log"
            generate(path, lines)
            size_mib = path.stat().st_size / 2**20
            results = [measure(path) for _ in range(args.runs)]
            times = [r[0] for r in results]
            print(f"{lines:>9,} lines ({size_mib:,.0f} MiB): median {statistics.median(times):.1f} s "
                  f"(runs {', '.join(f'{t:.1f}' for t in times)}), peak RSS {max(r[1] for r in results):.0f} MiB, "
                  f"{results[0][2]} distinct flows, {results[0][3]} matrix cells, "
                  f"{lines / statistics.median(times):,.0f} lines/s")
            path.unlink()


if __name__ == "__main__":
    main()
