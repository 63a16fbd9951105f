"""Imports merge into what the treaty holds: by address, never twice; scans keep what they know (issue 18 §5)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from plantgate.checks import run_checks
from plantgate.cli import main
from plantgate.feeds.netbox import read_netbox_files
from plantgate.feeds.nmap import read_nmap
from plantgate.load import load_site
from plantgate.onboard.merge import existing_items, merge_proposal
from plantgate.onboard.propose import propose
from tests.conftest import SHARED, shared_path
from tests.sites import AS_OF, MINIMAL, write_files

DATA = Path(__file__).parent / "data"
HAND = """\
# Supervisory hosts, checked on site by R. Alvarez
assets:
  - {id: ews-02, name: Engineering station 2, zone: sup, role: engineering_workstation,
     addresses: [10.20.0.31]}   # the Windows 10 EWS
  - id: fw-sup
    name: Supervisory firewall
    zone: sup
    role: firewall
    addresses: [10.20.0.1]
"""


def _site(tmp_path: Path, assets: str = HAND) -> Path:
    return write_files(tmp_path / "site", {"site.yaml": MINIMAL["site.yaml"], "assets.yaml": assets,
                                           "zones.yaml": """
        zones:
          - {id: sup, name: Supervisory, level: 2, kind: control, networks: [10.20.0.0/24]}
          - {id: dmz, name: DMZ, level: 3.5, kind: dmz, networks: [172.16.35.0/24]}
        """})


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_scan_keeps_os_services_and_cpes_and_merges_by_address(tmp_path: Path) -> None:
    folder = _site(tmp_path)
    code, out = _invoke("import", "nmap", str(folder), str(DATA / "scan-os.xml"))
    assert code == 1, out  # 10.20.5.5 is in no zone
    assert "warning:" in out and "10.20.0.0/16 overlaps existing zone(s) sup (10.20.0.0/24): no zone is proposed" in out
    assert "unassigned:" in out and "10.20.5.5" in out
    assert "merged: assets/ews2: 10.20.0.31 is already ews-02 in assets.yaml: merged into it" in out
    site = load_site(folder)
    assert [a.id for a in site.treaty.assets] == ["ews-02", "fw-sup"]  # nothing added twice
    assert [z.id for z in site.treaty.zones] == ["sup", "dmz"]  # no overlapping zone proposed
    ews, fw = site.treaty.assets
    assert ews.vendor == "" and "network card by VMware" in ews.description  # the NIC maker is not the vendor
    assert [(s.product, s.version, s.cpe) for s in ews.software][:2] == [
        ("Microsoft Windows 10 1607", "1607", "cpe:/o:microsoft:windows_10:1607"),
        ("Microsoft IIS httpd", "10.0", "cpe:/a:microsoft:internet_information_services:10.0")]
    assert fw.software[0].cpe == "cpe:/o:paloaltonetworks:pan-os:10.2.8"
    text = (folder / "assets.yaml").read_text(encoding="utf-8")
    assert text.startswith(HAND.split("\n  - id: fw-sup")[0].rsplit("}", 1)[0])  # the hand text is kept as written
    assert "# the Windows 10 EWS" in text and "# Supervisory hosts, checked on site" in text
    again_code, again = _invoke("import", "nmap", str(folder), str(DATA / "scan-os.xml"))
    assert again_code == 1 and "filled 0 field(s)" in again and "conflicts 0" in again
    assert (folder / "assets.yaml").read_text(encoding="utf-8") == text


def test_scanned_software_is_seen_by_matching(tmp_path: Path) -> None:
    """The PAN-OS the scan saw on fw-sup is CVE-2024-3400 (KEV) through the shipped Vulnrichment record's CPE."""
    folder = _site(tmp_path)
    _invoke("import", "nmap", str(folder), str(DATA / "scan-os.xml"))
    kev = shared_path("ot-data", "kev", "known_exploited_vulnerabilities.json")
    (folder / "vulns.yaml").write_text(f"vulnerabilities:\n  feeds: {{kev: [\"{kev}\"], vulnrichment: "
                                       f"[\"{shared_path('ot-data', 'vulnrichment')}\"]}}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["vuln", "match", str(folder), "--format", "json",
                                         "--allow-outside", str(SHARED)])
    rows = json.loads(result.output)["suggestions"]
    pan = [r for r in rows if r["asset"] == "fw-sup"]
    assert [(r["advisory"], r["in_kev"], r["version_affected"]) for r in pan] == [("CVE-2024-3400", True, True)]
    assert "via software Palo Alto Networks PAN-OS 10.2.8" in pan[0]["reasons"][0]


def test_netbox_reserved_and_deprecated_addresses_are_not_assets(tmp_path: Path) -> None:
    addresses = tmp_path / "ip-addresses.json"
    addresses.write_text(json.dumps({"count": 4, "next": None, "previous": None, "results": [
        {"id": 601, "address": "10.20.0.50/24", "status": {"value": "active", "label": "Active"},
         "dns_name": "hist-relay", "assigned_object": None},
        {"id": 602, "address": "10.20.0.51/24", "status": {"value": "reserved", "label": "Reserved"},
         "dns_name": "", "assigned_object": None},
        {"id": 603, "address": "10.20.0.52/24", "status": {"value": "deprecated", "label": "Deprecated"},
         "dns_name": "old-hmi", "assigned_object": None},
        {"id": 604, "address": "10.20.0.31/24", "status": {"value": "active", "label": "Active"},
         "dns_name": "ews2", "assigned_object": None},
    ]}, indent=2), encoding="utf-8")
    seed = read_netbox_files([addresses])
    assert [h.addresses for h in seed.hosts] == [("10.20.0.50",), ("10.20.0.31",)]
    assert any("10.20.0.51 is reserved" in n for n in seed.notes) and any("deprecated" in n for n in seed.notes)
    folder = _site(tmp_path)
    code, out = _invoke("import", "netbox", str(folder), str(addresses))
    assert code == 0, out
    assert "merged: assets/ews2: 10.20.0.31 is already ews-02" in out and "note:" in out
    assert sorted(a.id for a in load_site(folder).treaty.assets) == ["ews-02", "fw-sup", "hist-relay"]


def test_unknown_types_become_other_with_a_note_or_follow_the_type_map(tmp_path: Path) -> None:
    table = tmp_path / "inventory.csv"
    table.write_text("type,address,name,role,vendor,product\n"
                     "host,10.20.0.60,gw-1,Serial Gateway,Moxa,NPort 5150\n"
                     "host,10.20.0.61,fc-1,Flow Computer,Emerson,ROC809\n"
                     "host,10.20.0.62,hmi-9,HMI,Honeywell,Experion Station\n", encoding="utf-8")
    folder = _site(tmp_path)
    code, out = _invoke("import", "csv", str(folder), str(table), "--dry-run")
    assert code == 0, out
    assert "type 'Serial Gateway' of gw-1 is not an asset role PlantGate knows: imported as other" in out
    type_map = tmp_path / "types.yaml"
    type_map.write_text("Flow Computer: controller\nserial-gateway: other\n", encoding="utf-8")
    code, out = _invoke("import", "csv", str(folder), str(table), "--type-map", str(type_map))
    assert code == 0 and "Flow Computer" not in out, out
    roles = {a.id: a.role.value for a in load_site(folder).treaty.assets}
    assert (roles["gw-1"], roles["fc-1"], roles["hmi-9"]) == ("other", "controller", "hmi")
    type_map.write_text("Flow Computer: flowmeter\n", encoding="utf-8")
    code, out = _invoke("import", "csv", str(folder), str(table), "--type-map", str(type_map))
    assert code == 2 and f"{type_map}:1:16" in out and "not an asset role" in out


def test_check_reports_two_assets_with_one_address(tmp_path: Path) -> None:
    folder = _site(tmp_path, HAND + "  - {id: ews-2-copy, name: EWS 2, zone: sup, role: workstation, "
                                    "addresses: [10.20.0.31]}\n")
    [finding] = [f for f in run_checks(load_site(folder), AS_OF) if f.rule_id == "PG-ASSET-001"]
    assert finding.subjects == ("ews-02", "ews-2-copy") and "10.20.0.31" in finding.message
    assert [e.line for e in finding.evidence] == [4, 10]


def test_exit_codes_are_the_same_across_importers(tmp_path: Path) -> None:
    folder = _site(tmp_path)
    clean = tmp_path / "clean.csv"
    clean.write_text("type,address,name,role\nhost,10.20.0.70,new-hmi,hmi\n", encoding="utf-8")
    fill = tmp_path / "fill.csv"
    fill.write_text("type,address,name,role,vendor\nhost,10.20.0.1,fw,firewall,Fortinet\n", encoding="utf-8")
    conflict = tmp_path / "conflict.csv"
    conflict.write_text("type,address,name,role,vendor\nhost,10.20.0.1,fw,firewall,Palo Alto Networks\n",
                        encoding="utf-8")
    broken = tmp_path / "broken.csv"
    broken.write_text("type,address\nhost,10.20.0.999\n", encoding="utf-8")
    assert _invoke("import", "csv", str(folder), str(clean))[0] == 0
    assert _invoke("import", "csv", str(folder), str(broken))[0] == 2
    assert _invoke("import", "assets", str(broken), "--into", str(folder))[0] == 2
    code, out = _invoke("import", "csv", str(folder), str(fill))
    assert code == 0 and "filled: assets/fw-sup.vendor (in assets.yaml)" in out, out
    code, out = _invoke("import", "csv", str(folder), str(conflict))
    assert code == 1 and "conflict: assets/fw-sup.vendor: assets.yaml has 'Fortinet'" in out, out
    zones = [item for _, item in existing_items(folder)["zones"].values()]
    assert not merge_proposal(folder, propose(read_nmap(DATA / "scan.xml"), zones), dry_run=True).conflicts
