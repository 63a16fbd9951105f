"""iptables and nftables: the ruleset files hold no interface addresses or routes, so none are claimed."""

from __future__ import annotations

from plantgate.firewalls.linux.iptables import PARSER as IPTABLES
from plantgate.firewalls.linux.nftables import PARSER as NFTABLES

IPTABLES_SAVE = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i eth1 -o eth2 -s 10.20.0.0/24 -d 10.1.0.0/24 -p tcp --dport 502 -j ACCEPT
COMMIT
"""

NFT = """\
table inet filter {
    chain forward {
        type filter hook forward priority 0; policy drop;
        iifname "eth1" oifname "eth2" ip saddr 10.20.0.0/24 tcp dport 502 accept
    }
}
"""


def test_linux_rulesets_have_no_layer3_facts() -> None:
    """By hand: interface names (eth1, eth2) appear as zones, but no address or route is in either file, so
    both lists are empty (the zone map must come from the treaty)."""
    for parser, text in ((IPTABLES, IPTABLES_SAVE), (NFTABLES, NFT)):
        rs = parser.parse(text, "fw.rules")
        assert {"eth1", "eth2"} <= set(rs.zones)
        assert rs.interfaces == [] and rs.routes == []
