"""The NAT targets of iptables' ``nat`` table (DNAT, SNAT, MASQUERADE, REDIRECT, NETMAP) as translations.

Kept apart from the match reader (``iptables_spec``): a target says what a packet becomes,
not which packets a rule takes. Per iptables-extensions(8):

* ``DNAT --to-destination [ipaddr[-ipaddr]][:port[-port]]`` and ``SNAT --to-source`` (same
  form; IPv6 addresses in brackets when a port follows); ``--random``, ``--persistent`` and
  ``--random-fully`` only choose among the same addresses and ports;
* ``MASQUERADE [--to-ports port[-port]]``: the egress interface's address, which the config
  does not hold, so the source may become any address (widened, and said so);
* ``REDIRECT [--to-ports port[-port]]``: delivered to the host itself on the ingress
  interface's address: the flow goes to the ``self`` zone, its destination any address;
* ``NETMAP --to address[/mask]``: a one-to-one prefix mapping that keeps the host bits
  (destination in PREROUTING/OUTPUT, source in POSTROUTING/INPUT).
Whatever is not understood widens to "translated to any address" with a reason.
"""

from __future__ import annotations

import ipaddress

from plantgate.firewalls.interning import network
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.linux.iptables_spec import Option, RuleSpec
from plantgate.firewalls.linux.nat_rules import NatTarget
from plantgate.firewalls.nat import AddressMapping, PortMapping, Translation
from plantgate.firewalls.ruleset import AddressSet, IPNetwork, PortRange, address_range

NAT_TARGETS = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"})
HARMLESS_OPTIONS = frozenset({"--random", "--persistent", "--random-fully"})
"""Options that only choose among the same addresses and ports: the set of outcomes is unchanged."""


def any_address(family: int) -> AddressSet:
    return AddressSet((ipaddress.ip_network("0.0.0.0/0" if family == 4 else "::/0"),))


def port_mapping(text: str, written: str, reasons: list[str]) -> PortMapping:
    """The ports ``text`` (``P`` or ``P-Q``) maps to; a text not understood maps to any port, with the reason."""
    found = port_range(text)
    if found is None:
        reasons.append(f"{written}: port not understood; translated to any port")
        found = (0, 65535)
    return PortMapping(found)


def port_range(text: str) -> PortRange | None:
    low, dash, high = text.partition("-")
    if not is_decimal(low) or (dash and not is_decimal(high)):
        return None
    first, last = int(low), int(high) if dash else int(low)
    return (first, last) if 0 <= first <= last <= 65535 else None


def address_pool(text: str, family: int) -> AddressSet | None:
    first, dash, last = text.partition("-")
    try:
        nets = address_range(first.strip("[]"), last.strip("[]") if dash else first.strip("[]"))
    except ValueError:
        return None
    if any(net.version != family for net in nets):
        return None
    return AddressSet(nets)


def _split(value: str, family: int) -> tuple[str, str]:
    """``ipaddr[-ipaddr][:port[-port]]`` to (addresses, ports); IPv6 takes the port only after ``]``."""
    if family == 6:
        if "]" in value:
            addr, _, rest = value.rpartition("]")
            return addr + "]", rest[1:] if rest.startswith(":") else rest
        return value, ""
    addr, _, ports = value.partition(":")
    return addr, ports


def _to_translation(option: Option, family: int, reasons: list[str]) -> Translation:
    """The translation of one ``--to-destination``/``--to-source`` value; widened to any when unreadable."""
    addr_text, port_text = _split(option.value, family)
    addresses: AddressMapping | None = None
    ports: PortMapping | None = None
    if addr_text:
        pool = address_pool(addr_text, family)
        if pool is None:
            reasons.append(f"{option.name} {option.value}: address not understood; translated to any address")
            pool = any_address(family)
        addresses = AddressMapping(pool=pool)
    if port_text:
        ports = port_mapping(port_text, f"{option.name} {option.value}", reasons)
    return Translation(addresses, ports)


def _merge(translations: list[Translation], reasons: list[str]) -> Translation:
    """Several ``--to-*`` options (older kernels spread over them): any of their addresses and ports."""
    if len(translations) == 1:
        return translations[0]
    reasons.append("several --to options: any of their addresses and ports")
    pools = [t.addresses.pool for t in translations if t.addresses is not None and t.addresses.pool is not None]
    addresses = AddressMapping(pool=AddressSet(tuple(n for p in pools for n in p.include))) if pools else None
    port_ranges = [t.ports.to for t in translations if t.ports is not None]
    ports = PortMapping((min(r[0] for r in port_ranges), max(r[1] for r in port_ranges))) if port_ranges else None
    if any(t.addresses is None for t in translations) and addresses is not None:
        addresses = None  # some keep the address: cannot be told apart, so keep it (the port still changes)
        reasons.append("some --to options keep the address; address treated as kept")
    return Translation(addresses, ports)


def _to_ports(spec: RuleSpec, reasons: list[str]) -> PortMapping | None:
    found = [o for o in spec.target_options if o.name == "--to-ports"]
    if not found:
        return None
    ports = port_range(found[-1].value)
    if ports is None:
        reasons.append(f"--to-ports {found[-1].value}: not understood; translated to any port")
        ports = (0, 65535)
    return PortMapping(ports)


def _unknown_options(spec: RuleSpec, known: set[str], reasons: list[str]) -> bool:
    """Report target options PlantGate does not know; True when there were any (the rewrite then widens)."""
    unknown = [o for o in spec.target_options if o.name not in known and o.name not in HARMLESS_OPTIONS]
    for option in unknown:
        reasons.append(f"{spec.target} option {option.name} {option.value}".rstrip()
                       + " not modelled; translated to any address and port")
    return bool(unknown)


def _anything(family: int) -> Translation:
    return Translation(AddressMapping(pool=any_address(family)), PortMapping((0, 65535)))


def nat_target(spec: RuleSpec, family: int) -> NatTarget:
    """The translation of a nat-table rule whose target is one of ``NAT_TARGETS``."""
    target, reasons = spec.target, list[str]()
    if target in ("DNAT", "SNAT"):
        name = "--to-destination" if target == "DNAT" else "--to-source"
        unknown = _unknown_options(spec, {name}, reasons)
        values = [o for o in spec.target_options if o.name == name]
        if unknown:
            translation = _anything(family)
        elif values:
            translation = _merge([_to_translation(o, family, reasons) for o in values], reasons)
        else:
            reasons.append(f"{target} without {name}; translated to any address")
            translation = Translation(AddressMapping(pool=any_address(family)))
        if target == "DNAT":
            return NatTarget("dnat", destination=translation, reasons=reasons)
        return NatTarget("snat", source=translation, reasons=reasons)
    if target == "MASQUERADE":
        unknown = _unknown_options(spec, {"--to-ports"}, reasons)
        reasons.append("MASQUERADE: the egress interface's address is not in the config; source may become any")
        source = Translation(AddressMapping(pool=any_address(family)), _to_ports(spec, reasons))
        return NatTarget("masquerade", source=_anything(family) if unknown else source, reasons=reasons)
    if target == "REDIRECT":
        unknown = _unknown_options(spec, {"--to-ports"}, reasons)
        reasons.append("REDIRECT: the host's own address on the ingress interface is not in the config; "
                       "destination may become any")
        destination = Translation(AddressMapping(pool=any_address(family)), _to_ports(spec, reasons))
        return NatTarget("redirect", destination=_anything(family) if unknown else destination, to_self=True,
                         reasons=reasons)
    assert target == "NETMAP"
    unknown = _unknown_options(spec, {"--to"}, reasons)
    found = [o for o in spec.target_options if o.name == "--to"]
    prefix: IPNetwork | None = None
    if found and not unknown:
        try:
            prefix = network(found[-1].value)
        except ValueError:
            prefix = None
    if prefix is None or prefix.version != family:
        if not unknown:
            reasons.append("NETMAP without a readable --to prefix; translated to any address")
        return NatTarget("netmap", netmap=AddressMapping(pool=any_address(family)), reasons=reasons)
    return NatTarget("netmap", netmap=AddressMapping(prefix=prefix), reasons=reasons)
