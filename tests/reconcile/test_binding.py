"""Binding a firewall entry to its config: what is placed on which treaty zone pair, and what is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantgate.checks.firewall import firewall_coverage
from plantgate.checks.hygiene import rule_hygiene
from plantgate.errors import InputError
from plantgate.load import load_site
from plantgate.netspace import PacketSpace
from plantgate.reconcile import load_boundary_firewalls
from plantgate.reconcile.coverage import CoverageLevel, GapKind
from tests.sites import MINIMAL, run_check, write_files

# corp 10.0.0.0/16, dmz 172.16.0.0/24, ops 10.30.0.0/24 (tests.sites.MINIMAL)
ACL_FRAGMENT = """
    access-list CORP_IN extended permit tcp 10.0.0.0 255.255.0.0 host 172.16.0.10 eq 443
    access-list CORP_IN extended deny ip any any
    access-list OPS_IN extended permit tcp host 10.30.0.10 host 172.16.0.10 eq 5450
    access-list OPS_IN extended deny ip any any
    """
ASA_WITH_INTERFACES = """
    interface GigabitEthernet0/0
     nameif corp
     security-level 0
    interface GigabitEthernet0/1
     nameif dmz
     security-level 50
    access-list CORP_IN extended permit tcp any host 172.16.0.10 eq 443
    access-list LOOSE extended permit ip any any
    access-group CORP_IN in interface corp
    """
FLAT_IPTABLES = """
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -s 10.0.0.0/16 -d 172.16.0.10/32 -p tcp --dport 443 -j ACCEPT
    -A FORWARD -i eth+ -s 10.30.0.10/32 -d 172.16.0.10/32 -p tcp --dport 5450 -j ACCEPT
    COMMIT
    """


def _site(tmp_path: Path, vendor: str, config: str, entry: str, extra: dict[str, str] | None = None) -> Path:
    files = dict(MINIMAL)
    files["firewalls.yaml"] = f"firewalls:\n  - {{id: fw1, vendor: {vendor}, config: fw.cfg, {entry}}}\n"
    files["fw.cfg"] = config
    files.update(extra or {})
    return write_files(tmp_path, files)


def _firewall(folder: Path):  # type: ignore[no-untyped-def]
    [fw] = load_boundary_firewalls(load_site(folder), PacketSpace())
    return fw


def test_acl_named_in_the_zone_map_is_the_ingress_filter_of_its_zone(tmp_path: Path) -> None:
    fw = _firewall(_site(tmp_path, "asa", ACL_FRAGMENT, "zones: {CORP_IN: corp, OPS_IN: ops}, joins: [dmz]"))
    assert set(fw.treaty_pairs()) == {("corp", "dmz"), ("corp", "ops"), ("ops", "dmz"), ("ops", "corp")}
    assert fw.config_pairs("corp", "dmz") == [("CORP_IN", "treaty:dmz")]
    web = fw.permitted("corp", "dmz")
    assert web.witness() is not None and web.witness().dport == 443  # type: ignore[union-attr]
    assert fw.permitted("ops", "corp").is_empty()
    coverage = fw.coverage
    assert coverage.level is CoverageLevel.PARTIAL
    assert {g.subject for g in coverage.gaps() if g.kind is GapKind.UNPLACED_PAIR} == {"dmz -> corp", "dmz -> ops"}, \
        "no ACL of the fragment is known to guard sessions from the DMZ: not modelled, never 'denied'"
    assert fw.parsed.paths == {}, "the parsed fragment itself is left as written"


def test_fragment_acls_the_zone_map_does_not_name_are_not_modelled(tmp_path: Path) -> None:
    fw = _firewall(_site(tmp_path, "asa", ACL_FRAGMENT, "zones: {CORP_IN: corp}, joins: [dmz, ops]"))
    [unplaced] = [g for g in fw.coverage.gaps() if g.kind is GapKind.UNPLACED_FILTER]
    assert unplaced.subject == "OPS_IN" and unplaced.location is not None and unplaced.location.line == 3
    findings = run_check(tmp_path, firewall_coverage)
    assert {(f.rule_id, f.discriminator) for f in findings} >= {("PG-FW-008", GapKind.UNPLACED_FILTER.value)}


def test_single_fragment_joined_by_network_judges_every_pair(tmp_path: Path) -> None:
    fw = _firewall(_site(tmp_path, "asa", ACL_FRAGMENT, "joins: [corp, dmz, ops]"))
    assert len(fw.treaty_pairs()) == 6
    assert fw.coverage.level is CoverageLevel.FULL
    [note] = [n for n in fw.coverage.notes() if n.kind is GapKind.BY_NETWORKS and "every ACL" in n.detail]
    assert "CORP_IN, OPS_IN" in note.detail, "several ACLs unplaced: each pair judged by all, which only widens"
    assert fw.permitted("ops", "dmz").witness().dport == 5450  # type: ignore[union-attr]


def test_acl_key_on_a_config_with_interfaces_is_an_input_error(tmp_path: Path) -> None:
    folder = _site(tmp_path, "asa", ASA_WITH_INTERFACES, "zones: {corp: corp, dmz: dmz, LOOSE: ops}")
    with pytest.raises(InputError) as raised:
        _firewall(folder)
    [problem] = raised.value.problems
    assert problem.location.file.endswith("firewalls.yaml") and problem.location.line == 2
    assert "'LOOSE' is an ACL/filter of fw.cfg, not an interface or zone" in problem.message
    assert "no interface binds it, so it filters nothing on this device" in problem.message
    assert "corp, dmz" in problem.expected


def test_unbound_acl_on_a_config_with_interfaces_is_reported_by_lint(tmp_path: Path) -> None:
    folder = _site(tmp_path, "asa", ASA_WITH_INTERFACES, "zones: {corp: corp, dmz: dmz}")
    fw = _firewall(folder)
    assert fw.coverage.level is CoverageLevel.FULL, "the device is modelled: security levels decide"
    assert [n.subject for n in fw.coverage.notes() if n.kind is GapKind.UNBOUND_FILTER] == ["LOOSE"]
    [unbound] = [f for f in run_check(folder, rule_hygiene) if f.rule_id == "PG-LINT-009"]
    assert "LOOSE is applied on no path" in unbound.message and unbound.evidence[0].line == 8
    assert not fw.permitted("dmz", "corp").is_empty(), "dmz (50) -> corp (0): permitted by security level"


def test_key_that_matches_nothing_lists_what_the_config_has(tmp_path: Path) -> None:
    folder = _site(tmp_path, "asa", ASA_WITH_INTERFACES, "zones: {corp: corp, Dmz: dmz, outside: ops}")
    with pytest.raises(InputError) as raised:
        _firewall(folder)
    problems = {p.message: p for p in raised.value.problems}
    assert "'Dmz' matches no interface, zone or ACL of fw.cfg (did you mean 'dmz'?)" in problems
    assert "'outside' matches no interface, zone or ACL of fw.cfg" in problems
    assert all(p.expected == "a name the config has: interfaces/zones corp, dmz" for p in problems.values())


def test_linux_interfaces_the_rules_never_name(tmp_path: Path) -> None:
    """eth0 is governed by the rules without -i (zone '*'), eth7 by the wildcard eth+."""
    folder = _site(tmp_path, "iptables", FLAT_IPTABLES, "zones: {em1: corp, eth7: ops, em2: dmz}")
    fw = _firewall(folder)
    assert fw.config_zones_of == {"corp": ["*"], "ops": ["eth+"], "dmz": ["*"]}
    assert fw.permitted("corp", "dmz").witness().dport == 443  # type: ignore[union-attr]
    assert fw.permitted("ops", "dmz").witness().dport == 5450  # type: ignore[union-attr]
    assert fw.coverage.level is CoverageLevel.FULL
    assert {n.subject for n in fw.coverage.notes() if n.kind is GapKind.UNNAMED_INTERFACE} == {"em1", "eth7", "em2"}


def test_linux_chain_without_interfaces_joined_by_network(tmp_path: Path) -> None:
    fw = _firewall(_site(tmp_path, "iptables", FLAT_IPTABLES, "joins: [corp, dmz, ops]"))
    assert fw.config_pairs("corp", "dmz") == [(x, y) for x in ("eth+", "*") for y in ("eth+", "*")
                                             if (x, y) in fw.ruleset.paths]
    assert fw.permitted("corp", "dmz").witness().dport == 443  # type: ignore[union-attr]
    assert fw.permitted("corp", "ops").is_empty()


def test_joined_zone_without_networks_is_a_note(tmp_path: Path) -> None:
    zones = {"zones.yaml": MINIMAL["zones.yaml"].replace("networks: [10.30.0.0/24]", "networks: []")}
    fw = _firewall(_site(tmp_path, "iptables", FLAT_IPTABLES, "joins: [corp, dmz, ops]", zones))
    assert [n.subject for n in fw.coverage.notes() if n.kind is GapKind.ZONE_WITHOUT_NETWORKS] == ["ops"]


def test_entry_that_places_nothing_and_nat_make_coverage(tmp_path: Path) -> None:
    fw = _firewall(_site(tmp_path, "asa", ACL_FRAGMENT, "zones: {CORP_IN: corp}"))
    assert fw.coverage.level is CoverageLevel.NONE and fw.treaty_pairs() == []
    # ASA 8.3+ NAT is modelled (firewalls/asa/nat.py); pre-8.3 ``static`` is still a NAT statement left out
    nat = ASA_WITH_INTERFACES.rstrip() + "\n    static (dmz,corp) 172.16.0.5 10.30.0.5 netmask 255.255.255.255\n"
    fw = _firewall(_site(tmp_path / "nat", "asa", nat, "zones: {corp: corp, dmz: dmz}"))
    [item] = [g for g in fw.coverage.gaps() if g.kind is GapKind.NAT]
    assert item.location is not None and item.location.line == 10
    assert fw.coverage.level is CoverageLevel.PARTIAL
    [finding] = [f for f in run_check(tmp_path / "nat", firewall_coverage) if f.rule_id == "PG-FW-008"]
    assert finding.severity.value == "low" and "NAT" in finding.message


def test_conduit_on_a_zone_pair_the_firewall_does_not_place_is_high(tmp_path: Path) -> None:
    from plantgate.checks.firewall import conduit_implementation

    conduits = {"conduits.yaml": MINIMAL["conduits.yaml"].replace("ot_approver: ot", "ot_approver: ot\n"
                                                                   "            enforced_by: [fw1]")}
    folder = _site(tmp_path, "asa", ACL_FRAGMENT, "zones: {CORP_IN: corp}, joins: [dmz, ops]", conduits)
    [finding] = [f for f in run_check(folder, conduit_implementation) if f.rule_id == "PG-FW-004"]
    assert finding.severity.value == "high"
    assert finding.message.startswith("fw1 could not be reconciled for conduit c1 (ops -> dmz): no interface, zone "
                                      "or ACL of its config is known to take sessions from ops")


@pytest.mark.parametrize(("key", "message"), [
    ("FORWARD", "'FORWARD' is a chain of fw.cfg, not an interface"),
    ("ETH+", "'ETH+' matches no interface, zone or ACL of fw.cfg (did you mean 'eth+'?)"),
])
def test_linux_keys_that_are_chains_or_case_typos_are_errors(tmp_path: Path, key: str, message: str) -> None:
    folder = _site(tmp_path, "iptables", FLAT_IPTABLES, f"zones: {{'{key}': corp, eth1: dmz}}")
    with pytest.raises(InputError) as raised:
        _firewall(folder)
    assert [p.message for p in raised.value.problems] == [message]
