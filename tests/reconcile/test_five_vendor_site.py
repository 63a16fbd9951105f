"""One boundary firewall, one policy, every vendor (rendered by Aerleon): baselines clean, drift found.

The done-when of issue 16 as tests: for each rendering, the treaty a new user writes from
the README (``five_vendor.VARIANTS``). No baseline may produce a reconciliation finding;
the zoned vendors' clean baselines exit 0 under the default --fail-on; in every drifted
variant the enterprise-to-L3 (tcp/1433) and enterprise-to-L2 (tcp/4840) defects are found
with their witnesses, or the firewall is named as not reconciled; a config declared as
the wrong vendor is refused with exit 2 at firewalls.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("aerleon", reason="aerleon is not installed (pip install -e '.[test]'); it renders the configs")

from plantgate.cli import main  # noqa: E402
from tests.reconcile.five_vendor import VARIANTS, Variant, write_site  # noqa: E402

RECONCILIATION = ("PG-FW-001", "PG-FW-002", "PG-FW-003", "PG-FW-004", "PG-FW-007", "PG-FW-008", "PG-PURDUE-002",
                  "PG-PURDUE-003", "PG-PURDUE-004")
"""Findings that say the firewall and the register disagree, or that the firewall was not reconciled."""
ZONED = [name for name, v in VARIANTS.items() if v.zoned and v.vendor in ("fortigate", "srx", "panos", "asa")]


def check_json(folder: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, ["check", str(folder), "--format", "json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_baseline_has_no_reconciliation_finding_and_is_modelled_fully(tmp_path: Path, name: str) -> None:
    _, report = check_json(write_site(tmp_path, VARIANTS[name]))
    wrong = [(f["rule_id"], f["message"]) for f in report["findings"] if f["rule_id"] in RECONCILIATION]
    assert wrong == []
    [coverage] = report["coverage"]
    assert coverage["modelled"] == "fully", coverage["not_modelled"]
    assert report["all_modelled"] is True
    assert len(coverage["placed"]) == 12, "every ordered pair of the four zones"


@pytest.mark.parametrize("name", ZONED)
def test_zoned_clean_baseline_exits_0(tmp_path: Path, name: str) -> None:
    code, report = check_json(write_site(tmp_path, VARIANTS[name]))
    assert code == 0, [(f["rule_id"], f["message"]) for f in report["findings"] if f["severity"] != "info"]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_drift_is_found_with_its_witnesses(tmp_path: Path, name: str) -> None:
    code, report = check_json(write_site(tmp_path, VARIANTS[name], drifted=True))
    assert code == 1
    purdue = {tuple(f["subjects"]): f for f in report["findings"] if f["rule_id"] == "PG-PURDUE-002"}
    into_l3, into_l2 = purdue[("fw-boundary", "ent", "l3")], purdue[("fw-boundary", "ent", "l2")]
    assert into_l3["severity"] == into_l2["severity"] == "critical"
    assert into_l3["witness"]["dport"] == 1433 and into_l3["witness"]["dst"].startswith("10.30.0.")
    assert into_l2["witness"]["dport"] == 4840 and into_l2["witness"]["dst"] == "10.20.0.10"
    assert any(e.startswith("configs/") for e in into_l3["evidence"]), "the rule line, relative to the treaty"
    unregistered = {tuple(f["subjects"]) for f in report["findings"] if f["rule_id"] == "PG-FW-001"}
    assert {("fw-boundary", "ent", "l3"), ("fw-boundary", "ent", "l2")} <= unregistered


@pytest.mark.parametrize("name", ["asa-one-acl", "iptables-no-interfaces"])
def test_reach_and_access_map_see_the_drift(tmp_path: Path, name: str) -> None:
    """The two fragments the issue started from: 'reach --from ent --to l3' was 0 paths."""
    folder = write_site(tmp_path, VARIANTS[name], drifted=True)
    reach = CliRunner().invoke(main, ["reach", str(folder), "--from", "ent", "--to", "l3", "--format", "json"])
    data = json.loads(reach.stdout)
    assert [p["witness"]["dport"] for p in data["paths"]] == [1433] and data["proved"] is True
    access = CliRunner().invoke(main, ["access-map", str(folder), "--zone", "l2"])
    assert "from ent via ent -[fw-boundary]-> l2" in access.stdout
    assert "NOT IN THE REGISTER" in access.stdout


@pytest.mark.parametrize("name", ["asa-one-acl", "iptables-no-interfaces"])
def test_an_entry_that_places_nothing_is_named_as_not_reconciled(tmp_path: Path, name: str) -> None:
    """The old silent case: the fragment with a zone map that binds nothing. Never an all-clear."""
    variant = Variant(name, VARIANTS[name].vendor, VARIANTS[name].file, "zones: {}", False)
    folder = write_site(tmp_path, variant, drifted=True)
    code, report = check_json(folder)
    assert code == 1 and report["all_modelled"] is False
    [fw7] = [f for f in report["findings"] if f["rule_id"] == "PG-FW-007"]
    assert fw7["severity"] == "high" and "fw-boundary could not be reconciled" in fw7["message"]
    assert report["coverage"][0]["modelled"] == "not at all"
    reach = CliRunner().invoke(main, ["reach", str(folder), "--from", "ent", "--to", "l3"])
    assert "NOT PROVED" in reach.stdout and "fw-boundary was modelled not at all" in " ".join(reach.stdout.split())
    access = CliRunner().invoke(main, ["access-map", str(folder), "--zone", "l2"])
    assert "reached end to end from no other zone" not in access.stdout and "NOT PROVED" in access.stdout


@pytest.mark.parametrize(("name", "declared"), [("srx", "asa"), ("fortigate", "panos"), ("asa-one-acl", "iptables"),
                                                ("iptables-no-interfaces", "nftables"), ("panos", "srx")])
def test_config_declared_as_the_wrong_vendor_is_refused_at_firewalls_yaml(tmp_path: Path, name: str,
                                                                          declared: str) -> None:
    folder = write_site(tmp_path, VARIANTS[name], drifted=True, vendor=declared)
    for command in (["check", str(folder)], ["validate", str(folder)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, (command, result.output)
        text = " ".join(result.stderr.split())
        assert f"{folder / 'firewalls.yaml'}:2:".replace(" ", "") in text.replace(" ", "")
        assert "(at firewalls.0.vendor)" in text and f"looks like {VARIANTS[name].vendor}" in text


def test_zone_map_key_that_matches_nothing_is_an_input_error(tmp_path: Path) -> None:
    variant = Variant("typo", "fortigate", "fw.fortigate.conf", "zones: {ent: ent, dmz: dmz, l3: l3, L2: l2}", True)
    folder = write_site(tmp_path, variant)
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 2
    text = " ".join(result.stderr.split())
    assert f"{folder / 'firewalls.yaml'}:2:".replace(" ", "") in text.replace(" ", "")
    assert "'L2' matches no interface, zone or ACL" in text
    assert "did you mean 'l2'?" in text and "interfaces/zones" in text


def test_report_of_the_fragment_says_what_was_modelled(tmp_path: Path) -> None:
    from plantgate.checks import CheckContext, run_checks
    from plantgate.load import load_site
    from plantgate.outputs.report.html import report_html

    variant = Variant("x", "asa", "fw-acls.asa", "zones: {ENT_IN: ent}, joins: [dmz, l3, l2]", False)
    folder = write_site(tmp_path, variant)
    site = load_site(folder)
    context = CheckContext(site)
    html = report_html(context, run_checks(site, context=context), with_diagram=False)
    assert "Every flow the firewalls permit between treaty zones is registered" not in html
    assert "No unregistered flow was found on the firewalls that were modelled, but this is not proved" in html
    assert "fw-boundary was modelled in part" in html
    assert str(folder.resolve()) not in html and str(folder) not in html, "paths relative to the treaty folder"
