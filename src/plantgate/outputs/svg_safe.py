"""An SVG made safe to put inline in a page: no scripts, no event handlers, links only within the site.

The zone diagram is our own Graphviz output, but its labels, tooltips and ids come from the
treaty, which anyone allowed to file a change writes. Graphviz escapes text, and this pass
makes sure of the rest before the SVG is stored for the pages: it is parsed with defusedxml
(no entities, no external references) and only drawing elements and plain attributes are kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import defusedxml.ElementTree as SafeTree

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ElementTree.register_namespace("", SVG)
ElementTree.register_namespace("xlink", XLINK)

FORBIDDEN = frozenset({"script", "foreignObject", "iframe", "object", "embed", "style", "animate", "set",
                       "handler", "use", "image"})
"""Elements that can run code, load something, or restyle the page; Graphviz draws none of them."""
LINKS = frozenset({"href", f"{{{XLINK}}}href"})


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def safe_svg(text: str) -> str:
    """``text`` (one ``<svg>`` element) with scripts, handlers and off-site or scripted links removed."""
    root = SafeTree.fromstring(text)
    if _local(root.tag) != "svg":
        raise ValueError("not an SVG document")
    for parent in root.iter():
        for child in list(parent):
            if _local(child.tag) in FORBIDDEN:
                parent.remove(child)
        for name in list(parent.attrib):
            value = parent.attrib[name]
            if _local(name).lower().startswith("on"):
                del parent.attrib[name]
            elif name in LINKS and not (value.startswith("/") and not value.startswith("//")
                                        or value.startswith("#")):
                del parent.attrib[name]
    return ElementTree.tostring(root, encoding="unicode")
