"""PlantGate: the OT/IT convergence treaty as code, proved against what is really deployed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from plantgate.checks.finding import Finding
    from plantgate.load.site import Site


def load_site(path: str | Path) -> Site:
    """Load and validate a treaty folder; raises InputError listing every problem."""
    from plantgate.load import load_site as _load

    return _load(path)


def check(site: Site, as_of: dt.date | None = None) -> list[Finding]:
    """Every check on a loaded site, most severe first."""
    from plantgate.checks import run_checks

    return run_checks(site, as_of)


__all__ = ["__version__", "check", "load_site"]
