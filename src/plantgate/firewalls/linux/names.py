"""Protocol, port and ICMP names understood by iptables and nftables.

The tools read /etc/protocols and /etc/services of the machine they run on; we use a
fixed table instead so a parse gives the same answer on every machine. Names missing
here are reported as warnings by the parsers, which then widen the rule.
"""

from __future__ import annotations

from plantgate.firewalls.limits import is_decimal

PROTOCOLS: dict[str, int] = {
    "icmp": 1, "igmp": 2, "ipip": 4, "ipencap": 4, "tcp": 6, "egp": 8, "igp": 9, "pup": 12, "udp": 17,
    "idp": 22, "tp": 29, "dccp": 33, "ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44, "idrp": 45,
    "rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "skip": 57, "icmpv6": 58, "ipv6-icmp": 58, "icmp6": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73, "vmtp": 81, "eigrp": 88, "ospf": 89, "ospfigp": 89,
    "ax.25": 93, "ipip6": 94, "etherip": 97, "encap": 98, "pim": 103, "ipcomp": 108, "vrrp": 112,
    "l2tp": 115, "isis": 124, "sctp": 132, "fc": 133, "mobility-header": 135, "udplite": 136,
    "mpls-in-ip": 137, "manet": 138, "hip": 139, "shim6": 140, "wesp": 141, "rohc": 142,
}

SERVICES: dict[str, int] = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "time": 37, "domain": 53, "dns": 53,
    "tftp": 69, "bootps": 67, "bootpc": 68, "gopher": 70, "finger": 79, "http": 80, "www": 80,
    "kerberos": 88, "pop3": 110, "sunrpc": 111, "auth": 113, "ident": 113, "nntp": 119, "ntp": 123,
    "epmap": 135, "loc-srv": 135, "netbios-ns": 137, "netbios-dgm": 138, "netbios-ssn": 139,
    "imap": 143, "imap2": 143, "snmp": 161, "snmp-trap": 162, "bgp": 179, "ldap": 389, "https": 443,
    "microsoft-ds": 445, "isakmp": 500, "modbus": 502, "syslog": 514, "rtsp": 554, "submission": 587,
    "ipp": 631, "ldaps": 636, "rsync": 873, "ftps": 990, "imaps": 993, "pop3s": 995, "socks": 1080,
    "openvpn": 1194, "ms-sql-s": 1433, "radius": 1812, "radius-acct": 1813, "nfs": 2049,
    "iso-tsap": 102, "ethernet-ip": 44818, "dnp": 20000, "dnp3": 20000, "opcua": 4840,
    "bacnet": 47808, "mysql": 3306, "ms-wbt-server": 3389, "rdp": 3389, "postgresql": 5432,
    "sip": 5060, "vnc": 5900, "x11": 6000, "http-alt": 8080, "webcache": 8080, "mqtt": 1883,
    "secure-mqtt": 8883, "iec-104": 2404, "ipsec-nat-t": 4500, "smtps": 465, "kerberos-adm": 749,
}

# ICMP (IPv4): name -> (type, code or None)
ICMP_TYPES: dict[str, tuple[int, int | None]] = {
    "any": (-1, None), "echo-reply": (0, None), "pong": (0, None), "destination-unreachable": (3, None),
    "network-unreachable": (3, 0), "host-unreachable": (3, 1), "protocol-unreachable": (3, 2),
    "port-unreachable": (3, 3), "fragmentation-needed": (3, 4), "source-route-failed": (3, 5),
    "network-unknown": (3, 6), "host-unknown": (3, 7), "network-prohibited": (3, 9),
    "host-prohibited": (3, 10), "TOS-network-unreachable": (3, 11), "TOS-host-unreachable": (3, 12),
    "communication-prohibited": (3, 13), "host-precedence-violation": (3, 14),
    "precedence-cutoff": (3, 15), "source-quench": (4, None), "redirect": (5, None),
    "network-redirect": (5, 0), "host-redirect": (5, 1), "TOS-network-redirect": (5, 2),
    "TOS-host-redirect": (5, 3), "echo-request": (8, None), "ping": (8, None),
    "router-advertisement": (9, None), "router-solicitation": (10, None), "time-exceeded": (11, None),
    "ttl-exceeded": (11, None), "ttl-zero-during-transit": (11, 0), "ttl-zero-during-reassembly": (11, 1),
    "parameter-problem": (12, None), "ip-header-bad": (12, 0), "required-option-missing": (12, 1),
    "timestamp-request": (13, None), "timestamp-reply": (14, None), "info-request": (15, None),
    "info-reply": (16, None), "address-mask-request": (17, None), "address-mask-reply": (18, None),
}

ICMPV6_TYPES: dict[str, tuple[int, int | None]] = {
    "any": (-1, None), "destination-unreachable": (1, None), "no-route": (1, 0),
    "communication-prohibited": (1, 1), "beyond-scope": (1, 2), "address-unreachable": (1, 3),
    "port-unreachable": (1, 4), "failed-policy": (1, 5), "reject-route": (1, 6),
    "packet-too-big": (2, None), "time-exceeded": (3, None), "ttl-exceeded": (3, None),
    "ttl-zero-during-transit": (3, 0), "ttl-zero-during-reassembly": (3, 1),
    "parameter-problem": (4, None), "bad-header": (4, 0), "unknown-header-type": (4, 1),
    "unknown-option": (4, 2), "echo-request": (128, None), "ping": (128, None),
    "echo-reply": (129, None), "pong": (129, None), "mld-listener-query": (130, None),
    "mld-listener-report": (131, None), "mld-listener-done": (132, None),
    "mld-listener-reduction": (132, None), "router-solicitation": (133, None),
    "nd-router-solicit": (133, None), "router-advertisement": (134, None),
    "nd-router-advert": (134, None), "neighbour-solicitation": (135, None),
    "neighbor-solicitation": (135, None), "nd-neighbor-solicit": (135, None),
    "neighbour-advertisement": (136, None), "neighbor-advertisement": (136, None),
    "nd-neighbor-advert": (136, None), "redirect": (137, None), "nd-redirect": (137, None),
    "router-renumbering": (138, None), "ind-neighbor-solicit": (141, None),
    "ind-neighbor-advert": (142, None), "mld2-listener-report": (143, None),
}


def protocol_number(text: str) -> int | None:
    """IP protocol number for a name or number; None when unknown."""
    lowered = text.lower()
    if is_decimal(lowered):
        value = int(lowered)
        return value if 0 <= value <= 255 else None
    return PROTOCOLS.get(lowered)


def port_number(text: str) -> int | None:
    """Port number for a number or service name; None when unknown or out of range."""
    if is_decimal(text):
        value = int(text)
        return value if value <= 65535 else None
    return SERVICES.get(text.lower())
