"""The join: confirmed matches x feeds (on CVE only) x computed exposure -> SSVC decisions.

KEV's vendor names the vulnerable component (PAN-OS), not the device that embeds it
(RUGGEDCOM APE1808), so KEV and Vulnrichment are joined to advisories by CVE id alone.
Missing evidence never lowers a priority silently: an unknown exploitation status counts as
a public proof of concept and an unknown automatable value as "yes", and the reasons say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from plantgate.checks.context import CheckContext
from plantgate.decisions.cve_matching import CveRecordIndex
from plantgate.decisions.exposure import Exposure, compute_exposure, human_impact
from plantgate.decisions.matching import AdvisoryIndex
from plantgate.decisions.ssvc import Priority, SsvcInputs, deployer_priority
from plantgate.feeds.csaf import Advisory, load_csaf
from plantgate.feeds.fleet import FeedPaths
from plantgate.feeds.kev import CVE_ID, KevCatalog, KevEntry, load_kev
from plantgate.feeds.vulnrichment import Enrichment, load_vulnrichment
from plantgate.load import Site
from plantgate.model.assets import Asset
from plantgate.model.patch import QualifiedPatch
from plantgate.model.vulns import (
    AdvisoryMatch,
    AssetOverride,
    ExposureMapping,
    HumanImpactLevel,
    MatchStatus,
    VulnerabilityGovernance,
)


@dataclass
class Feeds:
    """Every feed the treaty names, loaded once."""

    kev: dict[str, KevCatalog] = field(default_factory=dict)
    advisories: list[Advisory] = field(default_factory=list)
    enrichment: dict[str, Enrichment] = field(default_factory=dict)

    def in_kev(self, cve: str) -> bool:
        return any(cve in catalog for catalog in self.kev.values())

    def kev_entry(self, cve: str) -> KevEntry | None:
        return next((entry for catalog in self.kev.values() if (entry := catalog.get(cve)) is not None), None)

    def exploited(self, cve: str) -> bool:
        """In a KEV catalog, or carrying CISA's KEV mark in its Vulnrichment record (cached: asked per suggestion)."""
        known = self.__dict__.setdefault("_exploited", {})
        if cve not in known:
            enrichment = self.enrichment.get(cve)
            known[cve] = self.in_kev(cve) or bool(enrichment and enrichment.in_kev)
        result: bool = known[cve]
        return result

    @cached_property
    def index(self) -> AdvisoryIndex:
        return AdvisoryIndex(self.advisories)

    @cached_property
    def record_index(self) -> CveRecordIndex:
        return CveRecordIndex(self.enrichment)

    def advisory(self, tracking_id: str) -> Advisory | None:
        return self.index.advisories.get(tracking_id)


def load_feeds(site: Site, fleet: FeedPaths | None = None) -> Feeds:
    """The treaty's own feeds, and the fleet's (``plantgate feeds update``) beside them when given."""
    governance = site.treaty.vulnerabilities
    feeds = Feeds()
    if governance is None:
        return feeds
    fleet_advisories: dict[str, Advisory] = {}
    if fleet is not None:
        feeds.kev.update({f"fleet:{path.parent.name}/{path.name}": load_kev(path) for path in fleet.kev})
        for path in fleet.csaf:
            fleet_advisories.update({a.tracking_id: a for a in load_csaf(path)})
        for path in fleet.vulnrichment:
            feeds.enrichment.update(load_vulnrichment(path))
    for relative in governance.feeds.kev:
        feeds.kev[relative] = load_kev(site.resolve(relative))
    for relative in governance.feeds.csaf:
        feeds.advisories.extend(load_csaf(site.resolve(relative)))
    own = {a.tracking_id for a in feeds.advisories}  # the treaty's own copy of an advisory wins over the fleet's
    feeds.advisories.extend(a for tracking_id, a in sorted(fleet_advisories.items()) if tracking_id not in own)
    for relative in governance.feeds.vulnrichment:  # likewise: the treaty's records override the fleet's
        feeds.enrichment.update(load_vulnrichment(site.resolve(relative)))
    return feeds


@dataclass(frozen=True)
class VulnDecision:
    """One (asset, CVE) decision with every input and the evidence for it."""

    asset: str
    cve: str
    advisory: str
    match_index: int
    priority: Priority
    inputs: SsvcInputs
    exposure: Exposure
    in_kev: bool
    dmz_facing: bool
    qualified_patch: str | None
    cvss: float | None

    def to_dict(self) -> dict[str, object]:
        return {"asset": self.asset, "cve": self.cve, "advisory": self.advisory,
                "priority": self.priority.value, "vector": self.inputs.vector(), "in_kev": self.in_kev,
                "exploitation": self.inputs.exploitation, "exposure": self.inputs.exposure,
                "automatable": self.inputs.automatable, "human_impact": self.inputs.human_impact,
                "reasons": list(self.inputs.why), "dmz_facing": self.dmz_facing,
                "qualified_patch": self.qualified_patch, "cvss_v3": self.cvss,
                "reaches": [{"zone": r.zone, "via": r.via, "narrowed": r.narrowed, "sources": list(r.sources),
                             "witness": r.witness} for r in self.exposure.reaches]}


def qualified_patch_for(ctx: CheckContext, asset: Asset, cve: str, advisory: str) -> QualifiedPatch | None:
    policy = ctx.treaty.patch_policy
    if policy is None:
        return None
    for patch in policy.qualified:
        if (patch.vendor.lower() == asset.vendor.lower() and patch.product.lower() == asset.product.lower()
                and (cve in patch.fixes or advisory in patch.fixes)):
            return patch
    return None


def _exploitation(feeds: Feeds, cve: str) -> tuple[str, str]:
    enrichment = feeds.enrichment.get(cve)
    if feeds.in_kev(cve):
        return "active", "exploitation active: in the CISA KEV catalog"
    if enrichment and enrichment.in_kev:
        return "active", f"exploitation active: KEV mark in Vulnrichment ({enrichment.kev_date_added})"
    if enrichment and enrichment.exploitation:
        return enrichment.exploitation, f"exploitation {enrichment.exploitation}: CISA Vulnrichment SSVC"
    return "poc", "exploitation unknown (no KEV entry, no Vulnrichment record): counted as poc"


def _automatable(feeds: Feeds, cve: str) -> tuple[str, str]:
    enrichment = feeds.enrichment.get(cve)
    if enrichment and enrichment.automatable:
        impact = f", technical impact {enrichment.technical_impact}" if enrichment.technical_impact else ""
        return enrichment.automatable, f"automatable {enrichment.automatable}{impact}: CISA Vulnrichment SSVC"
    return "yes", "automatable unknown (no Vulnrichment record): counted as yes"


@dataclass
class _DecideCache:
    """Inputs shared by many decisions: per asset (exposure, impact) and per CVE (feed values)."""

    exposures: dict[tuple[str, str], Exposure] = field(default_factory=dict)
    feed_inputs: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    impacts: dict[str, tuple[HumanImpactLevel, str]] = field(default_factory=dict)


def decide(ctx: CheckContext, feeds: Feeds, governance: VulnerabilityGovernance) -> list[VulnDecision]:
    """Decisions for every CVE of every confirmed match the asset has not been patched for."""
    mapping: ExposureMapping = governance.exposure_mapping
    overrides = {o.asset: o for o in governance.overrides}
    decisions: list[VulnDecision] = []
    cache = _DecideCache()
    assets = {a.id: a for a in ctx.treaty.assets}
    for index, match in enumerate(governance.matches):
        asset = assets.get(match.asset)
        cves = match_cves(feeds, match)
        if match.status is not MatchStatus.CONFIRMED or asset is None or cves is None:
            continue  # an advisory the feeds do not hold is PG-VULN-008
        for cve in cves:
            decisions.append(_decide_one(ctx, feeds, asset, match, index, cve, mapping, overrides, cache))
    return decisions


def match_cves(feeds: Feeds, match: AdvisoryMatch) -> list[str] | None:
    """The CVEs a match stands for: the advisory product's, or the CVE a record match names; None if unknown."""
    advisory = feeds.advisory(match.advisory)
    if advisory is not None:
        if match.product_id:
            return sorted({v.cve for v in advisory.vulnerabilities_for(match.product_id) if v.cve})
        return sorted({v.cve for v in advisory.vulnerabilities if v.cve and v.affected_ids()})
    if CVE_ID.match(match.advisory.strip().upper()):
        return [match.advisory.strip().upper()]
    return None


def confirmed_pairs(governance: VulnerabilityGovernance | None, feeds: Feeds) -> set[tuple[str, str]]:
    """(asset, CVE) for every confirmed match, whether or not the asset has since been patched."""
    pairs: set[tuple[str, str]] = set()
    for match in governance.matches if governance else []:
        if match.status is MatchStatus.CONFIRMED:
            pairs.update((match.asset, cve) for cve in match_cves(feeds, match) or [])
    return pairs


def _decide_one(ctx: CheckContext, feeds: Feeds, asset: Asset, match: AdvisoryMatch, index: int, cve: str,
                mapping: ExposureMapping, overrides: dict[str, AssetOverride],
                cache: _DecideCache) -> VulnDecision:
    key = (asset.id, repr(match.services))
    if key not in cache.exposures:
        cache.exposures[key] = compute_exposure(ctx, asset, list(match.services), mapping)
    exposure = cache.exposures[key]
    if cve not in cache.feed_inputs:
        cache.feed_inputs[cve] = (*_exploitation(feeds, cve), *_automatable(feeds, cve))
    exploitation, why_e, automatable, why_a = cache.feed_inputs[cve]
    if asset.id not in cache.impacts:
        cache.impacts[asset.id] = human_impact(ctx, asset, mapping)
    impact, why_h = cache.impacts[asset.id]
    level, why_x = exposure.level, f"exposure {exposure.level.value}: {exposure.reason}"
    override = overrides.get(asset.id)
    if override is not None:
        if override.exposure is not None:
            level, why_x = override.exposure, f"exposure {override.exposure.value}: treaty override ({override.reason})"
        if override.human_impact is not None:
            impact, why_h = override.human_impact, f"treaty override ({override.reason})"
    inputs = SsvcInputs(exploitation, level.value, automatable, impact.value,
                        (why_e, why_x, why_a, f"human impact {impact.value}: {why_h}"))
    advisory = feeds.advisory(match.advisory)
    enrichment = feeds.enrichment.get(cve)
    cvss = enrichment.cvss if enrichment else None
    if advisory is not None:
        scores = [v.cvss_v3.get(match.product_id) for v in advisory.vulnerabilities if v.cve == cve]
        cvss = max((s for s in scores if s is not None), default=cvss)
    patch = qualified_patch_for(ctx, asset, cve, match.advisory)
    zone = ctx.treaty.zone(asset.zone)
    dmz_facing = bool(zone and zone.is_dmz) or level.value == "open"
    in_kev = feeds.exploited(cve)
    return VulnDecision(asset.id, cve, match.advisory, index, deployer_priority(inputs), inputs, exposure,
                        in_kev, dmz_facing, patch.patch_id if patch else None, cvss)


def is_remediated(asset: Asset, decision: VulnDecision) -> bool:
    return decision.qualified_patch is not None and decision.qualified_patch in asset.installed_patches


def assess(ctx: CheckContext) -> tuple[Feeds, list[VulnDecision]]:
    """Load the feeds and decide, once per check run (cached on the context)."""
    cached = ctx.__dict__.get("_vuln_assessment")
    if cached is not None:
        result: tuple[Feeds, list[VulnDecision]] = cached
        return result
    governance = ctx.treaty.vulnerabilities
    feeds = load_feeds(ctx.site, ctx.fleet_feeds)
    decisions: list[VulnDecision] = []
    if governance is not None:
        assets = {a.id: a for a in ctx.treaty.assets}
        decisions = [d for d in decide(ctx, feeds, governance) if not is_remediated(assets[d.asset], d)]
    ctx.__dict__["_vuln_assessment"] = (feeds, decisions)
    return feeds, decisions
