"""Endpoint checks: vendor-qualified agents, alert-and-log on HMIs, no auto-remediation, DMZ console."""

from __future__ import annotations

from pathlib import Path

from plantgate.checks.endpoints import (
    agents_qualified,
    console_in_dmz,
    consoles_alert_and_log,
    no_enterprise_remediation,
)
from tests.sites import EXAMPLE, copy_example, edit
from tests.sites import run_check as run


def test_example_agents_are_qualified_and_unqualified_ones_are_found(tmp_path: Path) -> None:
    assert run(EXAMPLE, agents_qualified) == []
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", 'version: "10.7", mode: alert-and-log,\n         managed_from: dmz-av-console}\n'
         "    time_servers: [ops-ntp]\n    dns_servers: [ops-dns]\n    syslog_servers: [ops-syslog]\n"
         "    backups: [{item: system_image",
         'version: "10.5", mode: alert-and-log,\n         managed_from: dmz-av-console}\n'
         "    time_servers: [ops-ntp]\n    dns_servers: [ops-dns]\n    syslog_servers: [ops-syslog]\n"
         "    backups: [{item: system_image")
    [finding] = run(site, agents_qualified)
    assert finding.subjects == ("ops-ews", "Endpoint protection")
    assert "not on the qualified list for Honeywell Experion PKS R510.2" in finding.message


def test_no_qualified_list_means_not_shown_qualified(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    (site / "endpoints.yaml").unlink()
    found = run(site, agents_qualified)
    assert {f.subjects[0] for f in found} == {"ops-ews", "sup-hmi1", "sup-hmi2", "sup-hmi3"}
    assert all("no vendor-qualified list" in f.message for f in found)


def test_hmi_in_auto_quarantine_is_found(tmp_path: Path) -> None:
    [finding] = run(EXAMPLE, consoles_alert_and_log)
    assert finding.subjects == ("sup-hmi3", "Endpoint protection") and "auto-quarantine" in finding.message
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", "mode: auto-quarantine", "mode: alert-and-log")
    assert run(site, consoles_alert_and_log) == []
    edit(site / "assets.yaml", "mode: alert-and-log", "mode: block")
    assert [f.subjects[0] for f in run(site, consoles_alert_and_log)] == ["ops-ews"]


def test_enterprise_auto_remediation(tmp_path: Path) -> None:
    assert run(EXAMPLE, no_enterprise_remediation) == []
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", "mode: auto-quarantine,\n         managed_from: dmz-av-console}\n",
         "mode: auto-quarantine,\n         managed_from: dmz-av-console}\n"
         "      - {name: Software Center, vendor: Microsoft, product: Configuration Manager, version: '2403'}\n")
    [finding] = run(site, no_enterprise_remediation)
    assert finding.subjects == ("sup-hmi3", "Software Center") and "configuration manager" in finding.message


def test_console_must_sit_in_the_dmz(tmp_path: Path) -> None:
    assert run(EXAMPLE, console_in_dmz) == []
    site = copy_example(tmp_path)
    edit(site / "assets.yaml", "    name: Endpoint protection console\n    zone: idmz",
         "    name: Endpoint protection console\n    zone: enterprise")
    edit(site / "assets.yaml", "addresses: [172.16.35.25]", "addresses: [10.10.3.25]")
    [finding] = run(site, console_in_dmz)
    assert finding.subjects == ("dmz-av-console",) and finding.severity.value == "critical"
