"""Keep what the web app's caches hold out of the cyclic garbage collector's full scans.

Why it exists: a worker of the web app holds a few decoded 10,000-conduit revisions, their
findings and their rendered tables: 0.5-1 million container objects that live until evicted.
Each new revision (a config upload every few seconds under load) pushed enough new objects into
the oldest generation to start a full collection, which walked all of them for nothing found:
150-420 ms with the interpreter held, measured with a ``gc.callbacks`` probe during
``bench/bench_web.py``, and every request of the process waited: those pauses were the page
p99. So each time a cache has made a value, the young generations are collected and everything
alive is frozen (``gc.freeze``): full collections then scan only what came after.

Frozen objects are still freed by reference counting when a cache drops them (decoded JSON
has no cycles); only a reference cycle frozen while in use would outlive its use. To bound
that, every ``REFREEZE_EVERY``-th freeze first thaws everything and runs one full collection.
"""

from __future__ import annotations

import gc
import threading

REFREEZE_EVERY = 64
"""One full collection per this many cache fills: with new revisions every few seconds, one pause per minutes;
at a plant's pace of change, about one a day."""

_lock = threading.Lock()
_freezes = 0


def settle() -> None:
    """Call after a cache made a long-lived value: collect the young generations, then freeze what is alive."""
    global _freezes
    with _lock:
        _freezes += 1
        if _freezes % REFREEZE_EVERY == 0:
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)
        gc.freeze()
