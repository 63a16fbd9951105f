"""``plantgate vuln`` and ``plantgate outage``: advisory matching, SSVC decisions, VEX, outage plans.

A thin shell over plantgate.decisions: every command loads the treaty, computes with the
library and prints text for people or JSON for tools. ``vuln decide`` and ``outage plan``
exit 1 when something needs action at or above ``--fail-on`` (as ``check`` does), so CI can
gate on them. Errors are mapped to exit codes by the main CLI (handle_errors is applied on
registration).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.cli import EXIT_FINDINGS
from plantgate.decisions.assess import assess, confirmed_pairs, load_feeds
from plantgate.decisions.exceptions import exception_status, exceptions_for
from plantgate.decisions.suggestions import suggestions_for
from plantgate.decisions.vex import SPEC_VERSIONS, build_vex, render_vex
from plantgate.decisions.workpackage import OutagePlan, build_plan
from plantgate.load import load_site
from plantgate.progress import steps
from plantgate.terminal import make_console, styled

console = make_console()
_FORMAT = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                       show_default=True, help="text for people, json for tools.")
_AS_OF = click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                      help="Judge signatures, expiries and outages as of this day. Default: today.")
_FAIL_ON = click.option("--fail-on", type=click.Choice([s.value for s in Severity]), default="low",
                        show_default=True, help="Exit 1 when something needing action is at or above this "
                        "severity (the severity `plantgate check` gives the same finding).")


def _day(as_of: dt.datetime | None) -> dt.date:
    return as_of.date() if as_of else dt.date.today()


def _exit_if(severities: list[Severity], fail_on: str) -> None:
    if any(s.at_least(Severity(fail_on)) for s in severities):
        sys.exit(EXIT_FINDINGS)


@click.group()
def vuln() -> None:
    """Match assets to advisories, decide with SSVC, export signed decisions as VEX."""


@vuln.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.option("--all", "show_all", is_flag=True, help="Also list suggestions already confirmed or rejected.")
@_FORMAT
def match(site_dir: Path, show_all: bool, output_format: str) -> None:
    """List suggested matches (CSAF advisories, and CVE records where no advisory speaks) for a person to confirm.

    Each suggestion shows its confidence, the version verdict, why it was made and which of
    its CVEs are in CISA KEV.
    """
    with steps(2) as step:
        step("Loading advisories (KEV, CSAF, Vulnrichment)")
        site = load_site(site_dir)
        feeds = load_feeds(site)
        step("Matching assets against product trees and CVE records")
        suggestions = suggestions_for(site.treaty.assets, feeds)
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
        product = f"{row['product_id']} ({row['product']})" if row["source"] == "csaf" else \
            f"CVE record ({row['product']})"
        verdict = {True: "version affected", False: "version not affected", None: "version cannot be told"}[
            row["version_affected"]]  # type: ignore[index]
        console.print(styled((str(row["asset"]), "bold"), f" ~ {row['advisory']} {product} confidence "
                             f"{row['confidence']:.2f}, {verdict} ({row['status']})"))
        kev = set(row["kev"])  # type: ignore[call-overload]
        cves = ", ".join(f"{cve} [KEV]" if cve in kev else cve for cve in row["cves"])  # type: ignore[attr-defined]
        console.print(f"    CVEs: {cves}" + ("  <- known exploited" if kev else "  (none in KEV)"),
                      highlight=False)
        for reason in row["reasons"]:  # type: ignore[attr-defined]
            console.print(f"    - {reason}", highlight=False)
    if rows:
        console.print("Confirm or reject each in vulnerabilities.matches (asset, advisory, product_id, status, "
                      "decided_by, decided_on); only confirmed matches drive decisions.")


def _decision_findings(ctx: CheckContext) -> list[Finding]:
    from plantgate.checks.vulnerabilities import vulnerability_decisions
    return list(vulnerability_decisions(ctx))


@vuln.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@_FORMAT
@_AS_OF
@_FAIL_ON
def decide(site_dir: Path, output_format: str, as_of: dt.datetime | None, fail_on: str) -> None:
    """Show every SSVC deployer decision with the reasons and the exception it needs or has.

    Exit 1 when a decision needs action at or above --fail-on: an Immediate or Out-of-cycle
    decision without a valid signed exception, a KEV hole on a DMZ-facing asset nobody
    signed for, a wrong signer, an expired acceptance, a patch awaiting qualification.
    """
    with steps() as step:
        step("Loading the treaty, firewalls and advisories; deciding with SSVC")
        site = load_site(site_dir)
        ctx = CheckContext(site, _day(as_of))
        _, decisions = assess(ctx)
        findings = _decision_findings(ctx)
    actions: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        actions.setdefault((finding.subjects[-2], finding.subjects[-1]), []).append(finding)
    rows = []
    for decision in decisions:
        row = decision.to_dict()
        row["exceptions"] = [{"id": e.id, **{"state": s.state.value, "detail": s.detail}}
                             for e in exceptions_for(site.treaty, decision.asset, decision.cve)
                             for s in [exception_status(site.treaty, e, ctx.as_of)]]
        row["needs_exception"] = decision.priority.needs_exception
        row["action_needed"] = [{"rule_id": f.rule_id, "severity": f.severity.value, "message": f.message}
                                for f in actions.get((decision.asset, decision.cve), [])]
        rows.append(row)
    if output_format == "json":
        click.echo(json.dumps({"as_of": str(ctx.as_of), "decisions": rows}, indent=2))
    else:
        _print_decisions(rows)
    _exit_if([f.severity for f in findings], fail_on)


def _print_decisions(rows: list[dict[str, object]]) -> None:
    if not rows:
        console.print("No confirmed matches to decide.")
    for row in rows:
        console.print(styled((str(row["asset"]), "bold"), f" {row['cve']} ({row['advisory']}): ",
                             (str(row["priority"]).upper(), "bold"), f" {row['vector']}"))
        for reason in row["reasons"]:  # type: ignore[attr-defined]
            console.print(f"    - {reason}", highlight=False)
        for reach in row["reaches"]:  # type: ignore[attr-defined]
            console.print(f"    reach: from {reach['zone']} via {reach['via']}, witness {reach['witness']}",
                          highlight=False)
        if row["qualified_patch"]:
            console.print(f"    qualified patch: {row['qualified_patch']}", highlight=False)
        if row["needs_exception"]:
            states = ", ".join(f"{e['id']} ({e['state']})" for e in row["exceptions"]) or "none"  # type: ignore
            console.print(f"    needs an exception signed by plant leadership; exceptions: {states}",
                          highlight=False)
        for action in row["action_needed"]:  # type: ignore[attr-defined]
            console.print(styled("    ", ("action needed", "red"), f" ({action['severity']}, {action['rule_id']})"))


@vuln.command("export-vex")
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The VEX JSON file to write.")
@click.option("--spec-version", type=click.Choice(sorted(SPEC_VERSIONS)), default="1.6", show_default=True,
              help="The CycloneDX specification version to write.")
@_AS_OF
def export_vex(site_dir: Path, output: Path, spec_version: str, as_of: dt.datetime | None) -> None:
    """Write the valid signed risk decisions for confirmed matches as a CycloneDX VEX document.

    Unsigned, wrongly signed, future-dated, expired and stale exceptions are left out. The
    serial number and timestamp derive from the content and --as-of: the same decisions
    export to the same file.
    """
    site = load_site(site_dir)
    pairs = confirmed_pairs(site.treaty.vulnerabilities, load_feeds(site))
    bom = build_vex(site.treaty, _day(as_of), pairs)
    output.write_text(render_vex(bom, spec_version), encoding="utf-8")
    console.print(f"{len(bom.vulnerabilities)} VEX statement(s) written to {output} (CycloneDX {spec_version})",
                  highlight=False)


@click.group()
def outage() -> None:
    """Outage windows: the security work package, prepared in advance."""


def _plan_severities(result: OutagePlan) -> list[Severity]:
    from plantgate.checks.vulnerabilities import EXPIRED, PACKAGE_NOT_READY
    if result.over:
        return [EXPIRED.severity] if result.open_after_outage else []
    return [] if result.ready else [PACKAGE_NOT_READY.severity]


@outage.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.argument("outage_id")
@_FORMAT
@_AS_OF
@_FAIL_ON
def plan(site_dir: Path, outage_id: str, output_format: str, as_of: dt.datetime | None, fail_on: str) -> None:
    """Build OUTAGE_ID's work package: patches due, firewall changes, backups, and what is not ready.

    Exit 1 when the package is NOT READY (medium, as PG-PATCH-003), or when the outage is over
    and acceptances that ended with it are still open (high, as PG-VULN-004).
    """
    site = load_site(site_dir)
    ctx = CheckContext(site, _day(as_of))
    decisions = assess(ctx)[1] if site.treaty.vulnerabilities else []
    result = build_plan(site.treaty, outage_id, decisions, ctx.as_of)
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print_plan(result)
    _exit_if(_plan_severities(result), fail_on)


def _print_plan(result: OutagePlan) -> None:
    data = result.to_dict()
    if result.over:
        days = (result.as_of - result.outage.end).days
        state = styled(("OVER", "yellow"), f": it ended on {result.outage.end}, {days} day(s) before {result.as_of}")
    else:
        state = styled(("ready", "green") if result.ready else ("NOT READY", "red"))
    console.print(styled((str(data["outage"]), "bold"), f" {data['name']} ({data['start']} to {data['end']}): ")
                  + state)
    console.print("Patches due:", highlight=False)
    for patch_id, assets in data["patches"].items():  # type: ignore[attr-defined]
        console.print(f"    {patch_id}" + (f" for {', '.join(assets)}" if assets else ""), highlight=False)
    console.print("Acceptances that end with this outage:", highlight=False)
    for acceptance in result.acceptances:
        fix = f"fixed by {acceptance.patch}" if acceptance.planned else (
            f"{acceptance.patch} not in the work package" if acceptance.patch else "nothing planned")
        console.print(f"    {acceptance.exception}: {acceptance.cve} on {acceptance.asset} ({acceptance.signature}), "
                      f"{fix}", highlight=False)
    if not result.acceptances:
        console.print("    none", highlight=False)
    console.print("Firewall changes needing the window:", highlight=False)
    for change, state_text in data["firewall_changes"].items():  # type: ignore[attr-defined]
        console.print(f"    {change}: {state_text}", highlight=False)
    console.print("Backups before the window: " + (", ".join(result.backups) or "none"), highlight=False)
    label = "was not ready" if result.over else "not ready"
    for problem in result.not_ready:
        console.print(styled("    ", (label, "red"), f": {problem}"))
    for acceptance in result.open_after_outage:
        console.print(styled("    ", ("expired and still open", "red"), f": {acceptance.exception} "
                             f"({acceptance.cve} on {acceptance.asset}) ended with this outage; patch it or decide "
                             "again"))
