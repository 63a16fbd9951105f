"""Job tests run real ``plantgate worker`` processes against the PostgreSQL test database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from plantgate.db.engine import make_engine, upgrade
from tests.web.conftest import _reset_postgres, postgres_server_url  # noqa: F401 - the session's database

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url(postgres_server_url: str) -> str:  # noqa: F811
    """The session's PostgreSQL database, emptied and migrated (Procrastinate's tables included)."""
    _reset_postgres(postgres_server_url)
    engine = make_engine(postgres_server_url)
    upgrade(engine)
    engine.dispose()
    return postgres_server_url


class Workers:
    """Real worker processes (``python -m plantgate.cli worker``), stopped at the end of the test."""

    def __init__(self, url: str, logs: Path) -> None:
        self.url, self.logs, self.processes = url, logs, list[subprocess.Popen[bytes]]()

    def start(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "plantgate.cli", "worker", "--database-url", self.url, "--name", name, *extra],
            stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def workers(pg_url: str, tmp_path: Path) -> Iterator[Workers]:
    running = Workers(pg_url, tmp_path)
    yield running
    running.stop()
