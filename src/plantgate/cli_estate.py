"""The estate commands: ``reach``, ``access-map`` and ``render`` (with ``--as-change``).

Thin shells over ``plantgate.reconcile`` (reach, access_map, render); ``plantgate.cli``
registers them and maps errors to exit codes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import click
from ruamel.yaml import YAML

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import ANY_IPV4, Service
from plantgate.load import load_site
from plantgate.model.changes import ChangeRecord, ConduitAction, ConduitChange
from plantgate.model.conduits import PROTOCOL_NUMBERS
from plantgate.netspace import FlowSet, default_space, permitted_between
from plantgate.reconcile.access_map import access_map as build_access_map
from plantgate.reconcile.access_map import access_map_text
from plantgate.reconcile.conduits import zone_addresses
from plantgate.reconcile.coverage import caveat
from plantgate.reconcile.reach import Estate, Reach, service_summary
from plantgate.reconcile.render import FILE_SUFFIX, TARGETS, Rendering, render_firewall

FORMAT = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="text for people, json for tools.")
SITE = click.argument("site_dir", type=click.Path(exists=True, path_type=Path))
_SERVICE_RE = re.compile(r"^([a-z0-9]+)(?:/(\d{1,5})(?:-(\d{1,5}))?)?$")


def parse_service(text: str) -> Service:
    """``tcp/502``, ``udp/1024-65535``, ``icmp`` or ``ip`` as a Service; InputError otherwise."""
    match = _SERVICE_RE.match(text.strip().lower())
    proto = match.group(1) if match else ""
    number = PROTOCOL_NUMBERS.get(proto, int(proto) if proto.isdigit() else None)
    if match is None or number is None or (proto.isdigit() and not 0 <= int(proto) <= 255):
        raise InputError.at("--service", 0, 0, f"cannot read service {text!r}", "tcp/502, udp/1024-65535, icmp or ip")
    if number < 0:
        return Service()
    if match.group(2) is None:
        return Service(number)
    low, high = int(match.group(2)), int(match.group(3) or match.group(2))
    if number not in (6, 17, 132) or not 0 <= low <= high <= 65535:
        raise InputError.at("--service", 0, 0, f"bad ports in {text!r}", "tcp/udp/sctp with ports 0-65535, low-high")
    return Service(number, dst_ports=((low, high),))


def _zone(estate: Estate, zone_id: str, option: str) -> str:
    if estate.treaty.zone(zone_id) is None:
        raise InputError.at(option, 0, 0, f"unknown zone '{zone_id}'",
                            "one of: " + ", ".join(z.id for z in estate.treaty.zones))
    return zone_id


def reach_text(result: Reach) -> str:
    lines = [f"{result.source} -> {result.target}: {len(result.paths)} path(s) deliver flows ({result.choice.note})"]
    if not result.choice.paths:
        lines.append("  no path through the boundary firewalls joins these zones")
    for item in result.paths:
        lines.append(f"  path {item.path}")
        lines.append(f"    services: {', '.join(service_summary(item.flows))}; e.g. {item.witness}")
        for hop in item.hops:
            lines.append(f"    {hop.hop}: {'; '.join(hop.rule_texts())}")
        lines += [f"    packet: {packet}" for packet in item.packets]
        lines.append("    conduits: " + (", ".join(c.id for c in item.conduits) or "none"))
        if item.uncovered_witness is not None:
            lines.append(f"    not in the register, e.g. {item.uncovered_witness}")
    lines += [f"  routes: {note}" for note in result.routes]
    lines += [f"  limitation: {n}" for n in result.nat]
    if result.unproved:
        lines.append(("  NOT PROVED: no path was found through the firewalls that were modelled, but "
                      if not result.paths else "  more may be delivered: ") + caveat(result.unproved))
    return "\n".join(lines)


@click.command()
@SITE
@click.option("--from", "source", required=True, help="Source treaty zone id.")
@click.option("--to", "target", required=True, help="Destination treaty zone id.")
@click.option("--service", default=None, help="Only this service, e.g. tcp/502.")
@FORMAT
def reach(site_dir: Path, source: str, target: str, service: str | None, output_format: str) -> None:
    """End-to-end flows from one zone to another along every path, hop by hop."""
    estate = Estate(load_site(site_dir), default_space())
    within = estate.space.service(parse_service(service)) if service else None
    result = estate.reach(_zone(estate, source, "--from"), _zone(estate, target, "--to"), within)
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(reach_text(result))


@click.command("access-map")
@SITE
@click.option("--zone", default=None, help="One zone (default: every control, field and safety zone).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Judge review dates as of this day.")
@FORMAT
def access_map(site_dir: Path, zone: str | None, as_of: dt.datetime | None, output_format: str) -> None:
    """Who reaches each control, field and safety zone end to end, how, and on whose approval."""
    estate = Estate(load_site(site_dir), default_space())
    zones = build_access_map(estate, zone, as_of.date() if as_of else dt.date.today())
    if output_format == "json":
        click.echo(json.dumps([z.to_dict() for z in zones], indent=2))
    else:
        click.echo(access_map_text(zones))


def impact(estate: Estate, rendering: Rendering) -> list[dict[str, Any]]:
    """Per treaty zone crossing of the firewall: flows the candidate opens and closes, with witnesses."""
    assert rendering.parsed is not None and rendering.bound is not None
    fw = next(f for f in estate.firewalls if f.entry.id == rendering.firewall_id)
    rendered = rendering.bound
    space = estate.space
    family = space.addresses("src", ANY_IPV4) if TARGETS[rendering.vendor].ipv4_only else space.universe()
    out = []
    for a, b in dict.fromkeys([*fw.treaty_pairs(), *rendered.treaty_pairs()]):
        current: FlowSet = space.empty()
        candidate: FlowSet = space.empty()
        for x, y in fw.config_pairs(a, b):
            current = current | permitted_between(space, fw.ruleset, x, y)
        for x, y in rendered.config_pairs(a, b):
            candidate = candidate | permitted_between(space, rendered.ruleset, x, y)
        routable = family & _routable(estate, fw.config_zones_of, a, b)
        for kind, flows in (("opens", (candidate - current) & routable), ("closes", (current - candidate) & routable)):
            witness = flows.witness()
            if witness is not None:
                out.append({"from_zone": a, "to_zone": b, "change": kind, "witness": str(witness),
                            "services": service_summary(flows)})
    return out


def _routable(estate: Estate, attached: dict[str, list[str]], a: str, b: str) -> FlowSet:
    """Packets that can really cross from zone ``a``'s interface to zone ``b``'s.

    A packet entering on ``a`` cannot come from a zone attached to another interface of the
    same firewall, nor leave on ``b`` toward one: transit traffic (enterprise hosts reaching
    L2 through the DMZ interface) stays, impossible pairings do not.
    """
    space = estate.space
    allowed = space.universe()
    for zone in attached:
        networks = zone_addresses(estate.treaty, zone)
        if networks.is_any:
            continue
        if zone != a:
            allowed = allowed - space.addresses("src", networks)
        if zone != b:
            allowed = allowed - space.addresses("dst", networks)
    return allowed


def write_change(estate: Estate, rendering: Rendering, requested_by: str | None, day: dt.date) -> Path:
    """A change record under changes/ with the candidate config beside it; its impact as comments."""
    fw = next(f for f in estate.firewalls if f.entry.id == rendering.firewall_id)
    requester = requested_by or fw.entry.platform_owner
    if requester is None:
        raise InputError.at("--requested-by", 0, 0, f"{fw.entry.id} names no platform_owner",
                            "--requested-by PERSON_ID")
    folder = estate.site.folder / "changes"
    folder.mkdir(exist_ok=True)
    change_id = f"CR-RENDER-{fw.entry.id}-{day.isoformat()}"
    candidate = folder / f"{change_id}{FILE_SUFFIX[rendering.vendor]}"
    candidate.write_text(rendering.text, encoding="utf-8")
    approvers = sorted({p.conduit.ot_approver for p in rendering.placements if p.conduit.ot_approver})
    conduits = [ConduitChange(conduit=cid, action=ConduitAction.ALTER)
                for cid in dict.fromkeys(p.conduit.id for p in rendering.placements)]
    record = ChangeRecord(
        id=change_id, title=f"Bring {fw.entry.id} into line with the conduit register", conduits=conduits,
        business_reason="Rendered from the register by plantgate render; proved equal to the register.",
        requested_by=requester, ot_approver=approvers[0] if approvers else None, firewall=fw.entry.id,
        current_config=fw.entry.config, candidate_config=str(candidate.relative_to(estate.site.folder)))
    data = record.model_dump(mode="json", exclude_defaults=True)
    path = folder / f"{change_id}.yaml"
    lines = [f"# Proposed by plantgate render on {day}. Proved impact (current -> candidate):"]
    changes = impact(estate, rendering)
    lines += [f"#   {c['change']} {c['from_zone']} -> {c['to_zone']}: {', '.join(c['services'])}; e.g. {c['witness']}"
              for c in changes] or ["#   nothing opened or closed"]
    lines += [f"# Limitation: {note}" for note in rendering.limitations]
    with path.open("w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
        YAML().dump(data, handle)
    return path


@click.command()
@SITE
@click.option("--firewall", "firewall_id", required=True, help="Treaty firewall id.")
@click.option("--vendor", type=click.Choice(sorted(TARGETS)), default=None,
              help="Render for another vendor than the firewall's own.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Write here, not to stdout.")
@click.option("--as-change", is_flag=True, help="Write a change record under DIR/changes/ with the candidate.")
@click.option("--requested-by", default=None, help="Person id requesting the change (default: platform owner).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Date of the change record.")
def render(site_dir: Path, firewall_id: str, vendor: str | None, output: Path | None, as_change: bool,
           requested_by: str | None, as_of: dt.datetime | None) -> None:
    """The rules that implement the register on one firewall, in its vendor's syntax, proved equal."""
    estate = Estate(load_site(site_dir), default_space())
    rendering = render_firewall(estate, firewall_id, vendor)
    if not rendering.verified:
        for mismatch in rendering.mismatches:
            click.echo(f"render check failed: {mismatch}", err=True)
        raise click.ClickException("the rendering does not equal the register; refusing to output it")
    for note in rendering.limitations:
        click.echo(f"note: {note}", err=True)
    if as_change:
        path = write_change(estate, rendering, requested_by, as_of.date() if as_of else dt.date.today())
        click.echo(f"change record written: {path}")
        return
    if output is not None:
        output.write_text(rendering.text, encoding="utf-8")
        click.echo(f"written: {output}", err=True)
    else:
        click.echo(rendering.text, nl=False)
