"""One iptables rule specification (``-s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT``) to a Match.

Kept apart from the command/table handling in ``iptables`` because this is where the
packet semantics live: address lists and negation, protocol and port forms, multiport,
iprange, conntrack states, ICMP types, and the rule that anything not modelled is
recorded as a reason (the rule then widens if it permits, or stops counting if it denies).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from plantgate.errors import InputError
from plantgate.firewalls.interning import network
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.linux.chains import InterfaceName, InterfaceTerm, Verdict
from plantgate.firewalls.linux.match import (
    ANY_SERVICES,
    Match,
    ServiceSet,
    complement_ports,
    intersect_addresses,
    intersect_ports,
    normalise_ports,
)
from plantgate.firewalls.linux.names import ICMP_TYPES, ICMPV6_TYPES, port_number, protocol_number
from plantgate.firewalls.ruleset import (
    ICMP,
    ICMPV6,
    PORT_PROTOCOLS,
    AddressSet,
    IPNetwork,
    PortRange,
    Service,
    address_range,
)


class Token(NamedTuple):
    """One word of a rule and its 1-based column (a tuple: a large config has millions of them,
    and a frozen dataclass costs three times as much to make)."""

    text: str
    column: int


_WORD = re.compile(r"\S+")


def tokenize(line: str, file: str, line_no: int) -> list[Token]:
    """Split like a POSIX shell (quotes, backslashes), keeping each token's 1-based column.

    Most lines hold no quote and no backslash; they are split by one regular expression
    (``\\S`` is exactly ``not str.isspace()``). The others are read a character at a time.
    """
    if "'" not in line and '"' not in line and "\\" not in line:
        return [Token(word.group(), word.start() + 1) for word in _WORD.finditer(line)]
    return shell_tokens(line, file, line_no)


def shell_tokens(line: str, file: str, line_no: int) -> list[Token]:
    """``tokenize`` for any line, one character at a time (quotes and backslashes)."""
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        start, text, quote = i, [], ""
        while i < n and (quote or not line[i].isspace()):
            ch = line[i]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and quote == '"' and i + 1 < n and line[i + 1] in '"\\':
                    i += 1
                    text.append(line[i])
                else:
                    text.append(ch)
            elif ch in "\"'":
                quote = ch
            elif ch == "\\" and i + 1 < n:
                i += 1
                text.append(line[i])
            else:
                text.append(ch)
            i += 1
        if quote:
            raise InputError.at(file, line_no, start + 1, "unterminated quoted string", f"a closing {quote}")
        tokens.append(Token("".join(text), start + 1))
    return tokens


CONNTRACK_STATES = frozenset({"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT"})
NEW_FLOW_STATES = frozenset({"NEW", "UNTRACKED"})
MODELLED_MODULES = frozenset({"tcp", "udp", "sctp", "icmp", "icmp6", "icmpv6", "multiport", "iprange",
                              "state", "conntrack", "comment"})
NON_TERMINATING_TARGETS = frozenset({
    "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "CLASSIFY", "DSCP", "TOS", "TCPMSS", "TTL", "HL", "SET",
    "TRACE", "AUDIT", "CHECKSUM", "SECMARK", "CONNSECMARK", "IDLETIMER", "LED", "RATEEST", "CT",
    "NOTRACK", "TEE",
})
UNCERTAIN_TARGETS = frozenset({"TARPIT", "SYNPROXY", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP",
                               "TPROXY", "CLUSTERIP", "HMARK"})
VERDICT_TARGETS = {"ACCEPT": Verdict.ACCEPT, "DROP": Verdict.DROP, "REJECT": Verdict.REJECT,
                   "RETURN": Verdict.RETURN, "QUEUE": Verdict.QUEUE, "NFQUEUE": Verdict.QUEUE}
SHORT_OPTIONS = {"-s": "--source", "-d": "--destination", "-p": "--protocol", "-i": "--in-interface",
                 "-o": "--out-interface", "-j": "--jump", "-g": "--goto", "-m": "--match", "-f": "--fragment",
                 "-c": "--set-counters", "--src": "--source", "--dst": "--destination",
                 "--destination-port": "--dport", "--source-port": "--sport",
                 "--destination-ports": "--dports", "--source-ports": "--sports"}
VALUE_OPTIONS = frozenset({"--source", "--destination", "--protocol", "--in-interface", "--out-interface",
                           "--jump", "--goto", "--match", "--dport", "--sport", "--dports", "--sports", "--ports",
                           "--src-range", "--dst-range", "--state", "--ctstate", "--icmp-type",
                           "--icmpv6-type", "--comment"})
_HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*$")


@dataclass
class Option:
    name: str
    value: str
    column: int
    negate: bool


@dataclass
class RuleSpec:
    """The parsed options of one rule, before interface names are mapped to zones."""

    options: list[Option] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    target: str = ""
    target_column: int = 0
    goto: bool = False
    family_only: int = 0
    key: tuple[str, ...] = ()
    target_options: list[Option] = field(default_factory=list)
    """Options after the target (``--to-destination 10.0.0.5:502``), read by the target's own reader."""

    def get(self, name: str) -> list[Option]:
        return [o for o in self.options if o.name == name]


def parse_spec(tokens: list[Token]) -> RuleSpec:
    """Group the tokens of a rule specification into options (no semantics yet)."""
    spec = RuleSpec(key=tuple(t.text for t in tokens))
    i, negate, after_target = 0, False, False
    while i < len(tokens):
        tok = tokens[i]
        name = SHORT_OPTIONS.get(tok.text, tok.text)
        i += 1
        if tok.text == "!":
            negate = True
            continue
        if name in ("-4", "--ipv4", "-6", "--ipv6"):
            spec.family_only = 4 if "4" in name else 6
            continue
        if name == "--fragment":
            spec.unknown.append(("! " if negate else "") + "-f (fragment match)")
            negate = False
            continue
        if name == "--set-counters":
            i += 2
            continue
        if name in ("--syn",):
            spec.options.append(Option(name, "", tok.column, negate))
            negate = False
            continue
        if name in VALUE_OPTIONS:
            if i >= len(tokens):
                raise _missing(tok)
            value = tokens[i]
            i += 1
            if value.text == "!" and i < len(tokens):  # legacy form: --dport ! 22
                negate, value = True, tokens[i]
                i += 1
            if name == "--match":
                spec.modules.append(value.text)
            elif name in ("--jump", "--goto"):
                spec.target, spec.target_column, spec.goto = value.text, value.column, name == "--goto"
                after_target = True
            else:
                spec.options.append(Option(name, value.text, value.column, negate))
            negate = False
            continue
        if not name.startswith("-"):
            raise InputError.at("", 0, tok.column, f"unexpected word {tok.text!r} in rule", "an option")
        values = []
        while i < len(tokens) and (not tokens[i].text.startswith("-") or is_decimal(tokens[i].text[1:])) \
                and tokens[i].text != "!":
            values.append(tokens[i].text)
            i += 1
        if not after_target:
            spec.unknown.append(" ".join([("! " if negate else "") + tok.text, *values]))
        else:
            spec.target_options.append(Option(name, " ".join(values), tok.column, negate))
        negate = False
    return spec


def _missing(tok: Token) -> InputError:
    return InputError.at("", 0, tok.column, f"option {tok.text} needs a value", f"a value after {tok.text}")


def _port_ranges(text: str, column: int, separator: str = ",") -> tuple[PortRange, ...]:
    ranges: list[PortRange] = []
    for item in text.split(separator):
        low_text, colon, high_text = item.partition(":")
        low = port_number(low_text) if low_text else 0
        high = (port_number(high_text) if high_text else 65535) if colon else low
        if low is None or high is None:
            raise InputError.at("", 0, column, f"bad port {item!r}",
                                "a port number 0-65535, a range a:b or a service name")
        if low > high:
            raise InputError.at("", 0, column, f"port range {item!r} has min > max", "a:b with a <= b")
        ranges.append((low, high))
    return normalise_ports(ranges)


class SpecTranslator:
    """Turns a RuleSpec into a Match for one address family."""

    def __init__(self, family: int) -> None:
        self.family = family
        self.universe = AddressSet((ipaddress.ip_network("0.0.0.0/0" if family == 4 else "::/0"),))

    def addresses(self, spec: RuleSpec, which: str, reasons: list[str]) -> AddressSet:
        result: AddressSet | None = self.universe
        for opt in spec.get("--" + which):
            result = _and(result, self._address_list(opt, reasons))
        for opt in spec.get("--src-range" if which == "source" else "--dst-range"):
            first, dash, last = opt.value.partition("-")
            try:
                nets = address_range(first, last if dash else first)
            except ValueError as exc:
                raise InputError.at("", 0, opt.column, f"bad address range {opt.value!r}", "a.b.c.d-e.f.g.h") from exc
            self._check_family(nets, opt)
            result = _and(result, self._maybe_negated(nets, opt.negate))
        return result if result is not None else AddressSet(())

    def _address_list(self, opt: Option, reasons: list[str]) -> AddressSet:
        items = opt.value.split(",")
        if opt.negate and len(items) > 1:
            raise InputError.at("", 0, opt.column, "! not allowed with multiple addresses",
                                "a single address after !")
        nets: list[IPNetwork] = []
        for item in items:
            try:
                nets.append(network(item))
            except ValueError as exc:
                looks_like_name = _HOST_NAME.match(item) and not is_decimal(item.replace(".", ""))
                if "/" not in item and ":" not in item and looks_like_name:
                    reasons.append(f"host name {item} is resolved when the rule is loaded")
                    return self.universe
                base, _, mask = item.partition("/")
                if mask.count(".") == 3:
                    try:
                        ipaddress.ip_address(base), ipaddress.ip_address(mask)
                        reasons.append(f"non-contiguous netmask {item}")
                        return self.universe
                    except ValueError:
                        pass
                raise InputError.at("", 0, opt.column, f"bad address {item!r}",
                                    "an IP address, CIDR or address/netmask") from exc
        self._check_family(nets, opt)
        return self._maybe_negated(tuple(nets), opt.negate)

    def _check_family(self, nets: tuple[IPNetwork, ...] | list[IPNetwork], opt: Option) -> None:
        for net in nets:
            if net.version != self.family:
                tool = "iptables" if self.family == 4 else "ip6tables"
                raise InputError.at("", 0, opt.column, f"IPv{net.version} address {net} in an {tool} ruleset",
                                    f"IPv{self.family} addresses only")

    def _maybe_negated(self, nets: tuple[IPNetwork, ...], negate: bool) -> AddressSet:
        return AddressSet(self.universe.include, nets) if negate else AddressSet(nets)

    def services(self, spec: RuleSpec, reasons: list[str]) -> ServiceSet | None:
        """The service part; ``None`` when the port conditions contradict each other."""
        protos = spec.get("--protocol")
        port_opts = [o for o in spec.options if o.name in ("--dport", "--sport", "--dports", "--sports", "--ports")]
        icmp_opts = spec.get("--icmp-type") + spec.get("--icmpv6-type")
        protocol: int | None = None
        negate = False
        if protos:
            opt = protos[-1]
            number = protocol_number(opt.value)
            if number is None:
                if opt.value.lower() != "all":
                    reasons.append(f"unknown protocol name {opt.value}")
                    return ANY_SERVICES
                number = 0
            protocol, negate = (number or None), opt.negate
        first = (port_opts + icmp_opts)[0] if port_opts or icmp_opts else None
        if first is not None and (protocol is None or negate):
            raise InputError.at("", 0, first.column, f"{first.name} needs a protocol",
                                "-p tcp|udp|sctp (not negated) before ports, -p icmp before --icmp-type")
        if protocol is None:
            return ANY_SERVICES
        if negate:
            return ((Service(protocol),), True)
        if icmp_opts:
            return self._icmp(protocol, icmp_opts[-1], reasons)
        if not port_opts:
            return ((Service(protocol),), False)
        if protocol not in PORT_PROTOCOLS:
            reasons.append(f"port match for protocol {protocol} not modelled")
            return ((Service(protocol),), False)
        src: tuple[PortRange, ...] | None = ()
        dst: tuple[PortRange, ...] | None = ()
        either: list[tuple[PortRange, ...]] = []
        for opt in port_opts:
            ranges = _port_ranges(opt.value, opt.column)
            if opt.name in ("--dports", "--sports", "--ports") and len(opt.value.split(",")) > 15:
                reasons.append(f"multiport list longer than iptables accepts (15): {opt.value}")
            if opt.negate:
                ranges = complement_ports(ranges)
                if not ranges:
                    return None
            if opt.name == "--ports":
                either.append(ranges)
            elif opt.name in ("--dport", "--dports"):
                dst = intersect_ports(dst or (), ranges) if dst is not None else None
            else:
                src = intersect_ports(src or (), ranges) if src is not None else None
        if src is None or dst is None:
            return None
        services = [Service(protocol, src, dst)]
        for ranges in either:
            nxt = []
            for svc in services:
                for s_ports, d_ports in ((intersect_ports(svc.src_ports, ranges), svc.dst_ports),
                                         (svc.src_ports, intersect_ports(svc.dst_ports, ranges))):
                    if s_ports is not None and d_ports is not None:
                        nxt.append(Service(protocol, s_ports, d_ports))
            services = list(dict.fromkeys(nxt))
        return (tuple(services), False) if services else None

    def _icmp(self, protocol: int, opt: Option, reasons: list[str]) -> ServiceSet:
        v6 = opt.name == "--icmpv6-type"
        table = ICMPV6_TYPES if v6 else ICMP_TYPES
        if protocol != (ICMPV6 if v6 else ICMP):
            raise InputError.at("", 0, opt.column, f"{opt.name} needs -p {'icmpv6' if v6 else 'icmp'}",
                                f"-p {'icmpv6' if v6 else 'icmp'} before {opt.name}")
        if opt.value in table:
            icmp_type, code = table[opt.value]
        else:
            type_text, _, code_text = opt.value.partition("/")
            if not is_decimal(type_text) or (code_text and not is_decimal(code_text)) \
                    or int(type_text) > 255 or (code_text and int(code_text) > 255):
                raise InputError.at("", 0, opt.column, f"bad ICMP type {opt.value!r}", "a type name, N or N/M")
            icmp_type, code = int(type_text), (int(code_text) if code_text else None)
        if icmp_type < 0:
            return ((Service(protocol),), False) if not opt.negate else ((Service(protocol),), True)
        if not opt.negate:
            return ((Service(protocol, icmp_type=icmp_type, icmp_code=code),), False)
        if code is not None:
            reasons.append(f"negated ICMP type with code {opt.value} not modelled")
            return ((Service(protocol),), False)
        return (tuple(Service(protocol, icmp_type=t) for t in range(256) if t != icmp_type), False)

    def state(self, spec: RuleSpec, reasons: list[str]) -> bool:
        """True when the rule matches no packet that opens a new session (return traffic only).

        A rule matching only INVALID packets is treated the same way: a new session's first
        packet is NEW (or UNTRACKED), never INVALID, so such a rule cannot take a new flow.
        """
        allowed = set(CONNTRACK_STATES)
        for opt in spec.get("--state") + spec.get("--ctstate"):
            states = {s.upper() for s in opt.value.split(",")}
            bad = states - CONNTRACK_STATES
            if bad:
                raise InputError.at("", 0, opt.column, f"unknown conntrack state {sorted(bad)[0]}",
                                    ", ".join(sorted(CONNTRACK_STATES)))
            allowed &= (CONNTRACK_STATES - states) if opt.negate else states
        if allowed & NEW_FLOW_STATES:
            return False
        if allowed & {"SNAT", "DNAT"}:
            reasons.append("conntrack SNAT/DNAT state match not modelled")
            return False
        return True

    def interface(self, spec: RuleSpec, which: str) -> InterfaceTerm | None:
        opts = spec.get(which)
        if not opts:
            return None
        opt = opts[-1]
        text = opt.value
        name = InterfaceName(text, text[:-1], True) if text.endswith("+") else InterfaceName(text, text, False)
        return InterfaceTerm((name,), opt.negate)

    def match(self, spec: RuleSpec) -> tuple[Match | None, list[str]]:
        """The rule's Match (zones unset) and the unmodelled constructs; None if it never matches."""
        reasons = list(spec.unknown)
        for module in spec.modules:
            if module not in MODELLED_MODULES:
                reasons.append(f"match module {module} not modelled")
        protos = [o.value for o in spec.get("--protocol") if not o.negate]
        for module in spec.modules:
            if module in ("tcp", "udp", "sctp") and module not in protos:
                reasons.append(f"-m {module} without -p {module} (iptables rejects it)")
        sources = self.addresses(spec, "source", reasons)
        destinations = self.addresses(spec, "destination", reasons)
        services = self.services(spec, reasons)
        # "! --syn" takes only non-SYN TCP segments: no new session starts with one.
        return_only = self.state(spec, reasons) or any(o.negate for o in spec.get("--syn"))
        if services is None or not sources.include or not destinations.include:
            return None, reasons
        return Match(sources, destinations, services, return_only=return_only,
                     uncertain=tuple(dict.fromkeys(reasons))), reasons


def _and(a: AddressSet | None, b: AddressSet) -> AddressSet | None:
    return None if a is None else intersect_addresses(a, b)
