"""Identity: no trust may let enterprise accounts authenticate into OT, proven on real trust exports.

The charter converges identity *patterns* only: a separate OT domain with no inbound trust
from the enterprise forest. A trust is judged from the side it was exported on: on the OT
side, Outbound or BiDirectional to enterprise fails; on the enterprise side, Inbound or
BiDirectional to OT fails; an intra-forest relationship fails either way. Mitigations are
reported beside the finding and never make it pass.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import (
    IEC_SR_1_1,
    IEC_SR_1_13,
    IEC_SR_2_1,
    IEC_SR_4_3,
    NIST_AC_4,
    NIST_SC_13,
    REF_TABLE,
)
from plantgate.checks.registry import check, rule
from plantgate.errors import Location
from plantgate.feeds.ad_trusts import TrustDirection, TrustRecord, load_trust_export
from plantgate.model.identity import Domain, DomainSide, Identity

ENTERPRISE_INTO_OT = rule(
    "PG-IDENTITY-001", "Enterprise accounts can authenticate into OT through a trust", Severity.CRITICAL,
    (REF_TABLE, IEC_SR_1_1, IEC_SR_1_13, NIST_AC_4),
    "Separate OT domain, no inbound trust from the enterprise forest: an OT-side Outbound/BiDirectional or an "
    "enterprise-side Inbound/BiDirectional trust lets enterprise credentials (and ransomware) log on in OT.")
SAME_FOREST = rule(
    "PG-IDENTITY-002", "OT and enterprise domains share a forest", Severity.CRITICAL,
    (REF_TABLE, IEC_SR_1_1, IEC_SR_2_1),
    "Domains of one forest trust each other two-way and transitively; the OT domain needs its own forest.")
OT_TRUSTED_OUTWARD = rule(
    "PG-IDENTITY-003", "One-way trust: OT accounts can log on to enterprise (visible, passes)", Severity.LOW,
    (REF_TABLE, IEC_SR_1_13),
    "An enterprise domain trusting OT does not let enterprise accounts into OT, but it is a path to review.")
DISABLED_TRUST = rule(
    "PG-IDENTITY-004", "Disabled trust still present", Severity.LOW, (REF_TABLE, IEC_SR_1_13),
    "A disabled trust object is one command away from working again; remove what is not used.")
UNCLASSIFIED = rule(
    "PG-IDENTITY-005", "OT trusts a domain the treaty does not classify", Severity.MEDIUM,
    (REF_TABLE, IEC_SR_1_13),
    "Every domain an OT domain trusts must be named in the treaty as OT or enterprise, or its accounts "
    "(and, through transitivity, its partners' accounts) cannot be judged.")
NO_EVIDENCE = rule(
    "PG-IDENTITY-006", "No trust export taken on an OT domain", Severity.MEDIUM, (REF_TABLE, IEC_SR_1_1),
    "Without a Get-ADTrust or BloodHound export from the OT domain, 'no inbound trust' is an assumption.")

RC4_TRUST = rule(
    "PG-IDENTITY-007", "Trust uses RC4 encryption without AES", Severity.LOW, (REF_TABLE, IEC_SR_4_3, NIST_SC_13),
    "A trust whose Kerberos tickets can be RC4 (UsesRC4Encryption, AES keys not enabled) lets them be cracked "
    "offline; enable AES on the trust (msDS-SupportedEncryptionTypes) and stop RC4.")


class DomainIndex:
    """The treaty's domains by DNS name, NetBIOS name and SID, all compared without case."""

    def __init__(self, identity: Identity) -> None:
        self.by_key: dict[str, Domain] = {}
        for domain in identity.domains:
            for key in (domain.name, domain.netbios, domain.sid):
                if key:
                    self.by_key.setdefault(key.strip().lower(), domain)

    def find(self, *keys: str) -> Domain | None:
        for key in keys:
            found = self.by_key.get(key.strip().lower()) if key else None
            if found is not None:
                return found
        return None


def short_name(domain: Domain) -> str:
    """``corp`` for corp.example.com: how people name a domain's accounts in one sentence."""
    return domain.name.split(".")[0]


def _fmt(record: TrustRecord) -> str:
    return f"{record.direction.label} {record.trust_type} trust, {record.export_format} export"


def _judge(record: TrustRecord, source: Domain, target: Domain, evidence: list[Location],
           taken_on: str, export_file: str) -> Iterator[Finding]:
    subjects = [source.name, target.name]
    discriminator = f"{export_file}:{record.source}>{record.target.lower()}"  # treaty-relative: stable fingerprint
    mitigations = record.mitigations()
    details = {"direction": record.direction.label, "trust_type": record.trust_type,
               "taken_on": taken_on, "mitigations": mitigations}
    mitigation_text = " Mitigations reported (they do not make it pass): " + "; ".join(mitigations) + "."
    crosses = source.side is not target.side
    if crosses and record.intra_forest:
        yield SAME_FOREST.finding(
            subjects, f"{source.name} ({source.side.value}) and {target.name} ({target.side.value}) are joined by "
            f"an intra-forest relationship ({_fmt(record)}): accounts of each can log on in the other, "
            "transitively." + mitigation_text, evidence, discriminator=discriminator, details=details)
    ot, ent = (source, target) if source.side is DomainSide.OT else (target, source)
    if crosses:
        ot_trusts_enterprise = record.direction.partner_accounts_come_in if source is ot \
            else record.direction.own_accounts_go_out
        if ot_trusts_enterprise:
            both = " The trust runs both ways." if record.direction is TrustDirection.BIDIRECTIONAL else ""
            side = "OT" if source is ot else "enterprise"
            yield ENTERPRISE_INTO_OT.finding(
                subjects, f"OT ({ot.name}) trusts {ent.name}: {short_name(ent)} accounts can log on to OT hosts."
                f"{both} ({_fmt(record)} taken on the {side} side, {source.name}.)" + mitigation_text, evidence,
                discriminator=discriminator, details=details)
            return
        if record.direction is not TrustDirection.DISABLED and not record.intra_forest:
            yield OT_TRUSTED_OUTWARD.finding(
                subjects, f"{ent.name} trusts OT ({ot.name}), one way: {short_name(ot)} accounts can log on to "
                f"enterprise hosts; enterprise accounts cannot log on in OT. ({_fmt(record)}.)", evidence,
                discriminator=discriminator, details=details)
    if record.direction is TrustDirection.DISABLED:
        yield DISABLED_TRUST.finding(
            subjects, f"{source.name} still holds a disabled trust to {target.name} ({_fmt(record)}); "
            "re-enabling it takes one command.", evidence, discriminator=discriminator, details=details)


def _rc4_finding(record: TrustRecord, source: str, target: str, evidence: list[Location],
                 discriminator: str) -> Finding:
    aes = "AES keys are not enabled" if record.uses_aes is False else "the export does not show AES keys enabled"
    return RC4_TRUST.finding(
        [source, target], f"The trust from {source} to {target} uses RC4 encryption and {aes} ({_fmt(record)}): "
        "Kerberos tickets across it can be RC4, which can be cracked offline. Enable AES on the trust "
        "(msDS-SupportedEncryptionTypes) and disable RC4.", evidence, discriminator=discriminator,
        details={"uses_rc4": record.uses_rc4, "uses_aes": record.uses_aes, "mitigations": record.mitigations()})


@check
def trust_exports(ctx: CheckContext) -> Iterator[Finding]:
    identity = ctx.treaty.identity
    if identity is None:
        return
    index = DomainIndex(identity)
    for i, export in enumerate(identity.trust_exports):
        where = ctx.site.locate("identity", "trust_exports", i)
        records = load_trust_export(ctx.site.folder / export.file, export.taken_on, export.format)
        for record in records:
            fallback = export.taken_on if record.export_format != "bloodhound" else ""
            source = index.find(record.source, fallback)
            target = index.find(record.target_sid, record.target)
            evidence = [Location(record.file, record.line), where]
            if source is None:
                continue
            if record.rc4_only:
                yield _rc4_finding(record, source.name, target.name if target else record.target, evidence,
                                   f"{export.file}:{record.source}>{record.target.lower()}")
            if target is None:
                if source.side is DomainSide.OT and record.direction.partner_accounts_come_in:
                    yield UNCLASSIFIED.finding(
                        [source.name, record.target],
                        f"OT domain {source.name} trusts {record.target}, which the treaty does not name: "
                        f"{record.target} accounts can log on to OT hosts ({_fmt(record)}).", evidence,
                        discriminator=f"{export.file}:{record.target.lower()}",
                        details={"mitigations": record.mitigations()})
                elif record.direction is TrustDirection.DISABLED:
                    yield DISABLED_TRUST.finding(
                        [source.name, record.target], f"{source.name} still holds a disabled trust to "
                        f"{record.target} ({_fmt(record)}).", evidence,
                        discriminator=f"{export.file}:{record.target.lower()}")
                continue
            yield from _judge(record, source, target, evidence, export.taken_on, export.file)


@check
def treaty_domains(ctx: CheckContext) -> Iterator[Finding]:
    identity = ctx.treaty.identity
    if identity is None:
        return
    ot_domains = [d for d in identity.domains if d.side is DomainSide.OT]
    forests: dict[str, list[Domain]] = {}
    for domain in identity.domains:
        forests.setdefault((domain.forest or domain.name).lower(), []).append(domain)
    for forest, members in sorted(forests.items()):
        sides = {d.side for d in members}
        if len(sides) > 1:
            yield SAME_FOREST.finding(
                sorted(d.name for d in members),
                f"The treaty places OT and enterprise domains in forest {forest}: "
                + ", ".join(f"{d.name} ({d.side.value})" for d in members) + ".",
                [ctx.site.locate("identity", "domains")], discriminator=f"treaty:{forest}")
    covered = {e.taken_on.lower() for e in identity.trust_exports}
    for domain in ot_domains:
        if domain.name.lower() not in covered:
            yield NO_EVIDENCE.finding(
                [domain.name], f"No trust export was taken on OT domain {domain.name}; run Get-ADTrust -Filter * "
                "there (or SharpHound) and list the file under identity.trust_exports.",
                [ctx.site.locate("identity", "domains")])
