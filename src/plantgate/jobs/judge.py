"""One revision judged by a job: the CLI's checks on the stored treaty, with the fleet's inputs, plus facts.

The findings are exactly what ``plantgate check`` prints for the exported folder (same loader,
same checks, same file:line evidence), with the fleet's feeds read beside the treaty's own
and the corporate baseline checked too. The facts are what the fleet pages ask across plants
without judging anything on a web request: which CVEs each asset is exposed to and through
which conduits, and which firewall paths carry RDP from IT into level 3.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from plantgate.checks import CheckContext, Finding, run_checks
from plantgate.checks.context import permitter_evidence
from plantgate.db.tables import RevisionRow
from plantgate.errors import InputError
from plantgate.firewalls.ruleset import Service
from plantgate.jobs.inputs import FleetInputs, materialise
from plantgate.load import Site, load_site
from plantgate.web import checking

RDP = Service(6, dst_ports=((3389, 3389),))


@dataclass
class Judgement:
    findings: list[dict[str, Any]]
    facts: dict[str, Any]
    objects: list[Finding] = field(default_factory=list)
    site: Site | None = None
    context: CheckContext | None = None


def judge_revision(db: Session, revision: RevisionRow, as_of: dt.date, inputs: FleetInputs,
                   workdir: Path) -> Judgement:
    """Findings and facts of a stored revision (InputError when the revision does not load)."""
    folder = checking.revision_folder(db, revision, workdir)
    feeds, baseline = materialise(db, inputs, workdir)
    try:
        site = load_site(folder)
    except InputError as exc:
        raise checking.relative_error(exc, folder) from None
    context = CheckContext(site, as_of, baseline=baseline, fleet_feeds=feeds)
    found = run_checks(site, as_of, context)
    findings = json.loads(json.dumps(checking.relativise([f.to_dict() for f in found], folder)))
    facts = fleet_facts(context)
    facts.update(summary_facts(context, findings))
    return Judgement(findings, facts, found, site, context)


COVERAGE_RULES = ("PG-FW-005", "PG-FW-006")
"""Findings that name what a firewall's model could not see (unmapped interfaces, constructs not understood)."""


def summary_facts(ctx: CheckContext, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """What the fleet dashboard counts per site, so that it reads one small row per site and no treaty."""
    treaty = ctx.treaty
    exceptions = treaty.vulnerabilities.exceptions if treaty.vulnerabilities is not None else []
    return {
        "severe": [[f["fingerprint"], f["severity"]] for f in findings if f["severity"] in ("critical", "high")],
        "by_severity": dict(Counter(f["severity"] for f in findings)),
        "coverage_gaps": sum(1 for f in findings if f["rule_id"] in COVERAGE_RULES),
        "stale_reviews": sum(1 for c in treaty.conduits if c.review_by is not None and c.review_by < ctx.as_of),
        "unsigned_exceptions": sum(1 for e in exceptions if not e.signed_by),
        "outage_ends": {o.id: o.end.isoformat() for o in (treaty.patch_policy.outages if treaty.patch_policy else [])},
    }


def fleet_facts(ctx: CheckContext) -> dict[str, Any]:
    """What the cross-plant queries read: exposed CVEs with their conduits, RDP from IT into level 3."""
    facts: dict[str, Any] = {"cves": [], "rdp_into_level_3": []}
    if ctx.treaty.vulnerabilities is not None:
        from plantgate.decisions.assess import assess

        for decision in assess(ctx)[1]:
            asset = ctx.treaty.asset(decision.asset)
            reaches = []
            for reach in decision.exposure.reaches:
                conduits = sorted(c.id for c in ctx.treaty.conduits if asset is not None
                                  and c.initiating_zone == reach.zone and c.responding_zone == asset.zone
                                  and ctx.conduit(c.id).intersects(reach.flows))
                reaches.append({"zone": reach.zone, "via": reach.via, "conduits": conduits or ["(unregistered)"]})
            facts["cves"].append({"cve": decision.cve, "asset": decision.asset, "priority": decision.priority.value,
                                  "in_kev": decision.in_kev, "dmz_facing": decision.dmz_facing, "reaches": reaches})
    rdp = ctx.space.service(RDP)
    for fw in ctx.firewalls:
        for a_id, b_id in fw.treaty_pairs():
            a, b = ctx.treaty.zone(a_id), ctx.treaty.zone(b_id)
            if a is None or b is None or not a.is_it or b.level != 3.0:
                continue
            permitted = fw.permitted(a_id, b_id) & rdp
            witness = permitted.witness()
            if witness is None:
                continue
            locations, names = permitter_evidence(fw.permitters(a_id, b_id, permitted))
            facts["rdp_into_level_3"].append({
                "firewall": fw.entry.id, "from_zone": a_id, "to_zone": b_id, "witness": witness.to_dict(),
                "rules": names, "evidence": [str(loc) for loc in locations]})
    return json.loads(json.dumps(checking.relativise(facts, ctx.site.folder)))
