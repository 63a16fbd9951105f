"""Findings as a rich table that stays readable in an 80-column terminal."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from plantgate.checks.finding import Finding, Severity
from plantgate.outputs.json_report import relative_location
from plantgate.reconcile.coverage import CoverageLevel, FirewallCoverage, caveat

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def severity_text(severity: Severity) -> Text:
    return Text(severity.value, style=SEVERITY_STYLE[severity])


def print_findings(console: Console, findings: list[Finding], title: str, base: Path | None = None,
                   coverage: list[FirewallCoverage] | None = None) -> None:
    """One block per finding (header, message, evidence, witness): readable at any width.

    With ``coverage``, what was modelled per firewall follows; "No findings" is never said
    without naming the firewalls that were not modelled fully.
    """
    console.print(Text(title, style="bold underline"))
    unproved = [c for c in coverage or [] if not c.full]
    if not findings:
        if unproved:
            console.print(Text("No findings among what was modelled, but that is not an all-clear: "
                               + caveat(unproved) + ".", style="bold yellow"))
        else:
            console.print(Text("No findings.", style="green"))
        _print_coverage(console, coverage or [], base)
        return
    for finding in findings:
        header = Text()
        header.append(f" {finding.severity.value.upper()} ", style=SEVERITY_STYLE[finding.severity])
        header.append(f" {finding.rule_id}  ", style="bold")
        header.append(finding.title, style="bold")
        console.print()
        console.print(header)
        console.print(Padding(Text(finding.message), (0, 0, 0, 2)))
        for location in finding.evidence:
            console.print(Padding(Text("at " + relative_location(location, base), style="cyan"), (0, 0, 0, 2)))
        if finding.witness:
            console.print(Padding(Text("witness " + _witness_text(finding.witness), style="italic"), (0, 0, 0, 2)))
    _print_coverage(console, coverage or [], base)
    counts = Counter(f.severity for f in findings)
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Severity if counts[s])
    console.print()
    console.print(Text(f"{len(findings)} findings: {summary}", style="bold"))
    if unproved:
        console.print(Text("Not modelled fully, so silence about them proves nothing: "
                           + ", ".join(c.firewall_id for c in unproved), style="bold yellow"))


COVERAGE_STYLE = {CoverageLevel.FULL: "green", CoverageLevel.PARTIAL: "yellow", CoverageLevel.NONE: "bold red"}


def _print_coverage(console: Console, coverage: list[FirewallCoverage], base: Path | None) -> None:
    """Per firewall: modelled fully, in part or not at all; the zone pairs placed; what stayed out."""
    if not coverage:
        return
    console.print()
    console.print(Text("Coverage: what each firewall's reconciliation modelled", style="bold"))
    for item in coverage:
        line = Text(f"  {item.firewall_id} ({item.vendor}): ")
        line.append(f"modelled {item.level.value}", style=COVERAGE_STYLE[item.level])
        pairs = len(item.placed)
        line.append(f"; {pairs} zone pair{'s' if pairs != 1 else ''} placed" if pairs else "; no zone pair placed")
        console.print(line)
        for gap in item.gaps()[:MAX_COVERAGE_LINES]:
            where = f" at {relative_location(gap.location, base)}" if gap.location else ""
            console.print(Padding(Text(f"not modelled: {gap.subject}: {gap.detail}{where}"), (0, 0, 0, 4)))
        if len(item.gaps()) > MAX_COVERAGE_LINES:
            console.print(Padding(Text(f"and {len(item.gaps()) - MAX_COVERAGE_LINES} more (--format json lists "
                                       "them all)"), (0, 0, 0, 4)))


MAX_COVERAGE_LINES = 8


def _witness_text(witness: dict[str, object]) -> str:
    keys = ("src", "dst", "proto", "sport", "dport")
    return " ".join(f"{k}={witness[k]}" for k in keys if k in witness)
