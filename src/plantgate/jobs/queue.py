"""Where jobs go: Procrastinate on PostgreSQL, or the web app's own worker processes on SQLite.

``JobQueue`` is all the web app and the CLI see: submit a job (under a lock that keeps one
waiting copy per result) and ask whether one is waiting or running. On PostgreSQL the jobs
go to Procrastinate and ``plantgate worker`` processes on any machine run them. The embedded
SQLite default has no queue server; ``plantgate serve`` then runs the same job bodies on a
``concurrent.futures.ProcessPoolExecutor`` of its own (stdlib; SQLite has one writer, and one
machine is what it serves), so a single-machine user starts nothing extra.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from plantgate.jobs import work
from plantgate.jobs.work import FollowUp, Outcome
from plantgate.web.settings import Settings

log = logging.getLogger(__name__)
WAITING, RUNNING = "waiting", "running"


class JobQueue(Protocol):
    def submit(self, job: FollowUp) -> None:
        """Enqueue ``job`` unless a copy under the same lock is already waiting."""

    def state(self, db: Session, lock: str) -> str | None:
        """WAITING or RUNNING while a job under ``lock`` is queued or running, else None."""

    def close(self) -> None: ...


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


def run_job(database_url: str, job: FollowUp, settings: Settings | None = None) -> Outcome:
    """Run one job body by its task name (the local pool's entry point, and tests')."""
    return work.run_task(job.task, database_url, job.kwargs, settings)


class ProcrastinateQueue:
    """Jobs for ``plantgate worker``: deferred into Procrastinate's tables in the app's database."""

    def __init__(self, database_url: str) -> None:
        from plantgate.jobs.tasks import make_app

        self.app = make_app(database_url)
        self.app.open()

    def submit(self, job: FollowUp) -> None:
        from procrastinate.exceptions import AlreadyEnqueued

        try:
            self.app.configure_task(f"plantgate.{job.task}", queueing_lock=job.lock, lock=job.lock).defer(**job.kwargs)
        except AlreadyEnqueued:
            pass

    def state(self, db: Session, lock: str) -> str | None:
        found = db.execute(text("SELECT status FROM procrastinate_jobs WHERE queueing_lock = :lock AND status IN "
                                "('todo', 'doing') ORDER BY id DESC LIMIT 1"), {"lock": lock}).scalar()
        return None if found is None else (RUNNING if found == "doing" else WAITING)

    def close(self) -> None:
        self.app.close()


WORKER_NICENESS = 10
"""Embedded job processes run at a lower CPU priority than the web app: page views come before re-checks."""


def lower_priority() -> None:
    os.nice(WORKER_NICENESS)


class LocalProcessQueue:
    """The embedded default's jobs, on worker processes of the web app (no queue server, nothing to start)."""

    def __init__(self, database_url: str, settings: Settings, processes: int = 2) -> None:
        self.database_url = database_url
        self.settings = settings
        self.processes = max(1, processes)
        self.lock = threading.Lock()
        self.futures: dict[str, Future[Outcome]] = {}
        self.pool: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:  # spawn: never fork a process that runs uvicorn's threads
            self.pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=lower_priority)
        return self.pool

    def submit(self, job: FollowUp) -> None:
        lock = job.lock or f"{job.task}:{sorted(job.kwargs.items())}"
        with self.lock:
            running = self.futures.get(lock)
            if running is not None and not running.done():
                return
            future = self._pool().submit(run_job, self.database_url, job, self.settings)
            self.futures[lock] = future
        future.add_done_callback(lambda done: self._done(lock, done))

    def _done(self, lock: str, future: Future[Outcome]) -> None:
        with self.lock:
            if self.futures.get(lock) is future:
                del self.futures[lock]
        if future.cancelled():  # dropped at shutdown before it started; start-up queues uploads again
            log.info("job %s dropped at shutdown", lock)
            return
        try:
            outcome = future.result()
        except BrokenProcessPool:  # a worker process died (killed, out of memory): a fresh pool for what follows
            log.error("job %s: its worker process died; the next request for it runs it again", lock)
            with self.lock:
                self.pool = None
            return
        except Exception:  # stored on the result row by the job itself where it could; logged here
            log.exception("job %s failed", lock)
            return
        for follow_up in outcome.follow_ups:
            self.submit(follow_up)

    def state(self, db: Session, lock: str) -> str | None:
        with self.lock:
            future = self.futures.get(lock)
        if future is None or future.done():
            return None
        return RUNNING if future.running() else WAITING

    def close(self) -> None:
        with self.lock:
            pool, self.pool = self.pool, None  # a later submit (the app started again) gets a fresh pool
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)  # the running job finishes; the queued ones are dropped


def queue_for(settings: Settings) -> JobQueue:
    if settings.jobs == "queue" or (settings.jobs == "auto" and is_postgres(settings.database_url)):
        return ProcrastinateQueue(settings.database_url)
    return LocalProcessQueue(settings.database_url, settings, settings.jobs_processes)
