"""The issue-19 fleet on PostgreSQL: check wall time with 1 and 2 real workers, KEV re-judging, page latency.

Usage: python bench/bench_fleet.py [--sites 200] [--rounds 1] [--sessions 50] [--seconds 30]
       [--idle-seconds 15] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The plants come from ``generate_fleet.py`` (3 firewalls x 2,000 rules, 500 conduits, 300 assets
each, seeded, written once into bench/out/ and reused). One template database holds them all
(imported and validated once) with the fleet's feeds as of before the KEV update; every phase
runs in a fresh copy of it (``CREATE DATABASE ... TEMPLATE``), and every database this run made
is dropped at the end.

1. Throughput: in a fresh copy, the check of every site is queued and real ``plantgate worker
   --burst`` processes drain the queue: 1 worker, then 2 (``--rounds`` times, alternating, so both
   see the same machine load). Prints the span from the first check's start to the last one's end,
   the per-site cost, the workers' CPU seconds and the machine's load, and the 2-worker speed-up.
2. Re-judging: in the last 2-worker copy, with 2 workers waiting, ``plantgate feeds update`` adds
   CVE-2024-3400 to KEV; one plant in ten is exposed to it. Prints the time from the command's
   start until every site has a result under the new feeds, and how many were judged again.
3. Latency (``--sessions`` > 0), same copy: uvicorn (2 processes) and ``--sessions`` concurrent fleet
   readers (httpx, keep-alive, one-time login links) request the fleet page and the cross-plant JSON
   queries, each pausing 0..2x ``--think`` seconds (default 1 s mean) before every request: first
   ``--idle-seconds`` with no check running, then ``--seconds`` while 2 workers run the next day's
   re-check of every site (the target figure), then the same readers back to back with no pause (a
   stress figure, skipped with ``--no-closed-loop``). Prints p50/p99/max per kind and how many
   requests took over 1 s in each phase. The target is judged with think time for the reason
   bench_web.py gives (issue 8's decision for "50 concurrent sessions"): people read a page before
   the next click; 50 readers firing back to back measure queueing at saturation, not a session's wait.
Workers run with ``--nice 0`` in phases 1 and 2 (a worker machine of its own: on this shared machine
a niced worker would measure the other tenants) and with the default ``--nice 10`` in phase 3, where
they share the machine with the web app as the embedded default does.
Every wait is bounded by ``--timeout`` seconds and every loop by a count.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from generate_fleet import VULNERABLE_EVERY, generate_fleet
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from plantgate.db import accounts, revisions  # noqa: E402
from plantgate.db.engine import make_engine, session_factory, upgrade  # noqa: E402
from plantgate.db.fleet import grant_fleet_role  # noqa: E402
from plantgate.feeds.fleet import collect  # noqa: E402
from plantgate.jobs import work  # noqa: E402
from plantgate.jobs.inputs import store_feeds  # noqa: E402
from plantgate.jobs.queue import ProcrastinateQueue  # noqa: E402
from plantgate.jobs.work import FollowUp  # noqa: E402

NEW_KEV = "CVE-2024-3400"
PATHS = {"fleet page": "/fleet", "fleet sites JSON": "/api/v1/fleet/sites",
         "CVE query JSON": f"/api/v1/fleet/cves/{NEW_KEV}", "RDP query JSON": "/api/v1/fleet/rdp-into-level-3",
         "charters JSON": "/api/v1/fleet/unsigned-charters"}


class Databases:
    """Databases made by this run on one server, each dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.base = admin_url.rsplit("/", 1)[0]
        self.made: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"plantgate_bench_{secrets.token_hex(4)}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.made.append(name)
        return name

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.made:
            self.made.remove(name)

    def drop_all(self) -> None:
        for name in list(self.made):
            self.drop(name)
        self.admin.dispose()


def feed_sources(mirror: Path, out: Path) -> tuple[list[str], list[str]]:
    """``feeds update`` arguments before and after the KEV update: the mirror's KEV without, then with, NEW_KEV."""
    kev_file = mirror / "kev" / "known_exploited_vulnerabilities.json"
    catalog = json.loads(kev_file.read_text(encoding="utf-8"))
    entries = [v for v in catalog["vulnerabilities"] if v.get("cveID") != NEW_KEV]
    if len(entries) == len(catalog["vulnerabilities"]):
        raise SystemExit(f"{kev_file} does not list {NEW_KEV}: the KEV update would touch nothing")
    before = out / "feeds" / "kev-before.json"
    before.parent.mkdir(parents=True, exist_ok=True)
    before.write_text(json.dumps(dict(catalog, vulnerabilities=entries, count=len(entries))), encoding="utf-8")
    rest = ["--csaf", str(mirror / "csaf"), "--vulnrichment", str(mirror / "vulnrichment")]
    return ["--kev", str(before), *rest], ["--kev", str(kev_file), *rest]


def build_template(dbs: Databases, folders: list[Path], feeds_before: list[str]) -> str:
    """The fleet imported (each plant validated on the way in) with the feeds before the update."""
    name = dbs.create()
    engine = make_engine(dbs.url(name))
    upgrade(engine)
    started = time.perf_counter()
    with session_factory(engine).begin() as session:
        for number, folder in enumerate(folders):
            revisions.import_folder(session, folder, slug=f"plant-{number:03d}", actor="bench")
    imported = time.perf_counter() - started
    sources: dict[str, list[str]] = {"kev": [], "csaf": [], "vulnrichment": []}
    for flag, value in zip(feeds_before[::2], feeds_before[1::2], strict=True):
        sources[flag.lstrip("-")].append(value)
    with session_factory(engine).begin() as session:
        store_feeds(session, collect(sources), "bench")
    engine.dispose()
    print(f"template: {len(folders)} plants imported and validated in {imported:.1f} s "
          f"({imported / len(folders):.2f} s per plant)", flush=True)
    return name


def fleet_readers(url: str, count: int) -> list[str]:
    """One-time login links (they last 15 minutes) of ``count`` new users with the corporate security role."""
    engine = make_engine(url)
    links = []
    with session_factory(engine).begin() as session:
        for _ in range(count):
            user = accounts.create_user(session, f"corp-{secrets.token_hex(4)}", None, actor="bench")
            grant_fleet_role(session, user, "corporate_security", actor="bench")
            links.append(accounts.create_login_link(session, user, actor="bench"))
    engine.dispose()
    return links


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 1)[0] if Path("/proc/loadavg").exists() else "?"


def start_workers(url: str, count: int, prefix: str, burst: bool, nice: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-m", "plantgate.cli", "worker", *(["--burst"] if burst else []),
                              "--nice", str(nice), "--database-url", url, "--name", f"{prefix}-{i}"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=ROOT) for i in range(count)]


@contextmanager
def running(processes: list[subprocess.Popen[bytes]]) -> Iterator[list[subprocess.Popen[bytes]]]:
    try:
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def queue_checks(url: str, as_of: str) -> None:
    queue = ProcrastinateQueue(url)
    try:
        queue.submit(FollowUp("check_sites", {"as_of": as_of}, f"check_sites:{as_of}"))
    finally:
        queue.close()


def one_round(dbs: Databases, template: str, sites: int, workers: int, as_of: str, timeout: float) -> tuple[float, str]:
    """Seconds from the first check's start to the last one's end with ``workers`` burst workers; the copy's name."""
    name = dbs.create(template)
    url = dbs.url(name)
    # Every site's check is queued before the workers start: a burst worker stops when it finds the queue
    # empty, so one waiting for the follow-ups of a check_sites job taken by the other would leave at once.
    queue = ProcrastinateQueue(url)
    try:
        for job in work.check_sites(url, as_of).follow_ups:
            queue.submit(job)
    finally:
        queue.close()
    load_before = load()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with running(start_workers(url, workers, f"bench{workers}", burst=True, nice=0)) as processes:
        for process in processes:
            process.wait(timeout=max(1.0, timeout - (time.perf_counter() - started)))
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    engine = make_engine(url)
    with engine.connect() as connection:
        done, first, last, median_job, job_seconds = connection.execute(text(
            "SELECT count(*), min(started_at), max(finished_at), percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds), "
            "sum(seconds) FROM check_results WHERE state = 'done' AND as_of = :day"), {"day": as_of}).one()
        per_worker = connection.execute(text(
            "SELECT worker, count(*) FROM check_results WHERE as_of = :day GROUP BY worker ORDER BY worker"),
            {"day": as_of}).all()
    engine.dispose()
    if done != sites:
        raise SystemExit(f"{workers} worker(s): {done} of {sites} sites checked within {timeout:.0f} s")
    if len(per_worker) < min(workers, sites):
        print(f"  WARNING: {len(per_worker)} of {workers} workers took jobs: the speed-up below says nothing")
    span = float((last - first).total_seconds())
    # Why a speed-up misses: jobs that overlap (job seconds / span near the worker count) rule out a lock or a
    # shared row serialising them; CPU seconds that stay put while the cores obtained (CPU / wall) do not grow
    # say the second worker found no free core on the machine.
    print(f"  {workers} worker(s): {span:.1f} s first check start to last check end ({elapsed:.1f} s with start-up); "
          f"median job {median_job:.1f} s; jobs in parallel {job_seconds / span:.2f}; workers' CPU {cpu:.1f} s "
          f"({cpu / sites:.1f} s per site), cores obtained {cpu / elapsed:.2f}; load {load_before} -> {load()}; "
          f"jobs per worker {dict((w, c) for w, c in per_worker)}", flush=True)
    return span, name


def rejudge(url: str, sites: int, feeds_after: list[str], as_of: str, timeout: float) -> None:
    """Time from ``feeds update`` until every site has a result under the new feeds (2 workers waiting)."""
    expected = len(range(0, sites, VULNERABLE_EVERY))
    engine = make_engine(url)
    with running(start_workers(url, 2, "rejudge", burst=False, nice=0)):
        time.sleep(3)  # the workers are up and listening, as in production
        started = time.perf_counter()
        command = subprocess.run([sys.executable, "-m", "plantgate.cli", "feeds", "update", *feeds_after, "--as-of",
                                  as_of, "--database-url", url], capture_output=True, text=True, cwd=ROOT)
        if command.returncode != 0:
            raise SystemExit(f"feeds update exit {command.returncode}: {command.stdout}{command.stderr}")
        queued = time.perf_counter() - started
        digest = command.stdout.split()[1].rstrip(":")
        done = judged = 0
        for _ in range(int(timeout * 2)):
            with engine.connect() as connection:
                done, judged = connection.execute(text(
                    "SELECT count(*), count(*) FILTER (WHERE computations > 0) FROM check_results "
                    "WHERE state = 'done' AND as_of = :day AND feeds LIKE :digest"),
                    {"day": as_of, "digest": digest + "%"}).one()
            if done == sites or time.perf_counter() - started > timeout:
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
    engine.dispose()
    print(f"re-judging after a KEV update ({NEW_KEV}): {elapsed:.1f} s from `feeds update` to all {sites} sites "
          f"judged ({queued:.1f} s in the command); {judged} judged again (expected {expected}), "
          f"{done - judged} carried over; {done} of {sites} done", flush=True)
    if done != sites or judged != expected:
        raise SystemExit("re-judging did not land as expected")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def read_fleet(base: str, links: list[str], seconds: float, think: float
                     ) -> tuple[dict[str, list[float]], list[str]]:
    """``len(links)`` logged-in readers asking PATHS for ``seconds``, each pausing 0..2x ``think`` seconds
    before every request (0: back to back); timings in ms and errors."""
    rng = random.Random(7)
    timings: dict[str, list[float]] = {kind: [] for kind in PATHS}
    errors: list[str] = []

    async def log_in(client: httpx.AsyncClient, link: str) -> bool:
        try:
            status = (await client.get(f"/login/once/{link}")).status_code
        except httpx.HTTPError:
            status = 0
        if status != 303:
            errors.append(f"login: HTTP {status}")
        return status == 303

    async def reader(client: httpx.AsyncClient, deadline: float) -> None:
        for _ in range(100_000):
            for kind, path in PATHS.items():
                if think:
                    await asyncio.sleep(rng.uniform(0, 2 * think))
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

    clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in links]
    try:
        logged_in = await asyncio.gather(*(log_in(c, link) for c, link in zip(clients, links, strict=True)))
        deadline = time.monotonic() + seconds  # measured from when every reader is in
        await asyncio.gather(*(reader(c, deadline) for c, ok in zip(clients, logged_in, strict=True) if ok))
    finally:
        for client in clients:
            await client.aclose()
    return timings, errors


def report_latency(title: str, timings: dict[str, list[float]], errors: list[str]) -> None:
    print(title)
    everything = [t for values in timings.values() for t in values]
    for kind, values in [*timings.items(), ("all", everything)]:
        ordered = sorted(values)
        if ordered:
            print(f"  {kind:<18} n={len(ordered):>6}  p50 {ordered[len(ordered) // 2]:7.1f} ms  "
                  f"p99 {ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]:7.1f} ms  max {ordered[-1]:7.1f} ms")
    print(f"  requests over 1 s: {sum(1 for t in everything if t > 1000)} of {len(everything)}; "
          f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""), flush=True)


def latency(url: str, sessions: int, sites: int, as_of: str, next_day: str, idle: float, busy: float,
            timeout: float, think: float, closed_loop: bool) -> None:
    idle_links, busy_links = fleet_readers(url, sessions), fleet_readers(url, sessions)
    stress_links = fleet_readers(url, sessions) if closed_loop and think else []
    port = free_port()
    env = dict(os.environ, PLANTGATE_DATABASE_URL=url, PLANTGATE_AS_OF=as_of, PLANTGATE_SECURE_COOKIES="false",
               PLANTGATE_JOBS="queue")
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "plantgate.web.app:create_app", "--factory", "--port",
                               str(port), "--workers", "2", "--log-level", "warning", "--no-access-log"],
                              env=env, cwd=ROOT)
    with running([server]):
        base = f"http://127.0.0.1:{port}"
        for _ in range(int(timeout * 5)):
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        if idle > 0:  # each one-time link logs in once: the idle and the busy readers are different accounts
            timings, errors = asyncio.run(read_fleet(base, idle_links, idle, think))
            report_latency(f"latency, {len(idle_links)} concurrent fleet readers ({think:g} s mean pause) for "
                           f"{idle:.0f} s, no check running:", timings, errors)
        queue_checks(url, next_day)
        with running(start_workers(url, 2, "busy", burst=False, nice=10)):
            time.sleep(3)  # both workers are inside a check
            timings, errors = asyncio.run(read_fleet(base, busy_links, busy, think))
            stress = asyncio.run(read_fleet(base, stress_links, busy, 0)) if stress_links else None
            engine = make_engine(url)
            with engine.connect() as connection:
                done = connection.execute(text("SELECT count(*) FROM check_results WHERE state = 'done' "
                                               "AND as_of = :day"), {"day": next_day}).scalar()
            engine.dispose()
        report_latency(f"latency (the target figure), {len(busy_links)} concurrent fleet readers ({think:g} s mean "
                       f"pause) for {busy:.0f} s while 2 workers run the next day's re-check of {sites} sites:",
                       timings, errors)
        if stress is not None:
            report_latency(f"stress, not the target: {len(stress_links)} closed-loop readers (no pause) for {busy:.0f} "
                           "s, right after, workers still busy:", *stress)
        print(f"  re-checks finished by the end: {done} of {sites}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="1-worker and 2-worker rounds, alternating")
    parser.add_argument("--sessions", type=int, default=50, help="concurrent fleet readers while workers are busy")
    parser.add_argument("--seconds", type=float, default=30.0, help="latency phase while workers are busy")
    parser.add_argument("--idle-seconds", type=float, default=15.0, help="latency phase with no check running")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause of a reader before each request (uniform 0..2x; 0: back to back)")
    parser.add_argument("--no-closed-loop", action="store_true",
                        help="skip the closed-loop stress phase that follows the busy phase")
    parser.add_argument("--timeout", type=float, default=4 * 3600.0, help="bound on each wait, in seconds")
    parser.add_argument("--as-of", default="2026-11-26")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--feeds-mirror", type=Path, default=ROOT.parent / "shared" / "ot-data",
                        help="a KEV/CSAF/Vulnrichment mirror folder whose KEV lists " + NEW_KEV)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop workers and drop the databases on the way out
    print(f"command: {' '.join(sys.argv)}; python {sys.version.split()[0]}; {os.cpu_count()} cores; load {load()}",
          flush=True)
    started = time.perf_counter()
    folders = generate_fleet(args.sites, seed=args.seed)
    print(f"fleet: {len(folders)} plants in {folders[0].parent} ({time.perf_counter() - started:.1f} s to generate "
          "or find)", flush=True)
    feeds_before, feeds_after = feed_sources(args.feeds_mirror, ROOT / "bench" / "out")
    dbs = Databases(args.database_url)
    try:
        template = build_template(dbs, folders, feeds_before)
        times: dict[int, list[float]] = {1: [], 2: []}
        kept = ""
        for _ in range(args.rounds):  # alternate, so both see the same machine load
            for workers in (1, 2):
                span, name = one_round(dbs, template, args.sites, workers, args.as_of, args.timeout)
                times[workers].append(span)
                if kept:
                    dbs.drop(kept)
                kept = name if workers == 2 else ""
                if workers == 1:
                    dbs.drop(name)
        for workers, values in times.items():
            median = sorted(values)[len(values) // 2]
            print(f"{workers} worker{'s' if workers > 1 else ''}: {args.sites} sites checked in median {median:.1f} s "
                  f"({median / args.sites:.2f} s per site; rounds {', '.join(f'{v:.1f}' for v in values)})")
        one, two = (sorted(v)[len(v) // 2] for v in times.values())
        print(f"2 workers: {one / two:.2f}x the throughput of 1 (target >= 1.8x)", flush=True)
        rejudge(dbs.url(kept), args.sites, feeds_after, args.as_of, args.timeout)
        if args.sessions > 0:
            next_day = (dt.date.fromisoformat(args.as_of) + dt.timedelta(days=1)).isoformat()
            latency(dbs.url(kept), args.sessions, args.sites, args.as_of, next_day, args.idle_seconds,
                    args.seconds, args.timeout, args.think, not args.no_closed_loop)
    finally:
        dbs.drop_all()
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
