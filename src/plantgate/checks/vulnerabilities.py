"""Vulnerability and patch governance findings: signed decisions, exceptions, qualification, outages.

Decisions come from the SSVC deployer table fed by KEV, Vulnrichment and the exposure the
firewalls and register really allow (see plantgate.decisions). These checks say where the
paperwork the reference text demands is missing: a KEV hole on the DMZ nobody signed for,
an urgent decision without an exception, a signature from the wrong role, an acceptance past
its outage, a patch off the vendor-qualified list, a work package that is not ready. Only a
valid exception (see ``decisions.exceptions``) counts as a decision; the findings name why
each other one does not.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import IEC_SR_3_4, NIST_PM_9, NIST_SI_2, REF_PATCH
from plantgate.checks.registry import check, rule
from plantgate.decisions.assess import VulnDecision, assess
from plantgate.decisions.exceptions import (
    ExceptionState,
    ExceptionStatus,
    exception_status,
    exceptions_for,
    missing_parts,
)
from plantgate.decisions.ssvc import Priority
from plantgate.decisions.workpackage import build_plan
from plantgate.errors import Location
from plantgate.model.vulns import RiskException

KEV_UNSIGNED = rule(
    "PG-VULN-001", "Known exploited vulnerability on a DMZ-facing asset without a signed decision",
    Severity.CRITICAL, (REF_PATCH, NIST_SI_2, NIST_PM_9),
    "An actively exploited vulnerability on a DMZ-facing system needs a decision plant leadership signs: "
    "patch in an emergency window, or accept compensating controls until the outage.")
NO_EXCEPTION = rule(
    "PG-VULN-002", "Out-of-cycle or immediate decision without a complete exception record", Severity.HIGH,
    (REF_PATCH, NIST_PM_9),
    "Out-of-cycle and Immediate decisions need an exception record signed by plant leadership (an unsigned one, "
    "one signed by another role or dated after the day judged counts for nothing); Immediate ones also name the "
    "escalation path.")
WRONG_SIGNER = rule(
    "PG-VULN-003", "Patch exception signed by someone without the leadership role", Severity.HIGH,
    (REF_PATCH, NIST_PM_9), "Only people whose role the treaty names as plant leadership sign risk decisions.")
EXPIRED = rule(
    "PG-VULN-004", "Expired risk acceptance", Severity.HIGH, (REF_PATCH, NIST_SI_2),
    "An acceptance lasts until its outage; after the window the vulnerability must be patched or decided again.")
AWAITING_QUALIFICATION = rule(
    "PG-VULN-005", "Scheduled patch awaiting vendor qualification", Severity.MEDIUM, (REF_PATCH, IEC_SR_3_4),
    "The OT baseline is the vendor-qualified list: a Scheduled decision waits until the vendor qualifies a patch.")
UNQUALIFIED_PATCH = rule(
    "PG-PATCH-002", "OT patch planned or installed that is not vendor-qualified", Severity.HIGH,
    (REF_PATCH, IEC_SR_3_4, NIST_SI_2), "Only patches on the vendor-qualified list are planned or installed in OT.")
PACKAGE_NOT_READY = rule(
    "PG-PATCH-003", "Outage work package not ready", Severity.MEDIUM, (REF_PATCH, IEC_SR_3_4, NIST_SI_2),
    "Patches are staged in the DMZ, firewall changes approved and backups listed before the window opens.")


def _match_location(ctx: CheckContext, decision: VulnDecision) -> Location:
    return ctx.site.locate("vulnerabilities", "matches", decision.match_index)


def _summary(decision: VulnDecision) -> str:
    return (f"{decision.cve} ({decision.advisory}) on {decision.asset} is {decision.priority.value} "
            f"[{decision.inputs.vector()}]: " + "; ".join(decision.inputs.why))


def _exception_location(ctx: CheckContext, exception_id: str) -> Location:
    governance = ctx.treaty.vulnerabilities
    assert governance is not None
    index = next(i for i, e in enumerate(governance.exceptions) if e.id == exception_id)
    return ctx.site.locate("vulnerabilities", "exceptions", index)


def _why_not_valid(statuses: list[tuple[RiskException, ExceptionStatus]]) -> str:
    """'EX-1 is not signed; EX-2 is signed by m.okafor (ot_approver)...': why none of them counts."""
    return "; ".join(status.detail for _, status in statuses if not status.valid)


@check
def vulnerability_decisions(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.treaty.vulnerabilities is None:
        return
    _, decisions = assess(ctx)
    for decision in decisions:
        subjects = [decision.asset, decision.cve]
        where = [_match_location(ctx, decision), ctx.site.locate_item("assets", decision.asset)]
        witness = decision.exposure.reaches[0].witness if decision.exposure.reaches and (
            decision.priority.needs_exception or decision.in_kev) else None
        found = exceptions_for(ctx.treaty, decision.asset, decision.cve)
        statuses = [(e, exception_status(ctx.treaty, e, ctx.as_of)) for e in found]
        valid = [e for e, s in statuses if s.valid]
        unsigned = f" Not counted as signed: {_why_not_valid(statuses)}." if found and not valid else ""
        if decision.in_kev and decision.dmz_facing and not valid:
            yield KEV_UNSIGNED.finding(subjects, "No signed decision: " + _summary(decision) + unsigned, where,
                                       witness=witness, details=decision.to_dict())
        if decision.priority.needs_exception:
            needs_escalation = decision.priority is Priority.IMMEDIATE
            gaps = "; ".join(sorted({m for e in found for m in missing_parts(e, needs_escalation)}))
            lacking = f" Exception {found[0].id} also lacks {gaps}." if gaps and found else ""
            severity = Severity.CRITICAL if needs_escalation else None
            if not found:
                yield NO_EXCEPTION.finding(
                    subjects, "No exception record: " + _summary(decision), where, witness=witness,
                    severity=severity, details=decision.to_dict())
            elif not valid:
                yield NO_EXCEPTION.finding(
                    subjects, "No valid signed exception: " + _summary(decision) + unsigned + lacking,
                    [_exception_location(ctx, found[0].id), *where], witness=witness, severity=severity,
                    discriminator="not-signed", details=decision.to_dict())
            elif not [e for e in valid if not missing_parts(e, needs_escalation)]:
                yield NO_EXCEPTION.finding(
                    subjects, f"Exception {valid[0].id} lacks {gaps}. " + _summary(decision),
                    [_exception_location(ctx, valid[0].id), *where], discriminator="incomplete",
                    details=decision.to_dict())
        for exception, status in statuses:
            location = _exception_location(ctx, exception.id)
            if status.state is ExceptionState.WRONG_SIGNER:
                yield WRONG_SIGNER.finding([exception.id, *subjects], status.detail + "; it counts as unsigned.",
                                           [location], discriminator=exception.id)
            elif status.state is ExceptionState.EXPIRED:
                yield EXPIRED.finding([exception.id, *subjects], f"{status.detail}; {decision.cve} is still "
                                      f"unpatched on {decision.asset}. " + _summary(decision), [location],
                                      discriminator=exception.id)
        if decision.priority is Priority.SCHEDULED and decision.qualified_patch is None:
            yield AWAITING_QUALIFICATION.finding(
                subjects, f"Awaiting vendor qualification: no qualified patch fixes {decision.cve} on "
                f"{decision.asset}; it cannot go into the next outage's work package.", where)


@check
def qualified_patches_only(ctx: CheckContext) -> Iterator[Finding]:
    policy = ctx.treaty.patch_policy
    if policy is None:
        return
    qualified = {p.patch_id for p in policy.qualified}
    for asset in ctx.treaty.assets:
        zone = ctx.treaty.zone(asset.zone)
        if zone is None or not zone.is_ot:
            continue
        for index, patch_id in enumerate(asset.installed_patches):
            if patch_id not in qualified:
                yield UNQUALIFIED_PATCH.finding(
                    [asset.id, patch_id], f"{asset.id} has {patch_id} installed, which is not on the "
                    "vendor-qualified list.", [ctx.site.locate_item("assets", asset.id, "installed_patches", index)],
                    discriminator="installed")
    for i, outage in enumerate(policy.outages):
        if outage.work_package is None or outage.end < ctx.as_of:
            continue
        for j, patch_id in enumerate(outage.work_package.patches):
            if patch_id not in qualified:
                yield UNQUALIFIED_PATCH.finding(
                    [outage.id, patch_id], f"Outage {outage.id} plans {patch_id}, which is not on the "
                    "vendor-qualified list.", [ctx.site.locate("patch_policy", "outages", i, "work_package",
                                                                "patches", j)], discriminator="planned")


@check
def work_packages_ready(ctx: CheckContext) -> Iterator[Finding]:
    policy = ctx.treaty.patch_policy
    if policy is None:
        return
    decisions = assess(ctx)[1] if ctx.treaty.vulnerabilities is not None else []
    for index, outage in enumerate(policy.outages):
        if outage.work_package is None or outage.end < ctx.as_of:
            continue  # PG-PATCH-001 reports a missing package
        plan = build_plan(ctx.treaty, outage.id, decisions, ctx.as_of)
        if plan.not_ready:
            yield PACKAGE_NOT_READY.finding(
                [outage.id], f"Outage {outage.id} ({outage.start}) work package is not ready: "
                + "; ".join(plan.not_ready) + ".",
                [ctx.site.locate("patch_policy", "outages", index, "work_package")], details=plan.to_dict())
