"""Signed risk decisions as CycloneDX VEX, so scanners and suppliers see what the plant decided.

Only valid (leadership-signed, unexpired) exceptions are exported. Conduit tightening maps
to ``protected_at_perimeter`` and every other control to ``protected_by_mitigating_control``.
The state stays ``exploitable`` (the code is still there and reachable by someone) unless a
control is recorded as removing exploitability: only then is ``not_affected`` claimed.
"""

from __future__ import annotations

import datetime as dt

from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisJustification,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
from cyclonedx.model.vulnerability import BomTarget, Vulnerability, VulnerabilityAnalysis, VulnerabilitySource
from cyclonedx.output.json import JsonV1Dot6

from plantgate.decisions.exceptions import ExceptionState, exception_status
from plantgate.model import Treaty
from plantgate.model.vulns import ControlKind, ExceptionAction, RiskException


def _justification(exception: RiskException) -> ImpactAnalysisJustification:
    if any(c.kind is ControlKind.CONDUIT_TIGHTENING for c in exception.controls):
        return ImpactAnalysisJustification.PROTECTED_AT_PERIMITER
    return ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL


def _analysis(treaty: Treaty, exception: RiskException, until: dt.date | None) -> VulnerabilityAnalysis:
    removes = any(c.removes_exploitability for c in exception.controls)
    if exception.action is ExceptionAction.EMERGENCY_PATCH:
        responses = [ImpactAnalysisResponse.UPDATE]
        plan = f"patch in an emergency window on {exception.emergency_window}"
    else:
        responses = [ImpactAnalysisResponse.WORKAROUND_AVAILABLE]
        plan = f"accepted with compensating controls until outage {exception.until_outage} (ends {until})"
    controls = "; ".join(f"{c.kind.value}: {c.description}" for c in exception.controls) or "none"
    signer = treaty.person(exception.signed_by or "")
    detail = (f"{plan}. Signed by {signer.name if signer else exception.signed_by} on {exception.signed_on} "
              f"(PlantGate exception {exception.id}). Controls: {controls}. {exception.rationale}").strip()
    return VulnerabilityAnalysis(
        state=ImpactAnalysisState.NOT_AFFECTED if removes else ImpactAnalysisState.EXPLOITABLE,
        justification=_justification(exception) if exception.controls else None,
        responses=responses, detail=detail)


def build_vex(treaty: Treaty, as_of: dt.date) -> Bom:
    """A CycloneDX BOM with one component per asset and one VEX entry per signed, valid exception."""
    bom = Bom()
    components: dict[str, Component] = {}
    governance = treaty.vulnerabilities
    for exception in governance.exceptions if governance else []:
        status = exception_status(treaty, exception, as_of)
        asset = treaty.asset(exception.asset)
        if status.state is not ExceptionState.VALID or asset is None:
            continue
        if asset.id not in components:
            component = Component(name=asset.product or asset.name, version=asset.version or None,
                                  type=ComponentType.DEVICE, bom_ref=f"asset:{asset.id}",
                                  description=f"{asset.name} ({asset.id}, zone {asset.zone})")
            if asset.vendor:
                component.group = asset.vendor
            components[asset.id] = component
            bom.components.add(component)
        for cve in exception.cves:
            bom.vulnerabilities.add(Vulnerability(
                bom_ref=f"{exception.id}:{cve}", id=cve,
                source=VulnerabilitySource(name="NVD", url=None),
                analysis=_analysis(treaty, exception, status.expires_on),
                affects=[BomTarget(ref=f"asset:{asset.id}")]))
    return bom


def render_vex(bom: Bom) -> str:
    return JsonV1Dot6(bom).output_as_string(indent=2)
