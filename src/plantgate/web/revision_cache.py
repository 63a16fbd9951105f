"""In-process caches of what never changes once stored: revision documents, their search index, and findings.

A treaty revision is immutable, yet with a 10,000-conduit register its JSON is about 5 MB:
decoding it from the database on every page view took ~200 ms and the findings another
~80 ms, which under 50 concurrent sessions put p99 in the seconds (bench/bench_web.py). The
hot pages (register, findings, dashboard and the JSON API) therefore read the head revision
through this cache, keyed by revision id, held per app (one database per app), bounded, and
thread-safe (sync routes run in a thread pool). The site's head pointer itself is always read
fresh from the database, so a new revision is seen on the very next request.

Derived from a revision and cached with it, because they were the next hot spots under load:
register searches (a scan of 10,000 conduits per keystroke), each conduit's JSON for the API
(pydantic re-validated and re-encoded 100 dicts per call), rendered register tables, and the
analysis workspace of the detail pages (the revision's treaty, firewalls and packet sets:
loading it is ~0.5 s, so it is built once, on the first detail view). Findings are kept here
once their check result is stored (by a job, ``check_runs``); until then every view asks the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Text, cast, select, tuple_
from sqlalchemy.orm import Session

from plantgate.db.tables import CheckResultRow, RevisionRow
from plantgate.jobs.queue import JobQueue
from plantgate.web import check_runs, checking, long_lived
from plantgate.web.check_runs import CheckRun
from plantgate.web.result_facts import ResultFacts

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


class _Lru(OrderedDict[K, V]):
    def __init__(self, capacity: int, large: bool = False) -> None:
        """``large``: its values are many objects (decoded documents, findings, parsed firewalls), frozen once
        made (``long_lived``); rendered text and search hits are not worth a freeze."""
        super().__init__()
        self.capacity = capacity
        self.large = large
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
        if self.large:
            long_lived.settle()
        return value

    def peek(self, key: K) -> V | None:
        with self.lock:
            return self.get(key)

    def put(self, key: K, value: V) -> None:
        self.put_all({key: value})

    def put_all(self, items: dict[K, V]) -> None:
        with self.lock:
            for key, value in items.items():
                self[key] = value
                self.move_to_end(key)
            while len(self) > self.capacity:
                self.popitem(last=False)
        if self.large and items:
            long_lived.settle()


def conduit_json(conduit: dict[str, Any]) -> str:
    """One conduit as the API sends it (the same JSON as FastAPI's encoder: compact, UTF-8)."""
    return json.dumps(conduit, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@dataclass(frozen=True)
class CachedRevision:
    """The parts of a stored revision the hot pages read; never mutate ``document``."""

    id: int
    number: int
    site_id: int
    document: dict[str, Any]
    haystacks: list[str] = field(repr=False)
    searches: _Lru[tuple[str, str], list[dict[str, Any]]] = field(default_factory=lambda: _Lru(256), repr=False)
    fragments: _Lru[tuple[Any, ...], str] = field(default_factory=lambda: _Lru(256), repr=False)
    """Rendered HTML that depends on this revision and the request's parameters only (not on who asks)."""
    values: _Lru[str, Any] = field(default_factory=lambda: _Lru(32, large=True), repr=False)
    """Small indexes of the document (e.g. objects by id), made once on first use."""
    _json: dict[str, str] = field(default_factory=dict, repr=False)

    def derived_value(self, name: str, make: Callable[[], V]) -> V:
        """A value computed from this revision alone, kept with it."""
        value: V = self.values.get_or_make(name, make)
        return value

    def conduits(self, q: str = "", zone: str = "") -> list[dict[str, Any]]:
        """The register filtered by text and zone (the whole register, unfiltered, at no cost)."""
        everything: list[dict[str, Any]] = self.document.get("conduits", [])
        needle = q.strip().lower()
        if not needle and not zone:
            return everything
        return self.searches.get_or_make((needle, zone),
                                         lambda: filter_conduits(everything, needle, zone, self.haystacks))

    @cached_property
    def conduit_ids(self) -> frozenset[str]:
        return frozenset(c["id"] for c in self.document.get("conduits", []))

    def conduit(self, conduit_id: str) -> dict[str, Any] | None:
        return self._by_id.get(conduit_id)

    @cached_property
    def _by_id(self) -> dict[str, dict[str, Any]]:
        return {c["id"]: c for c in self.document.get("conduits", [])}

    def conduits_json(self, conduits: list[dict[str, Any]]) -> str:
        """A JSON array of these conduits (each encoded once per revision, then reused)."""
        encoded = self._json
        parts = []
        for conduit in conduits:
            text = encoded.get(conduit["id"])
            if text is None:
                text = encoded[conduit["id"]] = conduit_json(conduit)
            parts.append(text)
        return "[" + ",".join(parts) + "]"


class RevisionCache:
    """Per-app cache of revisions and their findings (a few revisions: the head and its recent parents)."""

    def __init__(self, capacity: int = 4) -> None:
        self._revisions: _Lru[int, CachedRevision] = _Lru(capacity, large=True)
        self._documents: _Lru[str, CachedRevision] = _Lru(capacity)  # by the document text's SHA-256
        self._findings: _Lru[tuple[int, str, str, str], list[dict[str, Any]]] = _Lru(capacity * 2)
        self._findings_by_text: _Lru[str, list[dict[str, Any]]] = _Lru(capacity * 2, large=True)  # by SHA-256
        self._workspaces: _Lru[int, checking.RevisionWorkspace] = _Lru(2, large=True)  # tens of MB at 10,000 conduits
        self._conduit_views: _Lru[tuple[int, str], checking.ConduitView] = _Lru(512)
        self._derived: _Lru[tuple[Any, ...], Any] = _Lru(64, large=True)
        self._facts: _Lru[tuple[int, str, str, str], ResultFacts] = _Lru(4096, large=True)

    def revision(self, db: Session, revision_id: int) -> CachedRevision:
        """The revision's document and what is derived from it, decoded once per process.

        A config upload makes a revision whose treaty document is the previous one's, text for text:
        that revision shares the decoded document, its search index and its encoded conduits instead
        of decoding 5 MB again (~100-200 ms holding the interpreter, which every page of the process
        waited for). Rendered fragments stay per revision: they read its evidence files too."""
        def load() -> CachedRevision:
            row_id, number, site_id, text = db.execute(
                select(RevisionRow.id, RevisionRow.number, RevisionRow.site_id, cast(RevisionRow.document, Text))
                .where(RevisionRow.id == revision_id)).one()
            digest = hashlib.sha256(text.encode()).hexdigest()
            same = self._documents.peek(digest)
            if same is not None:
                return CachedRevision(row_id, number, site_id, same.document, same.haystacks, same.searches,
                                      _json=same._json)
            document = orjson.loads(text)
            made = CachedRevision(row_id, number, site_id, document,
                                  [conduit_haystack(c) for c in document.get("conduits", [])])
            self._documents.put(digest, made)
            return made

        return self._revisions.get_or_make(revision_id, load)

    def check_run(self, queue: JobQueue, db: Session, revision_id: int, as_of: dt.date, wait: float) -> CheckRun:
        """The revision's check result on ``as_of`` with the current fleet inputs: from memory once stored, else
        from the database (its job enqueued when it is not there; never computed here)."""
        from plantgate.jobs.inputs import current

        inputs = current(db)
        key = (revision_id, as_of.isoformat(), inputs.feeds, inputs.baseline)
        if (found := self._findings.peek(key)) is not None:
            return CheckRun(check_runs.DONE, found)
        run = check_runs.run(queue, db, revision_id, as_of, wait, self._decoded_findings)
        if run.state == check_runs.DONE and run.findings is not None:
            self._findings.put(key, run.findings)
        return run

    def _decoded_findings(self, text: str) -> list[dict[str, Any]]:
        """Stored findings decoded once per distinct text: a config upload that changes no finding gives its new
        revision the same findings, text for text, and the process decodes them once (~40 ms of held interpreter
        per revision and process at 10,000 conduits, which every page view of the process waited for)."""
        digest = hashlib.sha256(text.encode()).hexdigest()
        found: list[dict[str, Any]] = self._findings_by_text.get_or_make(digest, lambda: orjson.loads(text))
        return found

    def workspace(self, db: Session, revision_id: int, workdir: Path) -> checking.RevisionWorkspace:
        """The revision's analysis workspace (treaty model, evidence files, parsed firewalls, packet sets)."""
        return self._workspaces.get_or_make(
            revision_id, lambda: checking.revision_workspace(db, db.get_one(RevisionRow, revision_id), workdir))

    def conduit_view(self, db: Session, revision_id: int, conduit_id: str, workdir: Path) -> checking.ConduitView:
        """One conduit's implementing rules and nearby exposure in a revision (both immutable: computed once)."""
        def make() -> checking.ConduitView:
            space = self.workspace(db, revision_id, workdir)
            return checking.conduit_view(space.site, conduit_id, space.context)

        return self._conduit_views.get_or_make((revision_id, conduit_id), make)

    def stored(self, key: tuple[Any, ...]) -> Any:
        """What ``derived`` holds under ``key``, or None (nothing is made)."""
        return self._derived.peek(key)

    def derived(self, key: tuple[Any, ...], make: Callable[[], V]) -> V:
        """Anything else computed from immutable inputs that ``key`` names completely (e.g. a change's impact
        keyed by its base revision, candidate digest and record with its decisions)."""
        value: V = self._derived.get_or_make(key, make)
        return value

    def result_facts(self, db: Session, keys: list[tuple[int, str, str, str]]) -> dict[tuple[int, str, str, str],
                                                                                      ResultFacts]:
        """The fleet facts of stored check results by key (revision id, as of, feeds, baseline), decoded and
        indexed once per process: a ``done`` result is never written again. Only the misses are read, in
        one query."""
        found = {key: facts for key in keys if (facts := self._facts.peek(key)) is not None}
        missing = [key for key in keys if key not in found]
        if missing:
            columns = (CheckResultRow.revision_id, CheckResultRow.as_of, CheckResultRow.feeds, CheckResultRow.baseline)
            read = {(revision_id, as_of, feeds, baseline): ResultFacts.of(facts)
                    for revision_id, as_of, feeds, baseline, facts in db.execute(
                        select(*columns, CheckResultRow.facts).where(tuple_(*columns).in_(missing),
                                                                     CheckResultRow.state == check_runs.DONE))}
            self._facts.put_all(read)
            found.update(read)
        return found
