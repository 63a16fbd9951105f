"""Check results: begun and counted, then written once, whoever runs the job and however often.

The queue guarantees a job is run (again, after a crash); this module makes running it twice
harmless. ``begin`` counts a computation (so tests and operators can see a retry) unless the
result is already done; ``finish`` is a conditional UPDATE that only turns a row that is not
yet ``done`` into ``done``, so of two concurrent runs exactly one stores its findings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plantgate.db.tables import CheckResultRow, utc_now
from plantgate.jobs.inputs import FleetInputs

RUNNING, DONE, FAILED = "running", "done", "failed"


@dataclass(frozen=True)
class ResultKey:
    """What a check result is of: a revision, the day it is judged at, and the fleet inputs."""

    revision_id: int
    as_of: str
    feeds: str = ""
    baseline: str = ""

    @classmethod
    def of(cls, revision_id: int, as_of: dt.date | str, inputs: FleetInputs) -> ResultKey:
        day = as_of if isinstance(as_of, str) else as_of.isoformat()
        return cls(revision_id, day, inputs.feeds, inputs.baseline)

    @property
    def inputs(self) -> FleetInputs:
        return FleetInputs(self.feeds, self.baseline)

    @property
    def lock(self) -> str:
        """One name per result: the queue holds at most one waiting job for it."""
        return f"check:{self.revision_id}:{self.as_of}:{self.feeds[:16]}:{self.baseline[:16]}"

    def primary_key(self) -> tuple[int, str, str, str]:
        return (self.revision_id, self.as_of, self.feeds, self.baseline)

    def where(self) -> list[Any]:
        return [CheckResultRow.revision_id == self.revision_id, CheckResultRow.as_of == self.as_of,
                CheckResultRow.feeds == self.feeds, CheckResultRow.baseline == self.baseline]


def get(db: Session, key: ResultKey) -> CheckResultRow | None:
    return db.get(CheckResultRow, key.primary_key(), populate_existing=True)


def latest_done(db: Session, revision_id: int, as_of: str) -> CheckResultRow | None:
    """The newest finished result of a revision on a day, whatever inputs it was judged with."""
    return db.scalar(select(CheckResultRow).where(
        CheckResultRow.revision_id == revision_id, CheckResultRow.as_of == as_of, CheckResultRow.state == DONE)
        .order_by(CheckResultRow.finished_at.desc()).limit(1))


def begin(db: Session, key: ResultKey, site_id: int, worker: str) -> bool:
    """Count one more computation of ``key``; False (nothing changed) when it is already done. Commits."""
    values = {"state": RUNNING, "worker": worker, "started_at": utc_now(), "error": ""}
    try:
        with db.begin_nested():
            db.add(CheckResultRow(revision_id=key.revision_id, as_of=key.as_of, feeds=key.feeds,
                                  baseline=key.baseline, site_id=site_id, findings=[], facts={}, computations=1,
                                  seconds=0.0, **values))
        db.commit()
        return True
    except IntegrityError:
        db.rollback()
    counted = db.execute(update(CheckResultRow).where(*key.where(), CheckResultRow.state != DONE).values(
        computations=CheckResultRow.computations + 1, **values).execution_options(synchronize_session=False))
    db.commit()
    return bool(counted.rowcount == 1)  # type: ignore[attr-defined]


def finish(db: Session, key: ResultKey, findings: list[dict[str, Any]], facts: dict[str, Any],
           seconds: float) -> bool:
    """Store the findings unless some run stored them first; True when this call wrote them (no commit:
    the caller commits together with what follows from the result, e.g. notifications)."""
    written = db.execute(update(CheckResultRow).where(*key.where(), CheckResultRow.state != DONE).values(
        state=DONE, findings=findings, facts=facts, seconds=seconds, error="", finished_at=utc_now())
        .execution_options(synchronize_session=False))
    return bool(written.rowcount == 1)  # type: ignore[attr-defined]


def fail(db: Session, key: ResultKey, error: str) -> None:
    """Record why a run failed (never over a done result). Commits."""
    db.execute(update(CheckResultRow).where(*key.where(), CheckResultRow.state != DONE).values(
        state=FAILED, error=error, finished_at=utc_now()).execution_options(synchronize_session=False))
    db.commit()
