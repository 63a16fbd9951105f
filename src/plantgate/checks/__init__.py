"""Checks: one module per family, each registering rule ids; ``run_checks`` runs them all."""

from __future__ import annotations

import datetime as dt

from plantgate.checks import charter, firewall, patch, register  # noqa: F401  (registers the checks)
from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.registry import CHECKS, RULES
from plantgate.load import Site

__all__ = ["CHECKS", "RULES", "CheckContext", "Finding", "Severity", "run_checks"]


def run_checks(site: Site, as_of: dt.date | None = None) -> list[Finding]:
    """Every registered check on one site, most severe first, in a stable order."""
    ctx = CheckContext(site, as_of or dt.date.today())
    findings = [f for function in CHECKS for f in function(ctx)]
    return sorted(findings, key=lambda f: (-f.severity.rank, f.rule_id, f.subjects, f.discriminator))
