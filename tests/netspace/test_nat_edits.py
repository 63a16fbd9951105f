"""An edit to address translation is never proved harmless: the filters alone cannot show what it opens.

Before this check, a candidate that only added a port forward compared equal to the current config
("No difference", "PROVED"), while it published an OT host to whoever reaches the public address.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from plantgate.cli import main
from plantgate.firewalls.base import parse_config
from plantgate.firewalls.nat_edits import nat_edits
from plantgate.netspace import default_space, is_subset

FILTER = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i eth0 -o eth1 -d 10.20.0.5/32 -p tcp --dport 502 -j ACCEPT
{extra}COMMIT
"""
PORT_FORWARD = "-A PREROUTING -i eth0 -d 203.0.113.10/32 -p tcp --dport 502 -j DNAT --to-destination 10.20.0.5:502\n"


def iptables(nat: str = "", extra: str = "") -> str:
    return f"*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n{nat}COMMIT\n" + FILTER.format(extra=extra)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout + result.stderr


def test_a_port_forward_added_alone_is_not_proved_and_not_called_no_difference(tmp_path: Path) -> None:
    """Filters identical; the candidate adds a DNAT of 203.0.113.10:502 to the OT host 10.20.0.5:502.

    By hand: enterprise hosts that could not address 10.20.0.5 now reach it through the public
    address, so the change opens a path: prove-closing must fail (exit 1) with a packet sent to
    203.0.113.10:502 on eth0 -> eth1 translated by line 4, and fw diff must list it instead of
    "No difference".
    """
    (tmp_path / "cur.rules").write_text(iptables())
    (tmp_path / "cand.rules").write_text(iptables(PORT_FORWARD))
    code, out = run("change", "prove-closing", str(tmp_path / "cur.rules"), str(tmp_path / "cand.rules"),
                    "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["proved"] is False and data["opened"] == [] and data["nat_edits"] == []
    [translated] = data["translations"]
    assert translated["key"] == "eth0 -> eth1"
    assert (translated["witness"]["dst"], translated["witness"]["dport"]) == ("203.0.113.10", 502)
    assert [r["line"] for r in translated["nat_rules"]] == [4]
    code, out = run("fw", "diff", str(tmp_path / "cur.rules"), str(tmp_path / "cand.rules"))
    assert code == 0 and "No difference" not in out and "TRANSLATED ANEW" in out


def test_a_closing_change_under_unchanged_nat_is_still_proved(tmp_path: Path) -> None:
    """Both configs hold the same DNAT; the candidate only adds a DROP before the ACCEPT.

    By hand: translation is the same, and the filter permits a subset: proved, and the DROP's flows
    (tcp/502 to 10.20.0.5 from 192.0.2.0/24) are what it closes.
    """
    (tmp_path / "cur.rules").write_text(iptables(PORT_FORWARD))
    drop = "-I FORWARD 1 -s 192.0.2.0/24 -d 10.20.0.5/32 -p tcp --dport 502 -j DROP\n"
    (tmp_path / "cand.rules").write_text(iptables(PORT_FORWARD, drop))
    proved, diff = is_subset(default_space(), parse_config(tmp_path / "cand.rules", "iptables"),
                             parse_config(tmp_path / "cur.rules", "iptables"))
    assert proved and diff.nat_edits == [] and diff.closed


ASA = """hostname fw
interface GigabitEthernet0/0
 nameif outside
 security-level 0
interface GigabitEthernet0/1
 nameif inside
 security-level 100
object network OT-HMI
 host {hmi}
 nat (inside,outside) static 203.0.113.20
object network UNUSED
 host {unused}
{twice}access-list OUT extended permit tcp any host 10.20.0.7 eq 443
access-group OUT in interface outside
"""
TWICE = ("nat (inside,outside) source static OT-HMI OT-HMI\n"
         "nat (inside,outside) source dynamic any interface\n")


def asa(tmp_path: Path, name: str, hmi: str = "10.20.0.7", unused: str = "10.9.9.9", twice: str = "") -> Path:
    path = tmp_path / name
    path.write_text(ASA.format(hmi=hmi, unused=unused, twice=twice))
    return path


def test_an_object_edited_under_an_unchanged_object_nat_line_translates_anew(tmp_path: Path) -> None:
    """The object NAT line is unchanged, but its object now holds 10.20.0.8: a different host is published.

    By hand: packets to 203.0.113.20 from outside now reach 10.20.0.8 instead of 10.20.0.7: a
    translation the current config does not make, by the OT-HMI rule of line 10; the unrelated
    object UNUSED changes no translation.
    """
    old = parse_config(asa(tmp_path, "old.cfg"), "asa")
    new = parse_config(asa(tmp_path, "new.cfg", hmi="10.20.0.8"), "asa")
    proved, diff = is_subset(default_space(), new, old)
    assert not proved and diff.nat_edits == [] and diff.translations
    assert {rule.span.line for change in diff.translations for rule in change.nat_rules} == {10}
    unrelated = parse_config(asa(tmp_path, "unrelated.cfg", unused="10.9.9.10"), "asa")
    assert is_subset(default_space(), unrelated, old)[0]


LEGACY = """hostname fw
name {hmi} OT-HMI
interface GigabitEthernet0/0
 nameif outside
interface GigabitEthernet0/1
 nameif inside
static (inside,outside) 203.0.113.20 OT-HMI netmask 255.255.255.255
access-list OUT extended permit tcp any host 10.20.0.7 eq 443
access-group OUT in interface outside
"""


def test_a_name_an_unmodelled_nat_statement_uses_is_compared(tmp_path: Path) -> None:
    """Pre-8.3 ``static`` is not modelled (it stays a NAT statement); it names OT-HMI, a ``name`` on line 2.

    By hand: moving the name to 10.20.0.8 publishes another host under 203.0.113.20: an edit of
    the name used by NAT, at line 2, though the static line itself is unchanged.
    """
    (tmp_path / "old.cfg").write_text(LEGACY.format(hmi="10.20.0.7"))
    (tmp_path / "new.cfg").write_text(LEGACY.format(hmi="10.20.0.8"))
    old, new = parse_config(tmp_path / "old.cfg", "asa"), parse_config(tmp_path / "new.cfg", "asa")
    assert old.nat_statements and not old.nat_rules
    edits = nat_edits(old, new)
    assert {(e.change, e.what, e.span.line) for e in edits} == {
        ("removed", "object OT-HMI used by NAT", 2), ("added", "object OT-HMI used by NAT", 2)}


def test_reordered_nat_rules_translate_anew(tmp_path: Path) -> None:
    """ASA twice NAT is first-match in section order: swapping the HMI's identity NAT and the PAT
    of everything hides the HMI behind the interface (by hand: a packet from 10.20.0.7 leaving
    outside, translated by the PAT rule), which the current config never does."""
    swapped = "".join(reversed(TWICE.splitlines(keepends=True)))
    old = parse_config(asa(tmp_path, "old.cfg", twice=TWICE), "asa")
    new = parse_config(asa(tmp_path, "new.cfg", twice=swapped), "asa")
    proved, diff = is_subset(default_space(), new, old)
    assert not proved and diff.translations
    assert any(str(change.witness.src) == "10.20.0.7" for change in diff.translations)
    same = parse_config(asa(tmp_path, "same.cfg", twice=TWICE), "asa")
    assert is_subset(default_space(), same, old) == (True, is_subset(default_space(), same, old)[1])


FORTIGATE = """config system interface
    edit "wan1"
        set ip 203.0.113.1 255.255.255.0
    next
    edit "ot"
        set ip 10.20.0.1 255.255.255.0
    next
end
config firewall address
    edit "OT-ENG"
        set subnet 10.20.0.16 255.255.255.240
    next
    edit "OT-NET"
        set subnet 10.20.0.0 255.255.255.0
    next
end
config firewall policy
    edit 1
        set srcintf "ot"
        set dstintf "wan1"
        set action {first}
        set srcaddr "OT-ENG"
        set dstaddr "all"
        set schedule "always"
        set service "ALL"
    next
    edit 2
        set srcintf "ot"
        set dstintf "wan1"
        set action accept
        set srcaddr "OT-NET"
        set dstaddr "all"
        set schedule "always"
        set service "ALL"
        set nat enable
    next
end
"""


def test_denying_a_policy_above_a_hide_nat_policy_still_proves_closing(tmp_path: Path) -> None:
    """Policy 1 lets the engineering hosts out untranslated; policy 2 hides the rest of OT-NET
    behind wan1's address. The candidate denies policy 1.

    By hand: the engineering hosts' sessions are now dropped (policy 1 matches first and denies),
    so nothing is forwarded that was not, and no forwarded packet is translated otherwise: the
    change only closes. (Compared rule by rule, policy 1's implicit "no NAT" rule is gone, which
    used to refuse it.)
    """
    (tmp_path / "cur.conf").write_text(FORTIGATE.format(first="accept"))
    (tmp_path / "cand.conf").write_text(FORTIGATE.format(first="deny"))
    current, candidate = (parse_config(tmp_path / name, "fortigate") for name in ("cur.conf", "cand.conf"))
    proved, diff = is_subset(default_space(), candidate, current)
    assert proved, (diff.translations, diff.nat_edits, diff.opened)
    assert diff.closed


def test_removing_the_exemption_above_a_hide_nat_policy_translates_anew(tmp_path: Path) -> None:
    """The candidate deletes policy 1 instead: the engineering hosts fall to policy 2, which still
    permits them but now hides them behind 203.0.113.1. By hand: the filters permit the same
    packets, but their source is rewritten where it was not (a downstream firewall that admits the
    firewall's address would now admit them): not proved, witness from 10.20.0.16/28."""
    (tmp_path / "cur.conf").write_text(FORTIGATE.format(first="accept"))
    without = FORTIGATE.format(first="accept")
    start, end = without.index("    edit 1"), without.index("    edit 2")
    (tmp_path / "cand.conf").write_text(without[:start] + without[end:])
    current, candidate = (parse_config(tmp_path / name, "fortigate") for name in ("cur.conf", "cand.conf"))
    proved, diff = is_subset(default_space(), candidate, current)
    assert not proved and diff.opened == []
    [change] = diff.translations
    assert change.witness.src.packed[:3] == bytes([10, 20, 0]) and change.witness.src.packed[3] & 0xF0 == 16
