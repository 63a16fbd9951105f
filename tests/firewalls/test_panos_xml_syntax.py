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


MEMBERS = """<config>
<a><member>x</member><member> y </member></a>
<b>text<member/><member>  </member></b>
<c><member>p<sub>q</sub></member><member>r</member><other>o</other></c>
<d><member><member>n1</member><member>n2</member></member></d>
<e>
  <member>
    z
  </member>
</e>
</config>"""


def test_members_become_their_parents_values() -> None:
    """Stripped member texts in order; an empty member adds nothing but still hides the parent's own
    text; a member holding elements adds its own members only; no member stays a child."""
    root = parse_xml_tree(MEMBERS, "m.xml")
    got = {n.tag: (n.line, n.end_line, n.values, [(c.tag, c.values) for c in n.children]) for n in root.children}
    assert got == {
        "a": (2, 2, ["x", "y"], []),
        "b": (3, 3, [], []),
        "c": (4, 4, ["r"], [("other", ["o"])]),
        "d": (5, 5, ["n1", "n2"], []),
        "e": (6, 10, ["z"], []),
    }
