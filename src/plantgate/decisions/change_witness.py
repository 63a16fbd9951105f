"""Why a change's witness packet flipped: the line that decides it in the current config and in the candidate.

The impact says which flows a candidate opens or closes and which rules permit them. A
reviewer deciding on it also wants, for one concrete packet, the line it meets on each
side: the deny (or default) it used to meet and the permit it meets now, or the reverse.
The concrete evaluator (``netspace.evaluate``, held to the BDD engine by the property
tests) answers that for one packet, per path of the config the packet can take. It also
names the hosts of the treaty that send the flows, so the page can say who gains or
loses reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from plantgate.firewalls.ruleset import Ruleset, SourceSpan, address_set
from plantgate.model import Treaty
from plantgate.netspace import Flow, FlowSet, PacketSpace, PolicyKey, Verdict, evaluate, evaluate_filter
from plantgate.reconcile import BoundaryFirewall


@dataclass(frozen=True)
class Decision:
    """How one config decides the witness on one path, and the lines that say so."""

    verdict: Verdict
    span: SourceSpan | None
    """The deciding rule's lines, or the written line that sets the filter's default action (None: no line does,
    e.g. an ACL's implicit deny)."""

    @property
    def permitted(self) -> bool:
        return self.verdict.permitted


def _decision(ruleset: Ruleset, verdict: Verdict) -> Decision:
    if verdict.rule is not None:
        return Decision(verdict, verdict.rule.span)
    flt = ruleset.filters.get(verdict.filter) if verdict.filter is not None else None
    return Decision(verdict, flt.span if flt is not None and flt.span is not None and flt.span.text else None)


@dataclass(frozen=True)
class SideBySide:
    """How each config decides the witness on one path (a config zone pair or one filter).

    A side is None when that config has no such filter at all (it permits nothing there)."""

    path: str
    current: Decision | None
    candidate: Decision | None


def path_verdict(ruleset: Ruleset, flow: Flow, from_zone: str, to_zone: str) -> Decision:
    """How the config decides ``flow`` from its zone ``from_zone`` to ``to_zone``; a pair the config has no path for
    is decided by its default path action (as ``netspace.permitted_between`` decides it)."""
    if (from_zone, to_zone) not in ruleset.paths:
        return Decision(Verdict(ruleset.default_path_action.permits, None, None), None)
    return _decision(ruleset, evaluate(ruleset, flow, from_zone, to_zone))


def zone_pair_sides(current: BoundaryFirewall, candidate: BoundaryFirewall, zone_a: str, zone_b: str,
                    witness: Flow) -> list[SideBySide]:
    """Per config path between treaty zones ``zone_a`` and ``zone_b``: the two verdicts, where they differ."""
    pairs = dict.fromkeys([*current.config_pairs(zone_a, zone_b), *candidate.config_pairs(zone_a, zone_b)])
    sides = [SideBySide(f"{x} -> {y}", path_verdict(current.ruleset, witness, x, y),
                        path_verdict(candidate.ruleset, witness, x, y)) for x, y in pairs]
    return [s for s in sides if s.current is None or s.candidate is None
            or s.current.permitted != s.candidate.permitted]


def key_sides(current: Ruleset, candidate: Ruleset, key: PolicyKey, witness: Flow) -> SideBySide:
    """The two verdicts on a whole-config change's witness, for its zone pair or filter."""
    if key.kind == "pair":
        return SideBySide(str(key), path_verdict(current, witness, key.from_zone, key.to_zone),
                          path_verdict(candidate, witness, key.from_zone, key.to_zone))

    def of(ruleset: Ruleset) -> Decision | None:
        flt = ruleset.filters.get(key.filter)
        return _decision(ruleset, evaluate_filter(flt, witness)) if flt is not None else None

    return SideBySide(str(key), of(current), of(candidate))


def sending_hosts(space: PacketSpace, treaty: Treaty, zone: str, flows: FlowSet) -> list[str]:
    """The assets of ``zone`` whose addresses send some of ``flows`` (the hosts that gain or lose the reach)."""
    found = []
    for asset in treaty.assets:
        if asset.zone == zone and asset.addresses and flows.intersects(
                space.addresses("src", address_set(asset.addresses))):
            found.append(asset.id)
    return found
