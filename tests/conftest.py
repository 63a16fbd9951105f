"""Shared fixtures: the third-party corpus in ../shared is used by path and never copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["tests.receivers"]  # local SMTP, webhook and syslog receivers for notification tests

# Hypothesis profiles. CI (.ci/run exports HYPOTHESIS_PROFILE=ci, and CI=true selects it too) draws the same
# examples every run and keeps no example database, so a submission never fails on a draw nobody saw. "dev" is the
# random default for local runs; "fuzz" is the long random run that bench/fuzz_readers.py selects.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile("fuzz", deadline=None, max_examples=2000, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

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
