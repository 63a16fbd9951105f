"""Linting on several cores gives exactly the serial lint: same issues, same order, same rule objects."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plantgate.firewalls.base import parse_config
from plantgate.firewalls.ruleset import TCP, Ruleset, Service
from plantgate.netspace import PacketSpace, lint_parallel
from plantgate.netspace.lint import LintIssue, lint_ruleset
from plantgate.netspace.lint_parallel import lint_ruleset_parallel
from tests.conftest import shared_path
from tests.netspace.builders import addrs, filt, rule, ruleset
from tests.sites import EXAMPLE


def _identity(issues: list[LintIssue]) -> list[tuple[object, ...]]:
    return [(i.kind, i.filter, id(i.rule), i.message, tuple(id(r) for r in i.related_rules), i.witness,
             id(i.object)) for i in issues]


def _messy() -> Ruleset:
    """Three filters with shadowed, redundant and correlated rules, bound on paths."""
    web = (Service(TCP, dst_ports=((80, 443),)),)
    filters = []
    for name in ("a", "b", "c"):
        filters.append(filt(
            name,
            rule(f"{name}-deny-net", "deny", src=addrs("10.0.0.0/16")),
            rule(f"{name}-web", src=addrs("10.0.1.0/24"), services=web),  # shadowed by the deny
            rule(f"{name}-web-wide", src=addrs("10.0.0.0/8"), services=web),  # correlated with the deny
            rule(f"{name}-web-again", src=addrs("10.1.0.0/24"), services=web),  # redundant
        ))
    return ruleset(*filters, zones=("x", "y", "z"),
                   paths={("x", "y"): ("a",), ("y", "z"): ("b",), ("z", "x"): ("c",)})


def _rulesets() -> list[Ruleset]:
    configs = sorted((EXAMPLE / "firewalls").glob("fw-*"))
    configs += sorted(shared_path("firewall-configs", "cisco-asa").glob("batfish__asa-filters*.cfg"))
    return [_messy(), *(parse_config(path) for path in configs)]


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_lint_equals_serial_lint(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    monkeypatch.setattr(lint_parallel, "PARALLEL_FROM_RULES", 0)  # the example configs are small
    kinds: set[str] = set()
    for each in _rulesets():
        serial = lint_ruleset(PacketSpace(), each)
        parallel = lint_ruleset_parallel(each, workers=workers)
        assert _identity(parallel) == _identity(serial), each.file
        kinds |= {issue.kind for issue in serial if issue.witness is not None}
    assert {"shadowed", "redundant", "correlated"} <= kinds  # the comparison has witnessed issues to compare


def test_parallel_lint_keeps_the_witness_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """``check``'s lint (one witness per filter and kind) gives in the workers what it gives serially."""
    monkeypatch.setattr(lint_parallel, "PARALLEL_FROM_RULES", 0)
    rulesets = _rulesets()
    parallel = lint_parallel.BackgroundLint(rulesets, workers=2, witness_limit=1).result()
    for each, issues in zip(rulesets, parallel, strict=True):
        assert _identity(issues) == _identity(lint_ruleset(PacketSpace(), each, witness_limit=1)), each.file


def test_small_rulesets_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a small ruleset must not start worker processes")

    monkeypatch.setattr(lint_parallel, "ProcessPoolExecutor", no_pool)
    ruleset = parse_config(Path(EXAMPLE / "firewalls" / "fw-it-dmz.asa"))
    assert _identity(lint_ruleset_parallel(ruleset, workers=2)) == _identity(lint_ruleset(PacketSpace(), ruleset))


_WRITER = '''
import faulthandler, io, os, sys, threading
from plantgate.firewalls.base import parse_config
from plantgate.netspace import PacketSpace, lint_parallel, prefold

lint_parallel.PARALLEL_FROM_RULES = prefold.PARALLEL_FROM_RULES = 0
read_end, write_end = os.pipe()
threading.Thread(target=lambda: [os.read(read_end, 1 << 20) for _ in iter(int, 1)], daemon=True).start()
sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(write_end, "w")), write_through=True)
threading.Thread(target=lambda: [sys.stderr.write("x" * 65536) for _ in iter(int, 1)], daemon=True).start()
faulthandler.dump_traceback_later(150, file=sys.__stdout__, exit=True)  # a hang ends the run, not the suite
ruleset = parse_config(sys.argv[1])
for _ in range(20):
    if sys.argv[2] == "lint":
        lint_parallel.lint_ruleset_parallel(ruleset, workers=2)
    else:
        prefold.prefold(PacketSpace(), [ruleset], workers=2)
print("done", flush=True)
os._exit(0)
'''


@pytest.mark.parametrize("forking", ["lint", "prefold"])
def test_workers_do_not_hang_when_another_thread_writes_to_stderr(tmp_path: Path, forking: str) -> None:
    """``plantgate check`` lints and folds on every core under a progress bar, whose thread writes to stderr.

    A worker forked while that thread held the stream's lock inherits the lock held for good;
    flushing the stream at the worker's exit then hangs the pool (it did, 3 runs out of 3,
    before the workers got streams of their own).
    """
    script, out = tmp_path / "writer.py", tmp_path / "out.txt"
    script.write_text(_WRITER, encoding="utf-8")
    with out.open("w", encoding="utf-8") as handle:
        run = subprocess.Popen([sys.executable, str(script), str(EXAMPLE / "firewalls" / "fw-it-dmz.asa"), forking],
                               stdout=handle, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            run.wait(timeout=200)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)  # the workers a hang leaves behind
    assert out.read_text(encoding="utf-8").strip() == "done", out.read_text(encoding="utf-8")[-2000:]


def test_one_pool_for_several_rulesets_equals_each_serial_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    """``plantgate check`` lints all its firewalls in one pool: each ruleset's issues as its own serial lint."""
    monkeypatch.setattr(lint_parallel, "PARALLEL_FROM_RULES", 0)
    rulesets = _rulesets()
    together = lint_parallel.lint_rulesets_parallel(rulesets, workers=2)
    assert len(together) == len(rulesets)
    for each, issues in zip(rulesets, together, strict=True):
        assert _identity(issues) == _identity(lint_ruleset(PacketSpace(), each)), each.file


def test_background_lint_gives_the_serial_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lint_parallel, "PARALLEL_FROM_RULES", 0)
    rulesets = _rulesets()
    started = lint_parallel.BackgroundLint(rulesets, workers=2)
    assert started._pool is not None  # really on workers
    for each, issues in zip(rulesets, started.result(), strict=True):
        assert _identity(issues) == _identity(lint_ruleset(PacketSpace(), each)), each.file


def test_staged_lint_gives_the_serial_lint_whatever_order_the_workers_end_in(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``check`` lints its first firewalls while it parses the rest: each ruleset's issues as its serial lint."""
    monkeypatch.setattr(lint_parallel, "PARALLEL_FROM_RULES", 0)
    monkeypatch.setattr(lint_parallel, "usable_cores", lambda: 2)
    rulesets = _rulesets()
    staged = lint_parallel.StagedLint([len(r.filters) + 1 for r in rulesets], witness_limit=1)
    for each in rulesets:
        staged.parsed(each)
    assert staged.uses_workers  # the first rulesets are on a worker before the last one is parsed
    staged.finish()
    done = list(staged.as_done())
    assert sorted(index for index, _ in done) == list(range(len(rulesets)))
    for index, issues in done:
        assert _identity(issues) == _identity(lint_ruleset(PacketSpace(), rulesets[index], 1)), rulesets[index].file


def test_cancel_stops_the_workers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that fails before rule hygiene must not wait for the lint it will never read."""
    monkeypatch.setattr(lint_parallel, "PARALLEL_FROM_RULES", 0)
    started = lint_parallel.BackgroundLint(_rulesets(), workers=2)
    assert started._pool is not None
    processes = list(started._pool._processes.values())
    assert processes
    started.cancel()
    # the pool's manager thread may reap a worker before ``join`` does, and ``is_alive`` then says True for a
    # moment although the process has exited (seen as 1 run in 10): wait a moment, not for the lint
    deadline = time.monotonic() + 2
    while any(process.is_alive() for process in processes) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(process.is_alive() for process in processes)
    started.cancel()  # twice is harmless
