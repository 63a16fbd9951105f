"""Shared fixtures: the third-party corpus in ../shared is used by path and never copied."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.receivers"]  # local SMTP, webhook and syslog receivers for notification tests

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path inside ../shared, skipping the calling test when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"third-party corpus not present at {path} (it lives beside the project, in ../shared)")
    return path


@pytest.fixture
def shared_dir() -> Path:
    return shared_path()
