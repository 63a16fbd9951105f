"""How many cores a worker pool may use, and whether it may fork.

Shared by the analyses that spread BDD work over processes (``lint_parallel``, ``prefold``):
a BDD manager is single-threaded and CPython runs one thread at a time, so a second core
needs a second process, and only ``fork`` hands it the parsed rulesets without pickling.
"""

from __future__ import annotations

import multiprocessing
import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
