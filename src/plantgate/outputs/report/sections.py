"""The report's view model: each section of the leadership report computed once, in Python.

The templates only lay out what this module decides, so the HTML and the PDF cannot tell
different stories, and the judgements (is the charter signed for this revision, is the next
outage ready, is each conduit implemented) are plain functions that tests can call.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.observed import observed_flow_files, observed_judgements
from plantgate.decisions.exceptions import exception_status
from plantgate.model import Treaty
from plantgate.model.charter import REFERENCE_TABLE, Decision
from plantgate.model.patch import Outage
from plantgate.model.zones import level_text
from plantgate.outputs.json_report import relative_location
from plantgate.outputs.report.status import ConduitStatus, Exposure, conduit_statuses, unregistered_exposures
from plantgate.outputs.report.summary import TARGET_DAYS, ActionItem, action_items, is_hygiene
from plantgate.reconcile.access_map import ZoneAccess, access_map
from plantgate.reconcile.coverage import FirewallCoverage, caveat
from plantgate.reconcile.observed import MatrixCell, observed_matrix


@dataclass(frozen=True)
class CharterRow:
    layer: str
    reference_decision: str
    reference_model: str
    decision: str
    working_model: str
    verdict: str
    """'as reference', 'differs from reference' or 'undecided'."""


@dataclass(frozen=True)
class SignatureRow:
    name: str
    role: str
    date: str
    revision: str
    current: bool


@dataclass(frozen=True)
class ServiceRow:
    service: str
    ot_condition: str
    providers: list[str]
    status: str
    ok: bool
    findings: list[str]


@dataclass(frozen=True)
class ExceptionRow:
    id: str
    asset: str
    cves: str
    action: str
    signed: str
    expires: str
    state: str
    ok: bool


@dataclass(frozen=True)
class OutageReadiness:
    outage: Outage | None
    days_until: int
    ready: bool
    gaps: list[str]
    items: list[tuple[str, str]]


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    evidence: list[str]
    witness: str


@dataclass
class ReportView:
    """Everything the templates show, computed from one check run."""

    treaty: Treaty
    as_of: dt.date
    generated_by: str
    charter: list[CharterRow]
    signatures: list[SignatureRow]
    signers_needed: list[tuple[str, str]]
    charter_signed_current: bool
    services: list[ServiceRow]
    exceptions: list[ExceptionRow]
    signer_names: list[str]
    register: list[ConduitStatus]
    exposures: list[Exposure]
    outage: OutageReadiness
    findings: list[FindingView]
    counts: list[tuple[str, int]]
    diagram_svg: str = ""
    names: dict[str, str] = field(default_factory=dict)
    access: list[ZoneAccess] = field(default_factory=list)
    observed: list[MatrixCell] = field(default_factory=list)
    coverage: list[FirewallCoverage] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)
    hygiene: list[FindingView] = field(default_factory=list)
    """Rule hygiene (PG-LINT-*), kept apart from the boundary findings in ``findings``."""
    target_days: dict[str, int] = field(default_factory=dict)

    @property
    def all_modelled(self) -> bool:
        return all(c.full for c in self.coverage)

    @property
    def not_modelled(self) -> str:
        """The sentence naming the firewalls not modelled fully (empty when all were)."""
        return caveat([c for c in self.coverage if not c.full])

    def name(self, person_id: str | None) -> str:
        """A person's name for a person id (the id itself when the treaty does not know it)."""
        if not person_id:
            return ""
        return self.names.get(person_id, person_id)

    def level(self, level: float) -> str:
        return level_text(level)


def build_view(ctx: CheckContext, findings: list[Finding], generated_by: str, diagram_svg: str = "") -> ReportView:
    treaty = ctx.treaty
    names = {p.id: p.name for p in treaty.people}
    base = ctx.site.folder
    counts = Counter(f.severity for f in findings)
    signatures = _signatures(treaty, names)
    coverage = [fw.coverage for fw in ctx.firewalls]

    def shown(f: Finding) -> FindingView:
        return FindingView(f, [relative_location(e, base) for e in f.evidence], _witness(f))

    return ReportView(
        treaty=treaty, as_of=ctx.as_of, generated_by=generated_by, charter=_charter(treaty),
        signatures=signatures, signers_needed=_signers_needed(treaty),
        charter_signed_current=any(s.current for s in signatures), services=_services(treaty, findings),
        exceptions=_exceptions(treaty, ctx.as_of, names), signer_names=_signer_names(treaty),
        register=conduit_statuses(ctx), exposures=unregistered_exposures(ctx), outage=_next_outage(treaty, ctx.as_of),
        findings=[shown(f) for f in findings if not is_hygiene(f)],
        counts=[(s.value, counts[s]) for s in Severity], diagram_svg=diagram_svg, names=names,
        access=access_map(ctx.estate, None, ctx.as_of),
        observed=observed_matrix(observed_judgements(ctx)) if observed_flow_files(ctx) else [],
        coverage=coverage, actions=action_items(treaty, findings, ctx.as_of, coverage),
        hygiene=[shown(f) for f in findings if is_hygiene(f)],
        target_days={s.value: TARGET_DAYS[s] for s in Severity})


def _charter(treaty: Treaty) -> list[CharterRow]:
    layers = treaty.charter.layers if treaty.charter else {}
    rows = []
    for layer, (expected, model) in REFERENCE_TABLE.items():
        decided = layers.get(layer)
        decision = decided.decision if decided else Decision.UNDECIDED
        verdict = ("undecided" if decision is Decision.UNDECIDED
                   else "as reference" if decision is expected else "differs from reference")
        rows.append(CharterRow(layer.value.replace("_", " "), expected.value.replace("_", " "), model,
                               decision.value.replace("_", " "), decided.working_model if decided else "", verdict))
    return rows


def _signatures(treaty: Treaty, names: dict[str, str]) -> list[SignatureRow]:
    signatures = treaty.charter.signatures if treaty.charter else []
    return [SignatureRow(names.get(s.person, s.person), s.role, s.date.isoformat(), s.revision,
                         s.revision == treaty.site.revision) for s in signatures]


def _signers_needed(treaty: Treaty) -> list[tuple[str, str]]:
    """Plant leadership, who sign the charter for the revision in force: (name, title)."""
    return [(p.name, p.title or "plant leadership") for p in treaty.people
            if any(role.value == "plant_leadership" for role in p.roles)]


def _services(treaty: Treaty, findings: list[Finding]) -> list[ServiceRow]:
    if treaty.shared_services is None:
        return []
    rows = []
    for kind, service in treaty.shared_services.services.items():
        providers, problems = [], []
        for asset_id in service.providers:
            asset = treaty.asset(asset_id)
            zone = treaty.zone(asset.zone) if asset else None
            if asset is None or zone is None:
                problems.append(f"provider {asset_id} is not an asset of the treaty")
                providers.append(asset_id)
                continue
            providers.append(f"{asset.name} ({zone.id}, L{level_text(zone.level)})")
            if zone.is_it:
                problems.append(f"provider {asset_id} sits on the enterprise side ({zone.id})")
        if not service.providers:
            problems.append("no OT-side provider named")
        related = [f"{f.rule_id}: {f.message}" for f in findings
                   if kind.value in f.subjects or f"service:{kind.value}" in f.subjects
                   or any(p in f.subjects for p in service.providers)]
        status = "; ".join(problems) or (f"{len(related)} open finding(s)" if related else "condition holds")
        rows.append(ServiceRow(kind.value.replace("_", " "), service.ot_condition, providers, status,
                               not problems and not related, related))
    return rows


def _exceptions(treaty: Treaty, as_of: dt.date, names: dict[str, str]) -> list[ExceptionRow]:
    governance = treaty.vulnerabilities
    rows = []
    for item in governance.exceptions if governance else []:
        status = exception_status(treaty, item, as_of)
        signed = f"{names.get(item.signed_by, item.signed_by)}, {item.signed_on}" if item.signed_by else "unsigned"
        rows.append(ExceptionRow(item.id, item.asset, ", ".join(item.cves), item.action.value.replace("_", " "),
                                 signed, status.expires_on.isoformat() if status.expires_on else "no expiry known",
                                 status.state.value.replace("_", " "), status.state.value == "valid"))
    return rows


def _signer_names(treaty: Treaty) -> list[str]:
    role = treaty.patch_policy.exceptions.signer_role if treaty.patch_policy else "plant_leadership"
    return [p.name for p in treaty.people if role in {r.value for r in p.roles}]


def _next_outage(treaty: Treaty, as_of: dt.date) -> OutageReadiness:
    """The first outage not yet over, and what its work package still lacks."""
    policy = treaty.patch_policy
    upcoming = sorted((o for o in (policy.outages if policy else []) if o.end >= as_of), key=lambda o: o.start)
    if not upcoming:
        return OutageReadiness(None, 0, False, ["no planned outage in the treaty"], [])
    outage = upcoming[0]
    package = outage.work_package
    gaps: list[str] = []
    items: list[tuple[str, str]] = []
    if package is None:
        gaps.append("no security work package")
    else:
        qualified = {q.patch_id: q for q in policy.qualified} if policy else {}
        for patch_id in package.patches:
            state = "vendor-qualified" if patch_id in qualified else "NOT on the vendor-qualified list"
            if patch_id not in qualified:
                gaps.append(f"patch {patch_id} is not vendor-qualified")
            items.append((f"patch {patch_id}", state))
        for asset_id in package.backups_before:
            known = treaty.asset(asset_id) is not None
            items.append((f"backup first: {asset_id}", "asset known" if known else "NOT an asset of the treaty"))
            if not known:
                gaps.append(f"backup target {asset_id} is not an asset")
        for change in package.firewall_changes:
            items.append((f"firewall change {change}", "planned"))
        if package.prepared_by is None:
            gaps.append("nobody named as preparing the package")
    return OutageReadiness(outage, (outage.start - as_of).days, not gaps, gaps, items)


def _witness(finding: Finding) -> str:
    if not finding.witness:
        return ""
    return " ".join(f"{key}={value}" for key, value in finding.witness.items())

