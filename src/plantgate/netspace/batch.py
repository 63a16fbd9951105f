"""Many packets against one ruleset at once: ``fw test --packets`` without a rule-by-packet scan.

``evaluate`` walks a filter's rules for one packet; a thousand packets against a
ten-thousand-rule filter then cost ten million rule checks. Here the rules are walked once.
IPv4 packets are columns of numbers (``packet_table``): each rule finds the undecided
packets inside its address intervals by binary search and checks its fields on them with
array operations. Other packets (IPv6) are looked up, rule by rule, by address prefix among
those still undecided, and every candidate is judged by the concrete ``packet_matches``.
Either way the verdicts are exactly those of ``evaluate`` (property tests hold them to it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from plantgate.firewalls.ruleset import AddressSet, Filter, Rule, Ruleset
from plantgate.netspace.evaluate import Verdict, address_keys, filters_to_evaluate, packet_matches, rule_applies
from plantgate.netspace.flow import Flow, address_to_int
from plantgate.netspace.packet_table import PacketColumns, first_matches, is_ipv4

Query = tuple[Flow, str | None, str | None]
"""A packet and its zone context (from, to), as one row of ``fw test --packets``."""
Context = tuple[str | None, str | None]
Row = tuple[int, int, int, int, int, int, int]
"""An IPv4 packet as numbers: (src, dst, proto, sport, dport, icmp_type, icmp_code)."""


@dataclass
class PacketBatch:
    """The packets of one request, in order: IPv4 ones as numbers, others as Flows, each with its zones."""

    contexts: list[Context] = field(default_factory=list)
    rows: list[Row | None] = field(default_factory=list)
    """The IPv4 packet at each position, or None where ``others`` holds the packet."""
    others: dict[int, Flow] = field(default_factory=dict)

    def add_row(self, row: Row, context: Context) -> None:
        self.rows.append(row)
        self.contexts.append(context)

    def add_flow(self, flow: Flow, context: Context) -> None:
        if is_ipv4(flow):
            self.add_row((int(flow.src), int(flow.dst), flow.proto, flow.sport, flow.dport, flow.icmp_type,
                          flow.icmp_code), context)
        else:
            self.others[len(self.rows)] = flow
            self.rows.append(None)
            self.contexts.append(context)

    def __len__(self) -> int:
        return len(self.rows)

    def flow(self, position: int) -> Flow:
        """The packet at ``position`` as a Flow (for text output)."""
        row = self.rows[position]
        if row is None:
            return self.others[position]
        import ipaddress

        src, dst, proto, sport, dport, icmp_type, icmp_code = row
        return Flow(ipaddress.IPv4Address(src), ipaddress.IPv4Address(dst), proto, sport, dport, icmp_type, icmp_code)


class _PrefixIndex:
    """Packets by the top bits of one address field, one dictionary per prefix length in use."""

    def __init__(self, values: Sequence[int]) -> None:
        self._values = values
        self._by_shift: dict[int, dict[int, list[int]]] = {}

    def candidates(self, keys: Sequence[tuple[int, int]]) -> list[int]:
        """Positions of the packets inside any of the prefixes ``(shift, value >> shift)``."""
        found: list[int] = []
        for shift, key in keys:
            table = self._by_shift.get(shift)
            if table is None:
                table = defaultdict(list)
                for position, value in enumerate(self._values):
                    table[value >> shift].append(position)
                self._by_shift[shift] = table
            found.extend(table.get(key, ()))
        return found


def _filter_flows(flt: Filter, flows: Sequence[Flow], from_zone: str | None, to_zone: str | None
                  ) -> list[Verdict]:
    """First match for any flows, by prefix index and the concrete ``packet_matches``."""
    sources = [address_to_int(f.src) for f in flows]
    destinations = [address_to_int(f.dst) for f in flows]
    by_source, by_destination = _PrefixIndex(sources), _PrefixIndex(destinations)
    verdicts: list[Verdict | None] = [None] * len(flows)
    undecided = dict.fromkeys(range(len(flows)))
    for rule in flt.rules:
        if not undecided:
            break
        if not rule_applies(rule, from_zone, to_zone):
            continue
        candidates = _candidates(rule.sources, rule.source_negate, by_source, undecided)
        if len(candidates) > 1:  # the narrower of the two address indexes
            other = _candidates(rule.destinations, rule.destination_negate, by_destination, undecided)
            if len(other) < len(candidates):
                candidates = other
        for position in candidates:
            if position in undecided and packet_matches(rule, flows[position], sources[position],
                                                        destinations[position]):
                verdicts[position] = Verdict(rule.action.permits, flt.name, rule)
                del undecided[position]
    default = Verdict(flt.default_action.permits, flt.name, None)
    return [verdict or default for verdict in verdicts]


def _candidates(addrs: AddressSet, negate: bool, index: _PrefixIndex, undecided: dict[int, None]) -> Sequence[int]:
    """Undecided packets the address side could match (all of them for a negated side)."""
    include = address_keys(addrs)[1]
    if negate or len(include) > len(undecided):
        return list(undecided)
    return index.candidates(include)


def _filter_columns(flt: Filter, packets: PacketColumns, from_zone: str | None, to_zone: str | None
                    ) -> list[Verdict]:
    """First match for IPv4 packets as columns: one Verdict object per deciding rule."""
    applying: list[Rule] = [rule for rule in flt.rules if rule_applies(rule, from_zone, to_zone)]
    chosen = first_matches(applying, packets)
    outcomes = [Verdict(rule.action.permits, flt.name, rule) for rule in applying]
    outcomes.append(Verdict(flt.default_action.permits, flt.name, None))  # index -1
    return [outcomes[index] for index in chosen.tolist()]


def evaluate_filter_batch(
    flt: Filter, flows: Sequence[Flow], from_zone: str | None = None, to_zone: str | None = None
) -> list[Verdict]:
    """``evaluate_filter`` for every flow, first match wins, in one pass over the rules."""
    batch = PacketBatch()
    for flow in flows:
        batch.add_flow(flow, (from_zone, to_zone))
    return _filter_positions(flt, batch, list(range(len(batch))), from_zone, to_zone)


def _filter_positions(flt: Filter, batch: PacketBatch, positions: list[int], from_zone: str | None,
                      to_zone: str | None) -> list[Verdict]:
    """The filter's verdict for the packets at ``positions`` of ``batch``, in that order."""
    verdicts: list[Verdict | None] = [None] * len(positions)
    v4 = [k for k, position in enumerate(positions) if batch.rows[position] is not None]
    if v4:
        rows = [batch.rows[positions[k]] for k in v4]
        packets = PacketColumns.of(rows)  # type: ignore[arg-type]
        for k, verdict in zip(v4, _filter_columns(flt, packets, from_zone, to_zone), strict=True):
            verdicts[k] = verdict
    if len(v4) < len(positions):
        rest = [k for k, position in enumerate(positions) if batch.rows[position] is None]
        flows = [batch.others[positions[k]] for k in rest]
        for k, verdict in zip(rest, _filter_flows(flt, flows, from_zone, to_zone), strict=True):
            verdicts[k] = verdict
    return [v for v in verdicts if v is not None]


def evaluate_batch(ruleset: Ruleset, queries: Sequence[Query], filter_name: str | None = None) -> list[Verdict]:
    """``evaluate`` for every query, in query order; the same input errors, raised for the first bad one."""
    batch = PacketBatch()
    for flow, from_zone, to_zone in queries:
        batch.add_flow(flow, (from_zone, to_zone))
    return evaluate_packet_batch(ruleset, batch, filter_name)


def evaluate_packet_batch(ruleset: Ruleset, batch: PacketBatch, filter_name: str | None = None) -> list[Verdict]:
    """``evaluate`` for every packet of ``batch``, in order."""
    verdicts: list[Verdict | None] = [None] * len(batch)
    groups: dict[Context, list[int]] = defaultdict(list)
    for position, context in enumerate(batch.contexts):
        groups[context].append(position)
    for (from_zone, to_zone), positions in groups.items():
        filters = filters_to_evaluate(ruleset, from_zone, to_zone, filter_name)
        start = Verdict(True, None, None) if filters is not None else Verdict(
            ruleset.default_path_action.permits, None, None)
        for position in positions:
            verdicts[position] = start
        pending = positions
        for flt in filters or []:  # the first denying filter decides; else the last filter's verdict stands
            results = _filter_positions(flt, batch, pending, from_zone, to_zone)
            still: list[int] = []
            for position, verdict in zip(pending, results, strict=True):
                verdicts[position] = verdict
                if verdict.permitted:
                    still.append(position)
            pending = still
    return [v for v in verdicts if v is not None]


__all__ = ["PacketBatch", "Query", "evaluate_batch", "evaluate_filter_batch", "evaluate_packet_batch"]
