"""Suggest CVE records for assets from the records' ``affected`` data, where no CSAF advisory speaks.

A Palo Alto firewall on PAN-OS 10.2.8 has no CISA ICS advisory, yet CVE-2024-3400 (in KEV)
is its hole: the CVE record's CNA block names "Palo Alto Networks" "PAN-OS" with the range
10.2.0 to 10.2.9-h1. Records are matched on the CNA's vendor and product (as product lines,
like advisories) and on CPE names where the asset or its software has one (CISA's ADP adds
CPEs to records). A CVE a matched CSAF advisory already judges for the asset is left to the
advisory: the ICS vendor's own ranges are the more specific evidence. One suggestion per
asset and CVE: affected if any matched entry says so (the platform an entry names, such as
"C300 on Experion LX", is not known of the asset), and the reasons say which.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from plantgate.decisions.cve_ranges import judge_affected
from plantgate.decisions.identities import Identity, identities, parse_cpe
from plantgate.decisions.matching import Suggestion
from plantgate.decisions.product_names import NameIndex, closest_lines, product_token_sets, vendor_score
from plantgate.decisions.version_text import VersionVerdict
from plantgate.feeds.cve_affected import AffectedProduct
from plantgate.feeds.vulnrichment import Enrichment
from plantgate.model.assets import Asset

_NOT_A_NAME = frozenset({"", "n/a", "na", "unknown", "*"})


@dataclass(frozen=True)
class _Entry:
    cve: str
    index: int
    product: AffectedProduct


class CveRecordIndex:
    """The affected entries of every CVE record, by product-name tokens (CNA) and CPE (CNA and ADP)."""

    def __init__(self, records: Mapping[str, Enrichment]) -> None:
        self._by_name: NameIndex[_Entry] = NameIndex()
        self._by_cpe: dict[tuple[str, str, str], list[_Entry]] = defaultdict(list)
        self._cache: dict[tuple[str, str, str, tuple[str, str, str] | None], list[tuple[_Entry, float, str]]] = {}
        for cve, record in records.items():
            if record.rejected:
                continue
            for index, product in enumerate(record.affected):
                entry = _Entry(cve, index, product)
                if product.source == "cna" and product.vendor.lower() not in _NOT_A_NAME \
                        and product.product.lower() not in _NOT_A_NAME:
                    self._by_name.add(product.product, entry)
                for text in product.cpes:
                    cpe = parse_cpe(text)
                    if cpe is not None:
                        self._by_cpe[cpe.key].append(entry)

    def _matches(self, identity: Identity) -> list[tuple[_Entry, float, str]]:
        """Entries this identity names: by CPE, and by vendor and the closest product line of each record."""
        key = (identity.vendor, identity.product, identity.version, identity.cpe.key if identity.cpe else None)
        if key in self._cache:
            return self._cache[key]
        found: dict[tuple[str, int], tuple[_Entry, float, str]] = {}
        if identity.cpe is not None:
            for entry in self._by_cpe.get(identity.cpe.key, ()):
                found[(entry.cve, entry.index)] = (entry, 1.0, f"CPE {':'.join(identity.cpe.key)}")
        mine = product_token_sets(identity.product) if identity.vendor else ()
        per_cve: dict[str, list[tuple[_Entry, float, frozenset[str]]]] = defaultdict(list)
        for tokens in self._by_name.related_sets(identity.product) if mine else []:
            for entry in self._by_name.items(tokens):
                score = vendor_score(identity.vendor, entry.product.vendor) * (1.0 if tokens in mine else 0.8)
                if score:
                    per_cve[entry.cve].append((entry, score, tokens))
        for hits in per_cve.values():
            for entry, score, _ in closest_lines(mine[0], hits, lambda hit: hit[2]):
                how = (f"vendor {identity.vendor!r} ~ {entry.product.vendor!r}, product {identity.product!r} ~ "
                       f"{entry.product.product!r} (name score {score:.2f})")
                found.setdefault((entry.cve, entry.index), (entry, score, how))
        self._cache[key] = list(found.values())
        return self._cache[key]

    def judge(self, asset: Asset, skip: set[str] | frozenset[str] = frozenset()) -> list[Suggestion]:
        """One suggestion per CVE the asset's identities match, with the version verdict; ``skip`` CVEs omitted."""
        per_cve: dict[str, list[tuple[_Entry, float, str, VersionVerdict, Identity]]] = defaultdict(list)
        for identity in identities(asset):
            for entry, score, how in self._matches(identity):
                if entry.cve not in skip:
                    per_cve[entry.cve].append((entry, score, how, judge_affected(entry.product, identity.version),
                                               identity))
        out = []
        for cve, hits in per_cve.items():
            verdicts = [hit[3].affected for hit in hits]
            wanted: bool | None = True if True in verdicts else (None if None in verdicts else False)
            chosen = max((h for h in hits if h[3].affected is wanted), key=lambda h: h[1] * h[3].confidence)
            entry, score, how, verdict, identity = chosen
            via = "" if identity.via == "the asset" else f" (via {identity.via})"
            platforms = f" on {', '.join(entry.product.platforms)}" if entry.product.platforms else ""
            out.append(Suggestion(asset.id, cve, f"{entry.product.source}:{entry.index}",
                                  f"{entry.product.vendor} {entry.product.product}{platforms}".strip(), (cve,),
                                  round(score * verdict.confidence, 3), (how + via, verdict.reason), wanted,
                                  source="cve-record"))
        return sorted(out, key=lambda s: (-s.confidence, s.advisory))


def suggest_from_records(assets: Iterable[Asset], index: CveRecordIndex) -> list[Suggestion]:
    return [s for asset in assets for s in index.judge(asset) if s.version_affected is not False]
