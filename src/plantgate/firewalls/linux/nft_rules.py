"""The meaning of one nftables rule (``ip saddr @ot tcp dport { 502, 20000 } ct state new accept``).

Kept apart from table/chain assembly in ``nftables``: this is where selectors, anonymous
and named sets, ``!=`` negation, conntrack states, verdicts and the widening of unknown
expressions are decided.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from plantgate.errors import InputError
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.linux.chains import InterfaceName, InterfaceTerm, Verdict
from plantgate.firewalls.linux.iptables_spec import CONNTRACK_STATES, NEW_FLOW_STATES
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
from plantgate.firewalls.linux.nat_rules import NatTarget
from plantgate.firewalls.linux.nft_syntax import NftSet, NftToken, Statement
from plantgate.firewalls.ruleset import (
    ANY_V4,
    ANY_V6,
    ICMP,
    ICMPV6,
    PORT_PROTOCOLS,
    SCTP,
    TCP,
    UDP,
    AddressSet,
    IPNetwork,
    ParseWarning,
    PortRange,
    Service,
    SourceSpan,
    address_range,
)

PORT_SELECTORS = {"tcp": (TCP,), "udp": (UDP,), "sctp": (SCTP,), "th": (TCP, UDP, SCTP)}
IFACE_SELECTORS = ("iifname", "oifname", "iif", "oif")
VERDICTS = {"accept": Verdict.ACCEPT, "drop": Verdict.DROP, "reject": Verdict.REJECT, "return": Verdict.RETURN,
            "continue": Verdict.CONTINUE, "queue": Verdict.QUEUE, "jump": Verdict.JUMP, "goto": Verdict.GOTO}
STATEMENT_WORDS = frozenset({"counter", "log", "comment", "limit", "notrack", "masquerade", "snat", "dnat",
                             "redirect", *VERDICTS})
START_WORDS = frozenset({"ip", "ip6", "meta", "tcp", "udp", "sctp", "th", "icmp", "icmpv6", "ct", *IFACE_SELECTORS,
                         *STATEMENT_WORDS})
SET_KINDS = {"ipv4_addr": "address-set", "ipv6_addr": "address-set", "inet_service": "service-set",
             "inet_proto": "protocol-set", "ifname": "interface-set", "ct_state": "state-set"}


@dataclass
class SetInfo:
    kind: str
    span: SourceSpan
    members: tuple[str, ...]
    known: bool  # False: contents decided at run time


@dataclass
class RuleDraft:
    span: SourceSpan
    match: Match | None
    in_term: InterfaceTerm | None
    out_term: InterfaceTerm | None
    verdict: Verdict
    target: str = ""
    target_column: int = 0
    comment: str = ""
    nat: NatTarget | None = None


def read_set(nft_set: NftSet, file: str) -> SetInfo:
    kind, members, known = "set", [], False
    end = max([nft_set.header.line] + [s.end_line for s in nft_set.statements])
    for stmt in nft_set.statements:
        words = [t.text for t in stmt.tokens]
        if words[0] in ("type", "typeof"):
            kind = SET_KINDS.get(words[1], "set") if len(words) == 2 else "set"
        elif words[0] == "flags" and any(w in ("dynamic", "timeout") for w in words):
            known = False
            members.append("<dynamic>")
        elif words[0] == "elements":
            members.extend(t.unquoted for t in stmt.tokens[2:] if t.text not in "{},=")
            known = "<dynamic>" not in members
    span = SourceSpan(file, nft_set.header.line, end, nft_set.header_text)
    return SetInfo(kind, span, tuple(m for m in members if m != "<dynamic>"), known and kind != "set")


@dataclass
class _State:
    family: str
    sets: dict[str, SetInfo]
    file: str
    universe: AddressSet
    reasons: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    sources: AddressSet | None = None
    destinations: AddressSet | None = None
    protocols: set[int] | None = None
    not_protocols: set[int] = field(default_factory=set)
    src_ports: tuple[PortRange, ...] | None = ()
    dst_ports: tuple[PortRange, ...] | None = ()
    icmp: list[tuple[int, int | None]] | None = None
    icmp_negate: bool = False
    return_only: bool = False
    empty: bool = False
    in_term: InterfaceTerm | None = None
    out_term: InterfaceTerm | None = None

    def error(self, tok: NftToken, message: str, expected: str) -> InputError:
        return InputError.at(self.file, tok.line, tok.column, message, expected)

    def restrict_family(self, version: int) -> None:
        fam = AddressSet((ANY_V4,) if version == 4 else (ANY_V6,))
        self.sources = _and(self.sources or self.universe, fam)
        if self.sources is None:
            self.empty = True

    def protocols_in(self, allowed: set[int]) -> None:
        self.protocols = allowed if self.protocols is None else self.protocols & allowed
        if not self.protocols:
            self.empty = True


def _and(a: AddressSet, b: AddressSet) -> AddressSet | None:
    return intersect_addresses(a, b)


def _value(toks: list[NftToken], i: int, st: _State) -> tuple[list[NftToken], str, int]:
    """A value at ``toks[i]``: its element tokens, the named set (if any) and the next index."""
    if i >= len(toks):
        raise st.error(toks[-1], "value missing", "a value, { set } or @set")
    if toks[i].text == "@":
        if i + 1 >= len(toks) or toks[i + 1].text not in st.sets:
            raise st.error(toks[i], f"unknown set @{toks[i + 1].text if i + 1 < len(toks) else ''}",
                           "a set defined in this table")
        return [], toks[i + 1].text, i + 2
    if toks[i].text == "{":
        j = i + 1
        elements: list[NftToken] = []
        while j < len(toks) and toks[j].text != "}":
            if toks[j].text != ",":
                elements.append(toks[j])
            j += 1
        return elements, "", j + 1
    items = [toks[i]]
    j = i + 1
    while j + 1 < len(toks) and toks[j].text == ",":  # ct state established,related
        items.append(toks[j + 1])
        j += 2
    return items, "", j


def _elements(items: list[NftToken], set_name: str, st: _State) -> list[tuple[str, NftToken | None]]:
    if set_name:
        info = st.sets[set_name]
        st.refs.append(f"@{set_name}")
        if not info.known:
            st.reasons.append(f"set @{set_name} is filled at run time")
        return [(m, None) for m in info.members]
    return [(t.unquoted, t) for t in items]


def _networks(values: list[tuple[str, NftToken | None]], st: _State, at: NftToken) -> tuple[IPNetwork, ...]:
    nets: list[IPNetwork] = []
    for text, tok in values:
        try:
            if "-" in text:
                first, last = text.split("-", 1)
                nets.extend(address_range(first, last))
            else:
                nets.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise st.error(tok or at, f"bad address {text!r}", "an IP address, CIDR or a-b range") from exc
    return tuple(nets)


def _ports(values: list[tuple[str, NftToken | None]], st: _State, at: NftToken) -> tuple[PortRange, ...]:
    out: list[PortRange] = []
    for text, tok in values:
        low_text, _, high_text = text.partition("-")
        low, high = port_number(low_text), port_number(high_text or low_text)
        if low is None or high is None or low > high:
            raise st.error(tok or at, f"bad port {text!r}", "a port 0-65535, a range a-b or a service name")
        out.append((low, high))
    return normalise_ports(out)


MAP_PERMITS = frozenset({"accept", "jump", "goto", "queue"})


def _selector_start(toks: list[NftToken], k: int) -> int:
    """Where the selector (or concatenation of selectors) ending before ``toks[k]`` starts."""
    start = k
    while start > 0:
        start -= 1
        if toks[start].text in START_WORDS and (start == 0 or toks[start - 1].text != "."):
            return start
    return 0


def _value_end(toks: list[NftToken], k: int) -> int:
    """The index after the value that follows a concatenation or ``vmap`` at ``toks[k]``."""
    i = k + 1
    while i < len(toks):
        text = toks[i].text
        if text == "{":
            depth = 0
            while i < len(toks):
                depth += {"{": 1, "}": -1}.get(toks[i].text, 0)
                i += 1
                if depth == 0:
                    return i
            return i
        if text.startswith("@"):
            return i + 1
        if text in STATEMENT_WORDS and text not in ("queue",):
            return i
        i += 1
    return i


def _without_unmodelled(toks: list[NftToken], st: _State) -> tuple[list[NftToken], Verdict | None]:
    """The rule's tokens without verdict maps and concatenations, which are widened and reported.

    A concatenation (``ip saddr . tcp dport { ... }``) is matched as anything. A verdict map
    (``ip saddr vmap { ... : accept, ... : drop }``) is taken as accept when any of its verdicts
    (or a named map's, which are not read) may accept, else as drop; either way the rule is uncertain.
    """
    verdict: Verdict | None = None
    k = 0
    while k < len(toks):
        text = toks[k].text
        if text not in (".", "vmap", "map"):
            k += 1
            continue
        start, end = _selector_start(toks, k), _value_end(toks, k)
        words = {t.text.rstrip(",") for t in toks[k:end]}
        if text == "." and "vmap" not in words:
            st.reasons.append("concatenation '" + " ".join(t.text for t in toks[start:end]) + "' matched as anything")
        else:
            named = any(t.text.startswith("@") for t in toks[k:end])
            verdict = Verdict.ACCEPT if named or words & MAP_PERMITS else Verdict.DROP
            st.reasons.append("verdict map '" + " ".join(t.text for t in toks[start:end][:12])
                              + f"' not modelled; taken as {verdict.value}")
        toks = toks[:start] + toks[end:]
        k = start
    return toks, verdict


def interpret_rule(stmt: Statement, family: str, sets: dict[str, SetInfo], file: str,
                   warnings: list[ParseWarning]) -> RuleDraft:
    """One rule statement to a draft (interfaces still unresolved)."""
    universe = AddressSet(tuple(n for n, f in ((ANY_V4, "ip"), (ANY_V6, "ip6")) if family in (f, "inet")))
    st = _State(family, sets, file, universe)
    toks, map_verdict = _without_unmodelled(stmt.tokens, st)
    span = SourceSpan(file, stmt.line, stmt.end_line, stmt.text)
    verdict, target, target_col, comment = map_verdict or Verdict.CONTINUE, "", 0, ""
    i = 0
    while i < len(toks):
        word = toks[i].text
        nxt = toks[i + 1].text if i + 1 < len(toks) else ""
        if word == "meta" and nxt in (*IFACE_SELECTORS, "l4proto", "nfproto", "protocol"):
            i, word = i + 1, nxt
            nxt = toks[i + 1].text if i + 1 < len(toks) else ""
        if word in VERDICTS:
            verdict = VERDICTS[word]
            i += 1
            if verdict in (Verdict.JUMP, Verdict.GOTO):
                if i >= len(toks):
                    raise st.error(toks[i - 1], f"{word} needs a chain name", f"{word} CHAIN")
                target, target_col = toks[i].unquoted, toks[i].column
                i += 1
            if verdict is Verdict.REJECT and i < len(toks) and toks[i].text == "with":
                i += 3 if i + 1 < len(toks) and toks[i + 1].text == "tcp" else 4  # with tcp reset | icmp type X
            while i < len(toks) and toks[i].text not in START_WORDS:  # queue num ..., flags ...
                i += 1
            continue
        if word == "comment" and nxt:
            comment = toks[i + 1].unquoted
            i += 2
            continue
        if word in ("counter", "log", "notrack"):
            i += 1
            while i < len(toks) and toks[i].text not in START_WORDS:
                i += 1
            continue
        if word in ("meta", "ct") and i + 2 < len(toks) and toks[i + 2].text == "set":
            i += 4  # a side effect such as "meta mark set 1": matches everything
            continue
        negate = False
        j = i + (1 if word in IFACE_SELECTORS or word in ("l4proto", "nfproto", "protocol") else 2)
        if j < len(toks) and toks[j].text in ("!=", "==", "eq", "ne"):
            negate = toks[j].text in ("!=", "ne")
            j += 1
        handled = _selector(word, nxt, toks, i, j, negate, st)
        if handled is None:
            start = i
            i += 1
            while i < len(toks) and toks[i].text not in START_WORDS:
                i += 1
            st.reasons.append("unknown expression '" + " ".join(t.text for t in toks[start:i]) + "'")
            continue
        i = handled
    if verdict is Verdict.QUEUE:
        st.reasons.append("queue: a userspace program decides; treated as accept")
    match = _match(st)
    if st.reasons and verdict is not Verdict.CONTINUE:
        widened = verdict in (Verdict.ACCEPT, Verdict.QUEUE, Verdict.JUMP, Verdict.GOTO)
        warnings.append(ParseWarning(file, stmt.line, "not modelled: " + "; ".join(st.reasons), stmt.text, widened))
    return RuleDraft(span, match, st.in_term, st.out_term, verdict, target, target_col, comment)


def _selector(word: str, nxt: str, toks: list[NftToken], i: int, j: int, negate: bool, st: _State) -> int | None:
    """Apply one selector; the index after it, or None when it is not one we model."""
    at = toks[i]
    if word in ("ip", "ip6") and nxt in ("saddr", "daddr"):
        items, set_name, end = _value(toks, j, st)
        nets = _networks(_elements(items, set_name, st), st, at)
        version = 4 if word == "ip" else 6
        if any(n.version != version for n in nets):
            raise st.error(at, f"{word} {nxt} with an address of the other family", f"IPv{version} addresses")
        fam = AddressSet((ANY_V4,) if version == 4 else (ANY_V6,))
        names = (f"@{set_name}",) if set_name else ()
        addresses = AddressSet(fam.include, nets, names) if negate else AddressSet(nets, names=names)
        if set_name and not st.sets[set_name].known:
            addresses = fam
        which = "sources" if nxt == "saddr" else "destinations"
        current = getattr(st, which) or st.universe
        both = _and(_and(current, fam) or AddressSet(()), addresses)
        st.empty = st.empty or both is None
        setattr(st, which, both)
        return end
    if (word, nxt) in (("ip", "protocol"), ("ip6", "nexthdr")) or word == "l4proto":
        if word in ("ip", "ip6"):
            st.restrict_family(4 if word == "ip" else 6)
        items, set_name, end = _value(toks, j, st)
        protos = set()
        for text, tok in _elements(items, set_name, st):
            number = protocol_number(text)
            if number is None:
                raise st.error(tok or at, f"unknown protocol {text!r}", "a protocol name or number")
            protos.add(number)
        if negate:
            st.not_protocols |= protos
        else:
            st.protocols_in(protos)
        return end
    if word in ("nfproto", "protocol"):
        items, _, end = _value(toks, j, st)
        versions = {4 if t.text in ("ipv4", "ip") else 6 for t in items}
        if len(versions) == 1 and not negate:
            st.restrict_family(versions.pop())
        elif negate and len(versions) == 1:
            st.restrict_family(10 - versions.pop())
        return end
    if word in PORT_SELECTORS and nxt in ("dport", "sport"):
        st.protocols_in(set(PORT_SELECTORS[word]))
        if word == "th":
            st.reasons.append("th ports also match UDP-Lite and DCCP (not modelled)")
        if j < len(toks) and toks[j].text in ("<", ">", "<=", ">="):
            op, tok = toks[j].text, toks[j + 1]
            port = port_number(tok.text)
            if port is None:
                raise st.error(tok, f"bad port {tok.text!r}", "a port number")
            bounds: dict[str, PortRange] = {"<": (0, port - 1), "<=": (0, port), ">": (port + 1, 65535),
                                            ">=": (port, 65535)}
            ranges: tuple[PortRange, ...] = (bounds[op],) if bounds[op][0] <= bounds[op][1] else ()
            end = j + 2
        else:
            items, set_name, end = _value(toks, j, st)
            ranges = _ports(_elements(items, set_name, st), st, at)
        if negate:
            ranges = complement_ports(ranges)
        port_attr = "dst_ports" if nxt == "dport" else "src_ports"
        now = getattr(st, port_attr)
        combined = intersect_ports(now, ranges) if now is not None and ranges else None
        st.empty = st.empty or combined is None
        setattr(st, port_attr, combined)
        return end
    if word in ("icmp", "icmpv6") and nxt == "type":
        st.protocols_in({ICMP if word == "icmp" else ICMPV6})
        table = ICMP_TYPES if word == "icmp" else ICMPV6_TYPES
        items, set_name, end = _value(toks, j, st)
        types = []
        for text, tok in _elements(items, set_name, st):
            if text in table:
                types.append(table[text])
            elif is_decimal(text) and int(text) <= 255:
                types.append((int(text), None))
            else:
                raise st.error(tok or at, f"unknown {word} type {text!r}", "an ICMP type name or number")
        st.icmp, st.icmp_negate = types, negate
        return end
    if word == "ct" and nxt == "state":
        items, set_name, end = _value(toks, j, st)
        states = {text.upper() for text, _ in _elements(items, set_name, st)}
        if states - CONNTRACK_STATES:
            raise st.error(at, f"unknown conntrack state {sorted(states - CONNTRACK_STATES)[0].lower()}",
                           "new, established, related, invalid, untracked")
        allowed = (CONNTRACK_STATES - states) if negate else states
        st.return_only = st.return_only or not (allowed & (NEW_FLOW_STATES | {"SNAT", "DNAT"}))
        return end
    if word in IFACE_SELECTORS:
        items, set_name, end = _value(toks, j, st)
        ifaces = tuple(InterfaceName(text, text[:-1], True) if text.endswith("*") and not text.endswith("\\*")
                       else InterfaceName(text, text, False) for text, _ in _elements(items, set_name, st))
        term = InterfaceTerm(ifaces, negate)
        if word.startswith("i"):
            if st.in_term is not None:
                st.reasons.append("several input interface conditions; only the last is kept")
            st.in_term = term
        else:
            if st.out_term is not None:
                st.reasons.append("several output interface conditions; only the last is kept")
            st.out_term = term
        return end
    return None


def _match(st: _State) -> Match | None:
    if st.empty:
        return None
    services = _services(st)
    if services is None:
        return None
    return Match(st.sources or st.universe, st.destinations or st.universe, services, return_only=st.return_only,
                 uncertain=tuple(dict.fromkeys(st.reasons)), object_refs=tuple(dict.fromkeys(st.refs)))


def _services(st: _State) -> ServiceSet | None:
    if st.protocols is None:
        if st.not_protocols:
            return (tuple(Service(p) for p in sorted(st.not_protocols)), True)
        return ANY_SERVICES
    protocols = sorted(st.protocols - st.not_protocols)
    if not protocols or st.src_ports is None or st.dst_ports is None:
        return None
    out: list[Service] = []
    for proto in protocols:
        if proto in PORT_PROTOCOLS:
            out.append(Service(proto, st.src_ports, st.dst_ports))
        elif st.icmp is not None and proto in (ICMP, ICMPV6):
            out.extend(_icmp_services(proto, st))
        else:
            out.append(Service(proto))
    return (tuple(out), False) if out else None


def _icmp_services(proto: int, st: _State) -> list[Service]:
    assert st.icmp is not None
    if not st.icmp_negate:
        return [Service(proto, icmp_type=t, icmp_code=c) for t, c in st.icmp]
    excluded = {t for t, c in st.icmp if c is None}
    if any(c is not None for _, c in st.icmp):
        st.reasons.append("negated ICMP type with code not modelled")
        return [Service(proto)]
    return [Service(proto, icmp_type=t) for t in range(256) if t not in excluded]
