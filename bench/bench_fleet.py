"""The fleet on PostgreSQL: check wall time with 1 and 2 real workers, and fleet page latency while they work.

Usage: python bench/bench_fleet.py [--sites N] [--rounds R] [--sessions 50] [--seconds 20]
       [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

1. Throughput: each round creates a fresh database, imports N copies of the bundled example plant
   (its 3 boundary firewalls as they are, not the issue's 2,000-rule generated plants: see
   README.md), queues the checks of every site and times how long 1, then 2, burst workers take
   to drain the queue (alternating, so both see the same machine load). Prints the medians, the
   per-site cost and the 2-worker speed-up.
2. Latency while checks run (``--sessions`` > 0): a fresh database of N sites, uvicorn (2
   processes, jobs to the queue) and 2 workers checking every site; meanwhile ``--sessions``
   concurrent sessions of fleet readers (httpx, keep-alive, one-time login links) request the
   fleet dashboard, the fleet sites JSON and a cross-plant CVE query back to back for
   ``--seconds``. Prints p50/p99/max per request kind; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import os
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
            done, first, last = connection.execute(text(
                "SELECT count(*), min(started_at), max(finished_at) FROM check_results WHERE state = 'done'")).one()
        assert done == sites, f"{done} of {sites} sites checked"
        engine.dispose()
        print(f"  {workers} worker(s): wall {elapsed:.1f} s with process start-up, "
              f"{(last - first).total_seconds():.1f} s from the first check's start to the last one's end")
        return float((last - first).total_seconds())
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def latency_phase(admin_url: str, sites: int, sessions: int, seconds: float) -> None:
    import asyncio
    import os
    import socket

    import httpx

    from plantgate.db import accounts
    from plantgate.db.fleet import grant_fleet_role

    name = f"plantgate_bench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        engine = make_engine(url)
        upgrade(engine)
        links: list[str] = []
        with tempfile.TemporaryDirectory() as scratch, session_factory(engine).begin() as session:
            folder = copy_example(Path(scratch))
            for number in range(sites):
                revisions.import_folder(session, folder, slug=f"plant-{number:03d}", actor="bench")
            for number in range(sessions):
                user = accounts.create_user(session, f"corp{number:02d}", None, actor="bench")
                grant_fleet_role(session, user, "corporate_security", actor="bench")
                links.append(accounts.create_login_link(session, user, actor="bench"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = dict(os.environ, PLANTGATE_DATABASE_URL=url, PLANTGATE_AS_OF="2026-11-26",
                   PLANTGATE_SECURE_COOKIES="false", PLANTGATE_JOBS="queue")
        processes.append(subprocess.Popen([sys.executable, "-m", "uvicorn", "plantgate.web.app:create_app",
                                           "--factory", "--port", str(port), "--workers", "2", "--log-level",
                                           "warning", "--no-access-log"], env=env, cwd=ROOT))
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        queue = ProcrastinateQueue(url)
        queue.submit(FollowUp("check_sites", {"as_of": "2026-11-26"}, "check_sites"))
        queue.close()
        for number in range(2):
            processes.append(subprocess.Popen([sys.executable, "-m", "plantgate.cli", "worker", "--database-url",
                                               url, "--name", f"busy-{number}"], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL, cwd=ROOT))
        timings: dict[str, list[float]] = {"fleet page": [], "fleet sites JSON": [], "CVE query JSON": []}
        errors: list[str] = []
        paths = {"fleet page": "/fleet", "fleet sites JSON": "/api/v1/fleet/sites",
                 "CVE query JSON": "/api/v1/fleet/cves/CVE-2024-3400"}

        async def log_in(client: httpx.AsyncClient, link: str) -> bool:
            try:
                status = (await client.get(f"/login/once/{link}")).status_code
            except httpx.HTTPError:
                status = 0
            if status != 303:
                errors.append("login failed")
                return False
            return True

        async def session_loop(client: httpx.AsyncClient, deadline: float) -> None:
            for _ in range(100_000):
                for kind, path in paths.items():
                    if time.monotonic() > deadline:
                        return
                    started = time.perf_counter()
                    try:
                        response = await client.get(path)
                    except httpx.HTTPError as exc:
                        errors.append(f"{path}: {type(exc).__name__}")
                        continue
                    timings[kind].append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        errors.append(f"{path}: HTTP {response.status_code}")

        async def run_all() -> None:
            clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in links]
            try:
                logged_in = await asyncio.gather(*(log_in(c, link) for c, link in zip(clients, links, strict=True)))
                deadline = time.monotonic() + seconds  # measured from when every session is in
                await asyncio.gather(*(session_loop(c, deadline) for c, ok in zip(clients, logged_in, strict=True)
                                       if ok))
            finally:
                for client in clients:
                    await client.aclose()

        asyncio.run(run_all())
        with engine.connect() as connection:
            done = connection.execute(text("SELECT count(*) FROM check_results WHERE state = 'done'")).scalar()
        print(f"latency with {sessions} concurrent fleet sessions for {seconds:.0f} s while 2 workers check "
              f"{sites} sites ({done} checked by the end):")
        everything = sorted(t for values in timings.values() for t in values)
        for kind, values in [*timings.items(), ("all", everything)]:
            ordered = sorted(values)
            if ordered:
                print(f"  {kind:<18} n={len(ordered):>6}  p50 {ordered[len(ordered) // 2]:7.1f} ms  "
                      f"p99 {ordered[int(len(ordered) * 0.99)]:7.1f} ms  max {ordered[-1]:7.1f} ms")
        print(f"  errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
        engine.dispose()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(f"command: {' '.join(sys.argv)}; python {sys.version.split()[0]}; {os.cpu_count()} cores")
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.rounds):  # alternate, so both see the same machine load
        for workers in (1, 2):
            times[workers].append(one_round(args.database_url, args.sites, workers))
    for workers, values in times.items():
        if not values:
            continue
        median = sorted(values)[len(values) // 2]
        print(f"{workers} worker{'s' if workers > 1 else ''}: {args.sites} sites checked in median {median:.1f} s "
              f"({median / args.sites:.2f} s per site; rounds {', '.join(f'{v:.1f}' for v in values)})")
    if args.rounds > 0:
        one, two = (sorted(v)[len(v) // 2] for v in times.values())
        print(f"2 workers: {one / two:.2f}x the throughput of 1")
    if args.sessions > 0:
        latency_phase(args.database_url, args.sites, args.sessions, args.seconds)


if __name__ == "__main__":
    main()
