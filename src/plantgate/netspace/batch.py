"""Many packets against one ruleset at once: ``fw test --packets`` without a rule-by-packet scan.

``evaluate`` walks a filter's rules for one packet; a thousand packets against a
ten-thousand-rule filter then cost ten million rule checks. Here the rules are walked once
and each rule looks up, by its address prefixes, the packets it could match among those
still undecided. The index only narrows the candidates; every candidate is still judged by
the concrete ``rule_matches`` semantics, so the verdicts are exactly those of ``evaluate``
(a property test holds them to it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from plantgate.firewalls.ruleset import AddressSet, Filter, Ruleset
from plantgate.netspace.evaluate import Verdict, address_keys, filters_to_evaluate, packet_matches, rule_applies
from plantgate.netspace.flow import Flow, address_to_int

Query = tuple[Flow, str | None, str | None]
"""A packet and its zone context (from, to), as one row of ``fw test --packets``."""


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


def evaluate_filter_batch(
    flt: Filter, flows: Sequence[Flow], from_zone: str | None = None, to_zone: str | None = None
) -> list[Verdict]:
    """``evaluate_filter`` for every flow, first match wins, in one pass over the rules."""
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


def evaluate_batch(ruleset: Ruleset, queries: Sequence[Query], filter_name: str | None = None) -> list[Verdict]:
    """``evaluate`` for every query, in query order; the same input errors, raised for the first bad one."""
    verdicts: list[Verdict | None] = [None] * len(queries)
    groups: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
    for position, (_, from_zone, to_zone) in enumerate(queries):
        groups[from_zone, to_zone].append(position)
    for (from_zone, to_zone), positions in groups.items():
        filters = filters_to_evaluate(ruleset, from_zone, to_zone, filter_name)
        start = Verdict(True, None, None) if filters is not None else Verdict(
            ruleset.default_path_action.permits, None, None)
        for position in positions:
            verdicts[position] = start
        pending = positions
        for flt in filters or []:  # the first denying filter decides; else the last filter's verdict stands
            results = evaluate_filter_batch(flt, [queries[p][0] for p in pending], from_zone, to_zone)
            still: list[int] = []
            for position, verdict in zip(pending, results, strict=True):
                verdicts[position] = verdict
                if verdict.permitted:
                    still.append(position)
            pending = still
    return [v for v in verdicts if v is not None]
