"""The job bodies: plain, idempotent functions of a database URL and ids, whatever queue runs them.

Each returns what it did and the follow-up jobs it asks for (a re-judging asks for the checks
of the sites it touches; a check asks for the delivery of what it queued in the outbox). The
queue layer enqueues the follow-ups, so these functions know nothing of Procrastinate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from plantgate.db.engine import make_engine, session_factory
from plantgate.db.tables import CheckResultRow, FleetInputRow, RevisionRow, SiteRow, utc_now
from plantgate.errors import InputError
from plantgate.firewalls.gc_pause import collector_paused
from plantgate.jobs import notify, results
from plantgate.jobs.inputs import BASELINE, FEEDS, FleetInputs, current, current_row
from plantgate.jobs.judge import Judgement, judge_revision
from plantgate.jobs.results import DONE, ResultKey
from plantgate.web.rendering import shown, shown_all
from plantgate.web.settings import Settings

_sessions: dict[str, sessionmaker[Session]] = {}
_lock = threading.Lock()
_workdirs: dict[str, Path] = {}


@dataclass(frozen=True)
class FollowUp:
    """A job that a job asks for: task name, arguments, and the queueing lock that keeps it single."""

    task: str
    kwargs: dict[str, Any]
    lock: str | None = None


@dataclass
class Outcome:
    summary: str
    follow_ups: list[FollowUp] = field(default_factory=list)


def sessions_for(url: str) -> sessionmaker[Session]:
    """One engine per database per process (a worker runs many jobs)."""
    with _lock:
        if url not in _sessions:
            _sessions[url] = session_factory(make_engine(url))
        return _sessions[url]


def workdir(url: str) -> Path:
    """This process's scratch folder for jobs of the database at ``url``.

    One per database: revision folders are named by revision id, and ids restart in every
    database, so a shared folder gave one database's job another database's treaty."""
    with _lock:
        if url not in _workdirs:
            _workdirs[url] = Path(tempfile.mkdtemp(prefix="plantgate-jobs-"))
        return _workdirs[url]


_worker_name = ""


def set_worker_name(name: str) -> None:
    """The name results record as computed by (``plantgate worker --name``); HOST:PID by default."""
    global _worker_name
    _worker_name = name


def worker_name() -> str:
    return _worker_name or f"{socket.gethostname()}:{os.getpid()}"


def run_task(task: str, url: str, kwargs: dict[str, Any], settings: Settings | None) -> Outcome:
    """Run the job body named ``task`` with the cyclic garbage collector paused, whichever queue runs it.

    A check of a 10,000-conduit site allocates millions of objects that live to its end and
    contain next to no reference cycles: with the collector on it ran 21 full collections that
    found 76 objects, and took 11-12 s of CPU instead of 6.2 s at the same peak memory
    (measured on the bench_web site). The young generation is scanned once at the end."""
    function: Any = getattr(sys.modules[__name__], task)
    with collector_paused():
        outcome: Outcome = function(url, **kwargs, settings=settings)
    return outcome


def check_follow_up(key: ResultKey) -> FollowUp:
    return FollowUp("check_revision", {"revision_id": key.revision_id, "as_of": key.as_of, "feeds": key.feeds,
                                       "baseline": key.baseline}, key.lock)


def fold_follow_up(upload_id: int) -> FollowUp:
    """The job that folds an uploaded config into a new revision (one per upload, however often asked)."""
    return FollowUp("fold_config", {"upload_id": upload_id}, f"upload:{upload_id}")


def deliveries(rows: list[Any]) -> list[FollowUp]:
    return [FollowUp("deliver", {"outbox_id": row.id}, f"deliver:{row.id}") for row in rows]


def check_revision(url: str, revision_id: int, as_of: str, feeds: str = "", baseline: str = "",
                   settings: Settings | None = None) -> Outcome:
    """Judge a revision with the given fleet inputs and store the result once (see ``results``)."""
    settings = settings or Settings(database_url=url)
    key = ResultKey(revision_id, as_of, feeds, baseline)
    with sessions_for(url)() as db:
        revision = db.get(RevisionRow, revision_id)
        if revision is None:
            return Outcome(f"revision id {revision_id} does not exist")
        if not results.begin(db, key, revision.site_id, worker_name()):
            return Outcome(f"revision id {revision_id} as of {as_of}: already checked")
        started = time.perf_counter()
        try:
            judgement = judge_revision(db, revision, dt.date.fromisoformat(as_of), key.inputs, workdir(url))
        except InputError as exc:  # the same input fails the same way every time: stored, not retried
            db.rollback()
            results.fail(db, key, "the revision does not load: " + "; ".join(shown_all([str(p) for p in exc.problems],
                                                                                        workdir(url))))
            return Outcome(f"revision id {revision_id}: does not load")
        except Exception as exc:
            db.rollback()
            results.fail(db, key, shown(f"internal error: {type(exc).__name__}: {exc}", workdir(url)))
            raise  # the queue retries it
        previous = _previous_result(db, revision.site_id, key)
        wrote = results.finish(db, key, judgement.findings, judgement.facts, time.perf_counter() - started)
        queued = _announce(db, settings, db.get_one(SiteRow, revision.site_id), judgement, previous, key) \
            if wrote and previous is not None else []
        db.commit()
        return Outcome(f"revision id {revision_id} as of {as_of}: {len(judgement.findings)} findings"
                       + ("" if wrote else " (another run stored them first)"), deliveries(queued))


def _previous_result(db: Session, site_id: int, key: ResultKey) -> CheckResultRow | None:
    """The site's newest finished result other than ``key``: what "new" findings are new against."""
    return db.scalar(select(CheckResultRow).where(
        CheckResultRow.site_id == site_id, CheckResultRow.state == DONE,
        ~((CheckResultRow.revision_id == key.revision_id) & (CheckResultRow.as_of == key.as_of)
          & (CheckResultRow.feeds == key.feeds) & (CheckResultRow.baseline == key.baseline)))
        .order_by(CheckResultRow.finished_at.desc()).limit(1))


def _announce(db: Session, settings: Settings, site: SiteRow, judgement: Judgement, previous: CheckResultRow,
              key: ResultKey) -> list[Any]:
    """Outbox rows for the findings this result has and the previous one had not."""
    from plantgate.checks.finding import Severity
    from plantgate.outputs.cef import cef_events
    from plantgate.outputs.formats import CheckReport

    known = {f["fingerprint"] for f in previous.findings}
    new = [f for f in judgement.objects if f.fingerprint not in known]
    if not new or judgement.site is None or judgement.context is None:
        return []
    queued: list[Any] = []
    report = CheckReport(judgement.site, new, dt.date.fromisoformat(key.as_of), judgement.context)
    for finding, line in cef_events(report):
        event_key = f"{site.slug}:{key.revision_id}:{finding.fingerprint}"
        if finding.severity is Severity.CRITICAL:
            queued += notify.queue_event(db, settings, site, "critical_finding",
                                         f"[PlantGate] {site.slug}: new critical finding {finding.rule_id}",
                                         f"{finding.title}\n\n{finding.message}\n\nEvidence: "
                                         + ", ".join(str(e) for e in finding.evidence), event_key)
        soc = notify.queue_soc_event(db, settings, site, event_key, line, finding.severity, finding.rule_id)
        queued += [soc] if soc is not None else []
    return queued


def rejudge_after_feed_update(url: str, feeds: str, previous: str = "", as_of: str = "",
                              settings: Settings | None = None) -> Outcome:
    """Checks of the sites a feed update can change; the others' results carried over unchanged.

    A site is touched when a CVE it is exposed to (its last result's facts) changed in KEV, CSAF or
    Vulnrichment, or when its treaty matches an advisory that changed. Any other site's findings
    cannot change (only the vulnerability checks read feeds), so its last result is stored under the
    new feed digest as it is, and nobody re-computes it.
    """
    from plantgate.feeds.fleet import changed_cves

    settings = settings or Settings(database_url=url)
    day = as_of or (settings.as_of or dt.date.today()).isoformat()
    with sessions_for(url)() as db:
        new_row = current_row(db, FEEDS)
        if new_row is None or new_row.digest != feeds:
            return Outcome(f"feeds {feeds[:16]} are no longer current: nothing to do")
        old_row = db.scalar(select(FleetInputRow).where(FleetInputRow.kind == FEEDS, FleetInputRow.digest == previous)
                            .order_by(FleetInputRow.id.desc()).limit(1)) if previous else None
        old_summary = old_row.summary if old_row is not None else None
        cves = changed_cves(old_summary, new_row.summary)
        advisories = {a for a, c in new_row.summary["csaf"].items()
                      if old_summary is None or old_summary["csaf"].get(a) != c}
        baseline_row = current_row(db, BASELINE)
        inputs = FleetInputs(feeds, baseline_row.digest if baseline_row else "")
        follow: list[FollowUp] = []
        carried = 0
        for site in db.scalars(select(SiteRow).where(SiteRow.head_revision_id.is_not(None))).all():
            assert site.head_revision_id is not None
            key = ResultKey.of(site.head_revision_id, day, inputs)
            before = results.get(db, ResultKey(site.head_revision_id, day, previous, inputs.baseline))
            if before is None or before.state != DONE or _touched(db, site, before, cves, advisories):
                follow.append(check_follow_up(key))
            elif _carry_over(db, key, site.id, before):
                carried += 1
        db.commit()
        return Outcome(f"{len(follow)} sites to re-judge, {carried} carried over ({len(cves)} CVEs changed)",
                       follow)


def _touched(db: Session, site: SiteRow, before: CheckResultRow, cves: set[str], advisories: set[str]) -> bool:
    if any(item["cve"] in cves for item in before.facts.get("cves", [])):
        return True
    revision = db.get_one(RevisionRow, site.head_revision_id)
    matches = ((revision.document.get("vulnerabilities") or {}).get("matches") or [])
    return any(m.get("advisory") in advisories for m in matches)


def _carry_over(db: Session, key: ResultKey, site_id: int, before: CheckResultRow) -> bool:
    if results.get(db, key) is not None:
        return False
    db.add(CheckResultRow(revision_id=key.revision_id, as_of=key.as_of, feeds=key.feeds, baseline=key.baseline,
                          site_id=site_id, state=DONE, findings=before.findings, facts=before.facts, error="",
                          computations=0, worker=f"carried over from feeds {before.feeds[:16]}", seconds=0.0,
                          started_at=utc_now(), finished_at=utc_now()))
    db.flush()
    return True


def check_sites(url: str, as_of: str = "", settings: Settings | None = None) -> Outcome:
    """Checks of every site's head revision with the current fleet inputs (the nightly re-check)."""
    settings = settings or Settings(database_url=url)
    day = as_of or (settings.as_of or dt.date.today()).isoformat()
    with sessions_for(url)() as db:
        inputs = current(db)
        heads = db.scalars(select(SiteRow.head_revision_id).where(SiteRow.head_revision_id.is_not(None))).all()
        keys = [ResultKey.of(h, day, inputs) for h in heads if h is not None]
        todo = [k for k in keys if (r := results.get(db, k)) is None or r.state != DONE]
    return Outcome(f"{len(todo)} of {len(keys)} sites to check", [check_follow_up(k) for k in todo])


def deliver(url: str, outbox_id: int, settings: Settings | None = None) -> Outcome:
    settings = settings or Settings(database_url=url)
    with sessions_for(url)() as db:
        return Outcome(notify.deliver(db, settings, outbox_id))


def deliver_pending(url: str, settings: Settings | None = None) -> Outcome:
    """Deliveries for outbox rows still pending (their job was lost between commit and enqueue)."""
    with sessions_for(url)() as db:
        rows = notify.pending_ids(db)
    return Outcome(f"{len(rows)} pending", [FollowUp("deliver", {"outbox_id": i}, f"deliver:{i}") for i in rows])


def fold_config(url: str, upload_id: int, settings: Settings | None = None) -> Outcome:
    """Parse an uploaded firewall config, judge the treaty with it, and commit it as the site's next revision.

    Idempotent: the upload row turns ``done`` (with its revision) in the same transaction as the
    revision's commit, so a retried job finds it done; a refusal (unparsable config, a treaty that
    no longer loads, a head that moved on) is stored on the row with its reason and not retried.
    """
    from plantgate.db.revisions import StaleRevision, blob, commit_revision, snapshot_of
    from plantgate.db.tables import ConfigUploadRow
    from plantgate.firewalls.base import parse_config
    from plantgate.web import checking

    with sessions_for(url)() as db:
        upload = db.get(ConfigUploadRow, upload_id)
        if upload is None or upload.state != "queued":
            return Outcome(f"upload {upload_id}: nothing to do")
        site = db.get_one(SiteRow, upload.site_id)
        base = db.get_one(RevisionRow, upload.based_on)
        entry = next((f for f in base.document.get("firewalls", []) if f["id"] == upload.firewall_id), None)
        content = blob(db, upload.sha256)
        try:
            if entry is None:
                raise InputError.at(upload.firewall_id, 0, 0, "unknown firewall", "a firewall id of the treaty")
            scratch = workdir(url) / "uploads" / upload.sha256
            scratch.mkdir(parents=True, exist_ok=True)
            target = scratch / os.path.basename(entry["config"])
            target.write_bytes(content)
            try:  # a config the parser refuses never lands; its problems name the treaty path, not ours
                parse_config(target, entry["vendor"], entry.get("context", ""))
            except InputError as exc:
                raise InputError([dataclasses.replace(p, location=dataclasses.replace(p.location, file=entry["config"]))
                                  for p in exc.problems]) from None
            snapshot = snapshot_of(db, base)
            snapshot.files[entry["config"]] = content
            # nor one that breaks the treaty
            judged = checking.judge_snapshot(snapshot, dt.date.fromisoformat(upload.as_of), workdir(url))
            revision = commit_revision(db, site, snapshot, based_on=base.id, author_id=upload.requested_by,
                                       actor=upload.actor, message=f"deployed config of {upload.firewall_id} uploaded",
                                       validated=(judged.document, judged.digests))
        except (InputError, StaleRevision) as exc:
            db.rollback()
            reason = "; ".join(shown_all([str(p) for p in exc.problems], workdir(url)) if isinstance(exc, InputError)
                               else [shown(str(exc), workdir(url))])
            db.execute(update_upload(upload_id, state="refused", error=reason))
            db.commit()
            return Outcome(f"upload {upload_id} refused: {reason}")
        db.execute(update_upload(upload_id, state="done", result_revision_id=revision.id))
        db.commit()
        inputs = current(db)
        return Outcome(f"upload {upload_id}: revision {revision.number} of {site.slug}",
                       [check_follow_up(ResultKey.of(revision.id, upload.as_of, inputs))])


def update_upload(upload_id: int, **values: Any) -> Any:
    from sqlalchemy import update

    from plantgate.db.tables import ConfigUploadRow

    return (update(ConfigUploadRow).where(ConfigUploadRow.id == upload_id, ConfigUploadRow.state == "queued")
            .values(**values).execution_options(synchronize_session=False))


def exceptions_expiring(url: str, as_of: str = "", settings: Settings | None = None) -> Outcome:
    """Notifications for signed risk exceptions whose outage ends within ``exception_expiry_days`` (daily job).

    An exception accepted "until outage X" lapses when X ends; the people the settings name hear of it
    once per exception and end date (the outbox key), however often this job runs.
    """
    settings = settings or Settings(database_url=url)
    day = dt.date.fromisoformat(as_of) if as_of else (settings.as_of or dt.date.today())
    horizon = day + dt.timedelta(days=settings.exception_expiry_days)
    queued: list[Any] = []
    with sessions_for(url)() as db:
        for site in db.scalars(select(SiteRow).where(SiteRow.head_revision_id.is_not(None))).all():
            document = db.get_one(RevisionRow, site.head_revision_id).document
            outages = {o["id"]: o for o in ((document.get("patch_policy") or {}).get("outages") or [])}
            for exception in ((document.get("vulnerabilities") or {}).get("exceptions") or []):
                outage = outages.get(exception.get("until_outage") or "")
                if not exception.get("signed_by") or outage is None:
                    continue
                ends = dt.date.fromisoformat(outage["end"])
                if day <= ends <= horizon:
                    queued += notify.queue_event(
                        db, settings, site, "exception_expiring",
                        f"[PlantGate] {site.slug}: exception {exception['id']} expires on {ends}",
                        f"The signed exception {exception['id']} for {exception['asset']} "
                        f"({', '.join(exception.get('cves', []))}) lasts until outage {outage['id']}, which ends on "
                        f"{ends}. Patch in the outage or take a new decision.",
                        f"expiring:{site.slug}:{exception['id']}:{ends}")
        db.commit()
    return Outcome(f"{len(queued)} notifications of expiring exceptions", deliveries(queued))


REPORT_FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def render_report(url: str, revision_id: int, as_of: str, feeds: str = "", baseline: str = "", format: str = "html",
                  settings: Settings | None = None) -> Outcome:
    """Render the leadership report of a revision (HTML, or PDF from the same HTML) and store it once."""
    from plantgate.db.revisions import store_blob
    from plantgate.db.tables import ReportRow
    from plantgate.outputs.report.html import report_html

    if format not in REPORT_FORMATS:
        raise ValueError(f"unknown report format {format!r}")
    key = (revision_id, as_of, feeds, baseline, format)
    with sessions_for(url)() as db:
        if db.get(ReportRow, key) is not None:
            return Outcome(f"report of revision id {revision_id} ({format}): already rendered")
        revision = db.get(RevisionRow, revision_id)
        if revision is None:
            return Outcome(f"revision id {revision_id} does not exist")
        judgement = judge_revision(db, revision, dt.date.fromisoformat(as_of), FleetInputs(feeds, baseline),
                                   workdir(url))
        assert judgement.context is not None
        html = report_html(judgement.context, judgement.objects)
        if format == "pdf":
            from plantgate.outputs.report.pdf import html_to_pdf

            content = html_to_pdf(html)
        else:
            content = html.encode()
        digest = store_blob(db, content)
        try:
            with db.begin_nested():
                db.add(ReportRow(revision_id=revision_id, as_of=as_of, feeds=feeds, baseline=baseline, format=format,
                                 sha256=digest))
        except IntegrityError:  # another run stored the same report first
            pass
        db.commit()
    return Outcome(f"report of revision id {revision_id} ({format}): {len(content):,} bytes")


ZONE_PICTURES = {"matrix": "application/json", "firewalls": "application/json", "diagram": "image/svg+xml"}
"""What ``render_zone_pictures`` stores per revision and day (as ``reports`` rows with no fleet inputs): the zone
matrix and the firewalls' rule listings as JSON, the linked zone diagram as safe SVG (empty without Graphviz)."""


def render_zone_pictures(url: str, revision_id: int, as_of: str, settings: Settings | None = None) -> Outcome:
    """Compute the zone matrix (per hop and end to end), the rule listings and the diagram of a revision, once.

    These are O(zone pairs x firewalls) packet-set work, seconds on a large site: the pages never do it."""
    import json
    import os

    from plantgate.checks.context import CheckContext
    from plantgate.db.revisions import store_blob
    from plantgate.db.tables import ReportRow
    from plantgate.outputs.diagram import GraphvizMissing, inline_svg
    from plantgate.outputs.firewall_listing import firewall_listing
    from plantgate.outputs.svg_safe import safe_svg
    from plantgate.outputs.zone_matrix import zone_matrix
    from plantgate.web import checking

    with sessions_for(url)() as db:
        if all(db.get(ReportRow, (revision_id, as_of, "", "", name)) is not None for name in ZONE_PICTURES):
            return Outcome(f"zone pictures of revision id {revision_id}: already rendered")
        revision = db.get(RevisionRow, revision_id)
        if revision is None:
            return Outcome(f"revision id {revision_id} does not exist")
        site = db.get_one(SiteRow, revision.site_id)
        space = checking.revision_workspace(db, revision, workdir(url))
        ctx = CheckContext(space.site, dt.date.fromisoformat(as_of))
        folder = str(space.folder.resolve())

        def relative(path: str) -> str:
            path = str(path)
            return os.path.relpath(path, folder) if os.path.isabs(path) else path

        try:
            try:
                diagram = safe_svg(inline_svg(ctx, f"/sites/{site.slug}"))
            except GraphvizMissing:
                diagram = ""
            parts = {"matrix": json.dumps(zone_matrix(ctx, relative)), "firewalls": json.dumps(firewall_listing(
                ctx, relative)), "diagram": diagram}
        except InputError as exc:  # stored as the answer, so that the pages say why instead of waiting forever
            error = shown(str(checking.relative_error(exc, space.folder)), workdir(url))
            parts = {"matrix": json.dumps({"zones": [], "cells": {}, "error": error}), "firewalls": "{}",
                     "diagram": ""}
        for name, text in parts.items():
            digest = store_blob(db, text.encode())
            try:
                with db.begin_nested():
                    db.add(ReportRow(revision_id=revision_id, as_of=as_of, feeds="", baseline="", format=name,
                                     sha256=digest))
            except IntegrityError:  # another run stored it first
                pass
        db.commit()
    return Outcome(f"zone pictures of revision id {revision_id}: {sum(len(t) for t in parts.values()):,} bytes")
