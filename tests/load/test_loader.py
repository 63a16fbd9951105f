"""The loader: every kind of input problem gets file:line:column, the key path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.load import load_site
from tests.sites import EXAMPLE, MINIMAL, write_files


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_site(folder)
    return [str(p) for p in caught.value.problems]


def test_example_site_loads_with_every_section() -> None:
    site = load_site(EXAMPLE)
    treaty = site.treaty
    assert treaty.site.name == "Bayport Olefins"
    assert {z.id for z in treaty.zones} == {"enterprise", "idmz", "ops", "sup", "ctl", "sis"}
    assert 10 <= len(treaty.conduits) <= 20
    assert treaty.charter and treaty.shared_services and treaty.patch_policy and treaty.escalation and treaty.soc
    assert len(treaty.patch_policy.outages) == 2


def test_minimal_site_loads(tmp_path: Path) -> None:
    site = load_site(write_files(tmp_path, MINIMAL))
    assert [c.id for c in site.treaty.conduits] == ["c1"]
    assert site.locate_item("conduits", "c1", "ot_approver").line == 7


def test_unknown_key_names_line_column_and_allowed_keys(tmp_path: Path) -> None:
    files = dict(MINIMAL)
    files["conduits.yaml"] = files["conduits.yaml"].replace("ot_approver: ot", "ot_aprover: ot")
    [problem] = problems_of(write_files(tmp_path, files))
    assert "conduits.yaml:7:5: unknown key 'ot_aprover'" in problem
    assert "conduits.0.ot_aprover" in problem and "ot_approver" in problem.split("expected")[1]


def test_missing_required_key(tmp_path: Path) -> None:
    files = dict(MINIMAL)
    files["zones.yaml"] = files["zones.yaml"].replace("name: DMZ, ", "")
    [problem] = problems_of(write_files(tmp_path, files))
    assert "zones.yaml:3:5: missing required key 'name'" in problem


@pytest.mark.parametrize(("old", "new", "message"), [
    ("level: 3.5", "level: 6", "Purdue level must be one of 0, 1, 2, 3, 3.5, 4, 5"),
    ("kind: dmz", "kind: demilitarised", "invalid value 'demilitarised'"),
    ("networks: [172.16.0.0/24]", "networks: [172.16.0.1/24]", "is not a network in CIDR form"),
])
def test_zone_values(tmp_path: Path, old: str, new: str, message: str) -> None:
    files = dict(MINIMAL)
    files["zones.yaml"] = files["zones.yaml"].replace(old, new)
    [problem] = problems_of(write_files(tmp_path, files))
    assert problem.startswith(str(tmp_path / "zones.yaml") + ":3:")
    assert message in problem


@pytest.mark.parametrize(("old", "new", "message"), [
    ("ports: [5450]", "ports: [70000]", "not a port or port range"),
    ("ports: [5450]", "ports: [9-3]", "not a port or port range"),
    ("protocol: tcp", "protocol: tcpx", "protocol must be tcp, udp"),
    ("to_zone: dmz", "to_zone: ops", "from_zone equals to_zone"),
    ("services: [{protocol: tcp, ports: [5450]}]", "services: []", "at least 1 item"),
])
def test_conduit_values(tmp_path: Path, old: str, new: str, message: str) -> None:
    files = dict(MINIMAL)
    files["conduits.yaml"] = files["conduits.yaml"].replace(old, new)
    [problem] = problems_of(write_files(tmp_path, files))
    assert "conduits.yaml:" in problem and message in problem


def test_asset_address_and_date_values(tmp_path: Path) -> None:
    files = dict(MINIMAL)
    files["assets.yaml"] = """
        assets:
          - {id: a1, name: HMI, zone: ops, role: hmi, addresses: [10.30.0.300]}
          - {id: a2, name: PLC, zone: ops, role: plc}
        """
    files["patch.yaml"] = """
        patch_policy:
          outages:
            - {id: o1, name: Turnaround, start: 2027-10-30, end: 2027-10-02}
        """
    problems = problems_of(write_files(tmp_path, files))
    assert len(problems) == 3
    assert any("assets.yaml:2:" in p and "not an IPv4 or IPv6 address" in p for p in problems)
    assert any("assets.yaml:3:" in p and "invalid value 'plc'" in p for p in problems)
    assert any("patch.yaml:3:" in p and "ends on or after its start" in p for p in problems)


def test_duplicate_ids_and_dangling_references(tmp_path: Path) -> None:
    files = dict(MINIMAL)
    files["zones.yaml"] += "  - {id: ops, name: Again, level: 2, kind: control}\n"
    files["conduits.yaml"] = files["conduits.yaml"].replace("ot_approver: ot", "ot_approver: nobody\n"
                                                            "            enforced_by: [fw-x]")
    problems = problems_of(write_files(tmp_path, files))
    assert any("duplicate zones id 'ops'" in p and "first used at" in p for p in problems)
    assert any("unknown person 'nobody'" in p and "conduits.yaml:7:" in p for p in problems)
    assert any("unknown firewall 'fw-x'" in p for p in problems)


def test_missing_firewall_config_file(tmp_path: Path) -> None:
    files = dict(MINIMAL)
    files["firewalls.yaml"] = """
        firewalls:
          - {id: fw1, vendor: asa, config: configs/missing.cfg, zones: {inside: ops, outside: nowhere}}
        """
    problems = problems_of(write_files(tmp_path, files))
    assert any("firewall config file 'configs/missing.cfg' not found" in p for p in problems)
    assert any("unknown zone 'nowhere'" in p for p in problems)


def test_yaml_syntax_error_and_duplicate_key(tmp_path: Path) -> None:
    files = dict(MINIMAL)
    files["zones.yaml"] = "zones:\n  - {id: corp, name: [unclosed\n"
    files["conduits.yaml"] = "conduits: []\nconduits: []\n"
    problems = problems_of(write_files(tmp_path, files))
    assert any("zones.yaml:" in p and "YAML syntax error" in p for p in problems)
    assert any("conduits.yaml:2:1" in p and "duplicate" in p.lower() for p in problems)


def test_non_mapping_file_and_repeated_section(tmp_path: Path) -> None:
    files = dict(MINIMAL)
    files["extra.yaml"] = "- just\n- a list\n"
    files["more.yaml"] = "site: {name: Other, plant: Other}\n"
    problems = problems_of(write_files(tmp_path, files))
    assert any("extra.yaml:1:1: a treaty file must be a mapping" in p for p in problems)
    assert any(":1:1: section 'site' is already defined at " in p for p in problems)


def test_missing_folder_and_empty_folder(tmp_path: Path) -> None:
    assert "treaty folder not found" in problems_of(tmp_path / "nope")[0]
    (tmp_path / "empty").mkdir()
    assert "no treaty files found" in problems_of(tmp_path / "empty")[0]


def test_five_mistakes_in_three_files_reported_together(tmp_path: Path) -> None:
    files = dict(MINIMAL)
    files["site.yaml"] = files["site.yaml"].replace("roles: [ot_approver]", "roles: [ot_aproover]")  # 1
    files["zones.yaml"] = (files["zones.yaml"].replace("level: 3.5", "level: 7")  # 2
                           .replace("networks: [10.30.0.0/24]", "networks: [10.30.0.0/33]"))  # 3
    files["conduits.yaml"] = (files["conduits.yaml"].replace("to_zone: dmz", "to_zone: dmzz")  # 4
                              .replace("business_reason:", "reason:"))  # 5
    problems = problems_of(write_files(tmp_path, files))
    assert len(problems) == 5, problems
    assert sum("site.yaml:" in p for p in problems) == 1
    assert sum("zones.yaml:" in p for p in problems) == 2
    assert sum("conduits.yaml:" in p for p in problems) == 2
    for problem in problems:
        assert problem.split(": ")[0].count(":") == 2, f"no line:column in {problem}"
