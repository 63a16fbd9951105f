"""Helpers that build treaty folders for tests: the bundled example, or small ones written inline."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

from plantgate.checks import CheckContext, Finding
from plantgate.load import load_site

EXAMPLE = Path(str(resources.files("plantgate") / "examples" / "petrochem"))


def copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(EXAMPLE, target)
    return target


def write_files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


MINIMAL = {
    "site.yaml": """
        site: {name: Test plant, plant: Unit 1, revision: r1}
        people:
          - {id: ot, name: OT Approver, roles: [ot_approver]}
          - {id: boss, name: Plant Manager, roles: [plant_leadership]}
        """,
    "zones.yaml": """
        zones:
          - {id: corp, name: Corporate, level: 4, kind: enterprise, networks: [10.0.0.0/16]}
          - {id: dmz, name: DMZ, level: 3.5, kind: dmz, networks: [172.16.0.0/24]}
          - {id: ops, name: Operations, level: 3, kind: operations, networks: [10.30.0.0/24]}
        """,
    "conduits.yaml": """
        conduits:
          - id: c1
            from_zone: ops
            to_zone: dmz
            services: [{protocol: tcp, ports: [5450]}]
            business_reason: historian replication
            ot_approver: ot
        """,
}


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of ``path`` that contains ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


AS_OF = dt.date(2026, 11, 26)
"""The day the example's goldens and expectations are judged at."""


def run_check(folder: Path, check: Callable[[CheckContext], Iterator[Finding]]) -> list[Finding]:
    """One check function's findings on a treaty folder, as of AS_OF."""
    return list(check(CheckContext(load_site(folder), AS_OF)))
