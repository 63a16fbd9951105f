"""Check runs in the background: one per (revision, day) across every app worker, the database row as the lock.

At 10,000 conduits the checks of a new revision take seconds (the treaty written out as YAML
and read back for its file:line evidence, then every check), and they are needed again each
new day. A page view must not wait on them, and two uvicorn workers must not both compute the
same run. So the first request that needs a run inserts its ``check_runs`` row as ``running``
(the primary key lets exactly one insert win), computes it in this worker's background thread,
and marks it ``done`` with the findings or ``failed`` with the error. Every other request reads
the state: pages say "checking revision N" and refresh, the API waits. A run left ``running``
by a worker that died, or ``failed`` (perhaps for a passing reason such as a full disk), is
claimed again after STALE_AFTER by a compare-and-swap update, so no run stays stuck.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from plantgate.db.tables import CheckRunRow, RevisionRow
from plantgate.errors import InputError
from plantgate.web import checking
from plantgate.web.rendering import shown, shown_all

RUNNING, DONE, FAILED = "running", "done", "failed"
STALE_AFTER = dt.timedelta(minutes=5)
POLL_SECONDS = 0.25
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckRun:
    """What is known of one run: its state, with the findings when done or the error when failed."""

    state: str
    findings: list[dict[str, Any]] | None = None
    error: str = ""


def _utc(moment: dt.datetime | None) -> dt.datetime:
    if moment is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite gives naive UTC back


def _row(db: Session, revision_id: int, as_of: dt.date) -> CheckRunRow | None:
    return db.get(CheckRunRow, (revision_id, as_of.isoformat()), populate_existing=True)


def _run_of(row: CheckRunRow) -> CheckRun:
    return CheckRun(row.state, list(row.findings) if row.state == DONE else None, row.error)


def _stale(row: CheckRunRow, now: dt.datetime) -> bool:
    return row.state != DONE and _utc(row.started_at) < now - STALE_AFTER


def claim(db: Session, revision_id: int, as_of: dt.date) -> bool:
    """Make this caller the one that computes the run; False when another has it or it is done (commits)."""
    now = dt.datetime.now(dt.UTC)
    row = _row(db, revision_id, as_of)
    if row is None:
        try:
            with db.begin_nested():
                db.add(CheckRunRow(revision_id=revision_id, as_of=as_of.isoformat(), findings=[], state=RUNNING,
                                   started_at=now))
            db.commit()
            return True
        except IntegrityError:  # another worker inserted it first
            db.rollback()
            row = _row(db, revision_id, as_of)
    if row is None or not _stale(row, now):
        return False
    taken = db.execute(update(CheckRunRow).where(
        CheckRunRow.revision_id == revision_id, CheckRunRow.as_of == as_of.isoformat(),
        CheckRunRow.state == row.state, CheckRunRow.started_at == row.started_at,
    ).values(state=RUNNING, started_at=now, error="").execution_options(synchronize_session=False))
    db.commit()
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def finish(db: Session, revision_id: int, as_of: dt.date, findings: list[dict[str, Any]] | None,
           error: str = "") -> None:
    """Store the outcome, claimed or not: ``done`` with the findings, or ``failed`` with the error (commits)."""
    values: dict[str, Any] = ({"state": DONE, "findings": findings, "error": ""} if findings is not None
                              else {"state": FAILED, "error": error})
    for _ in range(2):  # an update, or an insert; a concurrent insert between the two means update again
        if db.execute(update(CheckRunRow).where(
                CheckRunRow.revision_id == revision_id, CheckRunRow.as_of == as_of.isoformat(),
        ).values(**values).execution_options(synchronize_session=False)).rowcount:  # type: ignore[attr-defined]
            db.commit()
            return
        try:
            with db.begin_nested():
                db.add(CheckRunRow(revision_id=revision_id, as_of=as_of.isoformat(), started_at=dt.datetime.now(dt.UTC),
                                   **{"findings": [], **values}))
            db.commit()
            return
        except IntegrityError:
            db.rollback()


class BackgroundChecks:
    """This worker's side of the runs: starts the ones it claims in one background thread, waits on runs."""

    def __init__(self, sessions: sessionmaker[Session], workdir: Path) -> None:
        self.sessions = sessions
        self.workdir = workdir
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plantgate-checks")
        self.mine: dict[tuple[int, str], Future[None]] = {}
        self.lock = threading.Lock()

    def start(self, db: Session, revision_id: int, as_of: dt.date) -> None:
        """Compute the run in the background unless it is done or some worker is computing it."""
        if not claim(db, revision_id, as_of):
            return
        key = (revision_id, as_of.isoformat())
        with self.lock:
            self.mine[key] = self.pool.submit(self._compute, revision_id, as_of)

    def _compute(self, revision_id: int, as_of: dt.date) -> None:
        try:
            with self.sessions() as db:
                try:
                    revision = db.get_one(RevisionRow, revision_id)
                    findings = checking.judge_revision(db, revision, self.workdir, as_of)
                except InputError as exc:
                    finish(db, revision_id, as_of, None, "the revision does not load: " + "; ".join(
                        shown_all([str(p) for p in exc.problems], self.workdir)))
                except Exception as exc:  # noqa: BLE001 - stored and shown on the pages, never swallowed
                    log.exception("check run of revision id %s as of %s failed", revision_id, as_of)
                    db.rollback()
                    finish(db, revision_id, as_of, None, shown(f"internal error: {type(exc).__name__}: {exc}",
                                                               self.workdir))
                else:
                    finish(db, revision_id, as_of, findings)
        except Exception:  # the outcome could not be stored: the row stays running, claimed again when stale
            log.exception("could not store the check run of revision id %s as of %s", revision_id, as_of)
        finally:
            with self.lock:
                self.mine.pop((revision_id, as_of.isoformat()), None)

    def run(self, db: Session, revision_id: int, as_of: dt.date, wait: float) -> CheckRun:
        """The run after waiting up to ``wait`` seconds for it to finish; started here if nobody has it."""
        deadline = time.monotonic() + wait
        tried_start = False
        while True:
            row = _row(db, revision_id, as_of)
            if not tried_start and (row is None or _stale(row, dt.datetime.now(dt.UTC))):
                self.start(db, revision_id, as_of)
                tried_start = True
                continue
            run = _run_of(row) if row is not None else CheckRun(RUNNING)
            left = deadline - time.monotonic()
            if run.state != RUNNING or left <= 0:
                return run
            with self.lock:
                future = self.mine.get((revision_id, as_of.isoformat()))
            if future is None:  # computed by another worker (or it just finished here): look again soon
                time.sleep(min(POLL_SECONDS, left))
                continue
            try:
                future.result(timeout=left)
            except FutureTimeout:
                pass
