"""Shared services: OT-side time/DNS/syslog, outward sync conduits, pull-only patching, OT-opened SOC feed."""

from __future__ import annotations

from pathlib import Path

from plantgate.checks.shared_services import (
    ot_assets_use_ot_servers,
    ot_instances_sync_outward,
    patches_pulled_not_pushed,
    sensors_feed_outward_only,
)
from tests.sites import EXAMPLE, copy_example, edit
from tests.sites import run_check as run


def test_ot_asset_pointing_at_enterprise_dns(tmp_path: Path) -> None:
    [finding] = run(EXAMPLE, ot_assets_use_ot_servers)
    assert finding.subjects == ("ops-historian", "10.10.1.53") and "enterprise zone enterprise" in finding.message
    assert finding.severity.value == "high" and ":" in str(finding.evidence[0])
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", "dns_servers: [ops-dns, 10.10.1.53]", "dns_servers: [ops-dns, dmz-ntp]")
    assert run(site, ot_assets_use_ot_servers) == []


def test_public_and_unplaceable_servers(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", "dns_servers: [ops-dns, 10.10.1.53]", "dns_servers: [8.8.8.8]")
    edit(site / "assets.yaml", "    time_servers: [ops-ntp]\n    dns_servers: [ops-dns]\n"
         "    syslog_servers: [ops-syslog]\n    backups: [{item: system_image, repository: ot-backup, "
         "last_backup: 2026-11-01}]", "    time_servers: [pool.ntp.org]\n    dns_servers: [ops-dns]\n"
         "    syslog_servers: [logs.somewhere.internal]\n    backups: [{item: system_image, repository: ot-backup, "
         "last_backup: 2026-11-01}]")
    found = {(f.subjects[1], f.severity.value) for f in run(site, ot_assets_use_ot_servers)}
    assert found == {("8.8.8.8", "high"), ("pool.ntp.org", "high"), ("logs.somewhere.internal", "medium")}


def test_ot_instance_needs_an_outward_sync_conduit(tmp_path: Path) -> None:
    [finding] = run(EXAMPLE, ot_instances_sync_outward)
    assert finding.subjects == ("ops-dns",)
    site = copy_example(tmp_path)
    edit(site / "conduits.yaml", "    services: [{protocol: udp, ports: [123]}]",
         "    services: [{protocol: udp, ports: [123]}, {protocol: udp, ports: [53]}]")
    edit(site / "conduits.yaml", "    sources: [ops-ntp]", "    sources: [ops-ntp, ops-dns]")
    assert run(site, ot_instances_sync_outward) == []
    edit(site / "conduits.yaml", "    sources: [ops-syslog]", "    sources: [ops-historian]")
    assert [f.subjects for f in run(site, ot_instances_sync_outward)] == [("ops-syslog",)]


def test_it_initiated_patch_push_into_ot(tmp_path: Path) -> None:
    assert run(EXAMPLE, patches_pulled_not_pushed) == []
    site = copy_example(tmp_path)
    edit(site / "conduits.yaml", "  - id: C-04-ot-patch-pull\n    from_zone: idmz\n    to_zone: ops\n"
         "    initiator: to_zone\n", "  - id: C-04-ot-patch-pull\n    from_zone: idmz\n    to_zone: ops\n")
    findings = run(site, patches_pulled_not_pushed)
    assert {(f.rule_id, f.subjects[0]) for f in findings} == {("PG-SERVICES-003", "C-04-ot-patch-pull"),
                                                             ("PG-SERVICES-004", "dmz-staging")}
    assert "WSUS" in next(f for f in findings if f.rule_id == "PG-SERVICES-003").message


def test_staging_outside_the_dmz(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", "    name: Patch staging (WSUS downstream + AV relay)\n    zone: idmz\n",
         "    name: Patch staging (WSUS downstream + AV relay)\n    zone: ops\n")
    edit(site / "assets.yaml", "addresses: [172.16.35.20]", "addresses: [10.30.0.90]")
    [finding] = run(site, patches_pulled_not_pushed)
    assert finding.rule_id == "PG-SERVICES-004" and "not in the DMZ" in finding.message


def test_sensor_fed_by_ot_initiated_conduits_only(tmp_path: Path) -> None:
    assert run(EXAMPLE, sensors_feed_outward_only) == []
    site = copy_example(tmp_path)
    edit(site / "conduits.yaml", "  - id: C-10-soc-feed\n    from_zone: idmz\n    to_zone: enterprise\n",
         "  - id: C-10-soc-feed\n    from_zone: idmz\n    to_zone: enterprise\n    initiator: to_zone\n")
    edit(site / "conduits.yaml", "    sources: [dmz-sensor]\n    destinations: [corp-siem]",
         "    sources: [corp-siem]\n    destinations: [dmz-sensor]")
    found = sorted((f.discriminator, f.severity.value) for f in run(site, sensors_feed_outward_only))
    assert found == [("C-10-soc-feed", "high"), ("no-feed", "medium")]
