"""The README teaches a new user to write firewall entries: its examples must be valid treaty YAML."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from plantgate.model.firewalls import FirewallEntry
from tests.reconcile.five_vendor import VARIANTS

README = Path(__file__).resolve().parents[1] / "README.md"


def _firewall_examples() -> list[str]:
    section = README.read_text(encoding="utf-8").split("### Firewalls: how a config maps to treaty zones")[1]
    section = section.split("\n### ")[0].split("\n## ")[0]
    return re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)


def test_every_firewall_example_of_the_readme_is_a_valid_entry() -> None:
    examples = _firewall_examples()
    assert len(examples) == 3
    for text in examples:
        [entry] = YAML(typ="safe").load(text)
        FirewallEntry.model_validate(entry)


def test_the_fragment_entries_the_readme_teaches_are_the_ones_tested() -> None:
    """The five-vendor site tests use the entries a new user copies from the README."""
    joined = "\n".join(_firewall_examples())
    assert "joins: [ent, dmz, l3, l2]" in joined
    assert VARIANTS["asa-one-acl"].entry == "joins: [ent, dmz, l3, l2]"
    assert VARIANTS["iptables-no-interfaces"].entry == "joins: [ent, dmz, l3, l2]"
