"""Write a ``PlantPolicy`` as a Cisco ASA running-config, a FortiGate config or a PAN-OS XML config.

Why a module of its own: the benchmark must time the real parsers on text in each
vendor's own syntax, so the abstract policy of ``plant_model`` is rendered the way each
vendor writes it. Where a vendor cannot write a construct inline (FortiGate has no inline
addresses or ports, PAN-OS no inline ports), the renderer creates the named object a
real admin would have created, once, and references it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from plant_model import GLOBAL_ACL, AddrRef, NatEntry, PlantPolicy, PolicyRule, SvcRef


def _mask(net: ipaddress.IPv4Network) -> str:
    return f"{net.network_address} {net.netmask}"


def _port(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


# ----- Cisco ASA -----


def _asa_address(ref: AddrRef) -> str:
    if ref.kind == "any":
        return "any"
    if ref.kind == "host":
        return f"host {ref.value}"
    if ref.kind == "subnet":
        return _mask(ipaddress.IPv4Network(ref.value))
    # a NAT entry is the network object of its real host or range (8.3+ ACLs name real addresses)
    return f"{'object-group' if ref.kind == 'group' else 'object'} {ref.value}"


def _asa_ace(policy: PlantPolicy, rule: PolicyRule) -> str:
    action = "permit" if rule.permit else "deny"
    src, dst, svc = _asa_address(rule.source), _asa_address(rule.destination), rule.service
    if svc.kind == "ip":
        body = f"ip {src} {dst}"
    elif svc.kind == "proto":
        body = f"{svc.protocol} {src} {dst}"
    elif svc.kind == "eq":
        body = f"{svc.protocol} {src} {dst} eq {svc.low}"
    elif svc.kind == "range":
        body = f"{svc.protocol} {src} {dst} range {svc.low} {svc.high}"
    elif svc.kind == "gt":
        body = f"{svc.protocol} {src} {dst} gt {svc.low - 1}"
    elif svc.kind == "nat":  # a port forward's real port
        body = f"{svc.protocol} {src} {dst} eq {policy.nat[svc.name].real_port}"
    elif svc.kind == "object":
        body = f"object {svc.name} {src} {dst}"
    elif svc.kind == "portgroup":
        body = f"{policy.port_groups[svc.name].protocol} {src} {dst} object-group {svc.name}"
    else:
        body = f"object-group {svc.name} {src} {dst}"
    return f"access-list {rule.acl} extended {action} {body}" + (" log" if rule.log else "")


def render_asa(policy: PlantPolicy) -> str:
    """A ``show running-config`` with interfaces, names, objects, nested groups, ACLs and access-groups."""
    out = [": Saved", ":", "ASA Version 9.16(4)", "!", f"hostname bench-asa-{policy.seed}", "names"]
    out += [f"name {address} {name}" for name, address in policy.host_names.items()]
    out.append("!")
    for zone in policy.zones:
        out += [f"interface {zone.hardware}", f" nameif {zone.name}", f" security-level {zone.level}",
                f" ip address {zone.network[1]} {zone.network.netmask}", "!"]
    for obj in policy.net_objects.values():
        out.append(f"object network {obj.name}")
        if obj.kind == "host":
            out.append(f" host {obj.first}")
        elif obj.kind == "subnet":
            out.append(f" subnet {_mask(obj.network)}")
        else:
            out.append(f" range {obj.first} {obj.last}")
    for svc in policy.service_objects.values():
        ports = f"eq {svc.low}" if svc.low == svc.high else f"range {svc.low} {svc.high}"
        out += [f"object service {svc.name}", f" service {svc.protocol} destination {ports}"]
    for group in policy.net_groups.values():
        out.append(f"object-group network {group.name}")
        out += [f" network-object {_mask(net)}" if net.prefixlen < 32 else f" network-object host {net.network_address}"
                for net in group.networks]
        out += [f" network-object object {name}" for name in group.objects]
        out += [f" group-object {name}" for name in group.groups]
    for pg in policy.port_groups.values():
        out.append(f"object-group service {pg.name} {pg.protocol}")
        out += [f" port-object eq {lo}" if lo == hi else f" port-object range {lo} {hi}" for lo, hi in pg.ports]
    for sg in policy.service_groups.values():
        out.append(f"object-group service {sg.name}")
        out += [f" service-object object {name}" for name in sg.services]
        out += [f" group-object {name}" for name in sg.groups]
    out += _asa_nat_objects(policy)
    out.append("!")
    acls: dict[str, list[str]] = {}
    for rule in policy.rules:
        acls.setdefault(rule.acl, []).append(_asa_ace(policy, rule))
    for acl, lines in acls.items():
        out.append(f"access-list {acl} remark generated rules of {acl}")
        out += lines
    out.append("!")
    out += _asa_nat(policy)
    for acl in acls:
        if acl == GLOBAL_ACL:
            out.append(f"access-group {acl} global")
        else:
            out.append(f"access-group {acl} in interface {acl.removesuffix('_in')}")
    out += ["!", "logging enable", ": end", ""]
    return "\n".join(out)


def _asa_real(entry: NatEntry) -> str:
    return f" host {entry.real.network_address}" if entry.real.prefixlen == 32 else f" subnet {_mask(entry.real)}"


def _asa_nat_objects(policy: PlantPolicy) -> list[str]:
    """The network objects of the NAT entries: the real host or range, and a twice NAT's mapped host."""
    out = []
    for entry in policy.nat.values():
        out += [f"object network {entry.name}", _asa_real(entry)]
        if entry.twice and entry.mapped is not None:
            out += [f"object network {entry.name}-mapped", f" host {entry.mapped}"]
    return out


def _asa_object_nat(entry: NatEntry) -> str:
    ifcs = f"({entry.real_zone},{entry.mapped_zone})"
    if entry.kind == "static":
        return f" nat {ifcs} static {entry.mapped}"
    if entry.kind == "port-forward":
        return f" nat {ifcs} static {entry.mapped} service {entry.protocol} {entry.real_port} {entry.mapped_port}"
    return f" nat {ifcs} dynamic {entry.mapped or 'interface'}"


def _asa_nat(policy: PlantPolicy) -> list[str]:
    """NAT as ``show running-config`` lists it: twice NAT (section 1), object NAT, after-auto twice NAT.

    A static twice NAT maps the real object to its ``-mapped`` host object; a hide twice NAT is
    ``after-auto source dynamic`` to that host (PAT) or to the interface.
    """
    first, objects, last = [], [], []
    for entry in policy.nat.values():
        ifcs = f"({entry.real_zone},{entry.mapped_zone})"
        mapped = f"{entry.name}-mapped" if entry.mapped is not None else "interface"
        if entry.twice and entry.kind == "static":
            first.append(f"nat {ifcs} source static {entry.name} {mapped}")
        elif entry.twice:
            last.append(f"nat {ifcs} after-auto source dynamic {entry.name} {mapped}")
        else:
            objects += [f"object network {entry.name}", _asa_object_nat(entry)]
    return first + objects + last + (["!"] if policy.nat else [])


# ----- FortiGate -----


class _FortiObjects:
    """Named addresses and services, including the ones created for inline rule fields."""

    def __init__(self, policy: PlantPolicy) -> None:
        self.policy = policy
        self.extra_addresses: dict[str, ipaddress.IPv4Network] = {}
        self.extra_services: dict[str, tuple[str, int, int]] = {}

    def network(self, net: ipaddress.IPv4Network) -> str:
        name = f"n-{net.network_address}-{net.prefixlen}"
        self.extra_addresses[name] = net
        return name

    def address(self, ref: AddrRef) -> str:
        if ref.kind == "any":
            return "all"
        if ref.kind == "nat":  # a published host is its VIP; a hidden range the address named after it
            return ref.value
        if ref.kind == "host":
            if ref.value in self.policy.host_names:
                return ref.value
            return self.network(ipaddress.IPv4Network(ref.value))
        if ref.kind == "subnet":
            return self.network(ipaddress.IPv4Network(ref.value))
        return ref.value

    def port_service(self, protocol: str, low: int, high: int) -> str:
        name = f"{protocol}-{_port(low, high)}"
        self.extra_services[name] = (protocol, low, high)
        return name

    def service(self, svc: SvcRef) -> str:
        if svc.kind == "ip":
            return "ALL"
        if svc.kind == "proto":
            return {"tcp": "ALL_TCP", "udp": "ALL_UDP"}.get(svc.protocol, "ALL_ICMP")
        if svc.kind in ("eq", "range", "gt"):
            return self.port_service(svc.protocol, svc.low, svc.high)
        if svc.kind == "nat":  # FortiOS matches a policy to a port-forward VIP on the mapped (real) port
            entry = self.policy.nat[svc.name]
            return self.port_service(entry.protocol, entry.real_port, entry.real_port)
        return svc.name


def _quoted(names: list[str] | tuple[str, ...]) -> str:
    return " ".join(f'"{n}"' for n in names)


def _forti_policy(objs: _FortiObjects, rule: PolicyRule) -> list[str]:
    """One ``firewall policy`` entry; a rule from a hidden range carries its source NAT."""
    lines = [
        f"    edit {rule.number}", f'        set name "rule-{rule.number}"',
        f'        set srcintf "{rule.from_zone}"', f'        set dstintf "{rule.to_zone}"',
        f'        set action {"accept" if rule.permit else "deny"}',
        f'        set srcaddr "{objs.address(rule.source)}"',
        f'        set dstaddr "{objs.address(rule.destination)}"',
        '        set schedule "always"', f'        set service "{objs.service(rule.service)}"',
        f"        set logtraffic {'all' if rule.log else 'disable'}",
    ]
    entry = objs.policy.nat[rule.source.value] if rule.source.kind == "nat" else None
    if entry is not None and entry.kind == "hide" and rule.permit:
        lines.append("        set nat enable")  # without a pool: the egress interface's address
        if entry.mapped is not None:
            lines += ["        set ippool enable", f'        set poolname "{entry.name}-pool"']
    return lines + ["    next"]


def _forti_nat_objects(policy: PlantPolicy) -> list[str]:
    """VIPs (static NAT, port forwards) and IP pools (one overload address per pooled hide entry)."""
    out = ["config firewall vip"]
    for entry in policy.nat.values():
        if entry.kind == "hide":
            continue
        out += [f'    edit "{entry.name}"', f"        set extip {entry.mapped}",
                f'        set mappedip "{entry.real.network_address}"', '        set extintf "any"']
        if entry.kind == "port-forward":
            out += ["        set portforward enable", f"        set protocol {entry.protocol}",
                    f"        set extport {entry.mapped_port}", f"        set mappedport {entry.real_port}"]
        out.append("    next")
    out += ["end", "config firewall ippool"]
    for entry in policy.nat.values():
        if entry.kind == "hide" and entry.mapped is not None:
            out += [f'    edit "{entry.name}-pool"', "        set type overload",
                    f"        set startip {entry.mapped}", f"        set endip {entry.mapped}", "    next"]
    return out + ["end"]


def render_fortigate(policy: PlantPolicy) -> str:
    """A single-VDOM FortiOS config: interfaces, zones, addresses, groups, services, VIPs, pools, policies.

    FortiOS evaluates policies in the order listed (not by id). The policies that carry a hide-NAT
    come first: policy NAT makes every accept policy above the last NAT policy a "no NAT" rule of
    the same table, so denying one of those would also edit the translation.
    """
    objs = _FortiObjects(policy)
    carriers = policy.nat_carriers()
    ordered = [r for r in policy.rules if r.number in carriers] + [r for r in policy.rules if r.number not in carriers]
    rule_lines: list[str] = []
    for rule in ordered:
        rule_lines += _forti_policy(objs, rule)
    group_members: dict[str, list[str]] = {
        g.name: [objs.network(n) for n in g.networks] + list(g.objects) + list(g.groups)
        for g in policy.net_groups.values()
    }
    port_group_members = {pg.name: [objs.port_service(pg.protocol, lo, hi) for lo, hi in pg.ports]
                          for pg in policy.port_groups.values()}
    out = ["#config-version=FGT60F-7.2.5-FW-build1517:opmode=0:vdom=0", "config system global",
           f'    set hostname "bench-fgt-{policy.seed}"', "end", "config system interface"]
    for i, zone in enumerate(policy.zones):
        for port in (2 * i + 1, 2 * i + 2):
            out += [f'    edit "port{port}"', '        set vdom "root"',
                    f"        set ip {zone.network[port]} {zone.network.netmask}", "    next"]
    out += ["end", "config system zone"]
    for i, zone in enumerate(policy.zones):
        out += [f'    edit "{zone.name}"', f'        set interface "port{2 * i + 1}" "port{2 * i + 2}"',
                "        set intrazone deny", "    next"]
    out += ["end", "config firewall address"]
    for name, address in policy.host_names.items():
        out += [f'    edit "{name}"', f"        set subnet {address} 255.255.255.255", "    next"]
    for obj in policy.net_objects.values():
        out.append(f'    edit "{obj.name}"')
        if obj.kind == "range":
            out += ["        set type iprange", f"        set start-ip {obj.first}", f"        set end-ip {obj.last}"]
        else:
            out.append(f"        set subnet {_mask(obj.network)}")
        out.append("    next")
    for name, net in objs.extra_addresses.items():
        out += [f'    edit "{name}"', f"        set subnet {_mask(net)}", "    next"]
    for entry in policy.nat.values():
        if entry.kind == "hide":
            out += [f'    edit "{entry.name}"', f"        set subnet {_mask(entry.real)}", "    next"]
    out += ["end", "config firewall addrgrp"]
    for name, members in group_members.items():
        out += [f'    edit "{name}"', f"        set member {_quoted(members)}", "    next"]
    out += ["end", "config firewall service custom"]
    services: dict[str, tuple[str, int, int]] = {
        s.name: (s.protocol, s.low, s.high) for s in policy.service_objects.values()}
    services.update(objs.extra_services)
    for name, (protocol, low, high) in services.items():
        out += [f'    edit "{name}"', f"        set {protocol}-portrange {low}" + (f"-{high}" if high != low else ""),
                "    next"]
    out += ["end", "config firewall service group"]
    for name, members in port_group_members.items():
        out += [f'    edit "{name}"', f"        set member {_quoted(members)}", "    next"]
    for sg in policy.service_groups.values():
        out += [f'    edit "{sg.name}"', f"        set member {_quoted(sg.services + sg.groups)}", "    next"]
    out += ["end", *(_forti_nat_objects(policy) if policy.nat else []), "config firewall policy", *rule_lines,
            "end", ""]
    return "\n".join(out)


# ----- PAN-OS -----


def _members(tag: str, names: list[str] | tuple[str, ...], indent: str) -> str:
    inner = "".join(f"<member>{escape(n)}</member>" for n in names)
    return f"{indent}<{tag}>{inner}</{tag}>"


def _pan_address(policy: PlantPolicy, ref: AddrRef) -> str:
    if ref.kind == "any":
        return "any"
    if ref.kind == "nat":
        # security rules match PRE-NAT addresses: a published host by its mapped address, a hidden range as is
        entry = policy.nat[ref.value]
        return str(entry.real) if entry.kind == "hide" else str(entry.mapped)
    return ref.value  # PAN-OS accepts literal addresses and CIDRs as members


def _pan_interfaces(policy: PlantPolicy) -> list[str]:
    """Layer-3 interfaces with their addresses (interface-address source NAT reads them)."""
    out = ["<network><interface><ethernet>"]
    for i, zone in enumerate(policy.zones):
        out.append(f'  <entry name="ethernet1/{i + 1}"><layer3><ip><entry name="{zone.network[1]}/'
                   f'{zone.network.prefixlen}"/></ip></layer3></entry>')
    return out + ["</ethernet></interface></network>"]


def _pan_nat_rule(policy: PlantPolicy, entry: NatEntry, port_service: Callable[[str, int, int], str]) -> str:
    """One NAT rulebase entry: static-ip (bi-directional), a destination-translation port forward,
    or dynamic-ip-and-port to a pool address or the mapped zone's interface."""
    ind = "            "
    to_zone = entry.mapped_zone
    source, destination, service = [str(entry.real)], ["any"], "any"
    if entry.kind == "static":
        translation = (f"{ind}<source-translation><static-ip><translated-address>{entry.mapped}</translated-address>"
                       "<bi-directional>yes</bi-directional></static-ip></source-translation>")
        from_zone = entry.real_zone
    elif entry.kind == "port-forward":
        from_zone, source, destination = entry.mapped_zone, ["any"], [str(entry.mapped)]
        service = port_service(entry.protocol, entry.mapped_port, entry.mapped_port)
        translation = (f"{ind}<destination-translation><translated-address>{entry.real.network_address}"
                       f"</translated-address><translated-port>{entry.real_port}</translated-port>"
                       "</destination-translation>")
    else:
        from_zone = entry.real_zone
        if entry.mapped is None:
            outside = next(i for i, z in enumerate(policy.zones) if z.name == entry.mapped_zone)
            target = f"<interface-address><interface>ethernet1/{outside + 1}</interface></interface-address>"
        else:
            target = f"<translated-address><member>{entry.mapped}</member></translated-address>"
        translation = (f"{ind}<source-translation><dynamic-ip-and-port>{target}</dynamic-ip-and-port>"
                       "</source-translation>")
    return "\n".join([
        f"          <entry name={quoteattr(entry.name)}>", _members("from", [from_zone], ind),
        _members("to", [to_zone], ind), _members("source", source, ind), _members("destination", destination, ind),
        f"{ind}<service>{escape(service)}</service>", translation, "          </entry>"])


def render_panos(policy: PlantPolicy) -> str:
    """A PAN-OS running config (XML) of vsys1: zones, addresses, groups, services, NAT and security rules.

    With NAT, the layer-3 interfaces and their addresses are written too (interface-address NAT).
    """
    services: dict[str, tuple[str, int, int]] = {
        s.name: (s.protocol, s.low, s.high) for s in policy.service_objects.values()}

    def port_service(protocol: str, low: int, high: int) -> str:
        name = f"{protocol}-{_port(low, high)}"
        services[name] = (protocol, low, high)
        return name

    rules = []
    for rule in policy.rules:
        svc, application = rule.service, "any"
        if svc.kind == "ip":
            service = "any"
        elif svc.kind == "proto" and svc.protocol == "icmp":
            service, application = "application-default", "icmp"
        elif svc.kind == "proto":
            service = port_service(svc.protocol, 0, 65535)
        elif svc.kind in ("eq", "range", "gt"):
            service = port_service(svc.protocol, svc.low, svc.high)
        elif svc.kind == "nat":  # the security rule sees the packet before NAT: the mapped port
            entry = policy.nat[svc.name]
            service = port_service(entry.protocol, entry.mapped_port, entry.mapped_port)
        else:
            service = svc.name
        ind = "            "
        rules.append("\n".join([
            f"          <entry name={quoteattr(f'rule-{rule.number}')}>",
            _members("from", [rule.from_zone], ind), _members("to", [rule.to_zone], ind),
            _members("source", [_pan_address(policy, rule.source)], ind),
            _members("destination", [_pan_address(policy, rule.destination)], ind),
            _members("application", [application], ind), _members("service", [service], ind),
            f"{ind}<action>{'allow' if rule.permit else 'deny'}</action>",
            f"{ind}<log-end>{'yes' if rule.log else 'no'}</log-end>", "          </entry>"]))
    group_nets: dict[str, ipaddress.IPv4Network] = {}
    for g in policy.net_groups.values():
        group_nets.update({f"n-{n.network_address}-{n.prefixlen}": n for n in g.networks})
    port_groups = {pg.name: [port_service(pg.protocol, lo, hi) for lo, hi in pg.ports]
                   for pg in policy.port_groups.values()}
    nat_rules = [_pan_nat_rule(policy, entry, port_service) for entry in policy.nat.values()]
    out = ['<?xml version="1.0"?>', '<config version="10.2.0">', "<devices>",
           '<entry name="localhost.localdomain">', *(_pan_interfaces(policy) if nat_rules else []),
           "<deviceconfig><system>",
           f"<hostname>bench-pan-{policy.seed}</hostname>", "</system></deviceconfig>", "<vsys>",
           '<entry name="vsys1">', "<zone>"]
    for i, zone in enumerate(policy.zones):
        out.append(f"  <entry name={quoteattr(zone.name)}><network><layer3>"
                   f"<member>ethernet1/{i + 1}</member></layer3></network></entry>")
    out += ["</zone>", "<address>"]
    addresses = [(n, f"<ip-netmask>{a}/32</ip-netmask>") for n, a in policy.host_names.items()]
    for obj in policy.net_objects.values():
        value = (f"<ip-range>{obj.first}-{obj.last}</ip-range>" if obj.kind == "range"
                 else f"<ip-netmask>{obj.network}</ip-netmask>")
        addresses.append((obj.name, value))
    addresses += [(n, f"<ip-netmask>{net}</ip-netmask>") for n, net in group_nets.items()]
    out += [f"  <entry name={quoteattr(name)}>{value}</entry>" for name, value in addresses]
    out += ["</address>", "<address-group>"]
    for g in policy.net_groups.values():
        names = [f"n-{n.network_address}-{n.prefixlen}" for n in g.networks] + list(g.objects) + list(g.groups)
        out.append(f"  <entry name={quoteattr(g.name)}><static>"
                   + "".join(f"<member>{escape(n)}</member>" for n in names) + "</static></entry>")
    out += ["</address-group>", "<service>"]
    for name, (protocol, low, high) in services.items():
        out.append(f"  <entry name={quoteattr(name)}><protocol><{protocol}><port>{_port(low, high)}</port>"
                   f"</{protocol}></protocol></entry>")
    out += ["</service>", "<service-group>"]
    groups = {**port_groups, **{sg.name: list(sg.services + sg.groups) for sg in policy.service_groups.values()}}
    for name, members in groups.items():
        out.append(f"  <entry name={quoteattr(name)}><members>"
                   + "".join(f"<member>{escape(m)}</member>" for m in members) + "</members></entry>")
    rulebase = (["<rulebase><nat><rules>", *nat_rules, "</rules></nat><security><rules>"] if nat_rules
                else ["<rulebase><security><rules>"])
    out += ["</service-group>", *rulebase, *rules, "</rules></security></rulebase>",
            "</entry>", "</vsys>", "</entry>", "</devices>", "</config>", ""]
    return "\n".join(out)


RENDERERS = {"asa": render_asa, "fortigate": render_fortigate, "panos": render_panos}
SUFFIXES = {"asa": ".cfg", "fortigate": ".conf", "panos": ".xml"}
