"""Findings as a rich table that stays readable in an 80-column terminal."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from plantgate.checks.finding import Finding, Severity
from plantgate.outputs.json_report import relative_location

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def severity_text(severity: Severity) -> Text:
    return Text(severity.value, style=SEVERITY_STYLE[severity])


def print_findings(console: Console, findings: list[Finding], title: str, base: Path | None = None) -> None:
    """One block per finding (header, message, evidence, witness): readable at any width."""
    console.print(Text(title, style="bold underline"))
    if not findings:
        console.print("[green]No findings.[/green]")
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
    counts = Counter(f.severity for f in findings)
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Severity if counts[s])
    console.print()
    console.print(Text(f"{len(findings)} findings: {summary}", style="bold"))


def _witness_text(witness: dict[str, object]) -> str:
    keys = ("src", "dst", "proto", "sport", "dport")
    return " ".join(f"{k}={witness[k]}" for k in keys if k in witness)
