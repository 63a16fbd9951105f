"""Backup checks: programs and images covered, forgotten items covered, separate, fresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

from plantgate.checks import CheckContext, Finding
from plantgate.checks.backup import backups_cover_the_plant, backups_fresh, backups_separate
from plantgate.load import load_site
from tests.sites import EXAMPLE, copy_example, edit

AS_OF = dt.date(2026, 11, 26)
Check = Callable[[CheckContext], Iterator[Finding]]


def run(folder: Path, check: Check, as_of: dt.date = AS_OF) -> list[Finding]:
    return list(check(CheckContext(load_site(folder), as_of)))


def test_plc_without_program_backup_and_hmi_without_image(tmp_path: Path) -> None:
    [finding] = run(EXAMPLE, backups_cover_the_plant)
    assert finding.rule_id == "PG-BACKUP-001" and finding.subjects == ("ctl-c300-3",)
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", "    # Commissioned in 2026; its program was never added to the backup job.\n",
         "    backups: [{item: controller_program, repository: ot-backup, last_backup: 2026-11-20}]\n")
    assert run(site, backups_cover_the_plant) == []
    edit(site / "assets.yaml", "backups: [{item: hmi_image, repository: ot-backup, last_backup: 2026-11-10}]",
         "backups: [{item: configuration, repository: ot-backup}]")
    [hmi] = run(site, backups_cover_the_plant)
    assert hmi.subjects == ("sup-hmi3",) and "image backup" in hmi.message


def test_license_server_and_discontinued_install_media(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", "    # Commissioned in 2026; its program was never added to the backup job.\n",
         "    backups: [{item: controller_program, repository: ot-backup}]\n")
    edit(site / "assets.yaml", "backups: [{item: license_server, repository: ot-backup}, "
         "{item: install_media, repository: ot-backup}]", "backups: [{item: install_media, repository: ot-backup}]")
    edit(site / "charter.yaml", "    max_age_days: 45\n",
         "    max_age_days: 45\n    discontinued_software:\n"
         "      - {vendor: Schneider Electric, product: Triconex Tricon CX}\n")
    found = sorted((f.subjects[0], f.discriminator) for f in run(site, backups_cover_the_plant))
    assert found == [("ops-license", "license_server"), ("sis-tricon", "install_media")]


def test_shared_credential_server_and_enterprise_repository(tmp_path: Path) -> None:
    assert run(EXAMPLE, backups_separate) == []
    site = copy_example(tmp_path)
    edit(site / "charter.yaml", "{id: corp-backup, side: enterprise, credential: svc-corp-backup}",
         "{id: corp-backup, side: enterprise, credential: SVC-OT-BACKUP, server: ops-backup}")
    edit(site / "assets.yaml", "backups: [{item: system_image, repository: ot-backup, last_backup: 2026-11-20}]",
         "backups: [{item: system_image, repository: corp-backup, last_backup: 2026-11-20}]")
    found = sorted(f.discriminator for f in run(site, backups_separate))
    assert found == ["credential:corp-backup", "server:corp-backup", "system_image"]


def test_backup_age_against_policy(tmp_path: Path) -> None:
    [old] = run(EXAMPLE, backups_fresh)
    assert old.subjects == ("sis-tricon",) and "72 days old" in old.message and old.severity.value == "high"
    assert run(EXAMPLE, backups_fresh, dt.date(2026, 10, 1)) == []
    site = copy_example(tmp_path)
    edit(site / "charter.yaml", "    max_age_days: 45\n", "")
    assert run(site, backups_fresh) == []


def test_unknown_repository_is_a_loader_error(tmp_path: Path) -> None:
    import pytest

    from plantgate.errors import InputError
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", "{item: hmi_image, repository: ot-backup, last_backup: 2026-11-10}",
         "{item: hmi_image, repository: tape-vault, last_backup: 2026-11-10}")
    with pytest.raises(InputError, match="unknown backup repository 'tape-vault'"):
        load_site(site)
