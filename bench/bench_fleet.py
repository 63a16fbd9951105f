"""Fleet check wall time with 1 and with 2 real ``plantgate worker`` processes on PostgreSQL, side by side.

Usage: python bench/bench_fleet.py [--sites N] [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Each round creates a fresh database, imports N copies of the bundled example plant (3 boundary
firewalls of the example's size, not the issue's 2,000-rule generated plants: see README.md),
queues the checks of every site and times how long 1 or 2 burst workers take to drain the queue.
Prints the wall times, the per-site cost and the 2-worker speed-up.
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.sites import copy_example  # noqa: E402

from plantgate.db import revisions  # noqa: E402
from plantgate.db.engine import make_engine, session_factory, upgrade  # noqa: E402
from plantgate.jobs.queue import ProcrastinateQueue  # noqa: E402
from plantgate.jobs.work import FollowUp  # noqa: E402


def one_round(admin_url: str, sites: int, workers: int) -> float:
    name = f"plantgate_bench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        engine = make_engine(url)
        upgrade(engine)
        with tempfile.TemporaryDirectory() as scratch, session_factory(engine).begin() as session:
            folder = copy_example(Path(scratch))
            for number in range(sites):
                revisions.import_folder(session, folder, slug=f"plant-{number:03d}", actor="bench")
        queue = ProcrastinateQueue(url)
        queue.submit(FollowUp("check_sites", {"as_of": "2026-11-26"}, "check_sites"))
        queue.close()
        started = time.perf_counter()
        processes = [subprocess.Popen([sys.executable, "-m", "plantgate.cli", "worker", "--burst", "--database-url",
                                       url, "--name", f"bench-{i}"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, cwd=ROOT) for i in range(workers)]
        for process in processes:
            process.wait()
        elapsed = time.perf_counter() - started
        with engine.connect() as connection:
            done = connection.execute(text("SELECT count(*) FROM check_results WHERE state = 'done'")).scalar()
        assert done == sites, f"{done} of {sites} sites checked"
        engine.dispose()
        return elapsed
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.rounds):  # alternate, so both see the same machine load
        for workers in (1, 2):
            times[workers].append(one_round(args.database_url, args.sites, workers))
    for workers, values in times.items():
        median = sorted(values)[len(values) // 2]
        print(f"{workers} worker{'s' if workers > 1 else ''}: {args.sites} sites in median {median:.1f} s "
              f"({median / args.sites:.2f} s per site; rounds {', '.join(f'{v:.1f}' for v in values)})")
    one, two = (sorted(v)[len(v) // 2] for v in times.values())
    print(f"2 workers: {one / two:.2f}x the throughput of 1")


if __name__ == "__main__":
    main()
