"""Fleet-wide inputs of every check: the current feed snapshot and corporate baseline, by digest.

A check result names the digests it was judged with, so a feed update is a new input (and
a new result), never an overwrite. Inputs are stored once (same digest, same row) with an
audit entry, and a job materialises them into its scratch folder by digest, so every worker
judges with exactly the inputs the job was enqueued with.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantgate.db import audit
from plantgate.db.revisions import blob, store_blob
from plantgate.db.tables import FleetInputRow
from plantgate.errors import PlantGateError
from plantgate.feeds.fleet import FeedPaths, FeedSnapshot, write_feed_files
from plantgate.load.baseline import LoadedBaseline, load_baseline

FEEDS, BASELINE = "feeds", "baseline"
BASELINE_FILE = "baseline.yaml"


@dataclass(frozen=True)
class FleetInputs:
    """The digests of the fleet inputs a judgement uses ("" for none)."""

    feeds: str = ""
    baseline: str = ""


def current_row(db: Session, kind: str) -> FleetInputRow | None:
    return db.scalar(select(FleetInputRow).where(FleetInputRow.kind == kind).order_by(FleetInputRow.id.desc())
                     .limit(1))


def current(db: Session) -> FleetInputs:
    feeds, baseline = current_row(db, FEEDS), current_row(db, BASELINE)
    return FleetInputs(feeds.digest if feeds else "", baseline.digest if baseline else "")


def _store(db: Session, kind: str, digest: str, files: dict[str, bytes], summary: dict[str, Any], source: str,
           actor: str) -> tuple[FleetInputRow, bool]:
    """A new current input of ``kind``, or the current one unchanged when it has this digest already."""
    now = current_row(db, kind)
    if now is not None and now.digest == digest:
        return now, False
    row = FleetInputRow(kind=kind, digest=digest, files={p: store_blob(db, c) for p, c in sorted(files.items())},
                        summary=summary, source=source)
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action=f"fleet.{kind}.load", object_type=kind, object_id=digest[:16],
                 before={"digest": now.digest} if now else None, after={"digest": digest, "source": source})
    return row, True


def store_feeds(db: Session, snapshot: FeedSnapshot, actor: str) -> tuple[FleetInputRow, bool]:
    counts = {"kev": len(snapshot.summary["kev"]), "csaf": len(snapshot.summary["csaf"]),
              "vulnrichment": len(snapshot.summary["vulnrichment"])}
    return _store(db, FEEDS, snapshot.digest, snapshot.files, {**snapshot.summary, "counts": counts},
                  ", ".join(snapshot.sources), actor)


def store_baseline(db: Session, path: Path, actor: str) -> tuple[FleetInputRow, bool]:
    """Validate the baseline file (InputError with file:line:column) and make it the fleet's current one."""
    loaded = load_baseline(path)
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    info = loaded.baseline.baseline
    return _store(db, BASELINE, digest, {BASELINE_FILE: content},
                  {"name": info.name, "version": info.version, "rules": [r.id for r in loaded.baseline.rules],
                   "file": path.name}, str(path), actor)


def _row_by_digest(db: Session, kind: str, digest: str) -> FleetInputRow:
    row = db.scalar(select(FleetInputRow).where(FleetInputRow.kind == kind, FleetInputRow.digest == digest)
                    .order_by(FleetInputRow.id.desc()).limit(1))
    if row is None:
        raise PlantGateError(f"the fleet {kind} {digest[:16]} is not in the database")
    return row


def materialise(db: Session, inputs: FleetInputs, workdir: Path) -> tuple[FeedPaths | None, LoadedBaseline | None]:
    """The inputs as files under ``workdir`` (written once per digest), ready for a CheckContext."""
    feeds = baseline = None
    if inputs.feeds:
        row = _row_by_digest(db, FEEDS, inputs.feeds)
        feeds = write_feed_files({p: blob(db, d) for p, d in row.files.items()}, workdir / f"feeds-{inputs.feeds}")
    if inputs.baseline:
        row = _row_by_digest(db, BASELINE, inputs.baseline)
        folder = workdir / f"baseline-{inputs.baseline}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / BASELINE_FILE
        if not target.exists():
            staging = folder / f".{BASELINE_FILE}.{os.getpid()}.{threading.get_ident()}"
            staging.write_bytes(blob(db, row.files[BASELINE_FILE]))
            os.replace(staging, target)
        baseline = load_baseline(target, display_name=f"baseline:{row.summary.get('file', BASELINE_FILE)}")
    return feeds, baseline
