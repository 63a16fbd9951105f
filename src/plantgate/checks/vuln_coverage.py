"""Where the vulnerability paperwork and the feeds do not line up, so no hole goes quiet.

Decisions are made only for matches a person confirmed. That is right, but it means a
known exploited vulnerability the feeds tie to an asset stays invisible until someone looks
at ``plantgate vuln match``; an exception can name a CVE no confirmed match gives the
asset (it then covers nothing, and must not be exported as a decision); and a confirmed
match can name an advisory the feeds do not hold, so no decision is made for it at all.
Each of these is a finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import NIST_CM_8, NIST_PM_9, NIST_SI_2, REF_PATCH
from plantgate.checks.registry import check, rule
from plantgate.decisions.assess import Feeds, assess, confirmed_pairs, match_cves
from plantgate.decisions.matching import Suggestion
from plantgate.decisions.suggestions import suggestions_for

KEV_UNREVIEWED = rule(
    "PG-VULN-006", "Known exploited vulnerability suggested for an asset and never reviewed", Severity.HIGH,
    (REF_PATCH, NIST_SI_2, NIST_CM_8),
    "Advisories and CVE records tie a KEV vulnerability to this asset's vendor, product and version (or CPE); "
    "until someone confirms or rejects the match in vulnerabilities.matches, no decision is made for it.")
STALE_EXCEPTION = rule(
    "PG-VULN-007", "Exception for a CVE the asset has no confirmed match for", Severity.MEDIUM,
    (REF_PATCH, NIST_PM_9),
    "A risk decision is signed for a vulnerability of an asset; without a confirmed match it covers nothing "
    "(stale, or written for the wrong asset or CVE) and is not exported to VEX.")
UNKNOWN_ADVISORY = rule(
    "PG-VULN-008", "Confirmed match names an advisory the feeds do not hold", Severity.HIGH,
    (REF_PATCH, NIST_SI_2),
    "A confirmed match names a CSAF advisory that no file under vulnerabilities.feeds.csaf holds, so no decision "
    "is computed for it; add the advisory file or correct the id.")


def _reviewed(ctx: CheckContext, feeds: Feeds) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    """(asset, advisory, product id) of every verdict people wrote, and (asset, CVE) they cover."""
    governance = ctx.treaty.vulnerabilities
    assert governance is not None
    decided = {(m.asset, m.advisory, m.product_id) for m in governance.matches}
    covered = {(m.asset, cve) for m in governance.matches for cve in match_cves(feeds, m) or []}
    return decided, covered


def _is_reviewed(suggestion: Suggestion, decided: set[tuple[str, str, str]], covered: set[tuple[str, str]]) -> bool:
    if {(suggestion.asset, suggestion.advisory, suggestion.product_id),
            (suggestion.asset, suggestion.advisory, "")} & decided:
        return True
    return all((suggestion.asset, cve) in covered for cve in suggestion.kev)


def _kev_text(feeds: Feeds, cve: str) -> str:
    entry = feeds.kev_entry(cve)
    if entry is None:
        return f"{cve} (KEV mark in its Vulnrichment record)"
    ransomware = ", known ransomware use" if entry.ransomware.lower() == "known" else ""
    return f"{cve} (in KEV since {entry.date_added}{ransomware})"


@check
def kev_suggestions_reviewed(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.treaty.vulnerabilities is None:
        return
    feeds, _ = assess(ctx)
    decided, covered = _reviewed(ctx, feeds)
    for suggestion in suggestions_for(ctx.treaty.assets, feeds):
        if not suggestion.kev or _is_reviewed(suggestion, decided, covered):
            continue
        asset = ctx.treaty.asset(suggestion.asset)
        assert asset is not None
        sure = suggestion.version_affected is True
        found_in = (f"advisory {suggestion.advisory} ({suggestion.product})" if suggestion.source == "csaf"
                    else f"the CVE record's affected data ({suggestion.product})")
        yield KEV_UNREVIEWED.finding(
            [asset.id, *suggestion.kev],
            f"{', '.join(_kev_text(feeds, cve) for cve in suggestion.kev)} "
            f"{'affects' if sure else 'may affect (the version cannot be told)'} {asset.id} "
            f"({' '.join(x for x in (asset.vendor, asset.product, asset.version) if x) or asset.name}), per "
            f"{found_in}: {'; '.join(suggestion.reasons)}. Nobody has confirmed or rejected it: add "
            f"{{asset: {asset.id}, advisory: {suggestion.advisory}"
            + (f", product_id: {suggestion.product_id}" if suggestion.source == "csaf" else "")
            + ", status: confirmed or rejected, decided_by, decided_on} to vulnerabilities.matches.",
            [ctx.site.locate_item("assets", asset.id)], severity=None if sure else Severity.MEDIUM,
            discriminator=f"{suggestion.advisory}:{suggestion.product_id}", details=suggestion.to_dict())


@check
def exceptions_match_confirmed_cves(ctx: CheckContext) -> Iterator[Finding]:
    governance = ctx.treaty.vulnerabilities
    if governance is None or not governance.exceptions:
        return
    feeds, _ = assess(ctx)
    pairs = confirmed_pairs(governance, feeds)
    for index, exception in enumerate(governance.exceptions):
        for cve in exception.cves:
            if (exception.asset, cve) in pairs:
                continue
            yield STALE_EXCEPTION.finding(
                [exception.id, exception.asset, cve],
                f"Exception {exception.id} decides {cve} on {exception.asset}, but no confirmed match gives "
                f"{exception.asset} {cve}: it is stale or written for the wrong asset or CVE. It covers nothing "
                "and is not exported to VEX.",
                [ctx.site.locate("vulnerabilities", "exceptions", index, "cves")], discriminator=cve)


@check
def confirmed_advisories_held(ctx: CheckContext) -> Iterator[Finding]:
    governance = ctx.treaty.vulnerabilities
    if governance is None:
        return
    feeds, _ = assess(ctx)
    for index, match in enumerate(governance.matches):
        if match.status.value == "confirmed" and match_cves(feeds, match) is None:
            yield UNKNOWN_ADVISORY.finding(
                [match.asset, match.advisory],
                f"The confirmed match of {match.asset} names {match.advisory}, which no CSAF file in "
                "vulnerabilities.feeds.csaf holds: no decision is made for it.",
                [ctx.site.locate("vulnerabilities", "matches", index, "advisory")], discriminator=str(index))
