"""Hostile and unusual firewall input: each failure the issue-17 mutation run found, reproduced.

Each input once crashed a parser, grew its memory with the square of the file, or widened a
rule without saying so (no PG-FW-006 finding). Now each parses (widened and reported) or is
an InputError at a line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.base import parser_for
from plantgate.firewalls.limits import MAX_NESTING
from plantgate.firewalls.ruleset import Ruleset

DATA = Path(__file__).parent / "data"
NFT_HEAD = "table inet t {\n chain forward {\n  type filter hook forward priority 0; policy drop;\n"
NFT_TAIL = " }\n}\n"


def parse(vendor: str, text: str) -> Ruleset:
    return parser_for(vendor).parse(text, "hostile.cfg")


def widened_warnings(ruleset: Ruleset, words: str) -> list[int]:
    return [w.line for w in ruleset.warnings if w.widened and words in w.message]


def test_srx_statement_of_1200_words_does_not_recurse() -> None:
    words = " ".join(f"w{i}" for i in range(1200))
    text = (DATA / "srx" / "plant.conf").read_text().replace(
        "security {", "security { policies { from-zone it to-zone dmz { policy long { match { source-address "
        + words + "; destination-address any; application any; } then { permit; } } } }", 1)
    ruleset = parse("srx", text)
    assert any(rule.rule_id.endswith("/long") for _, rule in ruleset.all_rules())


def test_srx_address_set_chain_deeper_than_the_limit_is_widened_and_reported() -> None:
    sets = "".join(f"address-set S{i} {{ address-set S{i + 1}; }}\n" for i in range(3000))
    text = (DATA / "srx" / "plant.conf").read_text()
    text = text.replace("global {", "global {" + sets + "address-set S3000 { address HIST; }", 1)
    text = text.replace("source-address HIST", "source-address S0")
    ruleset = parse("srx", text)
    assert widened_warnings(ruleset, f"nested more than {MAX_NESTING} levels")


@pytest.mark.parametrize("vendor", ["iptables", "nftables"])
def test_linux_chain_jumps_deeper_than_the_limit_are_an_input_error_at_the_line(vendor: str) -> None:
    n = 3000
    if vendor == "iptables":
        text = "*filter\n" + "".join(f":C{i} - [0:0]\n" for i in range(n + 1)) + "-A FORWARD -j C0\n" \
            + "".join(f"-A C{i} -j C{i + 1}\n" for i in range(n)) + "COMMIT\n"
    else:
        text = "table inet ch {\n" + "".join(f"chain c{i} {{ jump c{i + 1}\n}}\n" for i in range(n)) \
            + f"chain c{n} {{ accept\n}}\nchain forward {{ type filter hook forward priority 0; jump c0\n}}\n}}\n"
    with pytest.raises(InputError, match="levels deep") as caught:
        parse(vendor, text)
    assert caught.value.problems[0].location.line > 1


def test_nftables_blocks_nested_past_the_limit_are_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        parse("nftables", "table inet t {\n" + "".join(f"table inet t{i} {{ chain c{i} {{ " for i in range(3000))
              + "} } " * 3000 + "\n}\n")
    assert caught.value.problems[0].location.line >= 1


@pytest.mark.parametrize("port", ["9" * 4301, "9" * 25, "²"])
def test_asa_port_that_is_no_number_widens_the_rule_and_warns(port: str) -> None:
    text = (DATA / "asa" / "plant_edge.cfg").read_text() + f"\naccess-list X extended permit tcp any any eq {port}\n"
    ruleset = parse("asa", text)
    rule = ruleset.filters["X"].rules[0]
    assert rule.widened and rule.action.permits
    assert widened_warnings(ruleset, "X#1")
    assert all(len(w.message) < 500 for w in ruleset.warnings)  # a 4,301-digit port is not quoted whole


def test_statements_sharing_one_long_line_share_its_text() -> None:
    """Each statement used to copy the whole line: a 127 KB one-line config needed 389 MB."""
    body = "".join(f"ip saddr 10.0.{i // 256}.{i % 256} tcp dport {i + 1} accept; " for i in range(2000))
    head = "\ttable inet t { chain forward { type filter hook forward priority 0; "
    ruleset = parse("nftables", head + body + "} }\n")
    texts = {id(rule.span.text) for _, rule in ruleset.all_rules()}
    assert ruleset.rule_count() == 2000 and len(texts) == 1


def test_nft_include_widens_every_filter_chain_and_is_reported() -> None:
    ruleset = parse("nftables", 'include "/etc/nftables.d/*.nft"\n' + NFT_HEAD + "  tcp dport 22 accept\n" + NFT_TAIL)
    first = ruleset.filters["t/forward"].rules[0]
    assert first.action.permits and first.widened and first.services[0].protocol is None and first.span.line == 1
    assert widened_warnings(ruleset, "included file not read") == [1]


@pytest.mark.parametrize(("rule", "action"), [
    ("ip saddr vmap { 10.0.0.1 : accept, 10.0.0.2 : drop }", "permit"),
    ("ip saddr vmap { 10.0.0.1 : drop, 10.0.0.2 : reject }", "drop"),
    ("ip saddr . tcp dport { 10.0.0.1 . 22, 10.0.0.2 . 80 } accept", "permit"),
    ("tcp dport 80 queue num 1", "permit"),
])
def test_nft_maps_concatenations_and_queue_are_widened_and_reported(rule: str, action: str) -> None:
    ruleset = parse("nftables", NFT_HEAD + f"  {rule}\n" + NFT_TAIL)
    parsed = ruleset.filters["t/forward"].rules[0]
    assert parsed.action.value == action and parsed.uncertain
    assert [w.line for w in ruleset.warnings if "not modelled" in w.message] == [4]
    if action == "permit":
        assert widened_warnings(ruleset, "not modelled") == [4] and parsed.sources.is_any


def test_iptables_nfqueue_is_reported_as_widened() -> None:
    ruleset = parse("iptables", "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p tcp --dport 80 -j NFQUEUE\nCOMMIT\n")
    assert widened_warnings(ruleset, "NFQUEUE") == [3]


def test_srx_dynamic_application_is_reported_as_widened() -> None:
    ruleset = parse("srx", (DATA / "srx" / "plant.conf").read_text())
    assert widened_warnings(ruleset, "dynamic-application junos:HTTP")


@pytest.mark.parametrize("kind", ["static-nat", "server-load-balance"])
def test_fortigate_policy_to_a_vip(kind: str) -> None:
    """A static-nat VIP is modelled (a NAT rule; the policy matches the mapped server); a VIP type
    whose target is not read is reported as widened, and the policy to it widened to any destination."""
    vip = (f'config firewall vip\n    edit "web-vip"\n        set type {kind}\n        set extip 203.0.113.10\n'
           '        set mappedip "192.168.1.80"\n        set extintf "outside"\n    next\nend\n'
           'config firewall policy\n    edit 50\n        set srcintf "outside"\n        set dstintf "inside"\n'
           '        set action accept\n        set srcaddr "all"\n        set dstaddr "web-vip"\n'
           '        set service "HTTPS"\n    next\nend\n')
    ruleset = parse("fortigate", (DATA / "fortigate" / "objects.conf").read_text() + vip)
    policy = next(r for _, r in ruleset.all_rules() if r.rule_id == "policy 50")
    (nat,) = [r for r in ruleset.nat_rules if r.rule_id == "vip web-vip"]
    if kind == "static-nat":
        assert [str(n) for n in policy.destinations.include] == ["192.168.1.80/32"] and not policy.uncertain
        assert nat.destination.addresses is not None and not nat.widened
    else:
        assert widened_warnings(ruleset, "VIP 'web-vip'") and [str(n) for n in policy.destinations.include] == [
            "0.0.0.0/0"]
        assert nat.widened


def _plantgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plantgate.cli", *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("command", [["check", "/dev/null"], ["fw", "show", "/dev/zero"]])
def test_a_path_that_is_no_regular_file_or_folder_is_refused_cleanly(command: list[str]) -> None:
    done = _plantgate(*command)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "Internal error" not in done.stderr


def test_fw_show_prints_markup_in_names_literally(tmp_path: Path) -> None:
    config = tmp_path / "markup.cfg"
    config.write_text("ASA Version 9.16(4)\ninterface G0\n nameif in[/]x\n"
                      "access-list [/]a extended permit tcp any any eq 80\naccess-group [/]a in interface in[/]x\n")
    done = _plantgate("fw", "show", str(config))
    assert done.returncode == 0, done.stderr
    assert "[/]a#1" in done.stdout and "in[/]x" in done.stdout


def test_asa_groups_sharing_members_cost_their_size_not_their_paths() -> None:
    """Each of 60 levels names the next level's group twice: 2**60 paths, 60 groups (it hung the parser)."""
    levels = 60
    groups = "".join(f"object-group network G{i}\n group-object G{i + 1}\n group-object G{i + 1}\n"
                     for i in range(levels))
    text = (DATA / "asa" / "plant_edge.cfg").read_text() + groups + \
        f"object-group network G{levels}\n network-object host 10.0.0.1\n" \
        "access-list D extended permit ip object-group G0 any\n"
    rule = parse("asa", text).filters["D"].rules[0]
    assert [str(net) for net in rule.sources.include] == ["10.0.0.1/32"]
