"""Object pages people read: zone, asset, firewall (with its config, line by line) and finding.

Each shows its fields as labelled values and tables and links to what it names. They read the
head revision's document, the stored check run and the stored zone pictures (rule listings),
never a parser or a packet set: a page that needs something not yet computed says so and
updates itself when it lands.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select

from plantgate.db.revisions import blob
from plantgate.db.tables import RevisionFileRow
from plantgate.web import acceptances, object_links
from plantgate.web.permissions import Action
from plantgate.web.pictures import zone_pictures
from plantgate.web.rendering import render, render_fragment, today
from plantgate.web.revision_cache import CachedRevision, RevisionCache
from plantgate.web.routes.pages import check_run, findings_by_fingerprint, head_cached, settled
from plantgate.web.security import NotFound, SiteAccess, authorize

router = APIRouter(include_in_schema=False)
View = Annotated[SiteAccess, Depends(authorize(Action.VIEW))]
MAX_CONFIG_BYTES = 8 * 1024 * 1024
"""A config larger than this is not shown line by line (the upload limit keeps real ones far below)."""
LINT_PREFIX = "PG-LINT-"


def _by_id(revision: CachedRevision, kind: str, object_id: str) -> dict[str, Any]:
    found = object_links.index(revision).get(kind, {}).get(object_id)
    if found is None:
        raise NotFound(f"no {kind.rstrip('s')} {object_id!r} in revision {revision.number}")
    return found


@router.get("/sites/{slug}/zones/{zone_id}")
def zone_page(request: Request, access: View, zone_id: str) -> Response:
    revision = head_cached(request, access)
    zone = _by_id(revision, "zones", zone_id)
    document = revision.document
    conduits = revision.conduits("", zone_id)
    assets = [a for a in document.get("assets", []) if a.get("zone") == zone_id]
    firewalls = [f for f in document.get("firewalls", []) if zone_id in (f.get("zones") or {}).values()
                 or zone_id in (f.get("joins") or [])]
    others = [z["id"] for z in document.get("zones", []) if z["id"] != zone_id]
    return render(request, "zone.html", access=access, revision=revision, zone=zone, assets=assets,
                  outgoing=[c for c in conduits if c["from_zone"] == zone_id],
                  incoming=[c for c in conduits if c["to_zone"] == zone_id], firewalls=firewalls, others=others)


@router.get("/sites/{slug}/assets/{asset_id}")
def asset_page(request: Request, access: View, asset_id: str) -> Response:
    revision = head_cached(request, access)
    asset = _by_id(revision, "assets", asset_id)
    names = {asset_id, *asset.get("addresses", [])}
    conduits = [c for c in revision.conduits("", asset.get("zone", ""))
                if names & {*c.get("sources", []), *c.get("destinations", [])}]
    run = check_run(request, access, revision, wait=0)
    findings = [f for f in run.findings or [] if asset_id in f.get("subjects", [])]
    accepted = settled(access, revision, today(request))[2] if findings else frozenset()
    return render(request, "asset.html", access=access, revision=revision, asset=asset, conduits=conduits,
                  run=run, findings=findings, accepted=accepted)


def _lint_by_line(request: Request, revision: CachedRevision, findings: list[dict[str, Any]],
                  ) -> dict[tuple[str, int], list[dict[str, str]]]:
    """Lint annotations by (config file, line), from the stored PG-LINT findings (one item per rule named)."""
    def make() -> dict[tuple[str, int], list[dict[str, str]]]:
        out: dict[tuple[str, int], list[dict[str, str]]] = defaultdict(list)
        for finding in findings:
            if not finding["rule_id"].startswith(LINT_PREFIX):
                continue
            for item in (finding.get("details") or {}).get("rules", []):
                where = object_links.parse_location((item.get("evidence") or [""])[0])
                if where is not None:
                    out[where[:2]].append({"title": finding["title"], "message": item.get("message", ""),
                                           "fingerprint": finding["fingerprint"], "rule_id": finding["rule_id"]})
        return dict(out)

    cache: RevisionCache = request.app.state.revisions
    result: dict[tuple[str, int], list[dict[str, str]]] = cache.derived(
        ("lint by line", revision.id, today(request)), make)
    return result


@router.get("/sites/{slug}/firewalls/{firewall_id}")
def firewall_page(request: Request, access: View, firewall_id: str) -> Response:
    revision = head_cached(request, access)
    entry = _by_id(revision, "firewalls", firewall_id)
    pictures = zone_pictures(request, access, revision)
    run = check_run(request, access, revision, wait=0)
    lint = _lint_by_line(request, revision, run.findings) if run.findings is not None else None
    listing = pictures.firewalls.get(firewall_id) if pictures is not None else None
    rules = "" if listing is None else revision.fragments.get_or_make(
        ("firewall rules", firewall_id, today(request), lint is not None),
        lambda: render_fragment("firewall_rules.html", site=access.site, firewall_id=firewall_id, listing=listing,
                                lint=lint))
    return render(request, "firewall.html", access=access, revision=revision, entry=entry, listing=listing,
                  pending=pictures is None, lint=lint, run=run, rules=Markup(rules))


@router.get("/sites/{slug}/firewalls/{firewall_id}/config")
def firewall_config(request: Request, access: View, firewall_id: str) -> Response:
    """The config text as stored in the revision, one anchored line each (``#L123``), escaped."""
    revision = head_cached(request, access)
    entry = _by_id(revision, "firewalls", firewall_id)
    path = entry.get("config") or ""

    def lines() -> str:
        row = access.db.scalars(select(RevisionFileRow).where(RevisionFileRow.revision_id == revision.id,
                                                              RevisionFileRow.path == path)).first()
        if row is None:
            return ""
        content = blob(access.db, row.sha256)
        if len(content) > MAX_CONFIG_BYTES:
            return render_fragment("config_too_large.html", size=len(content), limit=MAX_CONFIG_BYTES)
        text = content.decode("utf-8", errors="replace")
        return render_fragment("config_lines.html", lines=text.splitlines())

    table = revision.fragments.get_or_make(("config", firewall_id), lines)
    return render(request, "firewall_config.html", access=access, revision=revision, entry=entry, path=path,
                  table=Markup(table))


@router.get("/sites/{slug}/findings/{fingerprint}")
def finding_page(request: Request, access: View, fingerprint: str) -> Response:
    revision = head_cached(request, access)
    run = check_run(request, access, revision)
    if run.findings is None:
        return render(request, "finding.html", access=access, revision=revision, run=run, finding=None,
                      evidence=[], subjects=[])
    finding = findings_by_fingerprint(request, revision, run.findings).get(fingerprint)
    if finding is None:
        raise NotFound(f"no finding {fingerprint!r} in revision {revision.number} today")
    links = object_links.Links(access.site.slug, revision)
    day = today(request)
    found, risk_accepted, _ = settled(access, revision, day)
    return render(request, "finding.html", access=access, revision=revision, run=run, finding=finding,
                  evidence=[(e, links.evidence(e)) for e in finding.get("evidence", [])],
                  subjects=[(s, links.subject(s)) for s in finding.get("subjects", [])],
                  acceptance=found.get(fingerprint), risk_accepted=fingerprint in risk_accepted,
                  may_accept=access.may(Action.FINDING_ACCEPT) and acceptances.may_accept(access, finding["rule_id"]),
                  earliest=day + dt.timedelta(days=1), latest=day + dt.timedelta(days=acceptances.MAX_DAYS))
