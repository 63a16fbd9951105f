"""The diagram's SVG is put inline in pages: scripts, handlers and off-site links never survive."""

from __future__ import annotations

import pytest
from defusedxml import EntitiesForbidden

from plantgate.outputs.svg_safe import safe_svg

HOSTILE = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
           '<script>alert(1)</script><g onload="x()"><a xlink:href="javascript:alert(1)"><text>&lt;b&gt;</text></a>'
           '<a href="//evil.example/"><text>off</text></a><a xlink:href="/sites/x/zones/ops"><text>ok</text></a>'
           '<foreignObject><div>html</div></foreignObject></g></svg>')


def test_scripts_handlers_and_foreign_links_are_removed() -> None:
    safe = safe_svg(HOSTILE)
    assert "script" not in safe and "onload" not in safe and "javascript:" not in safe
    assert "evil.example" not in safe and "foreignObject" not in safe
    assert 'xlink:href="/sites/x/zones/ops"' in safe and "&lt;b&gt;" in safe  # text stays escaped


def test_entities_and_non_svg_are_refused() -> None:
    with pytest.raises(EntitiesForbidden):  # defusedxml refuses entity declarations outright
        safe_svg('<!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>')
    with pytest.raises(ValueError):
        safe_svg("<html/>")
