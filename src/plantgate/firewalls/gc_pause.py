"""Pause Python's cyclic garbage collector while a large config is parsed.

Why it exists: a 20,000-rule config becomes millions of small objects (tokens, settings,
rules, networks), nearly all of them alive until the Ruleset is returned. With the collector
running, every few hundred allocations trigger a scan, and the older generations are scanned
again and again as they grow: measured at 30-45 % of the parse time of the benchmark
configs, for no garbage found. Parsing allocates almost no reference cycles, so the
collector is paused for the duration of the parse and resumed afterwards, and the young
objects are scanned once before returning, so the caller does not inherit a deferred scan.

The pause is process-wide (the collector is global). Only a call that found the collector
enabled turns it back on, so nested or concurrent parses, or a program that disabled the
collector itself, are left as they were.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


_FREEZE_AFTER_PARSE = False


def freeze_parsed_objects() -> None:
    """For a process that ends when its command does (the ``plantgate`` command, not the library
    or the web app): after each parse, move everything alive out of the collector's reach
    (``gc.freeze``) instead of scanning it.

    A command keeps what it parsed to the end, so scanning it finds no garbage: the young scan
    after a 20,000-rule parse, and every full collection after it, walk millions of objects
    for nothing. Forked workers then also leave those objects' pages shared.
    """
    global _FREEZE_AFTER_PARSE
    _FREEZE_AFTER_PARSE = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable automatic garbage collection inside the block; resume and scan the young generation after
    (or freeze what is alive, in a process that asked for it with ``freeze_parsed_objects``)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if _FREEZE_AFTER_PARSE:
                gc.freeze()
            gc.enable()
            if not _FREEZE_AFTER_PARSE:
                gc.collect(0)


def with_collector_paused(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of ``collector_paused`` for a parser's ``parse`` method."""

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return function(*args, **kwargs)

    return paused
