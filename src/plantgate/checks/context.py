"""What a check may read: the site, the date the run is judged at, and shared derived data.

Derived data (parsed firewalls, permitted sets) is computed once per run, on first use, so
checks that need no firewall never pay for parsing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plantgate.errors import Location
from plantgate.firewalls.ruleset import Rule
from plantgate.load import Site
from plantgate.model import Treaty
from plantgate.netspace import FlowSet, PacketSpace, Permitter, default_space
from plantgate.netspace.flow import Flow
from plantgate.netspace.lint import LintIssue, lint_ruleset
from plantgate.netspace.lint_parallel import StagedLint
from plantgate.netspace.prefold import prefold
from plantgate.reconcile import BoundaryFirewall, conduit_flows, load_boundary_firewalls, register_flows
from plantgate.reconcile.nat_view import prepare_nat_offers
from plantgate.reconcile.reach import Estate

if TYPE_CHECKING:
    from plantgate.feeds.fleet import FeedPaths
    from plantgate.load.baseline import LoadedBaseline

FINDING_WITNESSES = 1
"""Lint witness packets worked out per filter and kind: a hygiene finding shows its first item's only."""


@dataclass
class CheckContext:
    site: Site
    as_of: dt.date = field(default_factory=dt.date.today)
    extra_flow_files: list[Path] = field(default_factory=list)
    may_fork: bool = False
    """True only for a caller that owns its process (the CLI): the filters of large firewalls
    are then linted on every core (``netspace.lint_parallel``), in the background from the
    moment they are parsed, or, when the lint is too small for workers, folded on every core
    (``netspace.prefold``). The web app runs threads: never."""
    baseline: LoadedBaseline | None = None
    """The corporate baseline every plant of the fleet is held to (``checks.baseline``), if any."""
    fleet_feeds: FeedPaths | None = None
    """Feeds loaded fleet-wide (``plantgate feeds update``), judged together with the treaty's own."""

    @property
    def treaty(self) -> Treaty:
        return self.site.treaty

    @cached_property
    def space(self) -> PacketSpace:
        return default_space()

    @cached_property
    def firewalls(self) -> list[BoundaryFirewall]:
        if not self.may_fork:
            return load_boundary_firewalls(self.site, self.space)
        # the lint workers start while the firewalls are parsed: they lint while this process
        # parses the rest, folds and checks
        lint = StagedLint([_size(self.site.resolve(entry.config)) for entry in self.treaty.firewalls],
                          self.space, FINDING_WITNESSES)
        try:
            firewalls = load_boundary_firewalls(self.site, self.space, lambda fw: lint.parsed(fw.parsed))
            lint.finish()
        except BaseException:
            lint.cancel()
            raise
        self.__dict__["_lint"] = lint
        if not lint.uses_workers:
            # Fold children only while the cores are free. Beside lint workers they compete for
            # the same cores, and this process rebuilds their filters' rule matches anyway as
            # soon as a check asks which rules permit some flows (``rules_permitting``).
            nat_pairs = [(fw.ruleset, x, y) for fw in firewalls if fw.ruleset.nat_rules
                         for pairs in fw.binding.crossings.values() for x, y in pairs]
            prefold(self.space, [fw.ruleset for fw in firewalls],
                    meanwhile=lambda: prepare_nat_offers(self.space, nat_pairs))
        return firewalls

    def lint_as_done(self) -> Iterator[tuple[int, list[LintIssue]]]:
        """(index in ``firewalls``, the lint issues of that firewall's parsed ruleset), each as soon
        as it is linted (``StagedLint.as_done``: the order depends on the workers)."""
        firewalls = self.firewalls
        started: StagedLint | None = self.__dict__.pop("_lint", None)
        if started is not None:
            yield from started.as_done()
            return
        for index, fw in enumerate(firewalls):
            yield index, lint_ruleset(self.space, fw.parsed, FINDING_WITNESSES)

    def close(self) -> None:
        """Stop background work nobody collected (a run that ended early); the context stays usable."""
        started: StagedLint | None = self.__dict__.pop("_lint", None)
        if started is not None:
            started.cancel()

    @cached_property
    def estate(self) -> Estate:
        """The firewalls as one network (topology and end-to-end hops), built once per run."""
        return Estate(self.site, self.space, self.firewalls)

    def register(self, initiating: str, responding: str) -> FlowSet:
        """Union of the conduits whose sessions go from ``initiating`` to ``responding``."""
        cache = self.__dict__.setdefault("_register", {})
        if (initiating, responding) not in cache:
            cache[(initiating, responding)] = register_flows(self.space, self.treaty, initiating, responding)
        result: FlowSet = cache[(initiating, responding)]
        return result

    def conduit(self, conduit_id: str) -> FlowSet:
        cache = self.__dict__.setdefault("_conduits", {})
        if conduit_id not in cache:
            conduit = self.treaty.conduits[self.site.index_of("conduits", conduit_id)]  # indexed: 10,000 conduits
            cache[conduit_id] = conduit_flows(self.space, self.treaty, conduit)
        result: FlowSet = cache[conduit_id]
        return result


def _size(path: Path) -> int:
    """A config's size in bytes, its weight in the lint's runs (0 when unreadable: the parse reports it)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def rule_location(rule: Rule) -> Location:
    return Location(rule.span.file, rule.span.line)


def translation_evidence(fw: BoundaryFirewall, zone_a: str, zone_b: str, witness: Flow
                         ) -> tuple[str, list[Location], dict[str, Any]]:
    """Where NAT rewrote ``witness`` (as its ends see it): a sentence for the message, the NAT rules'
    locations and the packet as sent, for the finding's details; empty when nothing rewrote it."""
    translated = fw.translation(zone_a, zone_b, witness)
    if translated is None:
        return "", [], {}
    locations = [Location(rule.span.file, rule.span.line) for rule in translated.rules]
    details: dict[str, Any] = {
        "sent": translated.sent.to_dict(),
        "nat_rules": [rule.reference() for rule in translated.rules]}
    if translated.left is not None:
        details["leaves_as"] = translated.left.to_dict()
    return f" The packet was {translated}.", locations, details


def permitter_evidence(permitters: list[Permitter]) -> tuple[list[Location], list[str]]:
    """Locations and readable names of the rules behind a set of flows."""
    locations: list[Location] = []
    names: list[str] = []
    for flt, rule in permitters:
        if rule is not None:
            locations.append(rule_location(rule))
            names.append(f"{rule.rule_id} (line {rule.span.line})")
        elif flt is not None:
            if flt.span is not None:
                locations.append(Location(flt.span.file, flt.span.line))
            names.append(f"default {flt.default_action.value} of {flt.name}")
        else:
            names.append("default path action")
    return locations, names
