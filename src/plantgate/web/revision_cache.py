"""In-process caches of what never changes once stored: revision documents, their search index, and findings.

A treaty revision is immutable, yet with a 10,000-conduit register its JSON is about 5 MB:
decoding it from the database on every page view took ~200 ms and the findings another
~80 ms, which under 50 concurrent sessions put p99 in the seconds (bench/bench_web.py). The
hot pages (register, findings, dashboard and the JSON API) therefore read the head revision
through this cache, keyed by revision id, held per app (one database per app), bounded, and
thread-safe (sync routes run in a thread pool). The site's head pointer itself is always read
fresh from the database, so a new revision is seen on the very next request.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from plantgate.db.tables import RevisionRow
from plantgate.web import checking

SEARCHED_FIELDS = ("id", "business_reason", "owner", "description", "from_zone", "to_zone", "services")
K = TypeVar("K")
V = TypeVar("V")


def conduit_haystack(conduit: dict[str, Any]) -> str:
    """The lower-cased text the register search looks in: id, reason, owner, description, zones, services."""
    return " ".join(str(conduit.get(k, "")) for k in SEARCHED_FIELDS).lower()


def filter_conduits(conduits: list[dict[str, Any]], q: str, zone: str,
                    haystacks: list[str] | None = None) -> list[dict[str, Any]]:
    """Register search: text in id, reason, owner or services; zone matches either end."""
    needle = q.strip().lower()
    out = []
    for index, conduit in enumerate(conduits):
        if zone and zone not in (conduit["from_zone"], conduit["to_zone"]):
            continue
        if needle and needle not in (haystacks[index] if haystacks is not None else conduit_haystack(conduit)):
            continue
        out.append(conduit)
    return out


@dataclass(frozen=True)
class CachedRevision:
    """The parts of a stored revision the hot pages read; never mutate ``document``."""

    id: int
    number: int
    site_id: int
    document: dict[str, Any]
    haystacks: list[str] = field(repr=False)

    def conduits(self, q: str = "", zone: str = "") -> list[dict[str, Any]]:
        return filter_conduits(self.document.get("conduits", []), q, zone, self.haystacks)


class _Lru(OrderedDict[K, V]):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        self.lock = threading.Lock()
        self.making: dict[K, threading.Lock] = {}

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The cached value; on a miss one thread makes it while the others wait (no stampede)."""
        with self.lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
            maker = self.making.setdefault(key, threading.Lock())
        with maker:
            with self.lock:
                if key in self:
                    return self[key]
            value = make()
            with self.lock:
                self[key] = value
                self.making.pop(key, None)
                while len(self) > self.capacity:
                    self.popitem(last=False)
        return value


class RevisionCache:
    """Per-app cache of revisions and their findings (a few revisions: the head and its recent parents)."""

    def __init__(self, capacity: int = 4) -> None:
        self._revisions: _Lru[int, CachedRevision] = _Lru(capacity)
        self._findings: _Lru[tuple[int, str], list[dict[str, Any]]] = _Lru(capacity * 2)

    def revision(self, db: Session, revision_id: int) -> CachedRevision:
        def load() -> CachedRevision:
            row = db.get_one(RevisionRow, revision_id)
            document = row.document
            return CachedRevision(row.id, row.number, row.site_id, document,
                                  [conduit_haystack(c) for c in document.get("conduits", [])])

        return self._revisions.get_or_make(revision_id, load)

    def findings(self, db: Session, revision_id: int, as_of: dt.date, workdir: Path) -> list[dict[str, Any]]:
        """The revision's findings on ``as_of`` (computed or read from the database once, then from memory)."""
        return self._findings.get_or_make(
            (revision_id, as_of.isoformat()),
            lambda: checking.findings(db, db.get_one(RevisionRow, revision_id), as_of, workdir))
