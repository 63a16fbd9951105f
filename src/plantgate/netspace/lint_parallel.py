"""Lint the filters of a large ruleset on every core: each filter's lint is independent.

A BDD manager is single-threaded and CPython runs one thread at a time, so the only way to
use a second core is a second process. Each worker is forked after parsing (the ruleset is
inherited, never pickled) and lints whole filters, each in a fresh ``PacketSpace``; it sends
back plain tuples that name rules by position, and the parent rebuilds the issues with its
own Rule objects, in the order the serial lint gives. ``plantgate check`` hands over its
first firewalls while it parses the rest, then all the others at once, so the cores stay busy
across firewalls.

``BackgroundLint`` starts the workers at once and collects their issues when asked;
``StagedLint`` starts a first worker before the last ruleset is parsed.

Only for a caller that owns its process (the CLI: ``fw lint``, ``check``): forking a process
that runs other threads (the web app) can deadlock the child, so ``lint_ruleset`` stays
serial there. The CLI's own extra thread, a progress bar writing to stderr, is harmless:
workers get standard streams of their own (``_own_streams``).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

from plantgate.firewalls.ruleset import Filter, Ruleset
from plantgate.netspace.cores import can_fork, usable_cores
from plantgate.netspace.flow import Flow
from plantgate.netspace.lint import LintIssue, lint_filters, linted_filters, unbound_filters, unused_objects
from plantgate.netspace.space import PacketSpace

PARALLEL_FROM_RULES = 4000
"""Below this many rules to lint, starting workers costs more than it saves."""

_RULESETS: list[Ruleset] = []
"""The rulesets the forked workers inherit (set only while a pool runs)."""

PlainIssue = tuple[str, int, str, tuple[int, ...], Flow | None]
"""(kind, rule position, message, related rule positions, witness) of one issue in one filter."""
Unit = tuple[int, str]
"""One worker task: (index of the ruleset, name of one of its linted filters)."""


def lint_ruleset_parallel(ruleset: Ruleset, workers: int | None = None,
                          space: PacketSpace | None = None) -> list[LintIssue]:
    """``lint_ruleset`` with its filters spread over ``workers`` processes (default: the usable cores).

    A small ruleset is linted in this process, in ``space`` when given (its cached rule
    matches then serve the lint too).
    """
    return lint_rulesets_parallel([ruleset], workers, space)[0]


def lint_rulesets_parallel(rulesets: list[Ruleset], workers: int | None = None,
                           space: PacketSpace | None = None) -> list[list[LintIssue]]:
    """``lint_ruleset`` of every ruleset, the filters of all of them spread over ``workers`` processes.

    ``plantgate check`` lints every boundary firewall: one pool for all of them keeps every
    core busy to the end, where a pool per firewall idles while its last filter runs. Each
    filter is linted in a fresh PacketSpace, so a worker holds at most one filter's BDDs
    (the largest filter bounds its memory). Rulesets with fewer rules than
    ``PARALLEL_FROM_RULES`` in all are linted in this process, in ``space`` when given.
    """
    return BackgroundLint(rulesets, workers, space).result()


class BackgroundLint:
    """``lint_rulesets_parallel`` started now, its issues collected later by ``result``.

    ``plantgate check`` starts it as its firewalls are parsed (``StagedLint``): the workers lint
    while this process folds the filters and runs the other checks, so no core idles
    through the checks that run in this process alone. Small rulesets (see
    ``lint_rulesets_parallel``) start nothing and are linted in ``result``.
    """

    def __init__(self, rulesets: list[Ruleset], workers: int | None = None,
                 space: PacketSpace | None = None, witness_limit: int | None = None,
                 min_workers: int = 2, min_rules: int | None = None) -> None:
        """``witness_limit`` as in ``lint.lint_filters``. No pool for fewer than ``min_workers``
        workers (one is worth it beside this process when a core is free for it: ``StagedLint``)
        or fewer than ``min_rules`` rules (default ``PARALLEL_FROM_RULES``)."""
        self._rulesets = rulesets
        self._space = space
        self._witness_limit = witness_limit
        self._filters = [linted_filters(ruleset) for ruleset in rulesets]
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[Unit, Future[list[PlainIssue]]] = {}
        units = [(index, flt) for index, flts in enumerate(self._filters) for flt in flts]
        workers = min(workers or usable_cores(), len(units))
        enough_rules = sum(len(f.rules) for _, f in units) >= (PARALLEL_FROM_RULES if min_rules is None else min_rules)
        if workers < min_workers or not enough_rules or not can_fork():
            return
        global _RULESETS
        _RULESETS = rulesets
        frozen_before = gc.get_freeze_count()
        try:
            gc.freeze()  # the collector of a worker then leaves the inherited objects' pages shared
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_worker_setup)
            for index, flt in sorted(units, key=lambda u: -len(u[1].rules)):  # biggest first
                self._pending[index, flt.name] = self._pool.submit(_lint_in_worker, (index, flt.name),
                                                                   witness_limit)
            # every worker is forked by now (a fork pool starts them all on the first submit)
        except BaseException:
            self.cancel()
            raise
        finally:
            if not frozen_before:  # a process that freezes on purpose (the command) keeps its objects frozen
                gc.unfreeze()
            _RULESETS = []

    @property
    def uses_workers(self) -> bool:
        """Whether worker processes lint (they keep the cores busy until ``result``)."""
        return self._pool is not None

    def result(self) -> list[list[LintIssue]]:
        """The issues of each ruleset, in the order the serial lint gives them."""
        issues = dict(self.as_done())
        return [issues[index] for index in range(len(self._rulesets))]

    def as_done(self) -> Iterator[tuple[int, list[LintIssue]]]:
        """(index of the ruleset, its issues in the order the serial lint gives them), each ruleset
        as soon as its filters are linted: a caller works on one while the workers lint the rest."""
        if self._pool is None:
            for index, (ruleset, flts) in enumerate(zip(self._rulesets, self._filters, strict=True)):
                yield index, (lint_filters(self._space or PacketSpace(), flts, self._witness_limit)
                              + unbound_filters(ruleset) + unused_objects(ruleset))
            return
        left = Counter(index for index, _ in self._pending)
        plain: dict[Unit, list[PlainIssue]] = {}
        try:
            by_future = {future: unit for unit, future in self._pending.items()}
            for future in as_completed(by_future):
                index = by_future[future][0]
                plain[by_future[future]] = future.result()
                left[index] -= 1
                if not left[index]:
                    ruleset, flts = self._rulesets[index], self._filters[index]
                    yield index, ([issue for flt in flts for issue in _rebuilt(flt, plain[index, flt.name])]
                                  + unbound_filters(ruleset) + unused_objects(ruleset))
        except BaseException:
            self.cancel()
            raise
        for index, (ruleset, flts) in enumerate(zip(self._rulesets, self._filters, strict=True)):
            if not flts:  # nothing to lint: no worker had a part of it
                yield index, unbound_filters(ruleset) + unused_objects(ruleset)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def cancel(self) -> None:
        """Stop the workers at once, dropping what they have not finished (a run that fails
        before its lint needs no wait for it); harmless once ``result`` has returned."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((pool._processes or {}).values())  # shutdown forgets them
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # a running lint would otherwise run to its end
            process.terminate()
        for process in processes:
            process.join()


WORKER_NICENESS = 5
"""Lint workers yield a core to the process that forked them: in ``check`` that process folds and
checks on the critical path while the workers have time to spare (measured: the whole command
~2 s sooner on the 10 x 5,000-rule bench site, answers unchanged)."""


def _worker_setup() -> None:
    """In a new worker: a lower priority (``WORKER_NICENESS``), then ``_own_streams``."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    _own_streams()


def _own_streams() -> None:
    """In a new worker: standard streams of its own, to /dev/null (it reports by its results).

    A thread of the parent (``plantgate check``'s progress bar) may be inside a write to
    stderr at the fork; the worker's copy of that stream's lock then stays held forever,
    and the flush of the standard streams at the worker's exit would hang the pool.
    """
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the worker
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def _lint_in_worker(unit: Unit, witness_limit: int | None) -> list[PlainIssue]:
    assert _RULESETS, "a lint worker runs only inside lint_rulesets_parallel"
    index, name = unit
    flt = _RULESETS[index].filters[name]
    position = {id(rule): i for i, rule in enumerate(flt.rules)}
    return [(issue.kind, position[id(issue.rule)], issue.message,
             tuple(position[id(r)] for r in issue.related_rules), issue.witness)
            for issue in lint_filters(PacketSpace(), [flt], witness_limit)]


def _rebuilt(flt: Filter, plain: list[PlainIssue]) -> list[LintIssue]:
    return [LintIssue(kind, flt.name, flt.rules[at], message, [flt.rules[r] for r in related], witness)
            for kind, at, message, related, witness in plain]


EARLY_SHARE = 5
"""``StagedLint`` lints the first 1/EARLY_SHARE of the rulesets (by weight) while the rest are
parsed: lint costs about four times the parse per rule (iptables bench), so that share ends
about when the parse does, and the pool for the rest then balances the cores to the end."""


class StagedLint:
    """``BackgroundLint`` of rulesets whose first part starts while the rest are still being parsed.

    Parsing is serial, and a fork inherits only what is parsed by then: a lint that waits
    for the last ruleset leaves every other core idle through the whole parse. So one worker
    lints the first rulesets (``EARLY_SHARE``, by ``weights``: their config files' sizes,
    known before parsing) while this process parses the rest; the rest then get the usual
    pool. Call ``parsed`` with each ruleset in order, then ``finish``.
    """

    def __init__(self, weights: list[int], space: PacketSpace | None = None,
                 witness_limit: int | None = None) -> None:
        self._space = space
        self._witness_limit = witness_limit
        self._early = 0  # how many rulesets the early worker takes (0: none)
        running = 0
        for count, weight in enumerate(weights[:-1], start=1):
            running += weight
            if running * EARLY_SHARE >= sum(weights):
                self._early = count if usable_cores() >= 2 else 0
                break
        self._pending: list[Ruleset] = []
        self._stages: list[tuple[int, BackgroundLint]] = []  # (index of the stage's first ruleset, its lint)

    def parsed(self, ruleset: Ruleset) -> None:
        self._pending.append(ruleset)
        if not self._stages and len(self._pending) == self._early:
            self._stages.append((0, BackgroundLint(self._pending, 1, self._space, self._witness_limit, min_workers=1,
                                                   min_rules=PARALLEL_FROM_RULES // 2)))
            self._pending = []

    def finish(self) -> None:
        """Start the lint of the rest (every ruleset is parsed)."""
        first = self._early if self._stages else 0
        self._stages.append((first, BackgroundLint(self._pending, None, self._space, self._witness_limit)))
        self._pending = []

    @property
    def uses_workers(self) -> bool:
        return any(lint.uses_workers for _, lint in self._stages)

    def as_done(self) -> Iterator[tuple[int, list[LintIssue]]]:
        """``BackgroundLint.as_done`` of every stage (the early one started first and ends first)."""
        for first, lint in self._stages:
            for index, issues in lint.as_done():
                yield first + index, issues

    def cancel(self) -> None:
        for _, lint in self._stages:
            lint.cancel()
