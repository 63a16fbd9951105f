"""What a change record would do, proved on the packet space, and whether it may go ahead.

The impact is computed on the candidate config against the current one, per pair of
treaty zones the firewall joins: flows opened and closed with witnesses, the conduits
touched, who loses access, and whether the candidate stays inside the register once the
change's own register edit is applied. Emergency changes get the stronger, whole-config
proof that the candidate permits a subset of the current config.

For each witness, the line deciding it in the current config and in the candidate is kept
beside it (``change_witness``), with the hosts that send the flows.

The whole-config diff also carries what the zone pairs cannot see: a filter the treaty
does not place (an ASA ACL no zone map names, a chain of a firewall that joins no zone
pair) or flows outside the zones' networks. Those changes are listed per filter or config
zone pair, and the conduits their closed flows meet lose access just the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plantgate.decisions.change_state import DecisionReview, file_sha256, review_decisions, state_problems
from plantgate.decisions.change_witness import SideBySide, key_sides, sending_hosts, zone_pair_sides
from plantgate.firewalls.base import parse_config
from plantgate.firewalls.ruleset import SELF_ZONES, Ruleset
from plantgate.load import Site
from plantgate.model import Treaty
from plantgate.model.changes import ChangeRecord
from plantgate.model.governance import Role
from plantgate.netspace import Change, Flow, FlowSet, PacketSpace, Permitter, RulesetDiff, diff_rulesets
from plantgate.reconcile import BoundaryFirewall, conduit_flows, register_flows


@dataclass
class ZoneChange:
    """Flows between two treaty zones whose verdict the change flips."""

    from_zone: str
    to_zone: str
    flows: FlowSet
    witness: Flow
    rules: list[Permitter]
    conduits: list[str] = field(default_factory=list)
    sides: list[SideBySide] = field(default_factory=list)
    """The witness as the current config and the candidate decide it, per config path whose verdict flips."""
    hosts: list[str] = field(default_factory=list)
    """Assets of ``from_zone`` that send some of the flows."""


@dataclass
class ExplainedChange(Change):
    """A whole-config change with its witness as each config decides it."""

    sides: list[SideBySide] = field(default_factory=list)


@dataclass
class ChangeImpact:
    record: ChangeRecord
    candidate_sha256: str
    review: DecisionReview
    opened: list[ZoneChange] = field(default_factory=list)
    closed: list[ZoneChange] = field(default_factory=list)
    outside_register: list[ZoneChange] = field(default_factory=list)
    losing_access: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    emergency_opened: Flow | None = None
    config_opened: list[ExplainedChange] = field(default_factory=list)
    """Whole-config changes (per filter or config zone pair) the treaty zone pairs do not show."""
    config_closed: list[ExplainedChange] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.refusals

    @property
    def conduits_affected(self) -> list[str]:
        found: dict[str, None] = {}
        for item in self.record.conduits:
            found.setdefault(item.conduit, None)
        for change in self.opened + self.closed:
            for conduit_id in change.conduits:
                found.setdefault(conduit_id, None)
        return list(found)


def edited_treaty(treaty: Treaty, record: ChangeRecord) -> Treaty:
    """The treaty as it would be with the change's register edit applied."""
    replaced = {c.id for c in record.register_edit.upsert} | set(record.register_edit.remove)
    conduits = [c for c in treaty.conduits if c.id not in replaced] + list(record.register_edit.upsert)
    return treaty.model_copy(update={"conduits": conduits})


def _touching(space: PacketSpace, treaty: Treaty, flows: FlowSet) -> list[str]:
    return [c.id for c in treaty.conduits if conduit_flows(space, treaty, c).intersects(flows)]


def assess_change(site: Site, record: ChangeRecord, space: PacketSpace) -> ChangeImpact:
    """Validate the record and compute its impact; ``refusals`` says why it may not proceed."""
    treaty = site.treaty
    entry = next(f for f in treaty.firewalls if f.id == record.firewall)
    current_path, candidate_path = site.resolve(record.current_config), site.resolve(record.candidate_config)
    current = BoundaryFirewall.bound(site, entry, parse_config(current_path, entry.vendor, entry.context), space)
    candidate = BoundaryFirewall.bound(site, entry, parse_config(candidate_path, entry.vendor, entry.context),
                                       space)
    sha = file_sha256(Path(candidate_path))
    ot_approvers = {p.id for p in treaty.people if Role.OT_APPROVER in p.roles}
    review = review_decisions(record, sha, ot_approvers)
    impact = ChangeImpact(record, sha, review)
    edited = edited_treaty(treaty, record)
    for a, b in current.treaty_pairs():
        before, after = current.permitted(a, b), candidate.permitted(a, b)
        opened, closed = after - before, before - after
        if (witness := opened.witness()) is not None:
            impact.opened.append(ZoneChange(a, b, opened, witness, candidate.permitters(a, b, opened),
                                            _touching(space, edited, opened),
                                            zone_pair_sides(current, candidate, a, b, witness),
                                            sending_hosts(space, treaty, a, opened)))
        if (witness := closed.witness()) is not None:
            impact.closed.append(ZoneChange(a, b, closed, witness, current.permitters(a, b, closed),
                                            _touching(space, treaty, closed),
                                            zone_pair_sides(current, candidate, a, b, witness),
                                            sending_hosts(space, treaty, a, closed)))
            impact.losing_access += [c for c in _touching(space, treaty, closed) if c not in impact.losing_access]
        beyond = after - register_flows(space, edited, a, b)
        if (witness := beyond.witness()) is not None:
            impact.outside_register.append(ZoneChange(a, b, beyond, witness, candidate.permitters(a, b, beyond)))
    diff = diff_rulesets(space, current.parsed, candidate.parsed)
    _config_changes(impact, diff, space, treaty, (current.parsed, candidate.parsed))
    _judge(impact, record, diff)
    return impact


def _config_changes(impact: ChangeImpact, diff: RulesetDiff, space: PacketSpace, treaty: Treaty,
                    configs: tuple[Ruleset, Ruleset]) -> None:
    """Whole-config changes outside what the zone pairs showed; their closed flows cost access too."""
    shown_opened = _union(space, [z.flows for z in impact.opened])
    shown_closed = _union(space, [z.flows for z in impact.closed])

    def between_zones(change: Change) -> bool:
        """Not traffic to or from the firewall itself: no conduit's (the emergency proof still covers it)."""
        key = change.key
        return key.kind == "filter" or not SELF_ZONES & {key.from_zone, key.to_zone}

    def explained(change: Change) -> ExplainedChange:
        return ExplainedChange(change.key, change.flows, change.witness, change.rules,
                               [key_sides(*configs, change.key, change.witness)])

    impact.config_opened = [explained(c) for c in diff.opened
                            if between_zones(c) and not (c.flows - shown_opened).is_empty()]
    impact.config_closed = [explained(c) for c in diff.closed
                            if between_zones(c) and not (c.flows - shown_closed).is_empty()]
    for change in impact.config_closed:
        impact.losing_access += [c for c in _touching(space, treaty, change.flows) if c not in impact.losing_access]


def _union(space: PacketSpace, sets: list[FlowSet]) -> FlowSet:
    total = space.empty()
    for flows in sets:
        total = total | flows
    return total


def _judge(impact: ChangeImpact, record: ChangeRecord, diff: RulesetDiff) -> None:
    """The refusals; ``diff`` is the whole-config diff current -> candidate (the emergency proof)."""
    refuse = impact.refusals.append
    if not record.conduits:
        refuse("the change names no conduit")
    if not record.business_reason.strip():
        refuse("the change states no business reason")
    if record.ot_approver is None:
        refuse("the change names no OT approver")
    for decision in impact.review.self_decisions:
        refuse(f"self-approval: {decision.person} requested the change and cannot {decision.decision.value} it")
    if impact.review.vetoes:
        refuse("vetoed by " + ", ".join(f"{v.person} ({v.date})" for v in impact.review.vetoes))
    if impact.opened and not impact.review.valid_ot_approvals:
        first = impact.opened[0]
        refuse(f"it opens flows ({first.from_zone} -> {first.to_zone}, e.g. {first.witness}) without a valid OT "
               "approval of this candidate")
    elif impact.config_opened and not impact.review.valid_ot_approvals:
        change = impact.config_opened[0]
        refuse(f"it opens flows ({change.key}, e.g. {change.witness}) without a valid OT approval of this candidate")
    elif diff.translations and not impact.review.valid_ot_approvals:
        refuse(f"it translates packets anew ({diff.translations[0]}) without a valid OT approval of this candidate")
    elif diff.nat_edits and not impact.review.valid_ot_approvals:
        refuse(f"it edits address translation ({diff.nat_edits[0]}), which can open paths, without a valid OT "
               "approval of this candidate")
    if record.emergency:
        if diff.opened:  # the candidate does not permit a subset of the current config
            opened = diff.opened[0]
            impact.emergency_opened = opened.witness
            refuse(f"emergency changes may only close paths, but the candidate opens {opened.key}: "
                   f"e.g. {opened.witness}")
        elif diff.translations:
            refuse(f"emergency changes may only close paths, but the candidate translates packets anew: "
                   f"{diff.translations[0]}")
        elif diff.nat_edits:
            refuse(f"emergency changes may only close paths, but the candidate edits address translation "
                   f"({diff.nat_edits[0]}), which PlantGate cannot prove closes only")
    uncovered = [z for z in impact.outside_register if any(z.flows.intersects(o.flows) for o in impact.opened)]
    for zone_change in uncovered:
        pair = (zone_change.from_zone, zone_change.to_zone)
        newly = next(o for o in impact.opened if (o.from_zone, o.to_zone) == pair)
        beyond = (newly.flows & zone_change.flows).witness()
        refuse(f"it opens flows no conduit (existing or proposed) covers: {zone_change.from_zone} -> "
               f"{zone_change.to_zone}, e.g. {beyond}")
    for decision in impact.review.stale:
        impact.notes.append(f"the {decision.decision.value} by {decision.person} on {decision.date} was for another "
                            "candidate and does not count")
    impact.notes += [p for p in state_problems(record, impact.review) if "requested this change" not in p
                     and "does not carry over" not in p]
