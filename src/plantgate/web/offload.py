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

The longest steps, checking a revision and folding an uploaded config, are jobs
(plantgate.jobs): they run in worker processes, never in the web process. A thread is not
enough for them: libyaml composing a 10,000-conduit document, or pydantic validating it, holds
Python's interpreter lock for a second or more in one C call, and no other thread of the
process (the event loop included) runs meanwhile.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread
from fastapi import Request

P = ParamSpec("P")
T = TypeVar("T")


def default_workers() -> int:
    """Threads for heavy steps: a few per core, so that one slow proof never keeps a change from being filed."""
    return max(4, 2 * (os.cpu_count() or 1))


def limiter(workers: int) -> anyio.CapacityLimiter:
    """The pool's size, as an anyio limiter (one per app, made by the app factory)."""
    return anyio.CapacityLimiter(workers)


async def run(request: Request, step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``step(*args, **kwargs)`` in a heavy-work thread; the event loop keeps serving while it runs."""
    pool: anyio.CapacityLimiter = request.app.state.heavy_work
    return await anyio.to_thread.run_sync(functools.partial(step, *args, **kwargs), limiter=pool)
