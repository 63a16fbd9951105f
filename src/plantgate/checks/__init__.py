"""Checks: one module per family, each registering rule ids; ``run_checks`` runs them all.

Every module in this package is imported on first use, so a new family registers itself
by existing; nothing else needs to list it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.registry import CHECKS, RULES
from plantgate.load import Site

__all__ = ["CHECKS", "RULES", "CheckContext", "Finding", "Severity", "load_all_checks", "run_checks"]

_INFRASTRUCTURE = {"context", "finding", "registry", "references"}


def load_all_checks() -> None:
    """Import every check module of this package (idempotent)."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _INFRASTRUCTURE:
            importlib.import_module(f"{__name__}.{module.name}")


def run_checks(site: Site, as_of: dt.date | None = None, context: CheckContext | None = None) -> list[Finding]:
    """Every registered check on one site, most severe first, in a stable order."""
    load_all_checks()
    ctx = context or CheckContext(site, as_of or dt.date.today())
    findings = [f for function in CHECKS for f in function(ctx)]
    return sorted(findings, key=lambda f: (-f.severity.rank, f.rule_id, f.subjects, f.discriminator))
