"""BDD work split between this process and forked children, the children's results loaded here.

A BDD manager is single-threaded and CPython runs one thread at a time, so a second core needs
a second process. A forked child inherits the parsed rulesets and the manager. The jobs are
taken one at a time, this process from the front of the list and the children from its back,
so each works on neighbouring jobs, which share their sub-results where the caller orders them
so (and all finish at about the same time). A child writes each result to a DDDMP file (CUDD's
own format); this process loads it into its manager as it lands, where it is the very node it
would have built itself (the child is a fork of it: same variables, same order).

Only for a caller that owns its process (the CLI): forking a process that runs other threads
(the web app) can deadlock the child. A child that fails leaves its jobs undone, and the
caller's own analysis then does them, so an error is reported exactly as without children.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from plantgate.netspace.cores import can_fork
from plantgate.netspace.space import Node, PacketSpace


def split_over_cores(space: PacketSpace, count: int, workers: int, here: Callable[[int], object],
                     in_child: Callable[[int], Node], install: Callable[[int, Node], object],
                     meanwhile: Callable[[], object] | None = None) -> int:
    """Jobs ``0 .. count - 1`` on ``workers`` processes: ``here(i)`` for the jobs this process takes
    (it keeps its own result), ``in_child(i)`` in a child for the others, each child's node then
    ``install``-ed here. Returns how many results came from children (0: no child could be had).

    ``meanwhile`` is other work of this process's own, done once the children run and before it
    takes jobs: the children take more of the jobs meanwhile, so the cores stay evenly busy."""
    if workers < 2 or count < 2 or not can_fork():
        return 0
    context = multiprocessing.get_context("fork")
    try:
        taken = context.Array("i", [0, count])  # the jobs not yet taken: [front, back)
    except OSError:  # no shared memory for the bounds (a locked-down container): the caller does them
        return 0
    with tempfile.TemporaryDirectory(prefix="plantgate-bdd-") as tmp:
        directory = Path(tmp)
        children = []
        done_here: set[int] = set()
        loaded = 0
        try:
            for _ in range(min(workers, count) - 1):
                child = context.Process(target=_run_child, args=(space, in_child, taken, directory), daemon=True)
                try:
                    child.start()
                except OSError:  # no process to be had: this process takes the jobs a child would have
                    break
                children.append(child)
            if meanwhile is not None:
                meanwhile()
            for i in _take(taken, from_back=False):
                here(i)
                done_here.add(i)
            # load the children's results as they land, while the last ones are still being worked out
            pending = set(range(count)) - done_here
            while True:
                running = any(child.is_alive() for child in children)
                landed = [i for i in sorted(pending) if (directory / f"{i}.dddmp").exists()]
                for i in landed:  # a file is renamed into place only once written whole
                    install(i, space.bdd.load(str(directory / f"{i}.dddmp"))[0])
                    pending.discard(i)
                loaded += len(landed)
                if not running:
                    break
                if not landed:
                    time.sleep(0.005)
            for child in children:
                child.join()
        finally:
            for child in children:
                if child.is_alive():
                    child.terminate()
                    child.join()
    return loaded


def _take(taken: Any, from_back: bool) -> Iterator[int]:
    """The indices of the jobs this process takes, one at a time, until every job is taken."""
    while True:
        with taken.get_lock():
            front, back = int(taken[0]), int(taken[1])
            if front >= back:
                return
            if from_back:
                taken[1] = back - 1
            else:
                taken[0] = front + 1
        yield back - 1 if from_back else front


def _run_child(space: PacketSpace, in_child: Callable[[int], Node], taken: Any, directory: Path) -> None:
    """In a child: work out the jobs it takes and write each result to ``directory/<job>.dddmp``.

    Any failure ends the child quietly with exit code 1: the jobs it did not write are then done
    by the caller's own analysis, which reports the error the way a run without children does.
    """
    try:
        for i in _take(taken, from_back=True):
            node = in_child(i)
            partial = directory / f"{i}.partial"
            space.bdd.dump(str(partial), [node], filetype="dddmp")
            partial.rename(directory / f"{i}.dddmp")
    except BaseException:  # noqa: BLE001 - reported by the caller's own analysis, never here
        os._exit(1)
    os._exit(0)
