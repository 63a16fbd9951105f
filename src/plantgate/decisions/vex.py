"""Signed risk decisions as CycloneDX VEX, so scanners and suppliers see what the plant decided.

Only valid exceptions (leadership-signed on or before the day judged, unexpired) for a CVE
the asset has a confirmed match for are exported: an unsigned, future-dated or stale one
decides nothing. The state stays ``exploitable`` (the code is still there and reachable by
someone), with the plan as the response, unless a control is recorded as removing
exploitability: only then is ``not_affected`` claimed, and only then is a ``justification``
given, as CycloneDX defines it (conduit tightening: ``protected_at_perimeter``; any other
control: ``protected_by_mitigating_control``). The serial number and timestamp derive from
the statements and the day judged, so two exports of the same decisions diff clean.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisJustification,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
from cyclonedx.model.vulnerability import BomTarget, Vulnerability, VulnerabilityAnalysis, VulnerabilitySource
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion

from plantgate.decisions.exceptions import exception_status
from plantgate.model import Treaty
from plantgate.model.vulns import ControlKind, ExceptionAction, RiskException

SPEC_VERSIONS = {"1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}
_NAMESPACE = uuid.UUID("6f1d2c4e-8a53-5b7e-9a0f-3c1d2e4f5a6b")


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
    if not removes:
        return VulnerabilityAnalysis(state=ImpactAnalysisState.EXPLOITABLE, responses=responses, detail=detail)
    perimeter = any(c.kind is ControlKind.CONDUIT_TIGHTENING and c.removes_exploitability for c in exception.controls)
    return VulnerabilityAnalysis(
        state=ImpactAnalysisState.NOT_AFFECTED, responses=responses, detail=detail,
        justification=ImpactAnalysisJustification.PROTECTED_AT_PERIMITER if perimeter
        else ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL)


def build_vex(treaty: Treaty, as_of: dt.date, confirmed: set[tuple[str, str]]) -> Bom:
    """One component per asset and one VEX entry per CVE of a valid exception with a confirmed match.

    ``confirmed`` holds (asset id, CVE) of the confirmed matches (``assess.confirmed_pairs``).
    """
    components: dict[str, Component] = {}
    vulnerabilities: list[Vulnerability] = []
    statements: list[dict[str, object]] = []
    governance = treaty.vulnerabilities
    for exception in governance.exceptions if governance else []:
        status = exception_status(treaty, exception, as_of)
        asset = treaty.asset(exception.asset)
        if not status.valid or asset is None:
            continue
        for cve in exception.cves:
            if (asset.id, cve) not in confirmed:
                continue
            if asset.id not in components:
                component = Component(name=asset.product or asset.name, version=asset.version or None,
                                      type=ComponentType.DEVICE, bom_ref=f"asset:{asset.id}",
                                      description=f"{asset.name} ({asset.id}, zone {asset.zone})")
                if asset.vendor:
                    component.group = asset.vendor
                components[asset.id] = component
            analysis = _analysis(treaty, exception, status.expires_on)
            vulnerabilities.append(Vulnerability(
                bom_ref=f"{exception.id}:{cve}", id=cve, source=VulnerabilitySource(name="NVD", url=None),
                analysis=analysis, affects=[BomTarget(ref=f"asset:{asset.id}")]))
            statements.append({"exception": exception.id, "cve": cve, "asset": asset.id,
                               "component": [asset.vendor, asset.product or asset.name, asset.version],
                               "state": analysis.state.value if analysis.state else "", "detail": analysis.detail})
    digest = hashlib.sha256(json.dumps([str(as_of), sorted(statements, key=json.dumps)], sort_keys=True)
                            .encode()).hexdigest()
    return Bom(components=components.values(), vulnerabilities=vulnerabilities,
               serial_number=uuid.uuid5(_NAMESPACE, digest),
               metadata=BomMetaData(timestamp=dt.datetime.combine(as_of, dt.time(), dt.UTC)))


def render_vex(bom: Bom, spec_version: str = "1.6") -> str:
    """The BOM as CycloneDX JSON of ``spec_version`` (1.5 or 1.6)."""
    return make_outputter(bom, OutputFormat.JSON, SPEC_VERSIONS[spec_version]).output_as_string(indent=2) + "\n"
