"""Checks on the Procrastinate queue with real worker processes: exactly once per revision, and no job lost
when a worker is killed mid-job."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import undefer

from plantgate.db import revisions
from plantgate.db.engine import make_engine, session_factory
from plantgate.db.tables import CheckResultRow, SiteRow
from plantgate.jobs.queue import ProcrastinateQueue
from plantgate.jobs.work import FollowUp
from tests.jobs.conftest import Workers
from tests.sites import copy_example

AS_OF = "2026-11-26"


def import_sites(url: str, tmp_path: Path, count: int) -> None:
    folder = copy_example(tmp_path)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        for number in range(count):
            revisions.import_folder(session, folder, slug=f"plant-{number:02d}", actor="test")


def enqueue(url: str, job: FollowUp) -> None:
    queue = ProcrastinateQueue(url)
    try:
        queue.submit(job)
    finally:
        queue.close()


def wait_for(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def test_two_workers_check_every_site_exactly_once_per_revision(pg_url: str, workers: Workers,
                                                                tmp_path: Path) -> None:
    import_sites(pg_url, tmp_path, 20)
    enqueue(pg_url, FollowUp("check_sites", {"as_of": AS_OF}, "check_sites"))
    enqueue(pg_url, FollowUp("check_sites", {"as_of": AS_OF}, "check_sites"))  # asked twice: still once per site
    first, second = workers.start("w1"), workers.start("w2")
    sessions = session_factory(make_engine(pg_url))

    def all_done() -> bool:
        with sessions() as session:
            return len(session.scalars(select(CheckResultRow).where(CheckResultRow.state == "done")).all()) == 20

    wait_for(all_done, 300, "20 sites checked")
    enqueue(pg_url, FollowUp("check_sites", {"as_of": AS_OF}, "check_sites"))  # nothing left to check
    time.sleep(2)
    with sessions() as session:
        rows = session.scalars(select(CheckResultRow).options(undefer(CheckResultRow.findings))).all()
        heads = set(session.scalars(select(SiteRow.head_revision_id)))
        jobs = Counter(session.execute(text(
            "SELECT queueing_lock FROM procrastinate_jobs WHERE task_name = 'plantgate.check_revision'")).scalars())
    assert {r.revision_id for r in rows} == heads and len(rows) == 20
    assert all(r.state == "done" and r.computations == 1 and r.as_of == AS_OF for r in rows)
    assert set(jobs.values()) == {1}, "one check job per revision"
    assert {r.worker for r in rows} == {"w1", "w2"}, "both workers took sites"
    assert len({len(r.findings) for r in rows}) == 1  # the same treaty everywhere, the same findings
    assert first.poll() is None and second.poll() is None
    niceness = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)  # checks yield the CPU to the web app
    assert os.getpriority(os.PRIO_PROCESS, first.pid) == niceness == os.getpriority(os.PRIO_PROCESS, second.pid)

    edited = new_revisions(pg_url, [f"plant-{n:02d}" for n in range(0, 20, 4)])  # 5 sites move on
    for _ in range(2):
        enqueue(pg_url, FollowUp("check_sites", {"as_of": AS_OF}, "check_sites"))
    wait_for(lambda: done_count(sessions) == 25, 300, "the 5 new revisions checked")
    time.sleep(2)
    with sessions() as session:
        per_revision = Counter(session.scalars(select(CheckResultRow.revision_id)))
        jobs = session.execute(text("SELECT queueing_lock, status FROM procrastinate_jobs "
                                    "WHERE task_name = 'plantgate.check_revision'")).all()
        computations = set(session.scalars(select(CheckResultRow.computations)))
    assert set(per_revision) == heads | set(edited) and set(per_revision.values()) == {1}
    # A revision asked for again while its check runs may get a second job; that job finds the result taken
    # and computes nothing: every revision is judged exactly once.
    assert computations == {1}, "each revision judged once"
    assert len({lock for lock, _ in jobs}) == 25 and {status for _, status in jobs} == {"succeeded"}


def new_revisions(url: str, slugs: list[str]) -> list[int]:
    """A new head revision of each site (a re-approved conduit), as an implemented change commits one."""
    ids = []
    with session_factory(make_engine(url)).begin() as session:
        for slug in slugs:
            site = revisions.site_by_slug(session, slug)
            assert site is not None
            head = revisions.head(session, site)
            assert head is not None
            snapshot = revisions.snapshot_of(session, head)
            conduits = list(snapshot.document["conduits"])
            conduits[-1] = dict(conduits[-1], business_reason="re-approved")
            edited = type(snapshot)(dict(snapshot.document, conduits=conduits), snapshot.layout, snapshot.files)
            ids.append(revisions.commit_revision(session, site, edited, based_on=head.id, author_id=None,
                                                 actor="test", message="test: a new revision").id)
    return ids


def done_count(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return len(session.scalars(select(CheckResultRow).where(CheckResultRow.state == "done")).all())


def test_a_worker_killed_mid_job_loses_nothing(pg_url: str, workers: Workers, tmp_path: Path) -> None:
    import_sites(pg_url, tmp_path, 1)
    sessions = session_factory(make_engine(pg_url))
    with sessions() as session:
        head = session.scalar(select(SiteRow.head_revision_id))
    assert head is not None
    enqueue(pg_url, FollowUp("check_revision", {"revision_id": head, "as_of": AS_OF}, f"check:{head}"))
    doomed = workers.start("doomed", "--heartbeat-seconds", "1")

    def running() -> bool:
        with sessions() as session:
            row = session.get(CheckResultRow, (head, AS_OF, "", ""))
            return row is not None and row.state == "running"

    wait_for(running, 120, "the first worker to start the check")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)
    with sessions() as session:
        row = session.get(CheckResultRow, (head, AS_OF, "", ""))
        assert row is not None and row.state == "running" and row.worker == "doomed"
    workers.start("rescuer", "--heartbeat-seconds", "1", "--stalled-after", "3")

    def done() -> bool:
        with sessions() as session:
            row = session.get(CheckResultRow, (head, AS_OF, "", ""), populate_existing=True)
            return row is not None and row.state == "done"

    wait_for(done, 180, "another worker to finish the killed worker's job")
    with sessions() as session:
        rows = session.scalars(select(CheckResultRow)).all()
        statuses = session.execute(text("SELECT status, attempts FROM procrastinate_jobs WHERE task_name = "
                                        "'plantgate.check_revision'")).all()
    assert len(rows) == 1 and rows[0].worker == "rescuer" and rows[0].computations == 2
    assert [s for s, _ in statuses] == ["succeeded"] and statuses[0][1] >= 1  # one job, retried once
    assert "stalled jobs queued again" in workers.log("rescuer")
