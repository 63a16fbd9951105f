"""Lint the filters of a large ruleset on every core: each filter's lint is independent.

A BDD manager is single-threaded and CPython runs one thread at a time, so the only way to
use a second core is a second process. Each worker is forked after parsing (the ruleset is
inherited, never pickled), builds its own ``PacketSpace`` and lints whole filters; it sends
back plain tuples that name rules by position, and the parent rebuilds the issues with its
own Rule objects, in the order the serial lint gives.

Only for a caller that owns its process (the CLI: ``fw lint``, ``check``): forking a process
that runs other threads (the web app) can deadlock the child, so ``lint_ruleset`` stays
serial there. The CLI's own extra thread, a progress bar writing to stderr, is harmless:
workers get standard streams of their own (``_own_streams``).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor

from plantgate.firewalls.ruleset import Filter, Ruleset
from plantgate.netspace.cores import can_fork, usable_cores
from plantgate.netspace.flow import Flow
from plantgate.netspace.lint import LintIssue, lint_filters, linted_filters, unbound_filters, unused_objects
from plantgate.netspace.space import PacketSpace

PARALLEL_FROM_RULES = 4000
"""Below this many rules to lint, starting workers costs more than it saves."""

_RULESET: Ruleset | None = None
"""The ruleset the forked workers inherit (set only while a pool runs)."""

PlainIssue = tuple[str, int, str, tuple[int, ...], Flow | None]
"""(kind, rule position, message, related rule positions, witness) of one issue in one filter."""


def lint_ruleset_parallel(ruleset: Ruleset, workers: int | None = None,
                          space: PacketSpace | None = None) -> list[LintIssue]:
    """``lint_ruleset`` with its filters spread over ``workers`` processes (default: the usable cores).

    A small ruleset is linted in this process, in ``space`` when given (its cached rule
    matches then serve the lint too).
    """
    filters = linted_filters(ruleset)
    workers = min(workers or usable_cores(), len(filters))
    if workers < 2 or sum(len(f.rules) for f in filters) < PARALLEL_FROM_RULES or not can_fork():
        return lint_filters(space or PacketSpace(), filters) + unbound_filters(ruleset) + unused_objects(ruleset)
    global _RULESET
    _RULESET = ruleset
    try:
        names = [f.name for f in sorted(filters, key=lambda f: -len(f.rules))]  # biggest first: even finish
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_own_streams) as pool:
            plain = dict(zip(names, pool.map(_lint_in_worker, names, chunksize=1), strict=True))
    finally:
        _RULESET = None
    issues: list[LintIssue] = []
    for flt in filters:
        issues.extend(_rebuilt(flt, plain[flt.name]))
    return issues + unbound_filters(ruleset) + unused_objects(ruleset)


def _own_streams() -> None:
    """In a new worker: standard streams of its own, to /dev/null (it reports by its results).

    A thread of the parent (``plantgate check``'s progress bar) may be inside a write to
    stderr at the fork; the worker's copy of that stream's lock then stays held forever,
    and the flush of the standard streams at the worker's exit would hang the pool.
    """
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the worker
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def _lint_in_worker(name: str) -> list[PlainIssue]:
    assert _RULESET is not None, "a lint worker runs only inside lint_ruleset_parallel"
    flt = _RULESET.filters[name]
    position = {id(rule): i for i, rule in enumerate(flt.rules)}
    return [(issue.kind, position[id(issue.rule)], issue.message,
             tuple(position[id(r)] for r in issue.related_rules), issue.witness)
            for issue in lint_filters(_worker_space(), [flt])]


_SPACE: PacketSpace | None = None


def _worker_space() -> PacketSpace:
    """One PacketSpace per worker process, shared by the filters it lints."""
    global _SPACE
    if _SPACE is None:
        _SPACE = PacketSpace()
    return _SPACE


def _rebuilt(flt: Filter, plain: list[PlainIssue]) -> list[LintIssue]:
    return [LintIssue(kind, flt.name, flt.rules[at], message, [flt.rules[r] for r in related], witness)
            for kind, at, message, related, witness in plain]
