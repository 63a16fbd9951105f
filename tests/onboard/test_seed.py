"""Onboarding: Nmap, NetBox and CSV readers, proposals, and the merge that never overwrites a human."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.cli_seed import csv_import, netbox, nmap
from plantgate.errors import InputError
from plantgate.feeds.inventory_csv import read_inventory_csv
from plantgate.feeds.netbox import read_netbox_files
from plantgate.feeds.nmap import read_nmap
from plantgate.load import load_site
from plantgate.onboard.merge import MANIFEST, existing_items, merge_proposal
from plantgate.onboard.propose import propose
from tests.sites import MINIMAL, write_files

DATA = Path(__file__).parent / "data"
NETBOX = [DATA / "prefixes.json", DATA / "devices.json", DATA / "ip-addresses.json"]


def test_nmap_hosts_up_with_open_ports_and_scanned_prefix() -> None:
    seed = read_nmap(DATA / "scan.xml")
    assert [h.addresses for h in seed.hosts] == [("10.20.0.21",), ("10.20.0.40",), ("192.168.50.7",)]
    hmi = seed.hosts[0]
    assert (hmi.name, hmi.vendor, hmi.mac_vendor, hmi.origin.line) == ("hmi1.plant.local", "", "Rockwell Automation", 4)
    assert [(s.protocol, s.port) for s in hmi.services] == [("tcp", 3389)]  # the filtered VNC port is not open
    assert [n.network for n in seed.networks] == ["10.20.0.0/24"]


def test_nmap_malformed_xml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "scan.xml"
    bad.write_text((DATA / "scan.xml").read_text().replace('<status state="up" reason="echo-reply" reason_ttl="60"/>',
                                                           '<status state="up"'))
    with pytest.raises(InputError) as caught:
        read_nmap(bad)
    assert caught.value.problems[0].location.line == 20


def test_netbox_prefixes_devices_and_addresses() -> None:
    seed = read_netbox_files(NETBOX)
    assert [(n.network, n.origin.line) for n in seed.networks] == [("10.20.0.0/24", 7), ("172.16.35.0/24", 16)]
    hosts = {h.name: h for h in seed.hosts}
    assert hosts["hmi1"].addresses == ("10.20.0.21",) and hosts["hmi1"].vendor == "Honeywell"
    assert hosts["jump"].addresses == ("172.16.35.30",)
    proposal = propose(seed, [])
    zones = {z["id"]: z for z in proposal.zones}
    assert zones["supervisory-control"]["level"] == 2 and zones["industrial-dmz"]["level"] == 3.5
    assets = {a["id"]: a for a in proposal.assets}
    assert assets["hmi1"] == {"id": "hmi1", "name": "hmi1", "zone": "supervisory-control", "role": "hmi",
                              "addresses": ["10.20.0.21"], "vendor": "Honeywell", "product": "Experion Station"}


def test_netbox_bad_prefix_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "prefixes.json"
    bad.write_text((DATA / "prefixes.json").read_text().replace("172.16.35.0/24", "172.16.35.1/24"))
    with pytest.raises(InputError) as caught:
        read_netbox_files([bad])
    assert caught.value.problems[0].location.line == 16


def test_csv_template_and_bad_row(tmp_path: Path) -> None:
    seed = read_inventory_csv(DATA / "inventory.csv")
    proposal = propose(seed, [])
    assert [(z["id"], z["level"], z["kind"]) for z in proposal.zones] == [
        ("basic-control", 1, "control"), ("safety-system", 1, "safety")]
    assert any("safety-system" in note and "guessed" in note for note in proposal.notes)
    assert [(a["id"], a["zone"], a["role"]) for a in proposal.assets] == [
        ("c300-1", "basic-control", "controller"), ("tricon", "safety-system", "sis")]
    bad = tmp_path / "bad.csv"
    bad.write_text((DATA / "inventory.csv").read_text() + "host,10.1.0.300,oops,,,,,,,\n")
    with pytest.raises(InputError) as caught:
        read_inventory_csv(bad)
    assert (caught.value.problems[0].location.line, caught.value.problems[0].location.column) == (6, 2)


def _site(tmp_path: Path) -> Path:
    return write_files(tmp_path / "site", {"site.yaml": MINIMAL["site.yaml"], "zones.yaml": """
        zones:
          - {id: sup, name: Supervisory, level: 2, kind: control, networks: [10.20.0.0/24]}
        """})


def test_nmap_assets_land_in_existing_zones_and_reimport_changes_nothing(tmp_path: Path) -> None:
    folder = _site(tmp_path)
    runner = CliRunner()
    first = runner.invoke(nmap, [str(folder), str(DATA / "scan.xml")])
    assert first.exit_code == 1, first.output  # a host in no zone needs a person, as a conflict does
    assert "unassigned" in first.output and "192.168.50.7" in first.output
    written = (folder / "imported-nmap.yaml").read_text()
    site = load_site(folder)
    assert {(a.id, a.zone, a.role.value) for a in site.treaty.assets} == {
        ("hmi1", "sup", "workstation"), ("host-10-20-0-40", "sup", "controller")}
    again = runner.invoke(nmap, [str(folder), str(DATA / "scan.xml")])
    assert "nothing to write" in again.output
    assert (folder / "imported-nmap.yaml").read_text() == written


def test_human_edit_is_never_overwritten(tmp_path: Path) -> None:
    folder = _site(tmp_path)
    seed = read_nmap(DATA / "scan.xml")
    zones = [item for _, item in existing_items(folder)["zones"].values()]
    merge_proposal(folder, propose(seed, zones))
    seed_file = folder / "imported-nmap.yaml"
    seed_file.write_text(seed_file.read_text().replace("role: workstation", "role: hmi  # checked on site")
                         .replace("addresses:\n      - 10.20.0.21", "addresses:\n      - 10.20.0.99"))
    outcome = merge_proposal(folder, propose(seed, zones))
    # the role was a guess, so the person's choice is no conflict; the address the scan saw is one
    assert outcome.conflicts == ["assets/hmi1.addresses: the imported file (edited by hand) has '10.20.0.99', the "
                                 "import says '10.20.0.21'; left as it is"]
    assert not outcome.changed and "role: hmi  # checked on site" in seed_file.read_text()
    # an untouched imported item is refreshed when the source changes
    changed = read_nmap(DATA / "scan.xml")
    changed.hosts[1] = type(changed.hosts[1])(("10.20.0.40",), "", changed.hosts[1].origin, vendor="Siemens AG")
    outcome = merge_proposal(folder, propose(changed, zones))
    assert outcome.updated == ["assets/host-10-20-0-40"] and "Siemens AG" in seed_file.read_text()


def test_items_written_or_deleted_by_hand_are_merged_or_conflicts(tmp_path: Path) -> None:
    folder = _site(tmp_path)
    hand = "assets:\n  - {id: hmi-01, name: HMI 1, zone: sup, role: hmi, addresses: [10.20.0.21]}  # console\n"
    (folder / "assets.yaml").write_text(hand)
    seed = read_nmap(DATA / "scan.xml")
    zones = [item for _, item in existing_items(folder)["zones"].values()]
    outcome = merge_proposal(folder, propose(seed, zones))
    assert outcome.added == ["assets/host-10-20-0-40"] and outcome.conflicts == []
    assert outcome.merged == ["assets/hmi1: 10.20.0.21 is already hmi-01 in assets.yaml: merged into it"]
    assert outcome.filled == ["assets/hmi-01.description (in assets.yaml)"]
    assert (folder / "assets.yaml").read_text() == hand.replace(
        "10.20.0.21]}", '10.20.0.21], description: "open: tcp/3389 ms-wbt-server; MAC 00:1D:9C:12:34:56 (network card '
        'by Rockwell Automation)"}')
    assert [a.id for a in load_site(folder).treaty.assets] == ["hmi-01", "host-10-20-0-40"]  # never twice
    again = merge_proposal(folder, propose(seed, zones))
    assert not again.changed and again.conflicts == []
    (folder / "imported-nmap.yaml").write_text("assets: []\n")
    outcome = merge_proposal(folder, propose(seed, zones))
    assert outcome.added == [] and "removed by hand" in outcome.conflicts[0]
    assert "assets/host-10-20-0-40" in json.loads((folder / MANIFEST).read_text())["imported-nmap.yaml"]


def test_dry_run_shows_a_diff_and_writes_nothing(tmp_path: Path) -> None:
    folder = _site(tmp_path)
    result = CliRunner().invoke(csv_import, [str(folder), str(DATA / "inventory.csv"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "+++ " in result.output and "+  - id: basic-control" in result.output and "would add 4" in result.output
    assert not (folder / "imported-csv.yaml").exists() and not (folder / MANIFEST).exists()


def test_netbox_command_writes_a_loadable_treaty(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "site", {"site.yaml": MINIMAL["site.yaml"]})
    result = CliRunner().invoke(netbox, [str(folder), *map(str, NETBOX)])
    assert result.exit_code == 0, result.output
    site = load_site(folder)
    assert {z.id for z in site.treaty.zones} == {"supervisory-control", "industrial-dmz"}
    assert {a.id for a in site.treaty.assets} == {"hmi1", "jump"}
