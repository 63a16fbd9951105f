"""What the fleet pages show, read from stored results and rows only: nothing is judged for them.

Every number comes from a site's newest stored check result of its head revision (its facts,
counted by the job that judged it) and its decision rows, in a fixed number of queries. A site whose
head has no result yet says so instead of showing zeros: silence must mean something.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plantgate.db.tables import (
    ChangeRequestRow,
    CharterSignatureRow,
    CheckResultRow,
    FindingAcceptanceRow,
    RevisionRow,
    RiskDecisionRow,
    SiteRow,
)
from plantgate.jobs.results import DONE
from plantgate.web.decisions import holds
from plantgate.web.result_facts import ResultFacts
from plantgate.web.revision_cache import RevisionCache

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
    facts: ResultFacts | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "facts"}


def newest_results(db: Session, heads: list[int]) -> dict[int, tuple[int, str, str, str]]:
    """Each head revision's newest stored result, by key (its facts are not read here)."""
    newest: dict[int, tuple[tuple[str, Any], tuple[int, str, str, str]]] = {}
    for revision_id, as_of, feeds, baseline, finished in db.execute(select(
            CheckResultRow.revision_id, CheckResultRow.as_of, CheckResultRow.feeds, CheckResultRow.baseline,
            CheckResultRow.finished_at).where(CheckResultRow.revision_id.in_(heads), CheckResultRow.state == DONE)):
        if revision_id not in newest or (as_of, finished) > newest[revision_id][0]:
            newest[revision_id] = ((as_of, finished), (revision_id, as_of, feeds, baseline))
    return {revision_id: key for revision_id, (_, key) in newest.items()}


def summaries(db: Session, today: dt.date, cache: RevisionCache) -> list[SiteSummary]:
    """Every site's summary in a fixed number of queries, whatever the fleet's size (no treaty document is read;
    each stored result's facts are decoded once per process, from ``cache``)."""
    sites = db.scalars(select(SiteRow).order_by(SiteRow.name)).all()
    heads = [s.head_revision_id for s in sites if s.head_revision_id is not None]
    numbers = dict(db.execute(select(RevisionRow.id, RevisionRow.number).where(RevisionRow.id.in_(heads))).all())
    result_keys = newest_results(db, heads)
    facts_by_key = cache.result_facts(db, list(result_keys.values()))
    newest = {revision_id: (key[1], facts_by_key[key]) for revision_id, key in result_keys.items()
              if key in facts_by_key}
    waiting = dict(db.execute(select(ChangeRequestRow.site_id, func.count()).where(
        ChangeRequestRow.state == "submitted").group_by(ChangeRequestRow.site_id)).all())
    unsigned = dict(db.execute(select(RiskDecisionRow.site_id, func.count()).where(
        RiskDecisionRow.decision == "accept", RiskDecisionRow.signed_by.is_(None)).group_by(
        RiskDecisionRow.site_id)).all())
    accepted: dict[int, set[str]] = {}
    ends = {site.id: newest[site.head_revision_id][1].raw.get("outage_ends", {}) for site in sites
            if site.head_revision_id in newest}  # a result stored before the facts named outages: no risk holds
    for site_id, subject, until in db.execute(select(
            RiskDecisionRow.site_id, RiskDecisionRow.subject, RiskDecisionRow.until_outage).where(
            RiskDecisionRow.decision == "accept", RiskDecisionRow.signed_by.is_not(None))):
        if holds(until, ends.get(site_id, {}), today):
            accepted.setdefault(site_id, set()).add(subject)
    for site_id, fingerprint in db.execute(select(FindingAcceptanceRow.site_id, FindingAcceptanceRow.fingerprint)
                                           .where(FindingAcceptanceRow.state == "accepted",
                                                  FindingAcceptanceRow.expires_on >= today)):
        accepted.setdefault(site_id, set()).add(fingerprint)  # accepted findings count again once expired
    signed_revisions = set(db.scalars(select(CharterSignatureRow.revision_id).where(
        CharterSignatureRow.revision_id.in_(heads))))
    out = []
    for site in sites:
        head = site.head_revision_id
        summary = SiteSummary(site.slug, site.name, numbers.get(head) if head else None, False,
                              waiting_for_ot=int(waiting.get(site.id, 0)), charter_signed=head in signed_revisions,
                              unsigned_exceptions=int(unsigned.get(site.id, 0)))
        if head is not None and head in newest:
            as_of, facts = newest[head]
            open_severe = facts.open_severe(accepted.get(site.id, set()))
            summary.judged, summary.judged_as_of, summary.facts = True, as_of, facts
            summary.critical, summary.high = open_severe["critical"], open_severe["high"]
            summary.coverage_gaps = int(facts.raw.get("coverage_gaps", 0))
            summary.stale_reviews = int(facts.raw.get("stale_reviews", 0))
            summary.unsigned_exceptions += int(facts.raw.get("unsigned_exceptions", 0))
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
            for r in rows if r.facts is not None for item in r.facts.exposures.get(wanted, [])]


def rdp_into_level_3(rows: list[SiteSummary]) -> list[dict[str, Any]]:
    return [{"site": r.slug, "name": r.name, **path} for r in rows if r.facts is not None
            for path in r.facts.raw.get("rdp_into_level_3", [])]


def unsigned_charters(rows: list[SiteSummary]) -> list[dict[str, Any]]:
    return [{"site": r.slug, "name": r.name, "revision": r.revision} for r in rows
            if r.revision is not None and not r.charter_signed]
