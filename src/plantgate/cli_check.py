"""``plantgate validate``, ``check``, ``demo`` and ``schema``: the treaty checks from the command line."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from plantgate.checks import CHECKS, CheckContext, Finding, Severity, load_all_checks, run_checks
from plantgate.cli import EXIT_FINDINGS, FORMAT_OPTION, console, err_console
from plantgate.errors import InputError
from plantgate.load import Site, load_site
from plantgate.outputs.formats import CheckReport, available_formats, renderer
from plantgate.outputs.text import print_findings
from plantgate.progress import steps
from plantgate.schema import treaty_schema
from plantgate.terminal import styled

F = TypeVar("F", bound=Callable[..., Any])

SEVERITY_CHOICE = click.Choice([s.value for s in Severity])


@click.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@FORMAT_OPTION
def validate(site_dir: Path, output_format: str) -> None:
    """Load and validate a treaty folder; report every problem with file:line:column.

    The firewall configs are read too: a config written in another vendor's syntax than its
    entry declares, or a zone-map key that matches nothing in the config, is invalid input.
    """
    from plantgate.netspace import default_space
    from plantgate.reconcile import load_boundary_firewalls

    site = load_site(site_dir)
    treaty = site.treaty
    firewalls = load_boundary_firewalls(site, default_space())
    counts = {"zones": len(treaty.zones), "assets": len(treaty.assets), "conduits": len(treaty.conduits),
              "firewalls": len(treaty.firewalls), "people": len(treaty.people)}
    modelled = {fw.entry.id: fw.coverage.level.value for fw in firewalls}
    if output_format == "json":
        click.echo(json.dumps({"valid": True, "site": treaty.site.name, "counts": counts, "modelled": modelled},
                              indent=2))
    else:
        parts = ", ".join(f"{n} {k}" for k, n in counts.items())
        revision = treaty.site.revision or 'no revision'
        console.print(styled(("Valid", "green"), f": {treaty.site.name} ({revision}): {parts}."))
        for fw_id, level in modelled.items():
            style = "green" if level == "fully" else "yellow"
            console.print(styled(f"  {fw_id}: ", (f"modelled {level}", style),
                                 "" if level == "fully" else " (plantgate check says what was not)"))


def _emit_findings(site: Site, output_format: str, fail_on: str, as_of: dt.date, syslog_target: str | None = None,
                   context: CheckContext | None = None) -> None:
    context = context or CheckContext(site, as_of)
    findings = _run_with_progress(site, as_of, context)
    if output_format == "text":
        treaty = site.treaty
        title = f"{treaty.site.name} - {treaty.site.plant} (revision {treaty.site.revision or '-'})"
        print_findings(console, findings, title, site.folder, [fw.coverage for fw in context.firewalls])
    else:
        click.echo(renderer(output_format)(CheckReport(site, findings, as_of, context)), nl=False)
    if syslog_target:
        from plantgate.outputs.syslog import send_findings

        sent = send_findings(CheckReport(site, findings, as_of, context), syslog_target)
        err_console.print(f"Sent {sent} findings to {syslog_target}")
    threshold = Severity(fail_on)
    if any(f.severity.at_least(threshold) for f in findings):
        sys.exit(EXIT_FINDINGS)


def _run_with_progress(site: Site, as_of: dt.date, context: CheckContext) -> list[Finding]:
    """Run every check, with a progress bar on a terminal and nothing otherwise."""
    load_all_checks()
    with steps(len(CHECKS)) as step:
        return run_checks(site, as_of, context, progress=lambda name: step(f"checking: {name}"))


def check_options(function: F) -> F:
    function = click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                            help="Judge dates (review-by, outages, expiries) as of this day. Default: today.")(function)
    function = click.option("--fail-on", type=SEVERITY_CHOICE, default="low", show_default=True,
                            help="Exit 1 when a finding is at or above this severity.")(function)
    function = click.option("--syslog", "syslog_target", metavar="HOST:PORT", default=None,
                            help="Also send the findings as CEF over RFC 5424 syslog: HOST:PORT (UDP), "
                            "udp://HOST:PORT or tcp://HOST:PORT.")(function)
    function = click.option("--format", "output_format", type=click.Choice(available_formats()), default="text",
                            show_default=True, help="text for people; json, sarif or cef for tools.")(function)
    return function


@click.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@check_options
@click.option("--flows", "flow_files", multiple=True, type=click.Path(path_type=Path),
              help="Observed flows (Zeek conn.log, NAVV/Malcolm CSV, PCAP) to reconcile; repeatable.")
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path), default=None,
              help="A corporate baseline file (YAML) whose rules the site's firewalls must also satisfy.")
def check(site_dir: Path, output_format: str, fail_on: str, as_of: dt.datetime | None,
          syslog_target: str | None, flow_files: tuple[Path, ...], baseline_file: Path | None) -> None:
    """Check a treaty folder against its own rules and the evidence it names.

    Exit 1 when any finding is at or above --fail-on (default: low).
    """
    site = load_site(site_dir)
    day = as_of.date() if as_of else dt.date.today()
    context = CheckContext(site, day, may_fork=True)
    if baseline_file is not None:
        from plantgate.load.baseline import load_baseline

        context.baseline = load_baseline(baseline_file)
    for path in flow_files:
        if not path.is_file():
            raise InputError.at(str(path), 0, 0, "flow file not found", "a Zeek conn.log, flow CSV or PCAP")
    context.extra_flow_files = list(flow_files)
    _emit_findings(site, output_format, fail_on, day, syslog_target, context)


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file instead of stdout.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the treaty, for editors (yaml-language-server) and CI."""
    text = json.dumps(treaty_schema(), indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"Schema written to {output}")
    else:
        click.echo(text, nl=False)


DEMO_MARKER = ".plantgate-demo"


@click.command()
@click.argument("directory", type=click.Path(path_type=Path), default="plantgate-demo")
@check_options
def demo(directory: Path, output_format: str, fail_on: str, as_of: dt.datetime | None,
         syslog_target: str | None) -> None:
    """Write the bundled example plant to DIRECTORY (default ./plantgate-demo) and check it.

    The example is deliberately imperfect: expect findings and exit code 1. Its README lists
    each planted problem. Re-running replaces a previous demo folder, never anything else.
    """
    write_example(directory)
    if output_format == "text":
        err_console.print(styled("Example site written to ", (str(directory), "bold"), "; checking it."))
    site = load_site(directory)
    day = as_of.date() if as_of else dt.date.today()
    context = CheckContext(site, day, may_fork=True)
    from plantgate.cli_report import write_demo_outputs  # the report stack only where the demo needs it

    for path in write_demo_outputs(site, context, directory):
        err_console.print(f"Wrote {path}")
    _emit_findings(site, output_format, fail_on, day, syslog_target, context)


def write_example(directory: Path) -> None:
    """Copy the packaged example into place atomically; refuse to overwrite anything but a demo."""
    if directory.exists() and any(directory.iterdir()) and not (directory / DEMO_MARKER).exists():
        raise InputError.at(str(directory), 0, 0, "folder exists and is not a PlantGate demo folder",
                            "an empty or new folder name")
    source = resources.files("plantgate") / "examples" / "petrochem"
    parent = directory.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".plantgate-demo-", dir=parent))
    try:
        with resources.as_file(source) as src:
            shutil.copytree(src, staging, dirs_exist_ok=True)
        (staging / DEMO_MARKER).write_text("written by plantgate demo\n", encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        staging.rename(directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
