"""The estate as a graph: treaty zones joined by the boundary firewalls between them.

A plant's IT/OT boundary is rarely one firewall, and a Purdue bypass can hide in a pair
of firewalls that each look reasonable alone. End-to-end analysis needs the paths a
packet can take from one zone to another: which firewalls it crosses, entering and
leaving through which treaty zones. The firewall entries' interface maps give the graph.

Where the treaty states routing facts (``routes``), only the stated paths are taken;
otherwise every simple path through the firewalls is taken, and the firewalls' own routes
then limit what each hop carries (``reconcile.routed``): a path they make impossible
delivers nothing. NAT rules are followed hop by hop
(``reconcile.nat_paths``); every NAT statement a parser could not model is reported as a
limitation with its line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from plantgate.errors import InputError, Location
from plantgate.firewalls.ruleset import SourceSpan
from plantgate.model import Treaty
from plantgate.model.routing import ZoneRoute
from plantgate.reconcile.boundary import BoundaryFirewall

EVERY_PATH_NOTE = ("no routing fact in the treaty for this pair: every path through the firewalls is taken "
                   "where their own routes let it")
ROUTED_NOTE = "paths as the treaty's routes state"


@dataclass(frozen=True)
class Hop:
    """One firewall crossing: in through ``from_zone``'s interfaces, out through ``to_zone``'s."""

    firewall: BoundaryFirewall = field(compare=False, hash=False)
    firewall_id: str
    from_zone: str
    to_zone: str

    def config_pairs(self) -> list[tuple[str, str]]:
        """The config's own (ingress, egress) interface or zone pairs for this crossing."""
        return self.firewall.config_pairs(self.from_zone, self.to_zone)

    def __str__(self) -> str:
        return f"{self.firewall_id} ({self.from_zone} -> {self.to_zone})"


@dataclass(frozen=True)
class ZonePath:
    """A sequence of hops from ``source`` to ``target``, each hop starting where the last ended."""

    source: str
    target: str
    hops: tuple[Hop, ...]

    @property
    def zones(self) -> list[str]:
        return [self.source, *(hop.to_zone for hop in self.hops)]

    @property
    def firewall_ids(self) -> list[str]:
        return [hop.firewall_id for hop in self.hops]

    def __str__(self) -> str:
        text = self.source
        for hop in self.hops:
            text += f" -[{hop.firewall_id}]-> {hop.to_zone}"
        return text


@dataclass(frozen=True)
class PathChoice:
    """The paths taken for a pair of zones and whether the treaty's routes chose them."""

    paths: list[ZonePath]
    routed: bool

    @property
    def note(self) -> str:
        return ROUTED_NOTE if self.routed else EVERY_PATH_NOTE


@dataclass(frozen=True)
class NatLimitation:
    """A NAT statement PlantGate does not model: end-to-end results assume the packet unchanged."""

    firewall_id: str
    span: SourceSpan

    def __str__(self) -> str:
        return f"{self.span.file}:{self.span.line}: NAT on {self.firewall_id} is not modelled: {self.span.text.strip()}"


class Topology:
    """Zones as nodes, firewalls as the edges that join every pair of zones they map."""

    def __init__(self, treaty: Treaty, firewalls: list[BoundaryFirewall],
                 locate: Callable[..., Location] | None = None) -> None:
        """``locate`` maps a treaty key path to its file location (``Site.locate``), for route errors."""
        self.treaty = treaty
        self._locate = locate
        self.firewalls = {fw.entry.id: fw for fw in firewalls}
        self.zone_ids = [z.id for z in treaty.zones]
        self._neighbours: dict[str, list[Hop]] = {zone: [] for zone in self.zone_ids}
        for fw in firewalls:
            for a, b in fw.treaty_pairs():
                if a in self._neighbours and fw.config_pairs(a, b):
                    self._neighbours[a].append(Hop(fw, fw.entry.id, a, b))
        self._routes: dict[tuple[str, str], list[tuple[int, ZoneRoute]]] = {}
        for index, route in enumerate(treaty.routes):
            self._routes.setdefault((route.from_zone, route.to_zone), []).append((index, route))
        self._cache: dict[tuple[str, str, int | None], PathChoice] = {}

    def hops_from(self, zone: str) -> list[Hop]:
        return list(self._neighbours.get(zone, []))

    def stated(self, source: str, target: str) -> bool:
        """Whether the treaty states the routes from ``source`` to ``target`` (then they win over the configs')."""
        return (source, target) in self._routes

    def paths(self, source: str, target: str, max_hops: int | None = None) -> PathChoice:
        """The paths a new session from ``source`` to ``target`` may take, shortest first."""
        key = (source, target, max_hops)
        if key not in self._cache:
            stated = self._routes.get((source, target))
            if stated:
                found = [p for index, route in stated for p in self._route_paths(index, route)]
                choice = PathChoice(_unique(found), routed=True)
            else:
                found = list(self._every_path(source, target, max_hops))
                choice = PathChoice(sorted(found, key=lambda p: (len(p.hops), str(p))), routed=False)
            self._cache[key] = choice
        return self._cache[key]

    def _every_path(self, source: str, target: str, max_hops: int | None) -> Iterator[ZonePath]:
        limit = max_hops if max_hops is not None else len(self.firewalls)
        stack: list[tuple[str, tuple[Hop, ...], frozenset[str], frozenset[str]]] = [
            (source, (), frozenset({source}), frozenset())]
        while stack:
            zone, hops, seen_zones, seen_firewalls = stack.pop()
            if len(hops) >= limit:
                continue
            for hop in self._neighbours.get(zone, []):
                if hop.firewall_id in seen_firewalls or hop.to_zone in seen_zones:
                    continue
                extended = (*hops, hop)
                if hop.to_zone == target:
                    yield ZonePath(source, target, extended)
                    continue
                stack.append((hop.to_zone, extended, seen_zones | {hop.to_zone},
                              seen_firewalls | {hop.firewall_id}))

    def _route_paths(self, index: int, route: ZoneRoute) -> list[ZonePath]:
        """Every zone sequence consistent with a stated route; InputError when there is none."""
        for position, fw_id in enumerate(route.via):
            if fw_id not in self.firewalls:
                raise self._route_error(index, ("via", position), f"route names unknown firewall '{fw_id}'",
                                        "a firewall id: " + ", ".join(sorted(self.firewalls)))
        partial: list[tuple[Hop, ...]] = [()]
        for position, fw_id in enumerate(route.via):
            last = position == len(route.via) - 1
            grown: list[tuple[Hop, ...]] = []
            for hops in partial:
                here = hops[-1].to_zone if hops else route.from_zone
                for hop in self._neighbours.get(here, []):
                    if hop.firewall_id != fw_id or (last and hop.to_zone != route.to_zone):
                        continue
                    if not last and hop.to_zone in (route.from_zone, route.to_zone):
                        continue
                    grown.append((*hops, hop))
            if not grown:
                zones = ", ".join(sorted(self.firewalls[fw_id].config_zones_of))
                raise self._route_error(
                    index, ("via", position),
                    f"route {route.from_zone} -> {route.to_zone}: firewall '{fw_id}' does not continue the path "
                    f"(it joins {zones})", "firewalls whose interface maps chain from from_zone to to_zone")
            partial = grown
        return [ZonePath(route.from_zone, route.to_zone, hops) for hops in partial]

    def _route_error(self, index: int, rest: tuple[str | int, ...], message: str, expected: str) -> InputError:
        where = self._locate("routes", index, *rest) if self._locate is not None else Location("treaty")
        return InputError.at(where.file, where.line, where.column, message, expected)

    def nat_limitations(self) -> list[NatLimitation]:
        """Every NAT statement of every firewall, in firewall order."""
        return [NatLimitation(fw_id, span) for fw_id, fw in self.firewalls.items()
                for span in fw.ruleset.nat_statements]


def _unique(paths: list[ZonePath]) -> list[ZonePath]:
    seen: dict[str, ZonePath] = {}
    for path in paths:
        seen.setdefault(str(path) + "|" + "|".join(f"{h.from_zone}>{h.to_zone}" for h in path.hops), path)
    return list(seen.values())
