"""Observed flows held against the register and the firewalls: the third leg of the reconciliation.

Each aggregated sighting is placed in zones by address (longest prefix wins), then judged
twice: does a registered conduit cover it (same initiator, addresses and service), and
would the boundary firewalls on every path between the two zones pass it? A flow the
firewalls would drop on every path, yet was answered, went around them. Both verdicts are
computed on the concrete packet with ``netspace.evaluate``, rule by rule, so each answer
names the conduit or the rule that decided it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import cached_property

from plantgate.feeds.flows import ObservedFlow
from plantgate.firewalls.ruleset import AddressSet
from plantgate.model import Treaty
from plantgate.model.conduits import Conduit
from plantgate.model.zones import Zone
from plantgate.netspace import Verdict, evaluate
from plantgate.netspace.evaluate import address_matches, service_matches
from plantgate.reconcile.boundary import BoundaryFirewall
from plantgate.reconcile.conduits import narrowed_addresses, services_of
from plantgate.reconcile.topology import Topology, ZonePath

EXPECTED_SERVICES: dict[tuple[int, int], frozenset[str]] = {
    (6, 22): frozenset({"ssh"}), (6, 80): frozenset({"http"}), (6, 443): frozenset({"ssl", "http", "quic"}),
    (6, 3389): frozenset({"rdp", "ssl"}), (6, 502): frozenset({"modbus"}), (6, 102): frozenset({"s7comm", "cotp"}),
    (6, 20000): frozenset({"dnp3"}), (6, 44818): frozenset({"enip", "cip"}), (17, 53): frozenset({"dns"}),
    (6, 53): frozenset({"dns"}), (17, 123): frozenset({"ntp"}), (6, 5900): frozenset({"vnc", "rfb"}),
    (6, 8530): frozenset({"http"}), (6, 8531): frozenset({"ssl"}), (6, 6514): frozenset({"ssl", "syslog"}),
    (6, 445): frozenset({"smb", "ntlm", "gssapi", "krb"}), (17, 514): frozenset({"syslog"}),
    (6, 21): frozenset({"ftp"}), (6, 23): frozenset({"telnet"}), (6, 25): frozenset({"smtp"}),
}
"""What Zeek's service detection should name on a registered port; other ports are not judged."""
EXTERNAL = "external"


class ZoneMap:
    """Address -> treaty zone (longest declared prefix) and address -> asset."""

    def __init__(self, treaty: Treaty) -> None:
        self._networks = sorted(((net, zone) for zone in treaty.zones for net in zone.ip_networks()),
                                key=lambda item: -item[0].prefixlen)
        self._assets = {a: asset.id for asset in treaty.assets for a in asset.addresses}
        self._cache: dict[str, Zone | None] = {}

    def zone_of(self, address: str) -> Zone | None:
        if address not in self._cache:
            ip = ipaddress.ip_address(address)
            self._cache[address] = next((z for net, z in self._networks if ip.version == net.version and ip in net),
                                        None)
        return self._cache[address]

    def asset_of(self, address: str) -> str | None:
        return self._assets.get(address)


@dataclass(frozen=True)
class HopVerdict:
    """What one firewall crossing does with the packet."""

    firewall_id: str
    from_zone: str
    to_zone: str
    verdict: Verdict


@dataclass
class Judgement:
    """One observed flow with its zones, the conduits covering it and the firewalls' verdict."""

    flow: ObservedFlow
    src_zone: Zone | None
    dst_zone: Zone | None
    conduits: list[Conduit] = field(default_factory=list)
    same_pair_conduits: list[Conduit] = field(default_factory=list)
    paths: list[tuple[ZonePath, list[HopVerdict]]] = field(default_factory=list)

    @property
    def src_label(self) -> str:
        return self.src_zone.id if self.src_zone else EXTERNAL

    @property
    def dst_label(self) -> str:
        return self.dst_zone.id if self.dst_zone else EXTERNAL

    @property
    def cross_zone(self) -> bool:
        return self.src_zone is not None and self.dst_zone is not None and self.src_zone.id != self.dst_zone.id

    @property
    def registered(self) -> bool:
        return bool(self.conduits)

    @property
    def firewalled(self) -> bool:
        """Whether at least one modelled firewall path joins the two zones."""
        return bool(self.paths)

    @property
    def firewall_permits(self) -> bool | None:
        """True if some path passes the packet, False if every path drops it, None if no path is modelled."""
        if not self.paths:
            return None
        return any(all(h.verdict.permitted for h in hops) for _, hops in self.paths)

    def dropping_hops(self) -> list[HopVerdict]:
        """On each path, the first crossing that drops the packet: the rules that should have stopped it."""
        found: list[HopVerdict] = []
        for _, hops in self.paths:
            first = next((h for h in hops if not h.verdict.permitted), None)
            if first is not None and first not in found:
                found.append(first)
        return found

    def service_mismatch(self) -> frozenset[str] | None:
        """The services Zeek should have seen on the registered port, when it saw something else."""
        if not self.conduits or not self.flow.service:
            return None
        expected = EXPECTED_SERVICES.get((self.flow.proto, self.flow.dport))
        seen = {s.strip().lower() for s in self.flow.service.split(",") if s.strip()}
        if expected is None or seen & expected:
            return None
        return expected


class ObservedReconciler:
    """Judges observed flows against one treaty and its parsed boundary firewalls."""

    def __init__(self, treaty: Treaty, firewalls: list[BoundaryFirewall], topology: Topology) -> None:
        self.treaty = treaty
        self.firewalls = firewalls
        self.topology = topology
        self.zones = ZoneMap(treaty)

    @cached_property
    def _conduit_sides(self) -> list[tuple[Conduit, AddressSet, AddressSet]]:
        return [(c, narrowed_addresses(self.treaty, c.initiating_zone, c.sources),
                 narrowed_addresses(self.treaty, c.responding_zone, c.destinations))
                for c in self.treaty.conduits]

    def judge(self, flow: ObservedFlow) -> Judgement:
        src_zone, dst_zone = self.zones.zone_of(flow.src), self.zones.zone_of(flow.dst)
        judgement = Judgement(flow, src_zone, dst_zone)
        if not judgement.cross_zone or src_zone is None or dst_zone is None:
            return judgement
        packet = flow.packet()
        for conduit, sources, destinations in self._conduit_sides:
            if conduit.initiating_zone != src_zone.id or conduit.responding_zone != dst_zone.id:
                continue
            if not (address_matches(sources, packet.src) and address_matches(destinations, packet.dst)):
                continue
            judgement.same_pair_conduits.append(conduit)
            if any(service_matches(svc, packet) for item in conduit.services for svc in services_of(item)):
                judgement.conduits.append(conduit)
        for path in self.topology.paths(src_zone.id, dst_zone.id).paths:
            hops = []
            for hop in path.hops:
                verdicts = [evaluate(hop.firewall.ruleset, packet, x, y) for x, y in hop.config_pairs()]
                passing = next((v for v in verdicts if v.permitted), None)
                hops.append(HopVerdict(hop.firewall_id, hop.from_zone, hop.to_zone,
                                       passing or (verdicts[0] if verdicts else Verdict(False, None, None))))
            judgement.paths.append((path, hops))
        return judgement

    def judge_all(self, flows: list[ObservedFlow]) -> list[Judgement]:
        return [self.judge(flow) for flow in flows]


@dataclass
class MatrixCell:
    """One (initiating zone, responding zone) cell of the observed matrix."""

    src: str
    dst: str
    flows: int = 0
    sessions: int = 0
    bytes: int = 0
    unregistered: int = 0
    denied: int = 0
    unfiltered: int = 0

    @property
    def register_verdict(self) -> str:
        if self.src == self.dst:
            return "intra-zone"
        if EXTERNAL in (self.src, self.dst):
            return "outside the treaty"
        if self.unregistered == 0:
            return "registered"
        return "unregistered" if self.unregistered == self.flows else "partly unregistered"

    @property
    def firewall_verdict(self) -> str:
        if self.src == self.dst or EXTERNAL in (self.src, self.dst):
            return "n/a"
        if self.unfiltered == self.flows:
            return "no modelled firewall"
        if self.denied == 0:
            return "permitted"
        return "denied (bypass)" if self.denied == self.flows else "partly denied (bypass)"

    def to_dict(self) -> dict[str, object]:
        return {"from_zone": self.src, "to_zone": self.dst, "flows": self.flows, "sessions": self.sessions,
                "bytes": self.bytes, "unregistered_flows": self.unregistered, "denied_flows": self.denied,
                "register": self.register_verdict, "firewalls": self.firewall_verdict}


def observed_matrix(judgements: list[Judgement]) -> list[MatrixCell]:
    """The zone-to-zone matrix of observed sessions (initiator's zone first)."""
    cells: dict[tuple[str, str], MatrixCell] = {}
    for j in judgements:
        cell = cells.setdefault((j.src_label, j.dst_label), MatrixCell(j.src_label, j.dst_label))
        cell.flows += 1
        cell.sessions += j.flow.count
        cell.bytes += j.flow.bytes
        if j.cross_zone:
            cell.unregistered += 0 if j.registered else 1
            verdict = j.firewall_permits
            cell.unfiltered += 1 if verdict is None else 0
            cell.denied += 1 if verdict is False and j.flow.answered else 0
    return sorted(cells.values(), key=lambda c: (c.src, c.dst))
