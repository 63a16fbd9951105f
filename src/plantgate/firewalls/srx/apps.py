"""Junos applications: the predefined ``junos-*`` table and reading ``applications application``.

A policy's ``match application`` names either a user application, an application-set, ``any``
or one of the predefined applications that Junos ships in its hidden ``junos-defaults``
configuration group. Their ports are not in the config file, so this module carries a small,
sourced table of the common ones. A name that is neither defined nor in the table must not
be guessed: the caller widens the rule and records a warning.

Sources for ``JUNOS_DEFAULT_APPLICATIONS`` (checked 2026-11):
- the Junos ``show groups junos-defaults`` output (``groups junos-defaults applications``),
  e.g. ``application junos-ftp { application-protocol ftp; protocol tcp; destination-port 21; }``;
- Juniper, "Predefined Policy Applications" (Junos security policies user guide), which lists
  the Microsoft (MS-RPC 135, SMB 139/445), routing (BGP 179, OSPF 89) and Internet applications;
- Juniper, "destination-port" statement reference (port names such as ``ldap`` 389,
  ``radius`` 1812, ``syslog`` 514), used for ``NAMED_PORTS`` below.
Only entries whose match is decided by ports/protocol/ICMP type are listed. Applications that
match by RPC UUID or program number (``junos-ms-rpc``, ``junos-sun-rpc*``) are left out on
purpose: the port table cannot express them, so they are reported as unknown and widened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.ruleset import ICMP, ICMPV6, SCTP, TCP, UDP, PortRange, Service
from plantgate.firewalls.srx.hierarchy import ConfigNode

GRE, OSPF = 47, 89


def _svc(name: str, protocol: int | None, port: int | None = None, icmp_type: int | None = None) -> Service:
    ports: tuple[PortRange, ...] = ((port, port),) if port is not None else ()
    return Service(protocol=protocol, dst_ports=ports, icmp_type=icmp_type, name=name)


def _table() -> dict[str, tuple[Service, ...]]:
    single: dict[str, tuple[int, int | None]] = {
        "junos-ftp": (TCP, 21),
        "junos-ftp-data": (TCP, 20),
        "junos-tftp": (UDP, 69),
        "junos-ssh": (TCP, 22),
        "junos-telnet": (TCP, 23),
        "junos-smtp": (TCP, 25),
        "junos-http": (TCP, 80),
        "junos-https": (TCP, 443),
        "junos-http-ext": (TCP, 7001),
        "junos-pop3": (TCP, 110),
        "junos-imap": (TCP, 143),
        "junos-imaps": (TCP, 993),
        "junos-ldap": (TCP, 389),
        "junos-dns-udp": (UDP, 53),
        "junos-dns-tcp": (TCP, 53),
        "junos-ntp": (UDP, 123),
        "junos-snmp-get": (UDP, 161),
        "junos-snmp-get-next": (UDP, 161),
        "junos-snmp-trap": (UDP, 162),
        "junos-syslog": (UDP, 514),
        "junos-radius": (UDP, 1812),
        "junos-radacct": (UDP, 1813),
        "junos-tacacs": (TCP, 49),
        "junos-bgp": (TCP, 179),
        "junos-ike": (UDP, 500),
        "junos-ike-nat": (UDP, 4500),
        "junos-l2tp": (UDP, 1701),
        "junos-pptp": (TCP, 1723),
        "junos-ms-rpc-tcp": (TCP, 135),
        "junos-ms-rpc-udp": (UDP, 135),
        "junos-ms-sql": (TCP, 1433),
        "junos-rdp": (TCP, 3389),
        "junos-smb-session": (TCP, 445),
        "junos-netbios-session": (TCP, 139),
        "junos-nbname": (UDP, 137),
        "junos-nbds": (UDP, 138),
        "junos-sqlnet-v2": (TCP, 1521),
        "junos-rsh": (TCP, 514),
        "junos-ident": (TCP, 113),
        "junos-nntp": (TCP, 119),
        "junos-lpr": (TCP, 515),
        "junos-finger": (TCP, 79),
        "junos-whois": (TCP, 43),
        "junos-talk": (UDP, 517),
        "junos-ntalk": (UDP, 518),
        "junos-nfsd-tcp": (TCP, 2049),
        "junos-nfsd-udp": (UDP, 2049),
        "junos-xnm-ssl": (TCP, 3220),
        "junos-xnm-clear-text": (TCP, 3221),
        "junos-bootps": (UDP, 67),
        "junos-bootpc": (UDP, 68),
        "junos-tcp-any": (TCP, None),
        "junos-udp-any": (UDP, None),
        "junos-icmp-all": (ICMP, None),
        "junos-icmp6-all": (ICMPV6, None),
        "junos-gre": (GRE, None),
        "junos-ospf": (OSPF, None),
    }
    table: dict[str, tuple[Service, ...]] = {name: (_svc(name, proto, port),) for name, (proto, port) in single.items()}
    table["junos-icmp-ping"] = (_svc("junos-icmp-ping", ICMP, icmp_type=8),)
    table["junos-pingv6"] = (_svc("junos-pingv6", ICMPV6, icmp_type=128),)
    table["junos-smb"] = (_svc("junos-smb", TCP, 139), _svc("junos-smb", TCP, 445))
    return table


JUNOS_DEFAULT_APPLICATIONS: dict[str, tuple[Service, ...]] = _table()

NAMED_PORTS: dict[str, int] = {
    "afs": 1483, "bgp": 179, "biff": 512, "bootpc": 68, "bootps": 67, "cmd": 514, "cvspserver": 2401,
    "dhcp": 67, "domain": 53, "eklogin": 2105, "ekshell": 2106, "exec": 512, "finger": 79, "ftp": 21,
    "ftp-data": 20, "http": 80, "https": 443, "ident": 113, "imap": 143, "kerberos-sec": 88,
    "klogin": 543, "kpasswd": 761, "krb-prop": 754, "krbupdate": 760, "kshell": 544, "ldap": 389,
    "ldp": 646, "login": 513, "mobileip-agent": 434, "mobilip-mn": 435, "msdp": 639, "netbios-dgm": 138,
    "netbios-ns": 137, "netbios-ssn": 139, "nfsd": 2049, "nntp": 119, "ntalk": 518, "ntp": 123,
    "pop3": 110, "pptp": 1723, "printer": 515, "radacct": 1813, "radius": 1812, "rip": 520,
    "rkinit": 2108, "smtp": 25, "snmp": 161, "snmp-trap": 162, "snpp": 444, "socks": 1080, "ssh": 22,
    "sunrpc": 111, "syslog": 514, "tacacs": 49, "tacacs-ds": 65, "talk": 517, "telnet": 23, "tftp": 69,
    "timed": 525, "who": 513, "xdmcp": 177,
}

PROTOCOL_NUMBERS: dict[str, int] = {
    "icmp": ICMP, "igmp": 2, "ipip": 4, "tcp": TCP, "egp": 8, "udp": UDP, "rsvp": 46, "gre": GRE,
    "esp": 50, "ah": 51, "icmp6": ICMPV6, "icmpv6": ICMPV6, "ospf": OSPF, "pim": 103, "vrrp": 112,
    "sctp": SCTP,
}

ICMP_TYPES: dict[str, int] = {
    "echo-reply": 0, "unreachable": 3, "source-quench": 4, "redirect": 5, "echo-request": 8,
    "router-advertisement": 9, "router-solicit": 10, "time-exceeded": 11, "parameter-problem": 12,
    "timestamp": 13, "timestamp-reply": 14, "info-request": 15, "info-reply": 16, "mask-request": 17,
    "mask-reply": 18,
}

ICMP6_TYPES: dict[str, int] = {
    "destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
    "echo-request": 128, "echo-reply": 129, "membership-query": 130, "membership-report": 131,
    "membership-termination": 132, "router-solicit": 133, "router-advertisement": 134,
    "neighbor-solicit": 135, "neighbor-advertisement": 136, "redirect": 137,
}

# Attributes that do not change which packets an application matches.
_NEUTRAL_KEYS = frozenset({
    "alg", "application-protocol", "inactivity-timeout", "description", "ttl-threshold",
    "learn-sip-register", "sip-call-hold-timeout", "snmp-command",
    "do-not-translate-A-query-to-AAAA-query", "do-not-translate-AAAA-query-to-A-query",
})
_VALUE_KEYS = frozenset({
    "protocol", "destination-port", "source-port", "icmp-type", "icmp-code", "icmp6-type", "icmp6-code",
    "uuid", "rpc-program-number", "alg", "application-protocol", "inactivity-timeout", "ttl-threshold",
    "sip-call-hold-timeout", "snmp-command", "description",
})


def parse_port_range(text: str) -> PortRange | None:
    """``80``, ``1024-65535``, or a Junos port name; None when it is none of those."""
    low, sep, high = text.partition("-")
    values = []
    for part in (low, high) if sep else (low,):
        if is_decimal(part):
            values.append(int(part))
        elif part in NAMED_PORTS:
            values.append(NAMED_PORTS[part])
        else:
            return None
    first, last = values[0], values[-1]
    if not 0 <= first <= last <= 65535:
        return None
    return (first, last)


@dataclass
class ApplicationMatch:
    """What one application definition matches, plus why it had to be widened (if it did)."""

    services: list[Service] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def _term_service(name: str, words: list[str], reasons: list[str], warn: Callable[[str], None]) -> Service:
    """Read ``protocol tcp destination-port 502 ...`` pairs into one Service (widened when unsure)."""
    attrs: dict[str, str] = {}
    i = 0
    while i < len(words):
        key = words[i]
        if key in _VALUE_KEYS and i + 1 < len(words):
            attrs[key] = words[i + 1]
            i += 2
            continue
        if key not in _NEUTRAL_KEYS:
            warn(f"application {name}: unknown attribute {key!r}; match widened")
            reasons.append(f"application {name}: unknown attribute {key!r}")
        i += 1
    proto_text = attrs.get("protocol")
    if proto_text is None:
        reasons.append(f"application {name}: no protocol given, widened to every protocol")
        return Service(name=name)
    numbered = is_decimal(proto_text) and int(proto_text) <= 255
    protocol = int(proto_text) if numbered else PROTOCOL_NUMBERS.get(proto_text)
    if protocol is None:
        warn(f"application {name}: unknown protocol {proto_text!r}; widened to every protocol")
        reasons.append(f"application {name}: unknown protocol {proto_text!r}")
        return Service(name=name)
    if "uuid" in attrs or "rpc-program-number" in attrs:
        reasons.append(f"application {name}: RPC program/UUID match modelled by port only")
    ports: dict[str, tuple[PortRange, ...]] = {}
    for key in ("source-port", "destination-port"):
        if key not in attrs:
            continue
        parsed = parse_port_range(attrs[key])
        if parsed is None:
            warn(f"application {name}: cannot read {key} {attrs[key]!r}; widened to any port")
            reasons.append(f"application {name}: unreadable {key} {attrs[key]!r}")
        elif protocol in (TCP, UDP, SCTP):
            ports[key] = (parsed,)
    icmp_type = icmp_code = None
    if protocol in (ICMP, ICMPV6):
        names = ICMP_TYPES if protocol == ICMP else ICMP6_TYPES
        for key, code_key in (("icmp-type", "icmp-code"), ("icmp6-type", "icmp6-code")):
            if key in attrs:
                value = attrs[key]
                icmp_type = int(value) if is_decimal(value) else names.get(value)
                if icmp_type is None:
                    reasons.append(f"application {name}: unknown ICMP type {value!r}, widened to any type")
                if is_decimal(attrs.get(code_key, "")) and icmp_type is not None:
                    icmp_code = int(attrs[code_key])
    return Service(
        protocol=protocol, src_ports=ports.get("source-port", ()), dst_ports=ports.get("destination-port", ()),
        icmp_type=icmp_type, icmp_code=icmp_code, name=name,
    )


def read_application(name: str, node: ConfigNode, warn: Callable[[str], None]) -> ApplicationMatch:
    """One ``applications application NAME`` definition: its own attributes or one Service per term."""
    result = ApplicationMatch()
    own_words: list[str] = []
    for kid in node.kids():
        if kid.word == "term":
            for term in kid.kids():
                words = [w for path in term.leaf_paths() for w in path]
                result.services.append(_term_service(name, words, result.reasons, warn))
        elif kid.word != "description":
            own_words.extend(w for path in ([kid.word, *p] for p in kid.leaf_paths()) for w in path)
            if not kid.children:
                own_words.append(kid.word)
    if own_words or not result.services:
        result.services.append(_term_service(name, own_words, result.reasons, warn))
    return result
