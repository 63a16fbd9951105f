"""CLI for onboarding and observed flows: ``import nmap|netbox|csv`` and ``plantgate flows``.

Thin shells over ``plantgate.onboard`` and ``plantgate.reconcile.observed``; ``cli_import``
adds the three seed commands (SEED_COMMANDS) to its ``import`` group.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
from pathlib import Path

import click

from plantgate.cli import EXIT_FINDINGS
from plantgate.errors import InputError
from plantgate.feeds.flows import read_flows
from plantgate.feeds.inventory_csv import read_inventory_csv
from plantgate.feeds.netbox import fetch_netbox, read_netbox_files
from plantgate.feeds.nmap import read_nmap
from plantgate.load import load_site
from plantgate.netspace import default_space
from plantgate.onboard.merge import MergeOutcome, existing_items, merge_proposal
from plantgate.onboard.propose import Proposal, propose
from plantgate.onboard.seed import Seed
from plantgate.onboard.type_map import load_type_map
from plantgate.reconcile import load_boundary_firewalls
from plantgate.reconcile.observed import ObservedReconciler, observed_matrix
from plantgate.reconcile.topology import Topology

FOLDER = click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the diff and conflicts; write nothing.")
TYPE_MAP = click.option("--type-map", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="YAML mapping of the source's device types to asset roles ('Serial Gateway: other'); "
                        "a type no role fits is imported as other, with a note.")


def _seed_into(folder: Path, seed: Seed, dry_run: bool, type_map: Path | None = None) -> None:
    """Merge a seed; exit 1 when something needs a person (a conflict, a host in no zone), as every importer."""
    zones = [item for _, item in existing_items(folder)["zones"].values()]
    proposal = propose(seed, zones, load_type_map(type_map) if type_map else {})
    outcome = merge_proposal(folder, proposal, dry_run=dry_run)
    _report(proposal, outcome, dry_run)
    if outcome.conflicts or proposal.unassigned:
        sys.exit(EXIT_FINDINGS)


def _report(proposal: Proposal, outcome: MergeOutcome, dry_run: bool) -> None:
    if outcome.diff:
        click.echo(outcome.diff, nl=False)
    verb = "would add" if dry_run else "added"
    click.echo(f"{outcome.seed_file.name}: {verb} {len(outcome.added)}, "
               f"{'would update' if dry_run else 'updated'} {len(outcome.updated)}, "
               f"{'would fill' if dry_run else 'filled'} {len(outcome.filled)} field(s) of assets already in the "
               f"treaty, unchanged {len(outcome.unchanged)}, conflicts {len(outcome.conflicts)}")
    for line in outcome.merged:
        click.echo(f"merged: {line}")
    for line in outcome.filled:
        click.echo(f"{'would fill' if dry_run else 'filled'}: {line}")
    for conflict in outcome.conflicts:
        click.echo(f"conflict: {conflict}")
    for warning in proposal.warnings:
        click.echo(f"warning: {warning}")
    for note in proposal.notes:
        click.echo(f"note: {note}")
    for host in proposal.unassigned:
        click.echo(f"unassigned: {host.origin}: {', '.join(host.addresses)} ({host.name or 'no name'}) is in no "
                   "zone; add the zone's network first")
    if not outcome.changed and not dry_run:
        click.echo("nothing to write: the treaty already holds this import")


@click.command("nmap")
@FOLDER
@click.argument("scan", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DRY_RUN
def nmap(folder: Path, scan: Path, dry_run: bool) -> None:
    """Seed assets (and scanned prefixes as zones) from an Nmap XML report (nmap -oX).

    Hosts are matched to the treaty's assets by address. The OS match (-O) and the services'
    products, versions and CPEs (-sV) are kept as the asset's software, so `vuln match` sees
    them. A scanned prefix overlapping existing zones proposes no zone. Exit 0 merged cleanly,
    1 conflicts or hosts in no zone, 2 bad input.
    """
    _seed_into(folder, read_nmap(scan), dry_run)


@click.command("netbox")
@FOLDER
@click.argument("exports", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="A live NetBox to read through its API (needs --token).")
@click.option("--token", envvar="NETBOX_TOKEN", help="API token (or NETBOX_TOKEN).")
@DRY_RUN
@TYPE_MAP
def netbox(folder: Path, exports: tuple[Path, ...], url: str | None, token: str | None, dry_run: bool,
           type_map: Path | None) -> None:
    """Seed zones and assets from NetBox: saved API JSON files, or --url/--token for a live one.

    Reserved and deprecated IP addresses are not assets. Hosts are matched to the treaty's
    assets by address. Exit 0 merged cleanly, 1 conflicts or hosts in no zone, 2 bad input.
    """
    if url:
        if not token:
            raise InputError.at("--token", 0, 0, "a live NetBox needs an API token", "--token or NETBOX_TOKEN")
        with tempfile.TemporaryDirectory() as scratch:
            _seed_into(folder, read_netbox_files(fetch_netbox(url, token, Path(scratch))), dry_run, type_map)
        return
    if not exports:
        raise InputError.at("netbox", 0, 0, "no NetBox export given", "JSON files of sites, prefixes, "
                            "ip-addresses, devices, virtual-machines, or --url")
    _seed_into(folder, read_netbox_files(exports), dry_run, type_map)


@click.command("csv")
@FOLDER
@click.argument("table", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DRY_RUN
@TYPE_MAP
def csv_import(folder: Path, table: Path, dry_run: bool, type_map: Path | None) -> None:
    """Seed zones and assets from the CSV template (type,address,name,level,kind,role,vendor,...).

    Hosts are matched to the treaty's assets by address. Exit 0 merged cleanly, 1 conflicts
    or hosts in no zone, 2 bad input.
    """
    _seed_into(folder, read_inventory_csv(table), dry_run, type_map)


SEED_COMMANDS: list[click.Command] = [nmap, netbox, csv_import]


@click.command("flows")
@click.argument("folder", type=click.Path(exists=True, path_type=Path))
@click.option("--flows", "flow_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Zeek conn.log (TSV or JSON), NAVV/Malcolm flow CSV, or PCAP; repeatable. "
                   "Default: the treaty's flows: files.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text")
def flows(folder: Path, flow_files: tuple[Path, ...], output_format: str) -> None:
    """The observed zone-to-zone matrix, with the register's and the firewalls' verdict per cell."""
    site = load_site(folder)
    files = list(flow_files) or [site.resolve(f) for f in site.treaty.flows]
    if not files:
        raise InputError.at(str(folder), 0, 0, "no flow files", "--flows FILE or a flows: entry in the treaty")
    observed = read_flows(files, progress=True)
    firewalls = load_boundary_firewalls(site, default_space())
    reconciler = ObservedReconciler(site.treaty, firewalls, Topology(site.treaty, firewalls, site.locate))
    cells = observed_matrix(reconciler.judge_all(observed))
    rows = [cell.to_dict() for cell in cells]
    if output_format == "json":
        click.echo(json.dumps({"files": [str(f) for f in files], "matrix": rows}, indent=2))
    elif output_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["from_zone"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        header = f"{'from (initiator)':<16} {'to':<16} {'flows':>6} {'sessions':>9} {'bytes':>12}  register / firewalls"
        click.echo(header)
        for row in rows:
            click.echo(f"{row['from_zone']:<16} {row['to_zone']:<16} {row['flows']:>6} {row['sessions']:>9} "
                       f"{row['bytes']:>12}  {row['register']} / {row['firewalls']}")
