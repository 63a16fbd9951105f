"""Folding on several cores installs exactly the folds a serial run builds, and fails safe."""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.base import parse_config
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace import PacketSpace, permitted_sets, prefold, rules_permitting, split_work
from plantgate.netspace.compile import _Fold, cached_fold
from tests.conftest import shared_path
from tests.netspace.builders import addrs, filt, rule, ruleset
from tests.sites import EXAMPLE


def _rulesets() -> list[Ruleset]:
    configs = sorted((EXAMPLE / "firewalls").glob("fw-*"))
    configs += sorted(shared_path("firewall-configs", "cisco-asa").glob("batfish__asa-filters*.cfg"))
    return [parse_config(path) for path in configs]


@pytest.mark.parametrize("workers", [2, 3])
def test_prefolded_sets_are_the_serial_folds(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    monkeypatch.setattr(prefold, "PARALLEL_FROM_RULES", 0)  # the example configs are small
    parent, fold = os.getpid(), prefold.analyse_filter

    def slow_in_parent(*args: Any) -> object:  # the children get to take jobs on these small configs
        if os.getpid() == parent:
            time.sleep(0.02)
        return fold(*args)

    monkeypatch.setattr(prefold, "analyse_filter", slow_in_parent)
    rulesets = _rulesets()
    space = PacketSpace()
    assert prefold.prefold(space, rulesets, workers=workers) > 0  # the children really folded some
    jobs = prefold.fold_jobs(rulesets)
    assert len(jobs) >= workers
    for job in jobs:
        installed = cached_fold(space, *job)
        assert installed is not None, job[0].name
        assert installed.permitted == _Fold.of(space, *job).permitted, job[0].name  # the very same node
    # the folds from the children answer "which rules permit" as serial folds do (matches built lazily)
    serial_space = PacketSpace()
    for each in rulesets:
        serial = permitted_sets(serial_space, each)
        for key, flows in permitted_sets(space, each).items():
            witness = flows.witness()
            assert witness == serial[key].witness()
            if witness is not None:
                sample = space.flow(witness)
                names = [(f.name if f else None, r.rule_id if r else None)
                         for f, r in rules_permitting(space, each, key, sample)]
                expected = [(f.name if f else None, r.rule_id if r else None)
                            for f, r in rules_permitting(serial_space, each, key, serial_space.flow(witness))]
                assert names == expected


def test_a_failed_child_leaves_its_folds_to_the_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefold, "PARALLEL_FROM_RULES", 0)
    def take_one_and_die(_space: object, _in_child: object, taken: object, _directory: object) -> None:
        next(split_work._take(taken, from_back=True))
        os._exit(1)

    monkeypatch.setattr(split_work, "_run_child", take_one_and_die)  # inherited by the fork
    rulesets = _rulesets()
    space = PacketSpace()
    assert prefold.prefold(space, rulesets, workers=2) == 0
    missing = [job for job in prefold.fold_jobs(rulesets) if cached_fold(space, *job) is None]
    assert missing  # the child's share was not installed ...
    serial_space = PacketSpace()
    for each in rulesets:  # ... and the analysis folds it in process, with the same result
        serial = permitted_sets(serial_space, each)
        assert {k: v.count() for k, v in permitted_sets(space, each).items()} == {
            k: v.count() for k, v in serial.items()}


def test_errors_are_reported_by_the_analysis_not_by_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefold, "PARALLEL_FROM_RULES", 0)
    broken = ruleset(filt("a", rule("ok", src=addrs("10.0.0.0/8"))), filt("b", rule("ok2")),
                     zones=("x", "y"), paths={("x", "y"): ("a", "missing"), ("y", "x"): ("b",)})
    space = PacketSpace()
    prefold.prefold(space, [broken], workers=2)  # the undefined filter is left to the analysis
    with pytest.raises(InputError, match="'missing'"):
        permitted_sets(space, broken)


def test_small_rulesets_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a small ruleset must not start worker processes")

    monkeypatch.setattr(split_work.multiprocessing, "get_context", no_fork)
    space = PacketSpace()
    assert prefold.prefold(space, _rulesets(), workers=2) == 0


def test_the_cli_check_folds_on_every_core_and_the_web_context_never(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from plantgate.checks import CheckContext, context
    from plantgate.cli import main
    from plantgate.load import load_site

    calls: list[list[str]] = []
    monkeypatch.setattr(context, "prefold",
                        lambda _space, rulesets, **_kwargs: calls.append([r.name for r in rulesets]))
    result = CliRunner().invoke(main, ["check", str(EXAMPLE), "--as-of", "2026-11-26", "--format", "json"])
    assert result.exit_code == 1 and len(calls) == 1  # findings, and one prefold of the boundary firewalls
    assert len(calls[0]) == len(load_site(EXAMPLE).treaty.firewalls)
    assert CheckContext(load_site(EXAMPLE)).firewalls and len(calls) == 1  # the default context does not fork


def test_without_shared_memory_or_processes_the_folds_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefold, "PARALLEL_FROM_RULES", 0)
    rulesets = _rulesets()

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("refused")

    context = split_work.multiprocessing.get_context("fork")
    for owner, name in ((type(context), "Array"), (context.Process, "start")):
        with monkeypatch.context() as patch:
            patch.setattr(owner, name, refuse)
            space = PacketSpace()
            assert prefold.prefold(space, rulesets, workers=2) == 0
        serial = PacketSpace()
        for each in rulesets:
            assert {k: v.count() for k, v in permitted_sets(space, each).items()} == {
                k: v.count() for k, v in permitted_sets(serial, each).items()}


def test_the_work_meanwhile_runs_here_while_the_children_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    """``meanwhile`` runs once, in this process, after the children started: they take the folds."""
    monkeypatch.setattr(prefold, "PARALLEL_FROM_RULES", 0)
    rulesets = _rulesets()
    ran: list[tuple[int, int]] = []

    def meanwhile() -> None:
        ran.append((os.getpid(), len(multiprocessing.active_children())))
        time.sleep(0.3)  # long enough for the child to take every fold on these small configs

    space = PacketSpace()
    from_children = prefold.prefold(space, rulesets, workers=2, meanwhile=meanwhile)
    assert ran == [(os.getpid(), 1)]  # here, with the child running
    assert from_children == len(prefold.fold_jobs(rulesets))  # the child folded everything meanwhile
    assert all(cached_fold(space, *job) is not None for job in prefold.fold_jobs(rulesets))
