"""What the app does when it starts and stops: its scratch folder, and the rows that can never be used again.

Each app process materialises revisions, candidates and uploads in a scratch folder of its own
(``plantgate-web-<pid>-*`` in the system's temporary folder). Those files are treaty evidence:
firewall configs of the plant. So the folder is removed when the server stops, and at start-up
the folders of processes that died without stopping (a kill, a crash, a power cut) are removed
too; a folder whose process still runs (another uvicorn worker) is left alone. At start-up the
database is also purged of expired sessions, spent links and old login-throttle rows
(``plantgate admin purge`` does the same on demand).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI

from plantgate.db import admin

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


def _purge(app: FastAPI) -> None:
    with app.state.sessions.begin() as session:
        counts = admin.purge(session)
    log.info("purged at start-up: %s", counts)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Purge at start-up; at shutdown stop the background checks and remove the scratch folder."""
    await anyio.to_thread.run_sync(_purge, app)
    try:
        yield
    finally:
        app.state.checks.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(app.state.workdir, ignore_errors=True)
