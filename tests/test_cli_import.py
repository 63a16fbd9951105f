"""``plantgate import assets``: idempotent merge, empty fields filled, conflicts not written, bad rows by line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from plantgate.cli import main
from plantgate.load import load_site
from tests.sites import copy_example

INVENTORY = """\
Name,IP Address,MAC Address,Vendor,Model,Firmware,Type,Zone
Console station 1,10.20.0.21,00:30:a7:01:02:03,Honeywell,Experion PKS,R510.2,HMI,sup
Compressor PLC 2,10.1.0.30,00:00:bc:11:22:33,Rockwell Automation,ControlLogix 5580,33.011,PLC,
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, " ".join((result.stdout + result.stderr).split())  # undo terminal wrapping


def test_import_adds_new_assets_and_is_idempotent(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(INVENTORY, encoding="utf-8")
    before = (site / "assets.yaml").read_text(encoding="utf-8")
    code, out = run("import", "assets", str(inventory), "--into", str(site))
    assert code == 0, out
    assert "1 added, 0 filled, 1 unchanged, 0 conflicts" in out
    imported = (site / "assets-imported.yaml").read_text(encoding="utf-8")
    assert "id: compressor-plc-2" in imported and "zone: ctl" in imported and "role: controller" in imported
    assert (site / "assets.yaml").read_text(encoding="utf-8") == before
    plc = load_site(site).treaty.asset("compressor-plc-2")
    assert plc is not None and plc.version == "33.011" and plc.addresses == ["10.1.0.30"]
    code, out = run("import", "assets", str(inventory), "--into", str(site))
    assert code == 0 and "0 added, 0 filled, 2 unchanged, 0 conflicts" in out
    assert (site / "assets-imported.yaml").read_text(encoding="utf-8") == imported


def test_conflicts_are_reported_and_never_written(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(INVENTORY + "Furnace SIS,10.2.0.10,,Schneider Electric,Triconex Tricon CX,11.4,SIS,sis\n",
                         encoding="utf-8")
    code, out = run("import", "assets", str(inventory), "--into", str(site))
    assert code == 1
    assert f"{inventory}:4: conflict on sis-tricon.version: treaty has '11.3'" in out
    assert "assets.yaml:" in out and "not overwritten" in out
    assert load_site(site).treaty.asset("sis-tricon").version == "11.3"  # type: ignore[union-attr]


def test_bad_rows_name_their_line_and_nothing_is_written(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    inventory = tmp_path / "bad.csv"
    inventory.write_text(INVENTORY + "Mystery,10.99.0.1,,,,,PLC,\nToaster,10.1.0.41,,,,,toaster,ctl\n"
                         "Nowhere,10.1.0.42,,,,,PLC,plant-floor\nBadIP,10.1.0.999,,,,,PLC,ctl\n", encoding="utf-8")
    code, out = run("import", "assets", str(inventory), "--into", str(site))
    assert code == 2
    for line, text in [(4, "no zone column"), (6, "unknown zone"), (7, "not an IPv4 or IPv6 address")]:
        assert f"{inventory}:{line}:" in out and text in out, (line, out)
    assert f"{inventory}:5:" not in out  # an unknown type is no bad row (see the next test)
    assert not (site / "assets-imported.yaml").exists()


def test_unknown_types_and_empty_fields(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    before = (site / "assets.yaml").read_text(encoding="utf-8")
    inventory = tmp_path / "inventory.csv"
    inventory.write_text("Name,IP Address,Vendor,Model,Firmware,Type,Zone\n"
                         "Serial gateway 1,10.1.0.41,Moxa,NPort 5150,4.1,Serial Gateway,ctl\n"
                         "Vendor access bastion,10.10.7.20,Microsoft,Windows Server 2019,1809,,\n", encoding="utf-8")
    code, out = run("import", "assets", str(inventory), "--into", str(site))
    assert code == 0, out
    assert f"note: {inventory}:2: type 'Serial Gateway' is not an asset role PlantGate knows: imported as other" in out
    assert "filled corp-vendor-bastion: vendor = 'Microsoft', product = 'Windows Server 2019', version = '1809'" in out
    assert "1 added, 1 filled, 0 unchanged, 0 conflicts" in out
    treaty = load_site(site).treaty
    assert treaty.asset("serial-gateway-1").role.value == "other"  # type: ignore[union-attr]
    bastion = treaty.asset("corp-vendor-bastion")
    assert bastion is not None and (bastion.vendor, bastion.version) == ("Microsoft", "1809")
    after = (site / "assets.yaml").read_text(encoding="utf-8")
    assert after == before.replace("     addresses: [10.10.7.20]}", '     addresses: [10.10.7.20], vendor: '
                                   '"Microsoft", product: "Windows Server 2019", version: "1809"}')
    code, out = run("import", "assets", str(inventory), "--into", str(site))
    assert code == 0 and "0 added, 0 filled, 2 unchanged, 0 conflicts" in out, out
    type_map = tmp_path / "types.yaml"
    type_map.write_text("Serial Gateway: controller\n", encoding="utf-8")
    code, out = run("import", "assets", str(inventory), "--into", str(site), "--type-map", str(type_map))
    assert code == 1 and "conflict on serial-gateway-1.role: treaty has 'other'" in out


def test_json_inventory_dry_run_and_comments_kept(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    inventory = tmp_path / "inventory.json"
    inventory.write_text('{"assets": [\n  {"hostname": "EWS-2", "ip": ["10.30.0.31"], "type": "ews",\n'
                         '   "vendor": "Honeywell", "model": "Experion PKS", "firmware": "R510.2"}\n]}\n',
                         encoding="utf-8")
    code, out = run("import", "assets", str(inventory), "--into", str(site), "--dry-run")
    assert code == 0 and "would add ews-2 (engineering_workstation, zone ops)" in out
    assert not (site / "assets-imported.yaml").exists()
    (site / "assets-imported.yaml").write_text("# Reviewed by R. Alvarez, 2026-11-20\nassets: []\n",
                                               encoding="utf-8")
    code, out = run("import", "assets", str(inventory), "--into", str(site))
    assert code == 0, out
    text = (site / "assets-imported.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Reviewed by R. Alvarez") and "id: ews-2" in text
    bad = tmp_path / "bad.json"
    bad.write_text('[\n  {"name": "A", "ip": "10.30.0.50", "type": "hmi"},\n  {"name": "B", "type": "hmi"}\n]\n',
                   encoding="utf-8")
    code, out = run("import", "assets", str(bad), "--into", str(site))
    assert code == 2 and f"{bad}:3:" in out


def test_missing_inventory_file(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    code, out = run("import", "assets", str(tmp_path / "none.csv"), "--into", str(site))
    assert code == 2 and "inventory file not found" in out
