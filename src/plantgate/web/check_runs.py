"""The web side of check results: read the stored result, or enqueue its job and say it is coming.

No request computes a check. A page asks for the result of (revision, day, current fleet
inputs); when it is stored it is shown, otherwise the check job is submitted to the app's
job queue (Procrastinate, or the embedded process pool; a waiting job under the same lock
is never queued twice) and the page shows progress, polling with htmx until the result
lands. While a new result is coming (after a feed update, say), the newest earlier result
of the same revision is shown with a note. Waiting, where a caller allows it (tests, the
API's optional ``wait``), is polling the row in a worker thread, never judging.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from plantgate.db.tables import CheckResultRow
from plantgate.jobs import results
from plantgate.jobs.inputs import current
from plantgate.jobs.queue import JobQueue
from plantgate.jobs.results import DONE, FAILED, ResultKey
from plantgate.jobs.work import check_follow_up

PENDING = "running"
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class CheckRun:
    """What is known of a result: done with findings, failed with the error, or pending (queued/running)."""

    state: str
    findings: list[dict[str, Any]] | None = None
    error: str = ""
    queue_state: str | None = None
    earlier: list[dict[str, Any]] | None = None
    """While pending: the findings of the newest earlier result of the revision (older fleet inputs), if any."""


def stored_findings(db: Session, key: ResultKey) -> str:
    """A stored result's findings as their JSON text, for the caller to decode (once, see ``RevisionCache``)."""
    return str(db.scalar(select(cast(CheckResultRow.findings, Text)).where(*key.where())))


def run(queue: JobQueue, db: Session, revision_id: int, as_of: dt.date, wait: float = 0.0,
        decode: Callable[[str], list[dict[str, Any]]] = orjson.loads) -> CheckRun:
    """The revision's result today; its job is enqueued when it is not stored (never computed here). ``decode``
    turns the stored findings' JSON text into the list."""
    key = ResultKey.of(revision_id, as_of, current(db))
    deadline = time.monotonic() + wait
    submitted = False
    while True:
        row = results.get(db, key)
        if row is not None and row.state == DONE:
            return CheckRun(DONE, decode(stored_findings(db, key)))
        if row is not None and row.state == FAILED and row.error:
            return CheckRun(FAILED, error=row.error)
        if not submitted:
            queue.submit(check_follow_up(key))
            submitted = True
        if time.monotonic() >= deadline:
            earlier = results.latest_done(db, revision_id, key.as_of)
            return CheckRun(PENDING, queue_state=queue.state(db, key.lock),
                            earlier=list(earlier.findings) if earlier is not None else None)
        db.rollback()  # a fresh snapshot for the next look
        time.sleep(POLL_SECONDS)


def retry(queue: JobQueue, db: Session, revision_id: int, as_of: dt.date) -> None:
    """Queue a failed result's job again (a person asked; a deterministic failure fails the same way)."""
    key = ResultKey.of(revision_id, as_of, current(db))
    queue.submit(check_follow_up(key))
