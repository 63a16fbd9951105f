"""PAN-OS built-ins that a config refers to without defining: services and App-ID default ports.

A security rule with ``service application-default`` permits each listed application
only on that application's standard ports. Those ports live in the firewall's content
database, not in the config, so PlantGate keeps a small table of the applications that
matter at an OT/IT boundary.

Source: Palo Alto Networks Applipedia (https://applipedia.paloaltonetworks.com/),
"Standard Ports" of each application. Where Applipedia lists several ports or both TCP
and UDP, all are listed here: for a permit rule a larger set is the safe direction. An
application NOT in this table is never guessed: the parser widens the rule to any
service, marks it uncertain and warns. Extend the table only from Applipedia.

Predefined service objects (``service-http``, ``service-https``) are those shipped in
PAN-OS ``predefined/service``: TCP 80 and 8080, and TCP 443.
"""

from __future__ import annotations

from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.panos.xml_syntax import PanNode
from plantgate.firewalls.ruleset import ICMP, ICMPV6, TCP, UDP, PortRange, Service


def _ports(protocol: int, *ports: int | PortRange) -> Service:
    ranges = tuple(p if isinstance(p, tuple) else (p, p) for p in ports)
    return Service(protocol=protocol, dst_ports=ranges)


#: Predefined service objects of PAN-OS (``predefined/service``).
PREDEFINED_SERVICES: dict[str, tuple[Service, ...]] = {
    "service-http": (Service(TCP, dst_ports=((80, 80), (8080, 8080)), name="service-http"),),
    "service-https": (Service(TCP, dst_ports=((443, 443),), name="service-https"),),
}

#: App-ID name -> the services ``application-default`` allows for it (Applipedia standard ports).
APP_DEFAULT_SERVICES: dict[str, tuple[Service, ...]] = {
    "ssl": (_ports(TCP, 443),),
    "web-browsing": (_ports(TCP, 80),),
    "ssh": (_ports(TCP, 22),),
    "dns": (_ports(TCP, 53), _ports(UDP, 53)),
    "ntp": (_ports(UDP, 123),),
    "modbus": (_ports(TCP, 502),),
    "dnp3": (_ports(TCP, 20000), _ports(UDP, 20000)),
    "bacnet": (_ports(UDP, 47808),),
    "iec-60870-5-104": (_ports(TCP, 2404),),
    "ms-rdp": (_ports(TCP, 3389), _ports(UDP, 3389)),
    "snmp": (_ports(UDP, 161, 162),),
    "ldap": (_ports(TCP, 389), _ports(UDP, 389)),
    "ms-ds-smb": (_ports(TCP, 139, 445),),
    "bgp": (_ports(TCP, 179),),
    "syslog": (_ports(UDP, 514), _ports(TCP, 514)),
    "ping": (Service(ICMP, icmp_type=8), Service(ICMPV6, icmp_type=128)),
    "icmp": (Service(ICMP),),
    "ipv6-icmp": (Service(ICMPV6),),
}

PROTOCOL_NAMES: dict[str, int] = {"tcp": TCP, "udp": UDP}


def custom_app_default_services(default: PanNode | None) -> tuple[Service, ...] | None:
    """Services of a custom application's ``<default>``: ``port`` specs (``tcp/502``,
    ``udp/53,67``), ``ident-by-ip-protocol`` or ``ident-by-icmp-type``/``ident-by-icmp6-type``.

    None when the default cannot be read exactly (``tcp/dynamic``, nothing given): the
    caller widens instead of guessing.
    """
    if default is None:
        return None
    if is_decimal(protocol := default.text("ident-by-ip-protocol")) and int(protocol) <= 255:
        return (Service(int(protocol)),)
    for tag, icmp in (("ident-by-icmp-type", ICMP), ("ident-by-icmp6-type", ICMPV6)):
        if (node := default.child(tag)) is not None:
            icmp_type, code = node.text("type"), node.text("code")
            if not is_decimal(icmp_type) or (code and not is_decimal(code)):
                return None
            return (Service(icmp, icmp_type=int(icmp_type), icmp_code=int(code) if code else None),)
    services: list[Service] = []
    for spec in default.members("port") or []:
        proto_text, _, ports_text = spec.partition("/")
        protocol_number = PROTOCOL_NAMES.get(proto_text.strip().lower())
        if protocol_number is None or not ports_text:
            return None
        ranges: list[PortRange] = []
        for part in ports_text.split(","):
            low, _, high = part.strip().partition("-")
            if not is_decimal(low) or (high and not is_decimal(high)):
                return None
            first, last = int(low), int(high or low)
            if not 0 <= first <= last <= 65535:
                return None
            ranges.append((first, last))
        services.append(Service(protocol_number, dst_ports=tuple(ranges)))
    return tuple(services) if services else None
