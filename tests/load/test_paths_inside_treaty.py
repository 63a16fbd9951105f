"""Files a treaty names stay inside the treaty folder (issue 17 §2): the attacks first, then the way out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.cli import main
from plantgate.db.treaty_io import evidence_files, read_folder
from plantgate.errors import InputError
from plantgate.load import load_site
from tests.sites import copy_example, edit


def _problems(site: Path, **kwargs: object) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_site(site, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


def _one_outside(problems: list[str], file: str, what: str) -> str:
    found = [p for p in problems if "outside the treaty folder" in p]
    assert len(found) == 1, problems
    assert found[0].startswith(file) and what in found[0], found[0]
    return found[0]


def test_a_firewall_config_that_climbs_out_is_refused_at_its_line(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "firewalls.yaml", "config: firewalls/fw-it-dmz.asa", "config: ../../../../proc/self/environ")
    problem = _one_outside(_problems(site), str(site / "firewalls.yaml") + ":5:", "firewall config file")
    assert "allow-outside" in problem


def test_an_absolute_path_is_refused_even_when_the_file_exists(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    absolute = (site / "firewalls" / "fw-it-dmz.asa").resolve()
    edit(site / "firewalls.yaml", "config: firewalls/fw-it-dmz.asa", f"config: {absolute}")
    _one_outside(_problems(site), str(site / "firewalls.yaml"), "firewall config file")


@pytest.mark.parametrize(("file", "old", "what"), [
    ("observed.yaml", "flows: [flows/conn.log]", "flow file"),
    ("identity.yaml", "file: ad/ot-dc1-get-adtrust.json", "trust export file"),
    ("vulns.yaml", "kev: [advisories/kev.json]", "kev feed"),
    ("vulns.yaml", "csaf: [advisories/icsa-24-116-03.json]", "csaf feed"),
    ("changes/CR-2026-102.yaml", "candidate_config: firewalls/candidates/fw-dmz-ot.CR-2026-102.iptables",
     "candidate_config file"),
])
def test_every_kind_of_named_file_follows_symlinks_and_stays_inside(tmp_path: Path, file: str, old: str,
                                                                    what: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("PASSWORD=hunter2\n", encoding="utf-8")
    site = copy_example(tmp_path)
    (site / "innocent.txt").symlink_to(secret)
    key = old.split(":")[0]
    edit(site / file, old, f"{key}: innocent.txt" if "[" not in old else f"{key}: [innocent.txt]")
    problem = _one_outside(_problems(site), str(site / file), what)
    assert "after following symlinks" in problem
    assert "hunter2" not in problem


def test_allow_outside_names_the_one_place_that_may_be_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "configs"
    elsewhere.mkdir()
    site = copy_example(tmp_path)
    (elsewhere / "fw.asa").write_bytes((site / "firewalls" / "fw-it-dmz.asa").read_bytes())
    edit(site / "firewalls.yaml", "config: firewalls/fw-it-dmz.asa", f"config: {elsewhere / 'fw.asa'}")
    assert load_site(site, allow_outside=[elsewhere]).treaty.firewalls[0].config == str(elsewhere / "fw.asa")
    _one_outside(_problems(site, allow_outside=[tmp_path / "site"]), str(site / "firewalls.yaml"), "firewall")

    refused = CliRunner().invoke(main, ["validate", str(site)])
    assert refused.exit_code == 2 and "outside the treaty folder" in refused.output
    allowed = CliRunner().invoke(main, ["validate", str(site), "--allow-outside", str(elsewhere)])
    assert allowed.exit_code == 0, allowed.output
    again = CliRunner().invoke(main, ["validate", str(site)])  # the option lasts one command, not the process
    assert again.exit_code == 2


def test_the_web_import_never_allows_outside_and_never_reads_a_symlink_out(tmp_path: Path) -> None:
    secret = tmp_path / "environ"
    secret.write_text("DATABASE_PASSWORD=hunter2\n", encoding="utf-8")
    site = copy_example(tmp_path)
    (site / "firewalls" / "notes.txt").symlink_to(secret)  # named by nothing, still in the folder
    assert "firewalls/notes.txt" not in evidence_files(site)
    edit(site / "firewalls.yaml", "config: firewalls/fw-it-dmz.asa", f"config: {secret}")
    with pytest.raises(InputError, match="outside the treaty folder"):
        read_folder(site)


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null"])
def test_a_device_is_not_a_file(tmp_path: Path, special: str) -> None:
    if not os.path.exists(special):
        pytest.skip(f"{special} is not on this system")
    site = copy_example(tmp_path)
    edit(site / "vulns.yaml", "kev: [advisories/kev.json]", f"kev: [{special}]")
    problems = _problems(site, allow_outside=[Path("/dev")])
    assert any("is not a regular file" in p for p in problems), problems


def test_check_on_something_that_is_not_a_folder_is_an_input_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", "/dev/null"])
    assert result.exit_code == 2, result.output
    assert "neither a folder" in result.output
