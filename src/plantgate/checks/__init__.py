"""Checks: one module per family, each registering rule ids; ``run_checks`` runs them all.

Every module in this package is imported on first use, so a new family registers itself
by existing; nothing else needs to list it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import os
import pkgutil
from collections.abc import Callable
from typing import Any

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.registry import CHECKS, RULES
from plantgate.firewalls.gc_pause import collector_paused
from plantgate.load import Site

__all__ = ["CHECKS", "RULES", "CheckContext", "Finding", "Severity", "load_all_checks", "run_checks"]

_INFRASTRUCTURE = {"context", "finding", "registry", "references"}


def load_all_checks() -> None:
    """Import every check module of this package (idempotent)."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _INFRASTRUCTURE:
            importlib.import_module(f"{__name__}.{module.name}")


def run_checks(site: Site, as_of: dt.date | None = None, context: CheckContext | None = None,
               progress: Callable[[str], None] | None = None) -> list[Finding]:
    """Every registered check on one site, most severe first, in a stable order.

    ``progress`` is called with each check's name before it runs (for a progress bar).
    """
    load_all_checks()
    ctx = context or CheckContext(site, as_of or dt.date.today())
    findings: list[Finding] = []
    # The checks allocate millions of BDD handles, which the collector tracks and which mostly
    # live to the end; its scans found no garbage and took a fifth of all the CPU of the bench
    # site's check (parent and lint workers, which inherit the pause), at the same peak memory.
    try:
        with collector_paused():
            for function in CHECKS:
                if progress is not None:
                    progress(function.__name__.replace("_", " "))
                findings.extend(_relative_messages(f, site) for f in function(ctx))
    finally:
        ctx.close()
    return sorted(findings, key=lambda f: (-f.severity.rank, f.rule_id, f.subjects, f.discriminator))


def _relative_messages(finding: Finding, site: Site) -> Finding:
    """Messages and details quote files relative to the treaty folder, as the evidence list does.

    The same report must read the same on every checkout, and goldens must not carry the
    path of the machine that ran the check.
    """
    prefixes = sorted({str(site.folder.resolve()) + os.sep, str(site.folder) + os.sep}, key=len, reverse=True)

    def strip(value: Any) -> Any:
        if isinstance(value, str):
            for prefix in prefixes:
                value = value.replace(prefix, "")
            return value
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(strip(v) for v in value)
        return value

    return dataclasses.replace(finding, message=strip(finding.message), details=strip(finding.details))
