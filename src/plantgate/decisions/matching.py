"""Suggest which CSAF advisories hit which assets: vendor, product (or CPE) and version against product trees.

Each suggestion is scored, and is only a suggestion: decisions use the matches a person
confirmed in the treaty (``vulnerabilities.matches``). Product names are compared as product
lines (see ``product_names``): the line closest to the asset's name wins within an
advisory. Where one advisory gives a product one upper bound per release line (Experion
PKS "<R510.2_HF14", "<R511.5_TCU4_HF4"...; same vendor, name and CVEs), the version is
judged by its own line only (see ``release_lines``), and suggested once, for that line. A
product named only with generic words ("OS", "Firmware": Unitronics' "OS <12.38" is the
firmware of its Vision and Samba PLCs) stands for every device of its vendor, at a lower
score, where no named product of the advisory matches. A vendor-hosted service ("Lumada
APM online service (SaaS)") is no plant asset and is never matched to one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from plantgate.decisions.identities import Identity, identities, parse_cpe
from plantgate.decisions.product_names import (
    NameIndex,
    closest_lines,
    name_tokens,
    product_token_sets,
    vendor_score,
)
from plantgate.decisions.release_lines import judge_with_line
from plantgate.decisions.version_text import VersionVerdict
from plantgate.decisions.versions import single_upper_bound, version_equals, version_in_range
from plantgate.feeds.csaf import Advisory, CsafProduct
from plantgate.model.assets import Asset

__all__ = ["AdvisoryIndex", "Suggestion", "name_tokens", "product_version_verdict", "suggest_matches"]


@dataclass(frozen=True)
class Suggestion:
    """A possible match of one asset to one advisory product (or CVE record), with confidence and reasons.

    ``source`` is 'csaf' (``advisory`` is a tracking id) or 'cve-record' (``advisory`` is the
    CVE id, matched on the record's CNA ``affected`` data); ``kev`` lists the CVEs in KEV.
    """

    asset: str
    advisory: str
    product_id: str
    product: str
    cves: tuple[str, ...]
    confidence: float
    reasons: tuple[str, ...]
    version_affected: bool | None
    source: str = "csaf"
    kev: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {"asset": self.asset, "advisory": self.advisory, "product_id": self.product_id,
                "product": self.product, "source": self.source, "cves": list(self.cves),
                "kev": list(self.kev), "in_kev": bool(self.kev), "confidence": round(self.confidence, 2),
                "version_affected": self.version_affected, "reasons": list(self.reasons)}


def product_version_verdict(product: CsafProduct, version: str) -> VersionVerdict:
    if product.version_range:
        return version_in_range(product.version_range, version)
    if product.version:
        return version_equals(product.version, version)
    return VersionVerdict(True, 0.6, "the advisory names the product without a version")


@dataclass(frozen=True)
class _Hit:
    """One advisory product an identity matched, how well, and the version verdict."""

    advisory: Advisory
    product: CsafProduct
    score: float
    verdict: VersionVerdict
    matched_by: str


Line = tuple[str, str, str]  # product id, operator, bound
GENERIC_PRODUCT_WORDS = frozenset({"os", "firmware", "software", "operating", "system"})
GENERIC_SCORE = 0.5
HOSTED_SERVICE = re.compile(r"\b(saas|online service|cloud service)\b", re.IGNORECASE)


class AdvisoryIndex:
    """Affected advisory products indexed by name tokens and CPE, so 50,000 assets never scan them all.

    A product matches when its name tokens equal, contain or are contained in the asset's
    product tokens (see ``NameIndex``).
    """

    def __init__(self, advisories: Iterable[Advisory]) -> None:
        self.advisories: dict[str, Advisory] = {}
        self._by_name: NameIndex[tuple[Advisory, CsafProduct]] = NameIndex()
        self._by_cpe: dict[tuple[str, str, str], list[tuple[Advisory, CsafProduct]]] = defaultdict(list)
        self._generic: list[tuple[Advisory, CsafProduct]] = []
        self._lines: dict[tuple[str, str], tuple[Line, ...]] = {}
        self._cves: dict[tuple[str, str], tuple[str, ...]] = {}
        for advisory in advisories:
            self.advisories[advisory.tracking_id] = advisory
            affected = {pid for v in advisory.vulnerabilities for pid in v.affected_ids()}
            products = [p for p in advisory.products.values() if p.product_id in affected]
            for product in products:
                if HOSTED_SERVICE.search(product.name):
                    continue
                if name_tokens(product.product_name or product.name) <= GENERIC_PRODUCT_WORDS:
                    self._generic.append((advisory, product))
                    continue
                self._by_name.add(product.product_name or product.name, (advisory, product))
                cpe = parse_cpe(product.cpe) if product.cpe else None
                if cpe is not None:
                    self._by_cpe[cpe.key].append((advisory, product))
            self._group_release_lines(advisory, products)
        self._cache: dict[tuple[str, str, str, tuple[str, str, str] | None], list[_Hit]] = {}
        self._names_cache: dict[tuple[str, str], list[tuple[Advisory, CsafProduct, float]]] = {}
        self._rows_cache: dict[Identity, list[tuple[str, str, str, tuple[str, ...], float, tuple[str, str],
                                                    bool | None]]] = {}

    def _group_release_lines(self, advisory: Advisory, products: list[CsafProduct]) -> None:
        """Products of one name, vendor and CVE set, each one upper bound: one bound per release line."""
        groups: dict[tuple[frozenset[str], frozenset[str], frozenset[str]], list[Line]] = defaultdict(list)
        for product in products:
            bound = single_upper_bound(product.version_range) if product.version_range and not product.version \
                else None
            if bound is not None:
                key = (name_tokens(product.vendor), name_tokens(product.product_name),
                       frozenset(self.cves_of(advisory, product.product_id)))
                groups[key].append((product.product_id, *bound))
        for lines in groups.values():
            if len(lines) > 1:
                for pid, _, _ in lines:
                    self._lines[(advisory.tracking_id, pid)] = tuple(lines)

    def cves_of(self, advisory: Advisory, product_id: str) -> tuple[str, ...]:
        key = (advisory.tracking_id, product_id)
        if key not in self._cves:
            self._cves[key] = tuple(v.cve for v in advisory.vulnerabilities_for(product_id) if v.cve)
        return self._cves[key]

    def _verdict(self, advisory: Advisory, product: CsafProduct, version: str) -> tuple[VersionVerdict, bool]:
        """The version verdict, and whether this product is the line the version belongs to."""
        lines = self._lines.get((advisory.tracking_id, product.product_id))
        if lines is None:
            return product_version_verdict(product, version), True
        if not version:
            return VersionVerdict(None, 0.4, "the asset's version is unknown"), product.product_id == lines[0][0]
        index, verdict = judge_with_line(tuple((op, bound) for _, op, bound in lines), version)
        return verdict, lines[index][0] == product.product_id

    def _by_names(self, vendor: str, product: str) -> list[tuple[Advisory, CsafProduct, float]]:
        """Vendor-matched products whose line is the closest to ``product`` within each advisory (cached)."""
        cached = self._names_cache.get((vendor, product))
        if cached is None:
            cached = self._names_cache[(vendor, product)] = self._closest_by_names(vendor, product)
        return cached

    def _closest_by_names(self, vendor: str, product: str) -> list[tuple[Advisory, CsafProduct, float]]:
        mine = product_token_sets(product)
        if not mine:
            return []
        best: dict[tuple[str, str], tuple[Advisory, CsafProduct, float, frozenset[str]]] = {}
        for name_set in self._by_name.related_sets(product):
            product_score = 1.0 if name_set in mine else 0.8
            for advisory, item in self._by_name.items(name_set):
                score = vendor_score(vendor, item.vendor) * product_score
                ident = (advisory.tracking_id, item.product_id)
                if score and (ident not in best or best[ident][2] < score):
                    best[ident] = (advisory, item, score, name_set)
        per_advisory: dict[str, list[tuple[Advisory, CsafProduct, float, frozenset[str]]]] = defaultdict(list)
        for hit in best.values():
            per_advisory[hit[0].tracking_id].append(hit)
        kept = []
        for hits in per_advisory.values():
            for advisory, item, score, _ in closest_lines(mine[0], hits, lambda h: h[3]):
                kept.append((advisory, item, score))
        return kept

    def _candidates(self, identity: Identity) -> list[_Hit]:
        key = (identity.vendor, identity.product, identity.version, identity.cpe.key if identity.cpe else None)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        matched: dict[tuple[str, str], tuple[Advisory, CsafProduct, float, str]] = {}
        if identity.vendor and identity.product:
            for advisory, item, score in self._by_names(identity.vendor, identity.product):
                matched[(advisory.tracking_id, item.product_id)] = (advisory, item, score, "name")
        if identity.cpe is not None:
            for advisory, item in self._by_cpe.get(identity.cpe.key, ()):
                matched[(advisory.tracking_id, item.product_id)] = (advisory, item, 1.0, "cpe")
        if identity.vendor:
            named = {advisory for advisory, _ in matched}
            for advisory, item in self._generic:
                score = vendor_score(identity.vendor, item.vendor) * GENERIC_SCORE
                if score and advisory.tracking_id not in named:
                    matched.setdefault((advisory.tracking_id, item.product_id), (advisory, item, score, "vendor"))
        hits = []
        for advisory, item, score, how in matched.values():
            verdict, own_line = self._verdict(advisory, item, identity.version)
            if own_line:
                hits.append(_Hit(advisory, item, score, verdict, how))
        self._cache[key] = hits
        return hits

    def _rows(self, identity: Identity) -> list[tuple[str, str, str, tuple[str, ...], float, tuple[str, str],
                                                       bool | None]]:
        """The suggestion fields (all but the asset) for one identity, built once per identity."""
        cached = self._rows_cache.get(identity)
        if cached is not None:
            return cached
        rows = []
        via = "" if identity.via == "the asset" else f" (via {identity.via})"
        for hit in self._candidates(identity):
            item = hit.product
            if hit.matched_by == "cpe" and identity.cpe:
                how = f"CPE {identity.cpe.part}:{identity.cpe.vendor}:{identity.cpe.product} ~ {item.cpe}"
            elif hit.matched_by == "vendor":
                how = (f"vendor {identity.vendor!r} ~ {item.vendor!r}; the advisory names only "
                       f"{item.product_name or item.name!r}, taken as any of the vendor's devices (score "
                       f"{hit.score:.2f})")
            else:
                how = (f"vendor {identity.vendor!r} ~ {item.vendor!r}, product {identity.product!r} ~ "
                       f"{item.product_name or item.name!r} (name score {hit.score:.2f})")
            rows.append((hit.advisory.tracking_id, item.product_id, item.name,
                         self.cves_of(hit.advisory, item.product_id), round(hit.score * hit.verdict.confidence, 3),
                         (how + via, hit.verdict.reason), hit.verdict.affected))
        self._rows_cache[identity] = rows
        return rows

    def judge(self, asset: Asset) -> list[Suggestion]:
        """Every advisory product this asset may be, with verdicts, including those its version is not in."""
        out: dict[tuple[str, str], Suggestion] = {}
        for identity in identities(asset):
            for advisory, product_id, name, cves, confidence, reasons, affected in self._rows(identity):
                ident = (advisory, product_id)
                if ident not in out or out[ident].confidence < confidence:
                    out[ident] = Suggestion(asset.id, advisory, product_id, name, cves, confidence, reasons, affected)
        return sorted(out.values(), key=lambda s: (-s.confidence, s.advisory, s.product_id))

    def suggest(self, asset: Asset) -> list[Suggestion]:
        """Every advisory product this asset may be (its version not excluded), most likely first."""
        return [s for s in self.judge(asset) if s.version_affected is not False]


def suggest_matches(assets: Iterable[Asset], index: AdvisoryIndex) -> list[Suggestion]:
    return [s for asset in assets for s in index.suggest(asset)]
