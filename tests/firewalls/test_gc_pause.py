"""The garbage collector is paused only for the duration of a parse or a run of the checks, and left as it was found."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator

import pytest

from plantgate.firewalls.base import parser_for
from tests.sites import EXAMPLE


def test_collector_back_on_after_a_parse_and_left_off_when_it_was_off() -> None:
    text = "access-list A extended permit tcp any any eq 22\n"
    assert gc.isenabled()
    parser_for("asa").parse(text, "a.cfg")
    assert gc.isenabled()
    gc.disable()
    try:
        parser_for("asa").parse(text, "a.cfg")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_command_freezes_what_it_parsed_instead_of_scanning_it() -> None:
    """In the ``plantgate`` process (``cli.run``) a parse leaves its objects frozen and the collector on."""
    import subprocess
    import sys

    probe = ("import gc\nfrom plantgate.firewalls.gc_pause import freeze_parsed_objects\n"
             "from plantgate.firewalls.base import parser_for\n"
             "before = gc.get_freeze_count()\nfreeze_parsed_objects()\n"
             "ruleset = parser_for('asa').parse('access-list A extended permit tcp any any eq 22\\n', 'a.cfg')\n"
             "print(gc.isenabled(), gc.get_freeze_count() > before, ruleset.rule_count())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True", "1"]
    assert gc.get_freeze_count() == 0, "the library (this test process) never freezes"


def test_checks_run_with_the_collector_paused_and_leave_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks' millions of live BDD handles are never scanned; the collector is back on afterwards."""
    import plantgate.checks as checks
    from plantgate.load import load_site

    seen: list[bool] = []

    def probe(ctx: checks.CheckContext) -> Iterator[checks.Finding]:
        seen.append(gc.isenabled())
        return iter(())

    monkeypatch.setattr(checks, "CHECKS", [probe])
    assert checks.run_checks(load_site(EXAMPLE), dt.date(2026, 11, 26)) == []
    assert seen == [False]
    assert gc.isenabled()
