"""Shared fixtures of the output tests: the bundled example checked as of a fixed day."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from plantgate.checks import CheckContext, run_checks
from plantgate.load import load_site
from plantgate.outputs.formats import CheckReport
from tests.sites import copy_example

AS_OF = dt.date(2026, 11, 26)
GOLDEN = Path(__file__).parent / "golden"


def check_report(folder: Path) -> CheckReport:
    site = load_site(folder)
    context = CheckContext(site, AS_OF)
    return CheckReport(site, run_checks(site, AS_OF, context), AS_OF, context)


@pytest.fixture(scope="module")
def example_report(tmp_path_factory: pytest.TempPathFactory) -> CheckReport:
    return check_report(copy_example(tmp_path_factory.mktemp("example")))


def compare_golden(name: str, text: str) -> None:
    """Compare with tests/outputs/golden/NAME; PLANTGATE_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("PLANTGATE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden {path}; run with PLANTGATE_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    if name.endswith(".json"):
        assert json.loads(text) == json.loads(expected)
    else:
        assert text == expected
