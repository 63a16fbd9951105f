"""Patch governance checks that need only the treaty: outages prepared in advance."""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import IEC_SR_3_4, NIST_SI_2, REF_PATCH
from plantgate.checks.registry import check, rule

NO_WORK_PACKAGE = rule(
    "PG-PATCH-001", "Planned outage without a security work package", Severity.MEDIUM,
    (REF_PATCH, IEC_SR_3_4, NIST_SI_2),
    "Every planned outage has a security work package pre-staged; window time is never spent deciding.")


@check
def outages_prepared(ctx: CheckContext) -> Iterator[Finding]:
    policy = ctx.treaty.patch_policy
    if policy is None:
        return
    for index, outage in enumerate(policy.outages):
        if outage.end < ctx.as_of or outage.work_package is not None:
            continue
        days = (outage.start - ctx.as_of).days
        when = f"starts in {days} days" if days >= 0 else "is under way"
        yield NO_WORK_PACKAGE.finding(
            [outage.id], f"Outage {outage.id} ({outage.name}, {outage.start} to {outage.end}) {when} and has no "
            "security work package.", [ctx.site.locate("patch_policy", "outages", index)])
