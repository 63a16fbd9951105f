"""Change-control findings in ``plantgate check``: records that stall, lie, or never reach the register.

``check`` is what a CI gate runs, so it re-applies the change rules of ``change check`` to
every record that claims to have passed them (approved, implemented or verified): an
emergency change whose candidate opens flows, or a change that opens flows no conduit
covers, is a finding here too, with the witness, not only a refusal on request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import NIST_CM_3, REF_FIREWALL
from plantgate.checks.registry import check, rule
from plantgate.decisions.change_impact import assess_change
from plantgate.decisions.change_state import file_sha256, review_decisions, state_problems
from plantgate.errors import Location
from plantgate.model.changes import ChangeRecord, ChangeState
from plantgate.model.governance import Role

STALLED = rule(
    "PG-CHANGE-001", "Change past its window: approved but not implemented, or implemented but not verified",
    Severity.MEDIUM, (REF_FIREWALL, NIST_CM_3),
    "A change that outlives its window leaves the register and the firewall out of step.")
NO_RECORD = rule(
    "PG-CHANGE-002", "Register entry with no change record", Severity.MEDIUM, (REF_FIREWALL, NIST_CM_3),
    "Every rule change goes through a change record that names the conduit, the reason and the OT approver.")
EDIT_NOT_APPLIED = rule(
    "PG-CHANGE-003", "Verified change whose register edit was never applied", Severity.HIGH, (REF_FIREWALL, NIST_CM_3),
    "One register, kept current: a verified change's register edit must be in the register.")
EMERGENCY_OPENS = rule(
    "PG-CHANGE-005", "Emergency change recorded as passed although its candidate opens flows", Severity.CRITICAL,
    (REF_FIREWALL, NIST_CM_3),
    "Emergency changes may only close paths; a candidate that opens one must be refused, whatever its record says.")
OPENS_UNREGISTERED = rule(
    "PG-CHANGE-006", "Change recorded as passed although it opens flows no conduit covers", Severity.HIGH,
    (REF_FIREWALL, NIST_CM_3),
    "A change may open only what the register (with the change's own register edit) grants.")
PASSED = frozenset({ChangeState.APPROVED, ChangeState.IMPLEMENTED, ChangeState.VERIFIED})
STATE_UNSUPPORTED = rule(
    "PG-CHANGE-004", "Change record claims a state its decisions do not support", Severity.HIGH,
    (REF_FIREWALL, NIST_CM_3),
    "OT holds a veto, nobody approves their own change, and an approval binds one candidate.")


def _window_end(ctx: CheckContext, record: ChangeRecord) -> dt.date | None:
    if record.window_end is not None:
        return record.window_end
    if record.outage and ctx.treaty.patch_policy:
        outage = next((o for o in ctx.treaty.patch_policy.outages if o.id == record.outage), None)
        return outage.end if outage else None
    return None


@check
def change_records(ctx: CheckContext) -> Iterator[Finding]:
    ot_approvers = {p.id for p in ctx.treaty.people if Role.OT_APPROVER in p.roles}
    for index, record in enumerate(ctx.treaty.changes):
        where = [ctx.site.locate("changes", index, "state")]
        sha = file_sha256(ctx.site.resolve(record.candidate_config))
        review = review_decisions(record, sha, ot_approvers)
        for problem in state_problems(record, review):
            yield STATE_UNSUPPORTED.finding([record.id], f"{record.id}: {problem}.", where, discriminator=problem)
        end = _window_end(ctx, record)
        stalled = {ChangeState.APPROVED: "approved but not implemented",
                   ChangeState.IMPLEMENTED: "implemented but not verified"}.get(record.state)
        if stalled and end is not None and end < ctx.as_of:
            yield STALLED.finding([record.id], f"{record.id} is {stalled}, and its window ended on {end}.", where)
        if record.state is ChangeState.VERIFIED:
            yield from _edit_applied(ctx, index, record)
        if record.state in PASSED:
            yield from _change_rules(ctx, index, record)


def _change_rules(ctx: CheckContext, index: int, record: ChangeRecord) -> Iterator[Finding]:
    """The rules of ``change check`` on a record that claims to have passed them."""
    impact = assess_change(ctx.site, record, ctx.space)
    where = [ctx.site.locate("changes", index, "emergency" if record.emergency else "state"),
             Location(str(ctx.site.resolve(record.candidate_config)))]
    if record.emergency and impact.emergency_opened is not None:
        emergency = impact.emergency_opened
        permitters = impact.opened[0].rules if impact.opened else \
            impact.config_opened[0].rules if impact.config_opened else []
        rules = [f"{r.rule_id} (line {r.span.line})" for _, r in permitters if r is not None]
        yield EMERGENCY_OPENS.finding(
            [record.id, record.firewall], f"{record.id} is an emergency change recorded as {record.state.value}, but "
            f"its candidate opens flows on {record.firewall}, e.g. {emergency}"
            + (f", permitted by {', '.join(rules)}" if rules else "") + ". Emergency changes may only close paths.",
            where, witness=emergency.to_dict(), discriminator="emergency")
    for zone_change in impact.outside_register:
        opened = [o for o in impact.opened if (o.from_zone, o.to_zone) == (zone_change.from_zone, zone_change.to_zone)]
        found = (zone_change.flows & opened[0].flows).witness() if opened else None
        if found is None:
            continue  # permitted before the change too: the register checks report it
        witness = found
        yield OPENS_UNREGISTERED.finding(
            [record.id, record.firewall], f"{record.id} is recorded as {record.state.value}, but its candidate opens "
            f"flows from {zone_change.from_zone} to {zone_change.to_zone} that no conduit (existing or in its register "
            f"edit) covers, e.g. {witness}.", where, witness=witness.to_dict(),
            discriminator=f"{zone_change.from_zone}>{zone_change.to_zone}")


def _edit_applied(ctx: CheckContext, index: int, record: ChangeRecord) -> Iterator[Finding]:
    where = [ctx.site.locate("changes", index, "register_edit")]
    for proposed in record.register_edit.upsert:
        current = next((c for c in ctx.treaty.conduits if c.id == proposed.id), None)
        if current != proposed:
            state = "is missing from the register" if current is None else "differs from the register entry"
            yield EDIT_NOT_APPLIED.finding([record.id, proposed.id], f"{record.id} is verified but conduit "
                                           f"{proposed.id} {state}.", where, discriminator=proposed.id)
    for removed in record.register_edit.remove:
        if any(c.id == removed for c in ctx.treaty.conduits):
            yield EDIT_NOT_APPLIED.finding([record.id, removed], f"{record.id} is verified but conduit {removed} "
                                           "it removes is still in the register.", where, discriminator=removed)


@check
def conduits_have_records(ctx: CheckContext) -> Iterator[Finding]:
    for conduit in ctx.treaty.conduits:
        if not conduit.change_record.strip():
            yield NO_RECORD.finding([conduit.id], f"Conduit {conduit.id} names no change record.",
                                    [ctx.site.locate_item("conduits", conduit.id)])
