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
    address, so the change opens a path: prove-closing must fail (exit 1) naming line 4, and fw diff
    must list the edit instead of "No difference".
    """
    (tmp_path / "cur.rules").write_text(iptables())
    (tmp_path / "cand.rules").write_text(iptables(PORT_FORWARD))
    code, out = run("change", "prove-closing", str(tmp_path / "cur.rules"), str(tmp_path / "cand.rules"),
                    "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["proved"] is False and data["opened"] == []
    [edit] = data["nat_edits"]
    assert (edit["change"], edit["line"]) == ("added", 4) and "DNAT" in edit["text"]
    code, out = run("fw", "diff", str(tmp_path / "cur.rules"), str(tmp_path / "cand.rules"))
    assert code == 0 and "No difference" not in out and "NAT EDITED" in out


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


def test_the_object_an_object_nat_sits_in_is_compared(tmp_path: Path) -> None:
    """The object NAT line is unchanged, but its object now holds 10.20.0.8: a different host is published.

    By hand: the edit is object OT-HMI (line 8); the unrelated object UNUSED is no NAT edit.
    """
    old = parse_config(asa(tmp_path, "old.cfg"), "asa")
    new = parse_config(asa(tmp_path, "new.cfg", hmi="10.20.0.8"), "asa")
    edits = nat_edits(old, new)
    assert {(e.change, e.what, e.span.line) for e in edits} == {
        ("removed", "object OT-HMI used by NAT", 8), ("added", "object OT-HMI used by NAT", 8)}
    unrelated = parse_config(asa(tmp_path, "unrelated.cfg", unused="10.9.9.10"), "asa")
    assert nat_edits(old, unrelated) == []


def test_reordered_nat_statements_are_an_edit(tmp_path: Path) -> None:
    """ASA twice NAT is first-match in section order: swapping an identity NAT and a PAT changes
    which one the HMI's traffic takes (by hand: the HMI would be hidden behind the interface)."""
    swapped = "".join(reversed(TWICE.splitlines(keepends=True)))
    old = parse_config(asa(tmp_path, "old.cfg", twice=TWICE), "asa")
    new = parse_config(asa(tmp_path, "new.cfg", twice=swapped), "asa")
    assert {e.change for e in nat_edits(old, new)} == {"moved"}
    assert nat_edits(old, parse_config(asa(tmp_path, "same.cfg", twice=TWICE), "asa")) == []
