"""SOC runbooks: every alert kind has an OT runbook whose rule one is "call the control room".

An enterprise analyst who isolates an operator console during an upset can cause the
incident the SOC exists to prevent. So each alert kind the treaty lists needs an OT
runbook, its first step calls the control room on a number written down, and no step
isolates or quarantines an HMI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import IEC_SR_6_1, NIST_IR_4, REF_SERVICES
from plantgate.checks.registry import check, rule
from plantgate.model.soc import StepAction

NO_RUNBOOK = rule(
    "PG-SOC-001", "Alert kind without an OT runbook", Severity.HIGH, (REF_SERVICES, IEC_SR_6_1, NIST_IR_4),
    "Every alert kind the SOC can raise on OT has an OT-literate runbook.")
RULE_ONE = rule(
    "PG-SOC-002", "Runbook's rule one is not \"call the control room\", with a number", Severity.HIGH,
    (REF_SERVICES, NIST_IR_4), "Rule one: call the control room before touching anything, on a number written down.")
ISOLATES_HMI = rule(
    "PG-SOC-003", "Runbook isolates or quarantines an HMI", Severity.HIGH, (REF_SERVICES, NIST_IR_4),
    "Operators run the unit from their HMIs; the SOC never isolates or quarantines one.")

_PHONE = re.compile(r"\+?\d[\d\s().\-/]{5,}\d")
_DISRUPTIVE = {StepAction.ISOLATE, StepAction.QUARANTINE}


def has_phone_number(text: str) -> bool:
    return bool(_PHONE.search(text)) and sum(c.isdigit() for c in text) >= 6


@check
def runbooks(ctx: CheckContext) -> Iterator[Finding]:
    soc = ctx.treaty.soc
    if soc is None:
        return
    books = {b.alert_kind: (i, b) for i, b in enumerate(soc.runbooks)}
    for i, kind in enumerate(soc.alert_kinds):
        if kind not in books:
            yield NO_RUNBOOK.finding([kind], f"Alert kind '{kind}' has no OT runbook.",
                                     [ctx.site.locate("soc", "alert_kinds", i)])
    room_number = soc.control_room.phone if soc.control_room and has_phone_number(soc.control_room.phone) else ""
    for index, book in enumerate(soc.runbooks):
        first = book.steps[0]
        where = [ctx.site.locate("soc", "runbooks", index, "steps", 0)]
        if first.action is not StepAction.CALL_CONTROL_ROOM:
            yield RULE_ONE.finding(
                [book.alert_kind], f"Runbook '{book.alert_kind}' starts with '{first.action.value}', not with "
                "calling the control room.", where, discriminator="first-step")
        elif not has_phone_number(first.detail) and not room_number:
            yield RULE_ONE.finding(
                [book.alert_kind], f"Runbook '{book.alert_kind}' says to call the control room but gives no number, "
                "and the playbook names no control-room phone.", where, discriminator="number")
        for step_index, step in enumerate(book.steps):
            if step.action not in _DISRUPTIVE:
                continue
            roles = {r.strip().lower() for r in step.target_roles}
            mentions = "hmi" in step.detail.lower()
            if "hmi" in roles or mentions or not roles:
                target = "an HMI" if ("hmi" in roles or mentions) else "any asset, HMIs included (no target roles)"
                yield ISOLATES_HMI.finding(
                    [book.alert_kind], f"Runbook '{book.alert_kind}' step {step_index + 1} "
                    f"({step.action.value}) acts on {target}.",
                    [ctx.site.locate("soc", "runbooks", index, "steps", step_index)],
                    severity=Severity.HIGH if target == "an HMI" else Severity.MEDIUM,
                    discriminator=str(step_index))
