"""Every suggestion for a set of assets: CSAF advisories first, CVE records where no advisory speaks, KEV marked.

The ICS vendor's advisory is the more specific evidence, so a CVE that a matched advisory
product already judges for an asset (affected or not) is not suggested again from the CVE
record; every other CVE record whose ``affected`` data names the asset's product or CPE is.
Each suggestion lists which of its CVEs are in KEV (the catalog, or the KEV mark CISA puts
in Vulnrichment), because an unreviewed KEV suggestion is a hole nobody has decided on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from plantgate.decisions.matching import Suggestion
from plantgate.model.assets import Asset

if TYPE_CHECKING:
    from plantgate.decisions.assess import Feeds


def suggestions_for(assets: Iterable[Asset], feeds: Feeds) -> list[Suggestion]:
    """Suggestions whose version verdict is affected or cannot be told, for every asset, in asset order."""
    out: list[Suggestion] = []
    for asset in assets:
        judged = feeds.index.judge(asset)
        covered = {cve for suggestion in judged for cve in suggestion.cves}
        found = [s for s in judged if s.version_affected is not False]
        found += [s for s in feeds.record_index.judge(asset, skip=covered) if s.version_affected is not False]
        for suggestion in found:
            kev = tuple(cve for cve in suggestion.cves if feeds.exploited(cve))
            out.append(dataclasses.replace(suggestion, kev=kev) if kev else suggestion)
    return out
