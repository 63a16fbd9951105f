"""Charter completeness: every layer decided as the reference table says, signed, escalation named."""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import NIST_PL_2, NIST_PM_9, REF_TABLE, REF_WRITE_DOWN
from plantgate.checks.registry import check, rule
from plantgate.model.charter import REFERENCE_TABLE, Decision, Layer
from plantgate.model.governance import Role
from plantgate.model.identity import DomainSide

UNDECIDED = rule("PG-CHARTER-001", "Charter layer left undecided", Severity.HIGH, (REF_TABLE, NIST_PL_2),
                 "Every layer of the reference table needs a decision and a working model before the first "
                 "incident tests it.")
CONTRADICTS = rule("PG-CHARTER-002", "Charter decision contradicts the reference table", Severity.HIGH,
                   (REF_TABLE, NIST_PL_2),
                   "Converge data, standards and visibility; do not converge trust, cadence and authority.")
UNSIGNED = rule("PG-CHARTER-003", "Charter not signed by plant leadership for this revision", Severity.HIGH,
                (REF_WRITE_DOWN, NIST_PM_9),
                "The charter is one page that leadership has signed, for the revision in force.")
NO_ESCALATION = rule("PG-ESCALATION-001", "Escalation path names no person who decides", Severity.HIGH,
                     (REF_WRITE_DOWN, NIST_PM_9),
                     "If the name for the 2 a.m. question is not written down, the program is not finished.")

# Where a site's decision differs from the reference, how bad that is: trust, cadence
# and authority must not converge, so converging them is critical.
_MUST_NOT_CONVERGE = {Layer.IDENTITY, Layer.PATCH_MANAGEMENT, Layer.CHANGE_AUTHORITY}


@check
def charter_layers(ctx: CheckContext) -> Iterator[Finding]:
    charter = ctx.treaty.charter
    where = ctx.site.locate("charter") if charter else ctx.site.locate("site")
    for layer, (expected, model) in REFERENCE_TABLE.items():
        decided = charter.layers.get(layer) if charter else None
        evidence = [ctx.site.locate("charter", "layers", layer.value)] if decided else [where]
        if decided is None or decided.decision is Decision.UNDECIDED:
            yield UNDECIDED.finding(
                [f"charter:{layer.value}"],
                f"The charter leaves '{layer.value}' undecided; the reference table says "
                f"'{expected.value}': {model}.", evidence, discriminator=layer.value)
            continue
        if decided.decision is expected:
            continue
        severity = Severity.CRITICAL if (
            layer in _MUST_NOT_CONVERGE and decided.decision is Decision.CONVERGE) else Severity.HIGH
        message = (f"The charter decides '{decided.decision.value}' for '{layer.value}'; the reference table "
                   f"says '{expected.value}': {model}.")
        if layer is Layer.IDENTITY and decided.decision is Decision.CONVERGE:
            message += " Extending the corporate domain into the plant installs a ransomware conduit."
            shared = _shared_domains(ctx)
            if shared:
                message += " Domains on both sides: " + ", ".join(shared) + "."
        yield CONTRADICTS.finding([f"charter:{layer.value}"], message, evidence, severity=severity,
                                  discriminator=layer.value)


def _shared_domains(ctx: CheckContext) -> list[str]:
    identity = ctx.treaty.identity
    if not identity:
        return []
    sides: dict[str, set[DomainSide]] = {}
    for domain in identity.domains:
        sides.setdefault(domain.name.lower(), set()).add(domain.side)
    return sorted(name for name, found in sides.items() if len(found) > 1)


@check
def charter_signed(ctx: CheckContext) -> Iterator[Finding]:
    charter = ctx.treaty.charter
    revision = ctx.treaty.site.revision
    if charter is None:
        yield UNSIGNED.finding(["charter"], "The treaty has no charter at all.", [ctx.site.locate("site")])
        return
    leaders = {p.id for p in ctx.treaty.people if Role.PLANT_LEADERSHIP in p.roles}
    by_leaders = [s for s in charter.signatures if s.person in leaders]
    current = [s for s in by_leaders if not revision or s.revision == revision]
    if current:
        return
    where = [ctx.site.locate("charter", "signatures") if charter.signatures else ctx.site.locate("charter")]
    if not by_leaders:
        message = "No one with the plant leadership role has signed the charter."
    else:
        signed = ", ".join(sorted({f"{s.person} ({s.revision}, {s.date})" for s in by_leaders}))
        message = f"Leadership signed revision(s) other than the one in force ({revision}): {signed}."
    yield UNSIGNED.finding(["charter"], message, where, discriminator=revision)


@check
def escalation_named(ctx: CheckContext) -> Iterator[Finding]:
    path = ctx.treaty.escalation
    named = [s for s in path.steps if s.person] if path else []
    deciders = [s for s in named if s.decides]
    if named and deciders:
        return
    where = [ctx.site.locate("escalation") if path else ctx.site.locate("site")]
    if not path or not path.steps:
        message = "There is no escalation path: nobody is named for the 2 a.m. question."
    elif not named:
        message = "The escalation path lists roles but names no person."
    else:
        message = "The escalation path names people but none of them decides whether the plant keeps running."
    yield NO_ESCALATION.finding(["escalation"], message, where)
