"""CSAF 2.0 security advisories (CISA ICS and vendor PSIRTs): products, CVEs, remediations, scores.

The product tree is flattened into leaf products that remember their vendor, product name
and version or version range; relationships (a component installed on a platform) become
products of their own that point at both parts. Version ranges are kept as the advisory
wrote them: deciding whether a range is machine-readable is the matcher's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from plantgate.errors import InputError
from plantgate.feeds.jsontext import JsonLocator, json_files, load_json, read_text

REMEDIATION_CATEGORIES = frozenset(
    {"vendor_fix", "mitigation", "workaround", "none_available", "no_fix_planned"})
AFFECTED_STATUSES = ("known_affected", "first_affected", "last_affected", "under_investigation")


@dataclass(frozen=True)
class CsafProduct:
    """A leaf of the product tree, or a relationship between two of them."""

    product_id: str
    name: str
    vendor: str = ""
    product_name: str = ""
    version: str = ""
    version_range: str = ""
    family: str = ""
    relationship: str = ""
    component_id: str = ""
    platform_id: str = ""
    cpe: str = ""


@dataclass(frozen=True)
class Remediation:
    category: str
    details: str
    product_ids: tuple[str, ...]
    url: str = ""


@dataclass(frozen=True)
class CsafVulnerability:
    cve: str
    title: str
    product_status: dict[str, tuple[str, ...]]
    remediations: tuple[Remediation, ...]
    cvss_v3: dict[str, float]
    cvss_vector: dict[str, str]

    @cached_property
    def affected(self) -> frozenset[str]:
        return frozenset(pid for status in AFFECTED_STATUSES for pid in self.product_status.get(status, ()))

    def affected_ids(self) -> frozenset[str]:
        return self.affected


@dataclass(frozen=True)
class Advisory:
    """One CSAF document."""

    tracking_id: str
    title: str
    publisher: str
    file: str
    products: dict[str, CsafProduct]
    vulnerabilities: tuple[CsafVulnerability, ...]
    current_release: str = ""
    cves: tuple[str, ...] = field(default=())

    def vulnerabilities_for(self, product_id: str) -> list[CsafVulnerability]:
        return [v for v in self.vulnerabilities if product_id in v.affected_ids()]


class _Reader:
    def __init__(self, path: Path, text: str) -> None:
        self.where = JsonLocator(path, text)
        self.products: dict[str, CsafProduct] = {}

    def walk(self, branches: Any, context: dict[str, str]) -> None:
        for branch in self.where.need_list(branches, "'branches'", "branches"):
            branch = self.where.need_dict(branch, "a product tree branch", "branches")
            category = self.where.need_str(branch.get("category"), "branch 'category'", "category")
            name = str(branch.get("name", "")).strip()
            here = dict(context)
            key = {"vendor": "vendor", "product_family": "family", "product_name": "product_name",
                   "product_version": "version", "product_version_range": "version_range"}.get(category)
            if key:
                here[key] = name
            if "product" in branch:
                self.leaf(branch["product"], here)
            if "branches" in branch:
                self.walk(branch["branches"], here)

    def leaf(self, product: Any, context: dict[str, str]) -> None:
        product = self.where.need_dict(product, "'product'", "product")
        pid = self.where.need_str(product.get("product_id"), "'product_id'", "product_id")
        name = str(product.get("name", "")).strip()
        helper = product.get("product_identification_helper")
        cpe = str(helper.get("cpe") or "").strip() if isinstance(helper, dict) else ""
        self.products[pid] = CsafProduct(pid, name, context.get("vendor", ""),
                                         context.get("product_name", "") or name, context.get("version", ""),
                                         context.get("version_range", ""), context.get("family", ""), cpe=cpe)

    def relationships(self, items: Any) -> None:
        for rel in self.where.need_list(items, "'relationships'", "relationships"):
            rel = self.where.need_dict(rel, "a relationship", "relationships")
            full = self.where.need_dict(rel.get("full_product_name"), "'full_product_name'", "full_product_name")
            pid = self.where.need_str(full.get("product_id"), "'product_id'", "full_product_name")
            component = self.where.need_str(rel.get("product_reference"), "'product_reference'", pid)
            platform = self.where.need_str(rel.get("relates_to_product_reference"),
                                           "'relates_to_product_reference'", pid)
            base = self.products.get(platform) or self.products.get(component)
            self.products[pid] = CsafProduct(
                pid, str(full.get("name", "")), base.vendor if base else "", base.product_name if base else "",
                base.version if base else "", base.version_range if base else "", base.family if base else "",
                relationship=str(rel.get("category", "")), component_id=component, platform_id=platform)

    def vulnerability(self, item: Any) -> CsafVulnerability:
        item = self.where.need_dict(item, "a vulnerability", "vulnerabilities")
        cve = str(item.get("cve", "")).strip().upper()
        status_raw = self.where.need_dict(item.get("product_status", {}), "'product_status'", cve or None)
        status = {k: self.where.need_ids(v, f"product_status.{k}", k) for k, v in status_raw.items()}
        remediations = []
        for rem in self.where.need_list(item.get("remediations", []), "'remediations'", cve or None):
            rem = self.where.need_dict(rem, "a remediation", "remediations")
            category = str(rem.get("category", ""))
            if category not in REMEDIATION_CATEGORIES:
                raise self.where.error(f"unknown remediation category {category!r}",
                                       ", ".join(sorted(REMEDIATION_CATEGORIES)), category or "remediations")
            product_ids = self.where.need_ids(rem.get("product_ids", []) or [], "remediation 'product_ids'",
                                              "product_ids")
            remediations.append(Remediation(category, str(rem.get("details", "")), product_ids,
                                            str(rem.get("url", ""))))
        scores: dict[str, float] = {}
        vectors: dict[str, str] = {}
        for score in self.where.need_list(item.get("scores", []), "'scores'", cve or None):
            score = self.where.need_dict(score, "a score", "scores")
            cvss = score.get("cvss_v3")
            if cvss is None:
                continue
            cvss = self.where.need_dict(cvss, "'cvss_v3'", "cvss_v3")
            base = cvss.get("baseScore")
            if not isinstance(base, (int, float)) or not 0 <= base <= 10:
                raise self.where.error(f"cvss_v3 baseScore {base!r} is not a number 0-10", "a score 0.0-10.0",
                                       "baseScore")
            for pid in self.where.need_ids(score.get("products", []) or [], "score 'products'", "products"):
                scores[pid] = max(float(base), scores.get(pid, 0.0))
                vectors[pid] = str(cvss.get("vectorString", ""))
        return CsafVulnerability(cve, str(item.get("title", "")), status, tuple(remediations), scores, vectors)


def parse_csaf(text: str, file: str = "<csaf>") -> Advisory:
    """Parse one CSAF 2.0 document from its text."""
    path = Path(file)
    document, _ = load_json(path, text)
    reader = _Reader(path, text)
    where = reader.where
    document = where.need_dict(document, "the CSAF document")
    header = where.need_dict(document.get("document"), "'document'", "document")
    version = str(header.get("csaf_version", ""))
    if version != "2.0":
        raise where.error(f"csaf_version {version!r} is not supported", "csaf_version 2.0", "csaf_version")
    tracking = where.need_dict(header.get("tracking"), "'document.tracking'", "tracking")
    tracking_id = where.need_str(tracking.get("id"), "'document.tracking.id'", "tracking")
    tree = where.need_dict(document.get("product_tree", {}), "'product_tree'", "product_tree")
    reader.walk(tree.get("branches", []), {})
    for full in where.need_list(tree.get("full_product_names", []), "'full_product_names'", "full_product_names"):
        reader.leaf(full, {})
    reader.relationships(tree.get("relationships", []))
    vulns = tuple(reader.vulnerability(v) for v in where.need_list(document.get("vulnerabilities", []),
                                                                     "'vulnerabilities'", "vulnerabilities"))
    for vuln in vulns:
        for pid in sorted({p for ids in vuln.product_status.values() for p in ids} - set(reader.products)):
            raise where.error(f"{vuln.cve or 'a vulnerability'} names product id {pid!r} that the product tree "
                              "does not define", "a product_id from the product tree", pid)
    publisher = header.get("publisher", {})
    return Advisory(tracking_id, str(header.get("title", "")),
                    str(publisher.get("name", "")) if isinstance(publisher, dict) else "", file,
                    reader.products, vulns, str(tracking.get("current_release_date", "")),
                    tuple(v.cve for v in vulns if v.cve))


def load_csaf(path: str | Path) -> list[Advisory]:
    """Every advisory of a CSAF file or folder; a duplicate tracking id is an input error."""
    advisories: list[Advisory] = []
    seen: dict[str, str] = {}
    for file in json_files(Path(path)):
        advisory = parse_csaf(read_text(file), str(file))
        if advisory.tracking_id in seen:
            raise InputError.at(str(file), 1, 1, f"advisory {advisory.tracking_id} already read from "
                                f"{seen[advisory.tracking_id]}", "one file per advisory")
        seen[advisory.tracking_id] = str(file)
        advisories.append(advisory)
    return advisories
