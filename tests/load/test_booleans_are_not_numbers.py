"""YAML ``true`` where the treaty wants a number is an input error at its place, not the number 1
(issue 17 §8: ``level: true`` was accepted as Purdue level 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.load import load_site
from tests.sites import copy_example, edit, line_of


@pytest.mark.parametrize("value", ["true", "false", "True"])
def test_a_boolean_purdue_level_is_an_input_error_at_its_line(tmp_path: Path, value: str) -> None:
    folder = copy_example(tmp_path)
    line = line_of(folder / "zones.yaml", "level: 3.5")
    edit(folder / "zones.yaml", "level: 3.5", f"level: {value}")
    with pytest.raises(InputError) as caught:
        load_site(folder)
    assert any(p.location.file.endswith("zones.yaml") and p.location.line == line and "not a number" in p.message
               for p in caught.value.problems), caught.value


def test_boolean_ports_and_security_levels_are_input_errors(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    text = (folder / "conduits.yaml").read_text(encoding="utf-8")
    first_ports = text[text.index("ports: [") + len("ports: ["):].split("]", 1)[0]
    edit(folder / "conduits.yaml", f"ports: [{first_ports}]", "ports: [true]")
    with pytest.raises(InputError) as caught:
        load_site(folder)
    assert any("not a number" in p.message and p.location.file.endswith("conduits.yaml")
               for p in caught.value.problems), caught.value


def test_numbers_still_load(tmp_path: Path) -> None:
    site = load_site(copy_example(tmp_path))
    assert {zone.level for zone in site.treaty.zones} >= {3.5, 4.0}
