"""``plantgate fw test`` and ``fw show`` on a config with NAT: the packet before and after each translation."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from plantgate.cli import main

CONFIG = Path(__file__).parent / "data" / "iptables" / "nat_plant.rules"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout


def test_port_forward_json_names_the_dnat_rule_and_both_packets() -> None:
    """192.0.2.7 -> 203.0.113.10:8502, eth0 -> eth2: DNAT by PORTFWD line 13 to 10.20.0.5:502, then FORWARD#2
    (line 24) permits; no after-filter rule matches. PERMIT."""
    code, out = run("fw", "test", str(CONFIG), "--src", "192.0.2.7", "--dst", "203.0.113.10", "--dport", "8502",
                    "--from-zone", "eth0", "--to-zone", "eth2", "--format", "json")
    assert code == 0
    got = json.loads(out)
    assert got["verdict"] == "permit" and got["rule"]["id"] == "FORWARD#2" and got["rule"]["line"] == 24
    before, after = got["nat"]
    assert before["stage"] == "before-filter" and before["rule"]["id"] == "nat/PORTFWD#2"
    assert before["rule"]["line"] == 13 and before["rule"]["file"] == str(CONFIG)
    assert (before["before"]["dst"], before["before"]["dport"]) == ("203.0.113.10", 8502)
    assert (before["after"]["dst"], before["after"]["dport"]) == ("10.20.0.5", 502) and before["exact"]
    assert after["stage"] == "after-filter" and after["rule"] is None


def test_hide_nat_text_shows_the_snat_rewrite() -> None:
    """10.20.0.7 -> 192.168.50.20:80, eth2 -> eth1: FORWARD#5 permits; POSTROUTING#2 (line 16) SNATs to
    192.168.50.1. PERMIT, and the text names the rule and its line."""
    code, out = run("fw", "test", str(CONFIG), "--src", "10.20.0.7", "--dst", "192.168.50.20", "--dport", "80",
                    "--from-zone", "eth2", "--to-zone", "eth1")
    assert code == 0
    flat = " ".join(out.split())
    assert "PERMIT" in flat and "FORWARD#5" in flat
    assert "=> 192.168.50.1:0 -> 192.168.50.20:80 proto 6 by NAT rule nat/POSTROUTING#2 (snat," in flat
    assert "nat_plant.rules:16" in flat


def test_packets_file_applies_nat_per_row(tmp_path: Path) -> None:
    """Row 1 is the port forward (PERMIT by FORWARD#2); row 2 comes from the partner network, which the
    RETURN exempts, so nothing permits it (DENY by the FORWARD policy)."""
    packets = tmp_path / "p.csv"
    packets.write_text("src,dst,proto,sport,dport,from_zone,to_zone\n"
                       "192.0.2.7,203.0.113.10,tcp,40000,8502,eth0,eth2\n"
                       "198.51.100.9,203.0.113.10,tcp,40000,8502,eth0,eth2\n", encoding="utf-8")
    code, out = run("fw", "test", str(CONFIG), "--packets", str(packets), "--format", "json")
    assert code == 0
    first, second = json.loads(out)
    assert first["verdict"] == "permit" and first["nat"][0]["after"]["dst"] == "10.20.0.5"
    assert second["verdict"] == "deny" and second["nat"][0]["rule"] is None


def test_show_lists_the_nat_rules() -> None:
    """fw show prints the NAT rules with what they rewrite: the port forward of line 13 to 10.20.0.5 port 502."""
    code, out = run("fw", "show", str(CONFIG))
    assert code == 0 and "NAT rules (first match per stage)" in " ".join(out.split())  # cells fold at 80 columns
    code, out = run("fw", "show", str(CONFIG), "--format", "json")
    forward = next(r for r in json.loads(out)["nat_rules"] if r["id"] == "nat/PORTFWD#2")
    assert forward["line"] == 13 and forward["text"].endswith("--to-destination 10.20.0.5:502")
    assert forward["destination"] == {"addresses": {"pool": {"include": ["10.20.0.5/32"]}}, "ports": {"to": [502, 502]}}
