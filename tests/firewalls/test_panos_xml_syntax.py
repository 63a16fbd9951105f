"""The PAN-OS XML reader: what it leaves behind after a parse."""

from __future__ import annotations

import gc

from plantgate.firewalls.panos.xml_syntax import PanNode, parse_xml_tree

CONFIG = """<config><devices><entry name="localhost"><vsys><entry name="vsys1">
<rulebase><security><rules>
  <entry name="r1"><from><member>a</member></from><action>allow</action></entry>
</rules></security></rulebase>
</entry></vsys></entry></devices></config>
"""


def test_tree_is_freed_when_the_caller_drops_it() -> None:
    """No reference cycle keeps the tree alive: it goes with its last reference, not at a collector pass."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        root = parse_xml_tree(CONFIG, "c.xml")
        assert root.path("devices") is not None
        del root
        assert not [o for o in gc.get_objects() if isinstance(o, PanNode)]
    finally:
        if was_enabled:
            gc.enable()
