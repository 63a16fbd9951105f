"""Suggest which advisories hit which assets: vendor, product and version against CSAF trees.

Names in inventories and advisories never agree exactly ("Schneider Electric" vs
"Schneider Electric Software, LLC"), so the matcher compares normalised tokens and scores
each suggestion. A suggestion is only a suggestion: decisions use the matches a person
confirmed in the treaty (``vulnerabilities.matches``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from plantgate.decisions.versions import VersionVerdict, version_equals, version_in_range
from plantgate.feeds.csaf import Advisory, CsafProduct
from plantgate.model.assets import Asset

_NOISE = frozenset({"inc", "llc", "ltd", "co", "corp", "corporation", "gmbh", "ag", "sa", "plc", "the", "company"})


@lru_cache(maxsize=65536)
def name_tokens(text: str) -> frozenset[str]:
    """Lower-case word tokens without corporate suffixes: 'Siemens AG' -> {'siemens'}."""
    return frozenset(t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in _NOISE)


@dataclass(frozen=True)
class Suggestion:
    """A possible match of one asset to one advisory product, with its confidence and reasons."""

    asset: str
    advisory: str
    product_id: str
    product: str
    cves: tuple[str, ...]
    confidence: float
    reasons: tuple[str, ...]
    version_affected: bool | None

    def to_dict(self) -> dict[str, object]:
        return {"asset": self.asset, "advisory": self.advisory, "product_id": self.product_id,
                "product": self.product, "cves": list(self.cves), "confidence": round(self.confidence, 2),
                "version_affected": self.version_affected, "reasons": list(self.reasons)}


def _name_score(asset_name: str, advisory_name: str) -> float:
    """1.0 for the same tokens, 0.8 when one name's tokens contain the other's, else 0."""
    mine, theirs = name_tokens(asset_name), name_tokens(advisory_name)
    if not mine or not theirs:
        return 0.0
    if mine == theirs:
        return 1.0
    if mine <= theirs or theirs <= mine:
        return 0.8
    return 0.0


def product_version_verdict(product: CsafProduct, version: str) -> VersionVerdict:
    if product.version_range:
        return version_in_range(product.version_range, version)
    if product.version:
        return version_equals(product.version, version)
    return VersionVerdict(True, 0.6, "the advisory names the product without a version")


class AdvisoryIndex:
    """Affected advisory products indexed by their name tokens, so 50,000 assets never scan them all.

    A product matches when its name tokens equal, contain or are contained in the asset's
    product tokens: contained sets are found by looking up the subsets of the asset's tokens,
    containing sets through the rarest asset token.
    """

    def __init__(self, advisories: Iterable[Advisory]) -> None:
        self.advisories: dict[str, Advisory] = {}
        self._by_name: dict[frozenset[str], list[tuple[Advisory, CsafProduct]]] = defaultdict(list)
        self._sets_with: dict[str, set[frozenset[str]]] = defaultdict(set)
        for advisory in advisories:
            self.advisories[advisory.tracking_id] = advisory
            affected = {pid for v in advisory.vulnerabilities for pid in v.affected_ids()}
            for product in advisory.products.values():
                if product.product_id not in affected:
                    continue
                for name in {product.product_name, product.name}:
                    tokens = name_tokens(name)
                    if tokens:
                        self._by_name[tokens].append((advisory, product))
                        for token in tokens:
                            self._sets_with[token].add(tokens)
        self._cache: dict[tuple[str, str, str], list[tuple[Advisory, CsafProduct, float, VersionVerdict]]] = {}
        self._sets_cache: dict[str, list[frozenset[str]]] = {}
        self._cves: dict[tuple[str, str], tuple[str, ...]] = {}

    def cves_of(self, advisory: Advisory, product_id: str) -> tuple[str, ...]:
        key = (advisory.tracking_id, product_id)
        if key not in self._cves:
            self._cves[key] = tuple(v.cve for v in advisory.vulnerabilities_for(product_id) if v.cve)
        return self._cves[key]

    def _name_sets(self, product: str) -> list[frozenset[str]]:
        if product in self._sets_cache:
            return self._sets_cache[product]
        mine = name_tokens(product)
        if not mine:
            return []
        found: set[frozenset[str]] = set()
        tokens = sorted(mine)
        if len(tokens) <= 10:
            for size in range(1, len(tokens) + 1):
                found.update(s for s in map(frozenset, combinations(tokens, size)) if s in self._by_name)
        rarest = min(tokens, key=lambda t: len(self._sets_with.get(t, ())))
        found.update(s for s in self._sets_with.get(rarest, ()) if mine <= s)
        self._sets_cache[product] = list(found)
        return self._sets_cache[product]

    def _candidates(self, vendor: str, product: str, version: str
                    ) -> list[tuple[Advisory, CsafProduct, float, VersionVerdict]]:
        key = (vendor, product, version)
        if key in self._cache:
            return self._cache[key]
        best: dict[tuple[str, str], tuple[Advisory, CsafProduct, float]] = {}
        mine = name_tokens(product)
        for name_set in self._name_sets(product):
            product_score = 1.0 if name_set == mine else 0.8
            for advisory, item in self._by_name[name_set]:
                vendor_score = _name_score(vendor, item.vendor)
                ident = (advisory.tracking_id, item.product_id)
                if vendor_score and (ident not in best or best[ident][2] < vendor_score * product_score):
                    best[ident] = (advisory, item, vendor_score * product_score)
        found: list[tuple[Advisory, CsafProduct, float, VersionVerdict]] = []
        for advisory, item, score in best.values():
            verdict = product_version_verdict(item, version)
            if verdict.affected is not False:
                found.append((advisory, item, score, verdict))
        self._cache[key] = found
        return found

    def suggest(self, asset: Asset) -> list[Suggestion]:
        """Every advisory product this asset may be, most likely first."""
        if not asset.vendor or not asset.product:
            return []
        out = []
        for advisory, item, name_score, verdict in self._candidates(asset.vendor, asset.product, asset.version):
            cves = self.cves_of(advisory, item.product_id)
            reasons = (f"vendor {asset.vendor!r} ~ {item.vendor!r}, product {asset.product!r} ~ "
                       f"{item.product_name or item.name!r} (name score {name_score:.2f})", verdict.reason)
            out.append(Suggestion(asset.id, advisory.tracking_id, item.product_id, item.name, cves,
                                  round(name_score * verdict.confidence, 3), reasons, verdict.affected))
        return sorted(out, key=lambda s: (-s.confidence, s.advisory, s.product_id))


def suggest_matches(assets: Iterable[Asset], index: AdvisoryIndex) -> list[Suggestion]:
    return [s for asset in assets for s in index.suggest(asset)]
