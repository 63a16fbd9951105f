"""The hash-chained audit log: append one entry per decision, and prove later that none was edited.

Each entry's hash covers its own fields and the previous entry's hash, so editing or
deleting any entry breaks every hash after it; database triggers (see the initial
migration) refuse UPDATE and DELETE outright. ``verify`` walks the chain and names the
first entry that does not match. Appends are serialised (a PostgreSQL advisory lock, or
SQLite's single writer) and ``seq`` is the primary key, so a race can never fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from plantgate.db.tables import AuditRow

GENESIS = "0" * 64
ADVISORY_LOCK_KEY = 0x504C414E  # "PLAN": one lock for the audit chain
HASHED_FIELDS = ("seq", "at", "actor", "site", "action", "object_type", "object_id", "before", "after", "reason",
                 "prev_hash")


def canonical(value: Any) -> str:
    """Stable JSON for before/after values (sorted keys, no whitespace variance)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(fields: dict[str, Any]) -> str:
    payload = json.dumps({k: fields[k] for k in HASHED_FIELDS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def record(session: Session, *, actor: str, action: str, object_type: str, object_id: str | int, site: str = "",
           before: Any = None, after: Any = None, reason: str = "") -> AuditRow:
    """Append an entry in the caller's transaction (it commits or rolls back with the change it records)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    last = session.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    fields: dict[str, Any] = {
        "seq": seq, "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"), "actor": actor, "site": site,
        "action": action, "object_type": object_type, "object_id": str(object_id), "before": canonical(before),
        "after": canonical(after), "reason": reason, "prev_hash": prev_hash,
    }
    row = AuditRow(**fields, hash=entry_hash(fields))
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    first_bad_seq: int | None
    problem: str

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify(session: Session) -> VerifyResult:
    """Walk the chain in order; the first entry whose hash, link or sequence is wrong is named."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for row in session.scalars(select(AuditRow).order_by(AuditRow.seq)).yield_per(1000):
        count += 1
        fields = {name: getattr(row, name) for name in HASHED_FIELDS}
        if row.seq != expected_seq:
            return VerifyResult(count, expected_seq, f"entry {expected_seq} is missing (next entry is {row.seq}): "
                                "an entry was deleted")
        if row.prev_hash != expected_prev:
            return VerifyResult(count, row.seq, f"entry {row.seq} does not link to entry {row.seq - 1}: "
                                "the previous entry was edited or deleted")
        if entry_hash(fields) != row.hash:
            return VerifyResult(count, row.seq, f"entry {row.seq} ({row.action} by {row.actor}) was edited: "
                                "its content no longer matches its hash")
        expected_prev, expected_seq = row.hash, row.seq + 1
    return VerifyResult(count, None, f"{count} entries, chain intact")


def entry_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditRow)) or 0)
