"""Timing of advisory matching and SSVC decisions at plant-estate scale (not part of the test run).

Run: .venv/bin/python bench/bench_vuln.py [--assets 50000] [--advisories 2000] [--repeat 3]
Uses the real KEV catalog, Vulnrichment records and the 26 real CSAF advisories from
../shared/ot-data; the advisories are replicated (renamed products and tracking ids) up to
--advisories. Assets draw their vendor/product/version from those products, some from the
CVE records' affected products (PAN-OS, FortiOS, ...) and some from products nothing names.
"match" is what ``plantgate vuln match`` and PG-VULN-006 run: CSAF advisories, then CVE
records where no advisory speaks, every suggestion's CVEs marked against the full KEV
catalog ("match: CSAF only" is the advisory index alone). Every top suggestion is treated as
confirmed and decided: exposure is computed from a register of conduits in a fresh
PacketSpace each repetition. Prints medians of: loading the feeds, matching, deciding.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import ipaddress
import random
import statistics
import time
from pathlib import Path

from plantgate.checks.context import CheckContext
from plantgate.decisions.assess import Feeds, decide
from plantgate.decisions.matching import AdvisoryIndex, suggest_matches
from plantgate.decisions.suggestions import suggestions_for
from plantgate.feeds.csaf import Advisory, load_csaf
from plantgate.feeds.kev import load_kev
from plantgate.feeds.vulnrichment import load_vulnrichment
from plantgate.load import Site
from plantgate.load.reader import SpanIndex
from plantgate.model import Treaty
from plantgate.model.vulns import AdvisoryMatch, VulnerabilityGovernance
from plantgate.netspace import PacketSpace

DATA = Path(__file__).resolve().parents[2] / "shared" / "ot-data"
ZONES = [("corp", 4, "enterprise", "10.0.0.0/16"), ("dmz", 3.5, "dmz", "172.16.0.0/16"),
         ("ops", 3, "operations", "10.30.0.0/16"), ("sup", 2, "control", "10.20.0.0/16"),
         ("ctl", 1, "control", "10.1.0.0/16"), ("sis", 1, "safety", "10.2.0.0/16")]
VERSIONS = ["1.0", "2.1", "R4.09", "R510.2", "V1.5 SP3", "R6.03.00", "11.0.3", "9.1", "R3.09.01", "",
            "10.2.8", "7.2.5", "R520.1_TCU4", "V33.011", "V35.013"]


def replicate(real: list[Advisory], count: int) -> list[Advisory]:
    out = []
    for i in range(count):
        base, copy = real[i % len(real)], i // len(real)
        if copy == 0:
            out.append(base)
            continue
        products = {pid: dataclasses.replace(p, product_name=f"{p.product_name} {copy}", name=f"{p.name} {copy}")
                    for pid, p in base.products.items()}
        out.append(dataclasses.replace(base, tracking_id=f"{base.tracking_id}-R{copy}", products=products))
    return out


def make_treaty(advisories: list[Advisory], records: list[tuple[str, str]], count: int,
                rng: random.Random) -> Treaty:
    products = [(p.vendor, p.product_name) for a in advisories for p in a.products.values()]
    hosts = {z[0]: ipaddress.ip_network(z[3]).hosts() for z in ZONES}
    assets = []
    for i in range(count):
        zone = ZONES[i % len(ZONES)][0]
        draw = rng.random()
        vendor, product = rng.choice(products) if draw < 0.7 else rng.choice(records) if draw < 0.85 else (
            "Acme", f"Widget {i % 500}")
        assets.append({"id": f"a{i}", "name": f"asset {i}", "zone": zone, "role": "other",
                       "addresses": [str(next(hosts[zone]))], "vendor": vendor, "product": product,
                       "version": rng.choice(VERSIONS)})
    conduits = [
        {"id": "c1", "from_zone": "corp", "to_zone": "dmz", "services": [{"protocol": "tcp", "ports": [443]}],
         "sources": ["a0"]},
        {"id": "c2", "from_zone": "corp", "to_zone": "dmz", "services": [{"protocol": "tcp", "ports": [8443]}],
         "destinations": ["172.16.0.0/20"]},
        {"id": "c3", "from_zone": "dmz", "to_zone": "ops", "services": [{"protocol": "tcp", "ports": [3389]}],
         "sources": ["a1"]},
        {"id": "c4", "from_zone": "ops", "to_zone": "ctl", "services": [{"protocol": "tcp", "ports": [502]}]},
    ]
    zones = [{"id": z, "name": z, "level": lvl, "kind": kind, "networks": [net]} for z, lvl, kind, net in ZONES]
    return Treaty.model_validate({"site": {"name": "bench", "plant": "bench"}, "zones": zones, "assets": assets,
                                  "conduits": conduits,
                                  "people": [{"id": "p", "name": "P", "roles": ["ot_approver"]}]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=int, default=50_000)
    parser.add_argument("--advisories", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(6)
    real = load_csaf(DATA / "csaf")
    advisories = replicate(real, args.advisories)
    records = sorted({(a.vendor, a.product) for r in load_vulnrichment(DATA / "vulnrichment").values()
                      for a in r.affected if a.source == "cna" and a.product.lower() != "n/a"})
    treaty = make_treaty(advisories, records, args.assets, rng)
    print(f"{len(treaty.assets)} assets, {len(advisories)} advisories "
          f"({sum(len(a.products) for a in advisories)} products)")
    times: dict[str, list[float]] = {"load feeds (KEV json+csv, 26 CSAF, Vulnrichment)": [],
                                     "match: CSAF only": [], "match": [], "decide": [], "match + decide": []}
    for _ in range(args.repeat):
        start = time.perf_counter()
        kev = load_kev(DATA / "kev" / "known_exploited_vulnerabilities.json")
        load_kev(DATA / "kev" / "known_exploited_vulnerabilities.csv")
        load_csaf(DATA / "csaf")
        enrichment = load_vulnrichment(DATA / "vulnrichment")
        times["load feeds (KEV json+csv, 26 CSAF, Vulnrichment)"].append(time.perf_counter() - start)
        start = time.perf_counter()
        suggest_matches(treaty.assets, AdvisoryIndex(advisories))
        times["match: CSAF only"].append(time.perf_counter() - start)
        start = time.perf_counter()
        feeds = Feeds(kev={"kev": kev}, advisories=advisories, enrichment=enrichment)
        suggestions = suggestions_for(treaty.assets, feeds)
        matched = time.perf_counter() - start
        best: dict[str, AdvisoryMatch] = {}
        for s in suggestions:
            if s.asset not in best:
                best[s.asset] = AdvisoryMatch(asset=s.asset, advisory=s.advisory, product_id=s.product_id,
                                              decided_by="p", decided_on=dt.date(2026, 11, 1))
        governance = VulnerabilityGovernance(matches=list(best.values()))
        ctx = CheckContext(Site(treaty, Path("."), SpanIndex()), dt.date(2026, 11, 26))
        ctx.__dict__["space"] = PacketSpace()
        ctx.__dict__["firewalls"] = []
        start = time.perf_counter()
        decisions = decide(ctx, feeds, governance)
        decided = time.perf_counter() - start
        times["match"].append(matched)
        times["decide"].append(decided)
        times["match + decide"].append(matched + decided)
    counts: dict[str, int] = {}
    for d in decisions:
        counts[d.priority.value] = counts.get(d.priority.value, 0) + 1
    from_records = sum(1 for s in suggestions if s.source == "cve-record")
    in_kev = sum(1 for s in suggestions if s.kev)
    print(f"{len(suggestions)} suggestions ({from_records} from CVE records, {in_kev} with a KEV CVE), "
          f"{len(best)} confirmed matches, {len(decisions)} decisions {counts}")
    for name, values in times.items():
        print(f"{name:55s} median {statistics.median(values):7.2f} s  (of {len(values)})")


if __name__ == "__main__":
    main()
