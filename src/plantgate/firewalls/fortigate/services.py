"""FortiOS service objects: custom services, service groups and the factory-default services.

A policy's ``service`` names custom services, groups, or services FortiOS ships predefined.
Real backups list the predefined ones explicitly, but fragments and hand-written configs do
not, so the factory table below fills in what the config does not define. A service whose
meaning depends on something outside the packet (a proxy protocol, a destination FQDN) is
reported as unresolved or loose so that the policy code can widen, never narrow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from plantgate.errors import InputError
from plantgate.firewalls.fortigate.syntax import Setting
from plantgate.firewalls.ruleset import ICMP, ICMPV6, SCTP, TCP, UDP, PortRange, Service

UDPLITE = 136

PORT_KEYS: dict[str, int] = {
    "tcp-portrange": TCP,
    "udp-portrange": UDP,
    "sctp-portrange": SCTP,
    "udplite-portrange": UDPLITE,
}
PROTOCOL_SPECIFIC_KEYS = (*PORT_KEYS, "icmptype", "icmpcode", "protocol-number")
"""Attributes FortiOS clears when ``set protocol`` changes the service kind."""

HARMLESS_SERVICE_KEYS = frozenset({
    "uuid", "comment", "category", "color", "visibility", "proxy", "check-reset-range", "session-ttl",
    "helper", "tcp-halfclose-timer", "tcp-halfopen-timer", "tcp-timewait-timer", "tcp-rst-timer",
    "udp-idle-timer", "fabric-object", "protocol", "global-object", "app-category", "application",
    *PROTOCOL_SPECIFIC_KEYS,
})

PREDEFINED_SERVICES: dict[str, str] = {
    "ALL": "ip",
    "ALL_TCP": "tcp 1-65535",
    "ALL_UDP": "udp 1-65535",
    "ALL_ICMP": "icmp",
    "ALL_ICMP6": "icmp6",
    "GRE": "ip 47",
    "ESP": "ip 50",
    "AH": "ip 51",
    "OSPF": "ip 89",
    "AFS3": "tcp 7000-7009; udp 7000-7009",
    "AOL": "tcp 5190-5194",
    "BGP": "tcp 179",
    "CVSPSERVER": "tcp 2401; udp 2401",
    "DCE-RPC": "tcp 135; udp 135",
    "DHCP": "udp 67-68",
    "DHCP6": "udp 546 547",
    "DNS": "tcp 53; udp 53",
    "FINGER": "tcp 79",
    "FTP": "tcp 21",
    "FTP_GET": "tcp 21",
    "FTP_PUT": "tcp 21",
    "GOPHER": "tcp 70",
    "H323": "tcp 1720 1503; udp 1719",
    "HTTP": "tcp 80",
    "HTTPS": "tcp 443",
    "IKE": "udp 500 4500",
    "IMAP": "tcp 143",
    "IMAPS": "tcp 993",
    "INFO_ADDRESS": "icmp 17",
    "INFO_REQUEST": "icmp 15",
    "Internet-Locator-Service": "tcp 389",
    "IRC": "tcp 6660-6669",
    "KERBEROS": "tcp 88 464; udp 88 464",
    "L2TP": "tcp 1701; udp 1701",
    "LDAP": "tcp 389",
    "LDAP_UDP": "udp 389",
    "MMS": "tcp 1755; udp 1024-5000",
    "MS-SQL": "tcp 1433 1434",
    "MYSQL": "tcp 3306",
    "NetMeeting": "tcp 1720",
    "NFS": "tcp 111 2049; udp 111 2049",
    "NNTP": "tcp 119",
    "NONE": "tcp 0",
    "NTP": "tcp 123; udp 123",
    "ONC-RPC": "tcp 111; udp 111",
    "PC-Anywhere": "tcp 5631; udp 5632",
    "PING": "icmp 8",
    "PING6": "icmp6 128",
    "POP3": "tcp 110",
    "POP3S": "tcp 995",
    "PPTP": "tcp 1723",
    "QUAKE": "udp 26000 27000 27910 27960",
    "RADIUS": "udp 1812 1813",
    "RADIUS-OLD": "udp 1645 1646",
    "RAUDIO": "udp 7070",
    "RDP": "tcp 3389",
    "REXEC": "tcp 512",
    "RIP": "udp 520",
    "RLOGIN": "tcp 513:512-1023",
    "RSH": "tcp 514:512-1023",
    "SAMBA": "tcp 139",
    "SCCP": "tcp 2000",
    "SIP": "tcp 5060; udp 5060",
    "SIP-MSNmessenger": "tcp 1863",
    "SMB": "tcp 445",
    "SMTP": "tcp 25",
    "SMTPS": "tcp 465",
    "SNMP": "tcp 161-162; udp 161-162",
    "SQUID": "tcp 3128",
    "SSH": "tcp 22",
    "SYSLOG": "udp 514",
    "TALK": "udp 517-518",
    "TELNET": "tcp 23",
    "TFTP": "udp 69",
    "TIMESTAMP": "icmp 13",
    "TRACEROUTE": "udp 33434-33535",
    "UUCP": "tcp 540",
    "VDOLIVE": "tcp 7000-7010",
    "VNC": "tcp 5900",
    "WAIS": "tcp 210",
    "WINFRAME": "tcp 1494 2598",
    "WINS": "tcp 1512; udp 1512",
    "X-WINDOWS": "tcp 6000-6063",
}
"""FortiOS factory-default services, written as ``proto ranges; proto ranges``."""

_TABLE_PROTOCOLS = {"tcp": TCP, "udp": UDP, "icmp": ICMP, "icmp6": ICMPV6}


@dataclass(frozen=True, slots=True)
class ServiceValue:
    """What a service name stands for.

    ``unresolved`` reasons mean the match cannot be decided from the packet at all (a permit
    widens to any service); ``loose`` reasons mean a restriction was ignored, so the services
    listed match at least what the firewall matches (a permit stays, marked uncertain).
    """

    services: tuple[Service, ...]
    unresolved: tuple[str, ...] = ()
    loose: tuple[str, ...] = ()


@functools.lru_cache(maxsize=256)
def predefined_service(name: str) -> ServiceValue | None:
    """The factory-default service ``name``, or None when FortiOS has no such service (built once per name)."""
    spec = PREDEFINED_SERVICES.get(name)
    if spec is None:
        return None
    services: list[Service] = []
    for part in spec.split(";"):
        words = part.split()
        proto_word, args = words[0], words[1:]
        if proto_word == "ip":
            services.append(Service(protocol=int(args[0]) if args else None, name=name))
        elif proto_word in ("icmp", "icmp6"):
            proto = _TABLE_PROTOCOLS[proto_word]
            services.append(Service(protocol=proto, icmp_type=int(args[0]) if args else None, name=name))
        else:
            services.extend(port_services(_TABLE_PROTOCOLS[proto_word], args, "<predefined>", 0, name))
    return ServiceValue(tuple(services))


def _port_range(text: str, file: str, line: int) -> PortRange:
    low, _, high = text.partition("-")
    try:
        a, b = int(low), int(high or low)
    except ValueError:
        raise InputError.at(file, line, 1, f"bad port range {text!r}", "PORT or LOW-HIGH") from None
    if not (0 <= a <= b <= 65535):
        raise InputError.at(file, line, 1, f"bad port range {text!r}", "0 <= LOW <= HIGH <= 65535")
    return (a, b)


def port_services(protocol: int, ranges: tuple[str, ...] | list[str], file: str, line: int,
                  name: str = "") -> list[Service]:
    """``80 443 1000-2000:1024-65535`` -> one Service per ``dst[:src]`` range, named ``name``."""
    out = []
    for item in ranges:
        dst_text, _, src_text = item.partition(":")
        dst = _port_range(dst_text, file, line)
        src = (_port_range(src_text, file, line),) if src_text else ()
        out.append(Service(protocol, src, (dst,), None, None, name))
    return out


def _small_int(setting: Setting, file: str, limit: int) -> int:
    try:
        value = int(setting.first)
    except ValueError:
        value = -1
    if not 0 <= value <= limit:
        raise InputError.at(file, setting.line, 1, f"bad number {setting.first!r}", f"0..{limit}")
    return value


def custom_service(name: str, attrs: dict[str, Setting], file: str) -> ServiceValue:
    """Interpret one ``config firewall service custom`` entry (attributes already replayed)."""
    protocol_setting = attrs.get("protocol")
    protocol = protocol_setting.first.upper() if protocol_setting else "TCP/UDP/SCTP"
    loose: list[str] = []
    for key in ("iprange", "fqdn"):
        value = attrs.get(key)
        if value and value.first not in ("", "0.0.0.0"):
            loose.append(f"service {name!r} is limited to destination {key} {value.first}, not modelled")
    unknown = sorted(k for k in attrs if k not in HARMLESS_SERVICE_KEYS and k not in ("iprange", "fqdn"))
    loose += [f"service {name!r} sets {key!r}, not modelled" for key in unknown]
    services: list[Service] = []
    if protocol.startswith("TCP/UDP"):
        for key, proto in PORT_KEYS.items():
            if key in attrs:
                services += port_services(proto, attrs[key].values, file, attrs[key].line, name)
        if not services:
            return ServiceValue((), (f"service {name!r} has no port range",), tuple(loose))
    elif protocol in ("ICMP", "ICMP6"):
        kind = "icmptype"
        icmp_type = _small_int(attrs[kind], file, 255) if kind in attrs else None
        icmp_code = _small_int(attrs["icmpcode"], file, 255) if "icmpcode" in attrs else None
        proto = ICMP if protocol == "ICMP" else ICMPV6
        services.append(Service(protocol=proto, icmp_type=icmp_type, icmp_code=icmp_code, name=name))
    elif protocol == "IP" or protocol == "ALL":
        number = _small_int(attrs["protocol-number"], file, 255) if "protocol-number" in attrs else 0
        services.append(Service(protocol=number or None, name=name))
    else:
        return ServiceValue((), (f"service {name!r} uses protocol {protocol}, decided outside the packet",))
    return ServiceValue(tuple(services), (), tuple(loose))
