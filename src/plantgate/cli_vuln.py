"""``plantgate vuln`` and ``plantgate outage``: advisory matching, SSVC decisions, VEX, outage plans.

A thin shell over plantgate.decisions: every command loads the treaty, computes with the
library and prints text for people or JSON for tools. Errors are mapped to exit codes by
the main CLI (handle_errors is applied on registration).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from rich.console import Console

from plantgate.checks.context import CheckContext
from plantgate.decisions.assess import assess, load_feeds
from plantgate.decisions.exceptions import exception_status, exceptions_for
from plantgate.decisions.matching import suggest_matches
from plantgate.decisions.vex import build_vex, render_vex
from plantgate.decisions.workpackage import build_plan
from plantgate.load import load_site
from plantgate.progress import steps

console = Console()
_FORMAT = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                       show_default=True, help="text for people, json for tools.")
_AS_OF = click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                      help="Judge expiries and outages as of this day. Default: today.")


def _day(as_of: dt.datetime | None) -> dt.date:
    return as_of.date() if as_of else dt.date.today()


@click.group()
def vuln() -> None:
    """Match assets to advisories, decide with SSVC, export signed decisions as VEX."""


@vuln.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.option("--all", "show_all", is_flag=True, help="Also list suggestions already confirmed or rejected.")
@_FORMAT
def match(site_dir: Path, show_all: bool, output_format: str) -> None:
    """List suggested asset-to-advisory matches with their confidence, for a person to confirm."""
    with steps(2) as step:
        step("Loading advisories (KEV, CSAF, Vulnrichment)")
        site = load_site(site_dir)
        feeds = load_feeds(site)
        step("Matching assets against product trees")
        suggestions = suggest_matches(site.treaty.assets, feeds.index)
    decided = {(m.asset, m.advisory, m.product_id): m.status.value
               for m in (site.treaty.vulnerabilities.matches if site.treaty.vulnerabilities else [])}
    rows = []
    for suggestion in suggestions:
        status = decided.get((suggestion.asset, suggestion.advisory, suggestion.product_id)) or \
            decided.get((suggestion.asset, suggestion.advisory, ""), "suggested")
        if status == "suggested" or show_all:
            rows.append({**suggestion.to_dict(), "status": status})
    if output_format == "json":
        click.echo(json.dumps({"suggestions": rows}, indent=2))
        return
    if not rows:
        console.print("No open suggestions.")
    for row in rows:
        console.print(f"[bold]{row['asset']}[/bold] ~ {row['advisory']} {row['product_id']} ({row['product']}) "
                      f"confidence {row['confidence']:.2f} ({row['status']})", highlight=False)
        console.print(f"    CVEs: {', '.join(row['cves'])}", highlight=False)  # type: ignore[arg-type]
        for reason in row["reasons"]:  # type: ignore[attr-defined]
            console.print(f"    - {reason}", highlight=False, markup=False)
    if rows:
        console.print("Confirm or reject each in vulnerabilities.matches (asset, advisory, product_id, status, "
                      "decided_by, decided_on); only confirmed matches drive decisions.")


@vuln.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@_FORMAT
@_AS_OF
def decide(site_dir: Path, output_format: str, as_of: dt.datetime | None) -> None:
    """Show every SSVC deployer decision with the reasons and the exception it needs or has."""
    with steps() as step:
        step("Loading the treaty, firewalls and advisories; deciding with SSVC")
        site = load_site(site_dir)
        ctx = CheckContext(site, _day(as_of))
        _, decisions = assess(ctx)
    rows = []
    for decision in decisions:
        row = decision.to_dict()
        row["exceptions"] = [{"id": e.id, **{"state": s.state.value, "detail": s.detail}}
                             for e in exceptions_for(site.treaty, decision.asset, decision.cve)
                             for s in [exception_status(site.treaty, e, ctx.as_of)]]
        row["needs_exception"] = decision.priority.needs_exception
        rows.append(row)
    if output_format == "json":
        click.echo(json.dumps({"as_of": str(ctx.as_of), "decisions": rows}, indent=2))
        return
    if not rows:
        console.print("No confirmed matches to decide.")
    for row in rows:
        console.print(f"[bold]{row['asset']}[/bold] {row['cve']} ({row['advisory']}): "
                      f"[bold]{str(row['priority']).upper()}[/bold] {row['vector']}", highlight=False)
        for reason in row["reasons"]:  # type: ignore[attr-defined]
            console.print(f"    - {reason}", highlight=False, markup=False)
        for reach in row["reaches"]:  # type: ignore[attr-defined]
            console.print(f"    reach: from {reach['zone']} via {reach['via']}, witness {reach['witness']}",
                          highlight=False, markup=False)
        if row["qualified_patch"]:
            console.print(f"    qualified patch: {row['qualified_patch']}", highlight=False)
        if row["needs_exception"]:
            states = ", ".join(f"{e['id']} ({e['state']})" for e in row["exceptions"]) or "none"  # type: ignore
            console.print(f"    needs an exception signed by plant leadership; exceptions: {states}",
                          highlight=False)


@vuln.command("export-vex")
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The VEX JSON file to write.")
@_AS_OF
def export_vex(site_dir: Path, output: Path, as_of: dt.datetime | None) -> None:
    """Write the signed, valid risk decisions as a CycloneDX 1.6 VEX document."""
    site = load_site(site_dir)
    bom = build_vex(site.treaty, _day(as_of))
    output.write_text(render_vex(bom), encoding="utf-8")
    console.print(f"{len(bom.vulnerabilities)} VEX statement(s) written to {output}", highlight=False)


@click.group()
def outage() -> None:
    """Outage windows: the security work package, prepared in advance."""


@outage.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.argument("outage_id")
@_FORMAT
@_AS_OF
def plan(site_dir: Path, outage_id: str, output_format: str, as_of: dt.datetime | None) -> None:
    """Build OUTAGE_ID's work package: patches due, firewall changes, backups, and what is not ready."""
    site = load_site(site_dir)
    ctx = CheckContext(site, _day(as_of))
    decisions = assess(ctx)[1] if site.treaty.vulnerabilities else []
    result = build_plan(site.treaty, outage_id, decisions, ctx.as_of)
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    data = result.to_dict()
    console.print(f"[bold]{data['outage']}[/bold] {data['name']} ({data['start']} to {data['end']}): "
                  + ("[green]ready[/green]" if result.ready else "[red]NOT READY[/red]"))
    console.print("Patches due:", highlight=False)
    for patch_id, assets in data["patches"].items():  # type: ignore[attr-defined]
        console.print(f"    {patch_id}" + (f" for {', '.join(assets)}" if assets else ""), highlight=False)
    console.print("Firewall changes needing the window:", highlight=False)
    for change, state in data["firewall_changes"].items():  # type: ignore[attr-defined]
        console.print(f"    {change}: {state}", highlight=False)
    console.print("Backups before the window: " + (", ".join(result.backups) or "none"), highlight=False)
    for problem in result.not_ready:
        console.print(f"    [red]not ready[/red]: {problem}", highlight=False)
