"""Heavy work off the event loop: the one place where a request hands parsing, checking or proving to a worker.

The event loop serves every request of the process. A route that parses a 10,000-conduit treaty
or proves a change's impact on it directly in an ``async def`` stops every other request for the
seconds that takes (a 10,000-conduit config upload once froze GET /login for 25 s). And a sync
route that does it holds one of the thread pool's threads that the page views need.

So each heavy step of a request (a config upload and its re-check, filing, rebasing,
implementing or verifying a change, the impact and conduit proofs) is submitted here and runs in
a small, separate pool of worker threads (``Settings.heavy_workers``, default: twice the core
count, at least 4), while the loop keeps answering. Requests beyond the pool's size wait for a worker, not for the
loop. The whole step, database work included, runs in the worker: the request's session is used
by one thread at a time, because the route awaits the step before it goes on.

The longest steps, loading a treaty and running every check on it, go further: to a worker
process (``in_process``). A thread is not enough for them: libyaml composing a 10,000-conduit
document, or pydantic validating it, holds Python's interpreter lock for a second or more in one
C call, and no other thread of the process (the event loop included) runs meanwhile. Their input
(a folder and a date) and output (the findings as JSON values) cross the process boundary as is.
There is one worker process per core, at a lower CPU priority (nice 10) than the app.

This is the seam the task queue of the fleet issue replaces: ``run`` and ``in_process`` are the
only functions that need to change to send the same steps to a queue worker.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread
from fastapi import Request

P = ParamSpec("P")
T = TypeVar("T")


WORKER_NICENESS = 10
"""Worker processes run at a lower CPU priority than the app: page views come before re-checks."""


def default_workers() -> int:
    """Threads for heavy steps: most of their time is spent waiting for a worker process, so a few per core
    (uploads that wait for their re-check must not keep a change from being filed)."""
    return max(4, 2 * (os.cpu_count() or 1))


def _lower_priority() -> None:
    os.nice(WORKER_NICENESS)


def limiter(workers: int) -> anyio.CapacityLimiter:
    """The pool's size, as an anyio limiter (one per app, made by the app factory)."""
    return anyio.CapacityLimiter(workers)


async def run(request: Request, step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``step(*args, **kwargs)`` in a heavy-work thread; the event loop keeps serving while it runs."""
    pool: anyio.CapacityLimiter = request.app.state.heavy_work
    return await anyio.to_thread.run_sync(functools.partial(step, *args, **kwargs), limiter=pool)


_processes: ProcessPoolExecutor | None = None
_processes_lock = threading.Lock()


def _process_pool() -> ProcessPoolExecutor:
    """The process's pool of worker processes (one for every app in it), started on first use."""
    global _processes
    with _processes_lock:
        if _processes is None:  # spawned, not forked: a fork of a threaded server could inherit a held lock
            _processes = ProcessPoolExecutor(max_workers=max(1, os.cpu_count() or 1),
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_lower_priority)
        return _processes


def in_process(step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``step(*args, **kwargs)`` in a worker process, waiting for it in the calling thread (never call this on
    the event loop: from a ``run`` step or a background thread). ``step`` and its arguments and result must
    pickle. A worker that died (killed, out of memory) is replaced for the next call."""
    global _processes
    pool = _process_pool()
    try:
        return pool.submit(step, *args, **kwargs).result()
    except BrokenProcessPool:
        with _processes_lock:
            if _processes is pool:
                _processes = None
        raise
