"""Change impact and refusal on real configs: the example's three records and the pybatfish trio."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from plantgate.cli import main
from plantgate.decisions.change_impact import assess_change
from plantgate.load import load_site
from plantgate.netspace import default_space
from tests.sites import EXAMPLE, copy_example, edit, write_files

TRIO = Path(__file__).parent / "data" / "trio"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout + result.stderr


def impact_of(site_dir: Path, change_id: str):  # type: ignore[no-untyped-def]
    site = load_site(site_dir)
    record = next(c for c in site.treaty.changes if c.id == change_id)
    return assess_change(site, record, default_space())


def test_normal_change_approved_and_verified() -> None:
    impact = impact_of(EXAMPLE, "CR-2026-101")
    assert impact.accepted, impact.refusals
    [opened] = impact.opened
    assert (opened.from_zone, opened.to_zone) == ("ops", "idmz")
    assert opened.witness.dport == 123 and str(opened.witness.dst) == "172.16.35.50"
    assert opened.conduits == ["C-08-time-sync"]
    code, out = run("change", "verify", str(EXAMPLE / "changes" / "CR-2026-101.yaml"),
                    "--deployed", str(EXAMPLE / "firewalls" / "fw-dmz-ot.iptables"))
    assert code == 0 and "VERIFIED" in out


def test_each_witness_comes_with_the_line_deciding_it_on_both_sides() -> None:
    impact = impact_of(EXAMPLE, "CR-2026-101")
    [opened] = impact.opened
    [side] = opened.sides  # one config path between ops and idmz flips for the witness
    assert side.current is not None and side.candidate is not None
    assert not side.current.permitted and side.candidate.permitted
    candidate = (EXAMPLE / "firewalls" / "candidates" / "fw-dmz-ot.CR-2026-101.iptables").read_text().splitlines()
    assert side.candidate.span is not None and "--dport 123" in candidate[side.candidate.span.line - 1]
    assert side.current.verdict.rule is None and side.current.span is not None  # the chain's default policy line
    assert side.current.span.text.startswith(":FORWARD DROP")
    assert opened.hosts == ["ops-ntp"]  # the OT time server is the host that gains the reach
    closing = impact_of(EXAMPLE, "CR-2026-102")
    [closed] = closing.closed
    [side] = closed.sides
    assert side.current is not None and side.current.permitted and side.current.verdict.rule is not None
    assert side.candidate is not None and not side.candidate.permitted


def test_emergency_change_that_closes_is_accepted() -> None:
    impact = impact_of(EXAMPLE, "CR-2026-102")
    assert impact.accepted, impact.refusals
    assert impact.opened == [] and impact.emergency_opened is None
    [closed] = impact.closed
    assert (closed.from_zone, closed.to_zone) == ("idmz", "ops") and closed.witness.dport == 8530


def test_emergency_change_that_widens_is_refused_with_witness() -> None:
    code, out = run("change", "check", str(EXAMPLE / "changes" / "CR-2026-103.yaml"), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert not data["accepted"]
    assert any("emergency changes may only close paths" in r for r in data["refusals"])
    [opened] = data["opened"]
    assert opened["witness"]["dport"] == 8532 and opened["witness"]["dst"] == "172.16.35.20"
    live = (EXAMPLE / "firewalls" / "fw-dmz-ot.iptables").read_text(encoding="utf-8").splitlines()
    pull_line = next(i for i, line in enumerate(live, start=1) if "OT pulls patches" in line)
    assert opened["rules"][0]["line"] == pull_line


def test_refusals_for_missing_conduit_reason_approver_and_self_approval(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    path = site / "changes" / "CR-2026-102.yaml"
    edit(path, "conduits:\n  - {conduit: C-04-ot-patch-pull, action: alter}\n", "")
    edit(path, "business_reason: IT must never push past the DMZ; OT pulls from staging "
         "(SOC alert 2026-11-24).\n", "")
    edit(path, "ot_approver: d.chen\n", "")
    edit(path, "{person: j.lindqvist, role: platform_owner", "{person: m.okafor, role: platform_owner")
    refusals = impact_of(site, "CR-2026-102").refusals
    assert "the change names no conduit" in refusals
    assert "the change states no business reason" in refusals
    assert "the change names no OT approver" in refusals
    assert any(r.startswith("self-approval: m.okafor") for r in refusals)


def test_veto_refuses_and_edited_candidate_voids_approval(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    candidate = site / "firewalls" / "candidates" / "fw-dmz-ot.CR-2026-101.iptables"
    candidate.write_text(candidate.read_text(encoding="utf-8") + "# edited after approval\n", encoding="utf-8")
    impact = impact_of(site, "CR-2026-101")
    assert any("without a valid OT approval" in r for r in impact.refusals)
    assert any("another candidate" in n for n in impact.notes)
    path = site / "changes" / "CR-2026-102.yaml"
    veto = "  - {person: r.alvarez, role: ot_approver, decision: veto, date: 2026-11-25}\n"
    edit(path, "decisions:\n", "decisions:\n" + veto)
    assert any(r.startswith("vetoed by r.alvarez") for r in impact_of(site, "CR-2026-102").refusals)


TRIO_TREATY = {
    "site.yaml": """
        site: {name: Trio, plant: pybatfish example-filters, revision: r1}
        people:
          - {id: neteng, name: Network engineer, roles: [it_engineer]}
          - {id: owner, name: Platform owner, roles: [platform_owner]}
          - {id: ot, name: OT approver, roles: [ot_approver]}
        zones:
          - {id: lan, name: Office LAN, level: 4, kind: enterprise, networks: [10.10.10.0/24]}
          - {id: web, name: Web servers, level: 4, kind: enterprise, networks: [18.18.18.0/24, 218.8.104.0/24]}
        conduits:
          - id: C-dns
            from_zone: lan
            to_zone: web
            services: [{protocol: udp, ports: [53]}]
            destinations: [218.8.104.58/32]
            business_reason: name resolution
            change_record: CR-0
        firewalls:
          - {id: rtr, vendor: asa, config: configs/current.asa, zones: {inside: lan, outside: web}}
        """,
    "changes/CR-web.yaml": """
        id: CR-web
        title: Let the LAN reach the new web servers on 80 and 8080
        conduits: [{conduit: C-web, action: create}]
        register_edit:
          upsert:
            - id: C-web
              from_zone: lan
              to_zone: web
              services: [{protocol: tcp, ports: [80, 8080]}]
              destinations: [18.18.18.0/27]
              business_reason: new web servers
              change_record: CR-web
        business_reason: new web servers in 18.18.18.0/27
        requested_by: neteng
        ot_approver: ot
        firewall: rtr
        current_config: configs/current.asa
        candidate_config: configs/candidate.asa
        decisions:
          - {person: ot, role: ot_approver, decision: approve, date: 2026-11-20, candidate_sha256: SHA}
          - {person: owner, role: platform_owner, decision: sign_off, date: 2026-11-20, candidate_sha256: SHA}
        state: approved
        """,
}


def trio_site(tmp_path: Path, candidate: str) -> Path:
    folder = write_files(tmp_path / candidate, TRIO_TREATY)
    (folder / "configs").mkdir()
    shutil.copy(TRIO / "current.asa", folder / "configs" / "current.asa")
    shutil.copy(TRIO / f"{candidate}.asa", folder / "configs" / "candidate.asa")
    sha = hashlib.sha256((folder / "configs" / "candidate.asa").read_bytes()).hexdigest()
    record = folder / "changes" / "CR-web.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("SHA", sha), encoding="utf-8")
    return folder


def test_pybatfish_trio_candidate1_refused_with_witness_in_the_widened_range(tmp_path: Path) -> None:
    impact = impact_of(trio_site(tmp_path, "candidate1"), "CR-web")
    [refusal] = impact.refusals
    assert "no conduit (existing or proposed) covers" in refusal
    [beyond] = impact.outside_register
    witness = beyond.witness
    assert 32 <= int(str(witness.dst).split(".")[-1]) <= 63 and str(witness.dst).startswith("18.18.18.")
    assert witness.dport in (80, 8080)


def test_pybatfish_trio_candidate2_accepted(tmp_path: Path) -> None:
    impact = impact_of(trio_site(tmp_path, "candidate2"), "CR-web")
    assert impact.accepted, impact.refusals
    assert impact.outside_register == []
    assert impact.conduits_affected == ["C-web"]


def test_prove_closing_exit_codes(tmp_path: Path) -> None:
    code, out = run("change", "prove-closing", str(TRIO / "candidate2.asa"), str(TRIO / "current.asa"))
    assert code == 0 and "PROVED" in out and "closes inside -> outside" in out
    code, out = run("change", "prove-closing", str(TRIO / "current.asa"), str(TRIO / "candidate1.asa"),
                    "--format", "json")
    assert code == 1
    [opened] = json.loads(out)["opened"]
    assert opened["witness"]["dst"].startswith("18.18.18.") and opened["rules"][0]["line"] == 18
    code, out = run("change", "prove-closing", str(TRIO / "current.asa"), str(tmp_path / "missing.asa"))
    assert code == 2 and "firewall config not found" in out


def test_prove_closing_across_vendors(tmp_path: Path) -> None:
    live = EXAMPLE / "firewalls" / "fw-dmz-ot.iptables"
    code, _ = run("change", "prove-closing", str(live), str(live))
    assert code == 0


def test_verify_reports_a_deployed_config_that_differs(tmp_path: Path) -> None:
    deployed = tmp_path / "deployed.iptables"
    text = (EXAMPLE / "firewalls" / "fw-dmz-ot.iptables").read_text(encoding="utf-8")
    deployed.write_text(text.replace("--dport 3389", "--dport 3380:3390"), encoding="utf-8")
    code, out = run("change", "verify", str(EXAMPLE / "changes" / "CR-2026-101.yaml"), "--deployed", str(deployed),
                    "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert not data["matches_approved"] and data["extra"][0]["witness"]["dport"] == 3380


# ----- filter-keyed vendors: an ACL-only ASA and an iptables chain without interfaces -----

CHANGE = """
    id: CR-close
    title: Retire the replica reporting path
    conduits: [{conduit: C-1-replica, action: remove}]
    business_reason: The replica moves
    requested_by: eli
    ot_approver: ana
    firewall: fw-boundary
    current_config: configs/{current}
    candidate_config: configs/candidate
    emergency: true
    state: submitted
    """


def _closing_site(tmp_path: Path, variant_name: str, entry: str | None = None) -> Path:
    from dataclasses import replace

    from tests.reconcile.five_vendor import VARIANTS, write_site

    variant = VARIANTS[variant_name]
    if entry is not None:
        variant = replace(variant, entry=entry)
    folder = write_site(tmp_path / variant_name, variant)
    current = (folder / "configs" / variant.file).read_text(encoding="utf-8")
    replica_rule = ("172.20.35.10", ("443", "https"))  # the rule implementing C-1-replica, in either syntax
    kept = [line for line in current.splitlines()
            if not (replica_rule[0] in line and any(port in line for port in replica_rule[1]))]
    assert len(kept) == len(current.splitlines()) - 1, "exactly the replica rule is removed"
    (folder / "configs" / "candidate").write_text("\n".join(kept) + "\n", encoding="utf-8")
    write_files(folder, {"changes/CR-close.yaml": CHANGE.replace("{current}", variant.file)})
    return folder


def test_closing_change_on_acl_only_asa_names_who_loses_access(tmp_path: Path) -> None:
    impact = impact_of(_closing_site(tmp_path, "asa-one-acl"), "CR-close")
    assert impact.accepted, impact.refusals
    [closed] = impact.closed
    assert (closed.from_zone, closed.to_zone) == ("ent", "dmz") and closed.witness.dport == 443
    assert impact.losing_access == ["C-1-replica"]


def test_closing_change_on_interface_less_iptables_names_who_loses_access(tmp_path: Path) -> None:
    folder = _closing_site(tmp_path, "iptables-no-interfaces")
    code, out = run("change", "check", str(folder / "changes" / "CR-close.yaml"))
    assert code == 0, out
    assert "closes ent -> dmz" in out and "losing access: C-1-replica" in out


def test_closing_change_on_a_firewall_the_treaty_does_not_place(tmp_path: Path) -> None:
    """No zone pair at all: the whole-config diff still shows the closed flows and who loses access."""
    folder = _closing_site(tmp_path, "asa-one-acl", entry="zones: {}")
    impact = impact_of(folder, "CR-close")
    assert impact.closed == [] and impact.opened == []
    [closed] = impact.config_closed
    assert closed.witness.dport == 443 and str(closed.key) == "filter FW_ACL"
    [side] = closed.sides  # the ACL's permit line before, its closing deny line after
    assert side.current is not None and side.current.permitted and side.current.verdict.rule is not None
    assert side.candidate is not None and not side.candidate.permitted and side.candidate.verdict.rule is not None
    assert side.candidate.verdict.rule.comment == "default-deny" and side.candidate.span is not None
    assert "443" not in side.candidate.span.text
    assert impact.losing_access == ["C-1-replica"]
    code, out = run("change", "check", str(folder / "changes" / "CR-close.yaml"))
    assert "closes on filter FW_ACL" in out and "losing access: C-1-replica" in out


def test_emergency_change_that_adds_a_port_forward_is_refused(tmp_path: Path) -> None:
    """CR-2026-102 closes a path; its candidate here also gains a DNAT to an OT host.

    By hand: the filters still only close, but the port forward publishes 172.16.35.20:8530 under
    203.0.113.10, which no filter comparison shows: the emergency proof must refuse, naming the line.
    """
    site = copy_example(tmp_path)
    candidate = site / "firewalls" / "candidates" / "fw-dmz-ot.CR-2026-102.iptables"
    nat = ("*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
           "-A PREROUTING -d 203.0.113.10/32 -p tcp --dport 8530 -j DNAT --to-destination 172.16.35.20\n"
           "COMMIT\n")
    candidate.write_text(nat + candidate.read_text(encoding="utf-8"), encoding="utf-8")
    impact = impact_of(site, "CR-2026-102")
    assert impact.opened == []
    assert any(r.startswith("emergency changes may only close paths, but the candidate translates packets anew")
               and "(line 4)" in r for r in impact.refusals), impact.refusals
