"""The output formats of ``plantgate check``: one renderer per module, looked up by name.

A renderer is ``render(report: CheckReport) -> str``. Listing them by import path keeps
the heavy ones (PDF, SARIF schema) out of a plain text run.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from plantgate.checks import CheckContext, Finding
from plantgate.load import Site
from plantgate.reconcile.coverage import FirewallCoverage

FORMAT_MODULES: dict[str, str] = {
    "json": "plantgate.outputs.json_report",
    "sarif": "plantgate.outputs.sarif",
    "cef": "plantgate.outputs.cef",
}


@dataclass(frozen=True)
class CheckReport:
    """Everything a renderer may need: the site, the findings, the day judged, the run's context."""

    site: Site
    findings: list[Finding]
    as_of: dt.date
    context: CheckContext

    @property
    def base(self) -> Path:
        return self.site.folder

    @property
    def coverage(self) -> list[FirewallCoverage]:
        """What the run modelled, per firewall (the firewalls are already parsed by the checks)."""
        return [fw.coverage for fw in self.context.firewalls]


class Renderer(Protocol):
    def __call__(self, report: CheckReport) -> str: ...


def available_formats() -> list[str]:
    return ["text"] + [name for name, module in FORMAT_MODULES.items() if importlib.util.find_spec(module)]


def renderer(name: str) -> Renderer:
    module = importlib.import_module(FORMAT_MODULES[name])
    render: Renderer = module.render
    return render
