"""What the web app's caches make is frozen out of the collector's full scans, and a frozen cycle is still
collected at the periodic thaw (the bound on what a freeze can keep alive)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from plantgate.web import long_lived
from plantgate.web.revision_cache import _Lru


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_a_large_cache_fill_freezes_what_it_made_and_a_text_cache_does_not() -> None:
    large, text = _Lru[str, list[dict[str, int]]](4, large=True), _Lru[str, str](4)
    text.get_or_make("page", lambda: "<table></table>")
    assert gc.get_freeze_count() == 0
    made = large.get_or_make("document", lambda: [{"n": n} for n in range(1000)])
    assert gc.get_freeze_count() >= len(made)
    assert not any(item is made for item in gc.get_objects())  # frozen objects are outside every generation


def test_the_periodic_thaw_collects_a_cycle_a_freeze_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(long_lived, "_freezes", 0)
    node = Node()
    alive = weakref.ref(node)
    long_lived.settle()  # the cycle is in use while the cache fills: frozen
    del node
    for _ in range(long_lived.REFREEZE_EVERY - 2):
        long_lived.settle()
        gc.collect()  # a full collection does not see frozen objects
    assert alive() is not None
    long_lived.settle()  # the REFREEZE_EVERY-th: thaw, collect everything, freeze again
    assert alive() is None
