"""What the app does when it starts and stops: its scratch folder, and the rows that can never be used again.

Each app process materialises revisions, candidates and uploads in a scratch folder of its own
(``plantgate-web-<pid>-*`` in the system's temporary folder). Those files are treaty evidence:
firewall configs of the plant. So the folder is removed when the server stops, and at start-up
the folders of processes that died without stopping (a kill, a crash, a power cut) are removed
too; a folder whose process still runs (another uvicorn worker) is left alone. At start-up the
database is also purged of expired sessions, spent links and old login-throttle rows
(``plantgate admin purge`` does the same on demand).

While it runs, the app anchors the audit log (plantgate.db.audit_anchor) when a signing key is
configured: a signed checkpoint after every signature (``checkpoint_now``, called by the routes
that record one) and every ``Settings.audit_checkpoint_minutes`` when the log has grown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
from fastapi import FastAPI

from plantgate.db import admin, audit_anchor
from plantgate.web.settings import Settings

PREFIX = "plantgate-web-"
_OWN = re.compile(re.escape(PREFIX) + r"(\d+)-")
log = logging.getLogger(__name__)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_workdirs(parent: Path | None = None) -> list[Path]:
    """Remove the scratch folders of app processes that are gone; returns what was removed."""
    parent = parent or Path(tempfile.gettempdir())
    removed = []
    for folder in parent.glob(PREFIX + "*"):
        match = _OWN.match(folder.name)
        if match and folder.is_dir() and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def make_workdir() -> Path:
    """This process's scratch folder (0700), after removing those of dead processes."""
    remove_stale_workdirs()
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))


def checkpoint_now(app: FastAPI) -> None:
    """Sign the audit log's head now, if the app has a signing key (a failure is logged, never raised: the
    decision it follows is already committed, and the next checkpoint covers it)."""
    signer = app.state.audit_signer
    if signer is None:
        return
    settings: Settings = app.state.settings
    try:
        with app.state.sessions() as session:
            audit_anchor.write_checkpoint(session, signer, file=settings.audit_checkpoint_file,
                                          syslog=settings.audit_syslog)
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("could not write an audit checkpoint")


async def _every(minutes: float, work: Callable[[FastAPI], None], app: FastAPI) -> None:
    """Run ``work`` off the event loop every ``minutes`` for as long as the app runs."""
    while True:
        await anyio.sleep(max(1.0, minutes * 60))
        await anyio.to_thread.run_sync(work, app)


def _purge(app: FastAPI) -> None:
    """Delete expired sessions, spent links and old throttle rows (a failure is logged: the next run retries)."""
    try:
        with app.state.sessions.begin() as session:
            counts = admin.purge(session)
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("could not purge expired sessions and throttle rows")
        return
    log.info("purged: %s", counts)


def _resume_uploads(app: FastAPI) -> None:
    """Queue again every upload still waiting for its job: the embedded queue drops what it had not started
    when the server stops, and an accepted (202) upload must not wait forever. The job does nothing to an
    upload that another process has already decided, so every server process may do this."""
    from sqlalchemy import select

    from plantgate.db.tables import ConfigUploadRow
    from plantgate.jobs.work import fold_follow_up

    with app.state.sessions() as session:
        waiting = session.scalars(select(ConfigUploadRow.id).where(ConfigUploadRow.state == "queued")).all()
    for upload_id in waiting:
        app.state.jobs.submit(fold_follow_up(upload_id))
    if waiting:
        log.info("queued again at start-up: %d config upload(s)", len(waiting))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Purge and resume waiting uploads at start-up, then keep purging and anchoring the audit log; at shutdown
    close the job queue and remove the scratch folder."""
    await anyio.to_thread.run_sync(_purge, app)
    await anyio.to_thread.run_sync(_resume_uploads, app)
    settings: Settings = app.state.settings
    loop = asyncio.get_running_loop()
    housekeeping = [loop.create_task(_every(settings.purge_minutes, _purge, app))]
    if app.state.audit_signer:
        housekeeping.append(loop.create_task(_every(settings.audit_checkpoint_minutes, checkpoint_now, app)))
    try:
        yield
    finally:
        for task in housekeeping:
            task.cancel()
        await anyio.to_thread.run_sync(app.state.jobs.close)  # the running job finishes, queued ones are dropped
        shutil.rmtree(app.state.workdir, ignore_errors=True)
