"""Change-control findings in ``plantgate check``: records that stall, lie, or never reach the register."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import NIST_CM_3, REF_FIREWALL
from plantgate.checks.registry import check, rule
from plantgate.decisions.change_state import file_sha256, review_decisions, state_problems
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
