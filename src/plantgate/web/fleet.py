"""What the fleet pages show, read from stored results and rows only: nothing is judged for them.

Every number comes from a site's newest stored check result of its head revision (written by
a job), its head treaty document (cached per revision) and its decision rows. A site whose
head has no result yet says so instead of showing zeros: silence must mean something.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plantgate.db.tables import ChangeRequestRow, CharterSignatureRow, CheckResultRow, RiskDecisionRow, SiteRow
from plantgate.jobs.results import DONE
from plantgate.web.decisions import accepted_subjects
from plantgate.web.revision_cache import RevisionCache

COVERAGE_RULES = ("PG-FW-005", "PG-FW-006")
"""Findings that name what a firewall's model could not see (unmapped interfaces, constructs not understood)."""
SORTABLE = ("name", "critical", "high", "coverage_gaps", "stale_reviews", "unsigned_exceptions", "waiting_for_ot")


@dataclass
class SiteSummary:
    slug: str
    name: str
    revision: int | None
    judged: bool
    judged_as_of: str = ""
    critical: int = 0
    high: int = 0
    coverage_gaps: int = 0
    stale_reviews: int = 0
    unsigned_exceptions: int = 0
    waiting_for_ot: int = 0
    charter_signed: bool = False
    findings: list[dict[str, Any]] = field(default_factory=list, repr=False)
    facts: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("findings", "facts")}


def latest_result(db: Session, revision_id: int) -> CheckResultRow | None:
    return db.scalar(select(CheckResultRow).where(CheckResultRow.revision_id == revision_id,
                                                  CheckResultRow.state == DONE)
                     .order_by(CheckResultRow.as_of.desc(), CheckResultRow.finished_at.desc()).limit(1))


def summaries(db: Session, cache: RevisionCache, today: dt.date) -> list[SiteSummary]:
    waiting = dict(db.execute(select(ChangeRequestRow.site_id, func.count()).where(
        ChangeRequestRow.state == "submitted").group_by(ChangeRequestRow.site_id)).all())
    unsigned = dict(db.execute(select(RiskDecisionRow.site_id, func.count()).where(
        RiskDecisionRow.decision == "accept", RiskDecisionRow.signed_by.is_(None)).group_by(
        RiskDecisionRow.site_id)).all())
    signed_revisions = set(db.scalars(select(CharterSignatureRow.revision_id)))
    out = []
    for site in db.scalars(select(SiteRow).order_by(SiteRow.name)):
        if site.head_revision_id is None:
            out.append(SiteSummary(site.slug, site.name, None, False))
            continue
        revision = cache.revision(db, site.head_revision_id)
        document = revision.document
        summary = SiteSummary(site.slug, site.name, revision.number, False,
                              waiting_for_ot=int(waiting.get(site.id, 0)),
                              charter_signed=site.head_revision_id in signed_revisions)
        summary.stale_reviews = sum(1 for c in document.get("conduits", [])
                                    if c.get("review_by") and dt.date.fromisoformat(c["review_by"]) < today)
        treaty_unsigned = sum(1 for e in ((document.get("vulnerabilities") or {}).get("exceptions") or [])
                              if not e.get("signed_by"))
        summary.unsigned_exceptions = int(unsigned.get(site.id, 0)) + treaty_unsigned
        result = latest_result(db, site.head_revision_id)
        if result is not None:
            accepted = accepted_subjects(db, site.id)
            open_findings = [f for f in result.findings if f["fingerprint"] not in accepted]
            counts = Counter(f["severity"] for f in open_findings)
            summary.judged, summary.judged_as_of = True, result.as_of
            summary.critical, summary.high = counts["critical"], counts["high"]
            summary.coverage_gaps = sum(1 for f in result.findings if f["rule_id"] in COVERAGE_RULES)
            summary.findings, summary.facts = result.findings, result.facts
        out.append(summary)
    return out


def sort_and_filter(rows: list[SiteSummary], sort: str, descending: bool, q: str,
                    only: str) -> list[SiteSummary]:
    needle = q.strip().lower()
    kept = [r for r in rows if (not needle or needle in r.name.lower() or needle in r.slug)
            and (only != "critical" or r.critical > 0) and (only != "unjudged" or not r.judged)
            and (only != "unsigned_charter" or not r.charter_signed)]
    key = sort if sort in SORTABLE else "name"
    return sorted(kept, key=lambda r: (getattr(r, key), r.name), reverse=descending)


def cve_exposure(rows: list[SiteSummary], cve: str) -> list[dict[str, Any]]:
    """Which plants expose ``cve``, on which asset, and through which conduits (from the stored facts)."""
    wanted = cve.strip().upper()
    return [{"site": r.slug, "name": r.name, "asset": item["asset"], "priority": item["priority"],
             "in_kev": item["in_kev"], "dmz_facing": item["dmz_facing"], "reaches": item["reaches"]}
            for r in rows for item in r.facts.get("cves", []) if item["cve"] == wanted]


def rdp_into_level_3(rows: list[SiteSummary]) -> list[dict[str, Any]]:
    return [{"site": r.slug, "name": r.name, **path} for r in rows for path in r.facts.get("rdp_into_level_3", [])]


def unsigned_charters(rows: list[SiteSummary]) -> list[dict[str, Any]]:
    return [{"site": r.slug, "name": r.name, "revision": r.revision} for r in rows
            if r.revision is not None and not r.charter_signed]
