"""Fold the filters of large rulesets on every core, before an analysis reads them.

A site's check folds every filter of every boundary firewall, a few tenths of a second of BDD
work per 1,500-rule filter. Here they are folded on every core (``split_work``): each child's
permitted sets land in this process's space's cache, so each later ``analyse_filter`` of those
filters is a lookup, and the analysis runs as before. Only for a caller that owns its process
(the CLI); a fold that fails is left to the analysis, which reports it as without workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from plantgate.errors import InputError
from plantgate.firewalls.gc_pause import collector_paused
from plantgate.firewalls.ruleset import Filter, Ruleset
from plantgate.netspace.compile import (
    analyse_filter,
    cached_fold,
    fold_key,
    install_fold,
    path_filters,
    policy_keys,
)
from plantgate.netspace.cores import usable_cores
from plantgate.netspace.space import PacketSpace
from plantgate.netspace.split_work import split_over_cores

PARALLEL_FROM_RULES = 4000
"""Below this many rules to fold, forking and loading cost more than they save."""

FoldJob = tuple[Filter, str | None, str | None]
"""A filter and the (from zone, to zone) context it is folded in."""


def fold_jobs(rulesets: Iterable[Ruleset]) -> list[FoldJob]:
    """Every filter fold the permitted sets of these rulesets need, once each.

    A path that names a filter its ruleset lacks is skipped here; the analysis reports it.
    """
    jobs: list[FoldJob] = []
    seen: set[tuple[object, ...]] = set()
    for ruleset in rulesets:
        for key in policy_keys(ruleset):
            if key.kind == "pair":
                try:
                    filters = path_filters(ruleset, key.from_zone, key.to_zone) or []
                except InputError:
                    continue
                contexts: list[FoldJob] = [(flt, key.from_zone, key.to_zone) for flt in filters]
            else:
                contexts = [(ruleset.filters[key.filter], None, None)]
            for job in contexts:
                if (cache_key := fold_key(*job)) not in seen:
                    seen.add(cache_key)
                    jobs.append(job)
    return jobs


def prefold(space: PacketSpace, rulesets: Iterable[Ruleset], workers: int | None = None,
            meanwhile: Callable[[], object] | None = None) -> int:
    """Fold, on ``workers`` processes (default: the usable cores), every filter the rulesets'
    permitted sets need and ``space`` does not hold yet; returns how many folds came from children.

    ``meanwhile``: work of this process that needs no fold (the NAT half of the ends' view), done
    while the children start folding; they then take more of the folds. Not done without children."""
    with collector_paused():  # the folds' live BDD handles: the collector's scans find nothing
        return _prefold(space, rulesets, workers, meanwhile)


def _prefold(space: PacketSpace, rulesets: Iterable[Ruleset], workers: int | None,
             meanwhile: Callable[[], object] | None) -> int:
    jobs = [job for job in fold_jobs(rulesets) if cached_fold(space, *job) is None]
    if sum(len(flt.rules) for flt, _, _ in jobs) < PARALLEL_FROM_RULES:
        return 0
    jobs = _in_zone_order(jobs)

    def here(i: int) -> None:
        try:
            analyse_filter(space, *jobs[i])
        except InputError:
            pass  # left to the analysis, which reports it where a run without workers does

    return split_over_cores(space, len(jobs), workers or usable_cores(), here,
                            lambda i: analyse_filter(space, *jobs[i]).permitted.node,
                            lambda i, node: install_fold(space, *jobs[i], node), meanwhile)


def _in_zone_order(jobs: list[FoldJob]) -> list[FoldJob]:
    """The jobs grouped by filter (biggest first) and from-zone. This process takes them from the
    front and the children from the back (``split_work``), so each process folds the contexts of a
    few from-zones and builds the matches of those zones' rules only (taken in turn, every process
    built nearly every rule's match: on a 10,000-rule PAN-OS rulebase in 64 contexts, 2.1 s against
    1.5 s)."""
    first_seen: dict[int, int] = {}
    for flt, _, _ in jobs:
        first_seen.setdefault(id(flt), len(first_seen))
    return sorted(jobs, key=lambda job: (-len(job[0].rules), first_seen[id(job[0])], job[1] or "", job[2] or ""))
