"""nftables NAT statements (``dnat``, ``snat``, ``masquerade``, ``redirect``) as translations.

Forms read, from the nftables wiki ("Performing Network Address Translation") and nft(8):
``dnat to 10.0.0.1``, ``dnat 10.0.0.1`` (older form), ``dnat ip to 10.0.0.1:80`` (family
qualifier, needed in inet tables), ``dnat ip6 to [2001:db8::1]:80``, ``snat ip to
10.0.0.4-10.0.0.127`` and ``snat ip to 10.0.0.2/31`` (pools), ports ``:1000-2000``, ``snat ip
prefix to 10.99.0.0/24`` (prefix mapping keeping the host bits), ``masquerade [to :ports]``,
``redirect [to :port]``, and the flags ``random``, ``fully-random``, ``persistent`` (which only
choose among the same addresses). Maps (``dnat to ip daddr map { ... }``), number generators,
variables and anything else widen the rewritten end to any address and port, with a reason.
"""

from __future__ import annotations

import ipaddress

from plantgate.firewalls.linux.iptables_nat import address_pool, any_address, port_mapping, port_range
from plantgate.firewalls.linux.nat_rules import NatTarget
from plantgate.firewalls.linux.nft_syntax import NftToken
from plantgate.firewalls.nat import AddressMapping, PortMapping, Translation
from plantgate.firewalls.ruleset import ANY_ADDRESS, AddressSet

NAT_WORDS = frozenset({"dnat", "snat", "masquerade", "redirect"})
FLAGS = frozenset({"random", "fully-random", "persistent", ","})
TABLE_FAMILY = {"ip": 4, "ip6": 6}


def nat_statement_at(tokens: list[NftToken]) -> int | None:
    """Where a rule's NAT statement starts (not the ``dnat`` of a ``ct status dnat`` match), or None."""
    for k, token in enumerate(tokens):
        if token.text in NAT_WORDS and (k == 0 or tokens[k - 1].text not in ("status", ",", "{")):
            return k
    return None


def _anything(family: int) -> Translation:
    return Translation(AddressMapping(pool=any_address(family)), PortMapping((0, 65535)))


def _split(text: str, family: int) -> tuple[str, str]:
    """``addr[:ports]``, ``[v6addr]:ports`` or ``:ports`` to (addresses, ports)."""
    if text.startswith("["):
        addr, _, rest = text[1:].partition("]")
        return addr, rest[1:] if rest.startswith(":") else rest
    if family == 6 or text.count(":") > 1:
        return text, ""
    addr, _, ports = text.partition(":")
    return addr, ports


def _family_of(text: str, table_family: int | None) -> int:
    if table_family is not None:
        return table_family
    return 6 if text.startswith("[") or text.count(":") > 1 else 4


def nft_nat_target(tokens: list[NftToken], table: str) -> NatTarget:
    """The translation of the NAT statement ``tokens`` (starting at its keyword) in a table of family ``table``."""
    word, reasons = tokens[0].text, list[str]()
    family = TABLE_FAMILY.get(table)
    rest = [t.text for t in tokens[1:] if t.text not in FLAGS]
    if rest and rest[0] in ("ip", "ip6"):
        family, rest = TABLE_FAMILY[rest[0]], rest[1:]
    prefix_map = bool(rest) and rest[0] == "prefix"
    if prefix_map:
        rest = rest[1:]
    if rest and rest[0] == "to":
        rest = rest[1:]
    value = rest[0] if len(rest) == 1 else None
    if word in ("masquerade", "redirect"):
        return _interface_address(word, rest, value, family, reasons)
    if value is None or value.startswith("$") or value.startswith("@"):
        what = " ".join(rest) or "nothing"
        reasons.append(f"{word} to {what}: not modelled (map, variable or expression); translated to any address "
                       "and port")
        return _target(word, _anything(family or 4), reasons)
    fam = _family_of(value, family)
    addr_text, port_text = _split(value, fam)
    addresses: AddressMapping | None = None
    if addr_text:
        if prefix_map:
            try:
                network = ipaddress.ip_network(addr_text, strict=False)
                addresses = AddressMapping(prefix=network) if network.version == fam else None
            except ValueError:
                addresses = None
        else:
            pool = address_pool(addr_text, fam) if "/" not in addr_text else _network_pool(addr_text, fam)
            addresses = AddressMapping(pool=pool) if pool is not None else None
        if addresses is None:
            reasons.append(f"{word} to {value}: address not understood; translated to any address")
            addresses = AddressMapping(pool=any_address(fam))
    ports: PortMapping | None = None
    if port_text:
        ports = port_mapping(port_text, f"{word} to {value}", reasons)
    return _target(word, Translation(addresses, ports), reasons)


def _network_pool(text: str, family: int) -> AddressSet | None:
    """``snat ip to 10.0.0.2/31``: every address of the network is in the pool."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return AddressSet((network,)) if network.version == family else None


def _target(word: str, translation: Translation, reasons: list[str]) -> NatTarget:
    if word == "dnat":
        return NatTarget("dnat", destination=translation, reasons=reasons)
    return NatTarget("snat", source=translation, reasons=reasons)


def _interface_address(word: str, rest: list[str], value: str | None, family: int | None,
                       reasons: list[str]) -> NatTarget:
    """masquerade / redirect: the address is the interface's, which the config does not hold."""
    ports: PortMapping | None = None
    if rest:
        found = port_range(value[1:]) if value is not None and value.startswith(":") else None
        if found is None and value is not None and value.isdigit():
            found = port_range(value)
        if found is None:
            reasons.append(f"{word} {' '.join(rest)}: not understood; translated to any port")
            found = (0, 65535)
        ports = PortMapping(found)
    pool = AddressMapping(pool=any_address(family) if family is not None else ANY_ADDRESS)
    if word == "masquerade":
        reasons.append("masquerade: the egress interface's address is not in the config; source may become any")
        return NatTarget("masquerade", source=Translation(pool, ports), reasons=reasons)
    reasons.append("redirect: the host's own address on the ingress interface is not in the config; "
                   "destination may become any")
    return NatTarget("redirect", destination=Translation(pool, ports), to_self=True, reasons=reasons)
