"""The PAN-OS configuration tree, and reading it safely from XML.

PAN-OS configs come as XML, as ``set`` commands or as the brace-style "show config"
text. All three describe the same tree (``config/devices/entry/vsys/entry/...``), so
each front end builds a ``PanNode`` tree and one interpreter (``panos.py``) reads it:
the same policy in any format yields the same Ruleset.

XML is untrusted input: it is parsed with defusedxml (entity declarations, DTD
external references and network access refused, so a billion-laughs file is an
InputError, not an out-of-memory). ElementTree drops line numbers, so expat element handlers
record the expat line of every start and end tag; every rule keeps its source line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from plantgate.errors import InputError


@dataclass(eq=False, slots=True)
class PanNode:
    """One element of the config tree.

    ``tag`` is the XML element name (``entry`` for named list items, whose name is in
    ``name``). ``values`` holds the leaf text or the ``<member>`` list. ``touched``
    lists the set-format lines that wrote into this entry (empty for XML, where the
    span is the element's line range).
    """

    tag: str
    line: int
    end_line: int = 0
    name: str | None = None
    values: list[str] = field(default_factory=list)
    children: list[PanNode] = field(default_factory=list)
    touched: list[int] = field(default_factory=list)
    # Entries by name, built on first lookup: a rulebase or address list holds thousands of
    # entries and every rule looks several names up. Valid while ``children`` is the same list
    # with the same length; code that reorders or replaces children calls ``children_changed``.
    _entry_index: dict[str, PanNode] | None = field(default=None, init=False, repr=False, compare=False)
    _indexed_children: list[PanNode] | None = field(default=None, init=False, repr=False, compare=False)
    _indexed_count: int = field(default=-1, init=False, repr=False, compare=False)

    def child(self, tag: str) -> PanNode | None:
        """The first child element with this tag."""
        for node in self.children:
            if node.tag == tag:
                return node
        return None

    def path(self, *tags: str) -> PanNode | None:
        """Follow child tags; ``"entry=NAME"`` selects a named entry."""
        node: PanNode | None = self
        for tag in tags:
            if node is None:
                return None
            if tag.startswith("entry="):
                node = node.entry(tag[len("entry="):])
            else:
                node = node.child(tag)
        return node

    def entry(self, name: str) -> PanNode | None:
        """The first ``entry`` child named ``name``."""
        index = self._entry_index
        if index is None or self._indexed_children is not self.children or self._indexed_count != len(self.children):
            index = {}
            for node in self.children:
                if node.tag == "entry" and node.name is not None:
                    index.setdefault(node.name, node)
            self._entry_index, self._indexed_children, self._indexed_count = index, self.children, len(self.children)
        return index.get(name)

    def add_child(self, node: PanNode) -> None:
        """Append a child, keeping the entry index current."""
        self.children.append(node)
        if self._entry_index is not None and self._indexed_children is self.children:
            if node.tag == "entry" and node.name is not None:
                self._entry_index.setdefault(node.name, node)
            self._indexed_count += 1

    def children_changed(self) -> None:
        """Forget the entry index after ``children`` was reordered or shrunk in place."""
        self._entry_index = None

    def entries(self, tag: str) -> list[PanNode]:
        """The named entries below ``<tag>`` (every ``<tag>`` child, in order)."""
        return [e for holder in self.children if holder.tag == tag for e in holder.children
                if e.tag == "entry" and e.name is not None]

    def members(self, tag: str) -> list[str] | None:
        """The member list (or single value) of child ``tag``; None when the child is absent."""
        node = self.child(tag)
        if node is None:
            return None
        return list(node.values)

    def text(self, tag: str, default: str = "") -> str:
        """The scalar value of child ``tag`` (the last one written)."""
        node = self.child(tag)
        if node is None or not node.values:
            return default
        return node.values[-1]

    def span_lines(self) -> tuple[int, int]:
        if self.touched:
            return min(self.touched), max(self.touched)
        return self.line, max(self.end_line, self.line)

    def span_text(self, source_lines: list[str]) -> str:
        """The raw text that defines this node (its lines, in order)."""
        if self.touched:
            return "\n".join(source_lines[n - 1] for n in sorted(set(self.touched)) if 0 < n <= len(source_lines))
        first, last = self.span_lines()
        return "\n".join(source_lines[first - 1:last])


class _LineRecordingBuilder:
    """Builds PanNodes with expat line numbers, as expat's own element handlers.

    ElementTree's parser target would receive the same events through a Python wrapper per
    element (tag and attribute name fixing, an attribute dict); a 20,000-rule config has
    hundreds of thousands of elements, so the handlers are installed on the expat parser
    directly, as closures over local state, and character data goes straight into a list
    (``list.append``: no Python call per event). Namespaced names are spelled ``{uri}local``
    exactly as ElementTree does.

    A ``<member>`` (two in five elements of a rulebase) becomes its parent's value without a node
    of its own: on the stack it is its start line until a child element makes it a node after all
    (which is then dropped from its parent's children, as every member is). A parent's mark (where
    its text starts in the data list) is stored inverted (``~mark``) once a member ended in it:
    its value is then its members' values, never its own text.
    """

    def __init__(self) -> None:
        self.expat: Any = None
        self.document = PanNode("#document", 0)
        """Holds the root element: every open element then has a parent on the stack (no test for one)."""

    def attach(self, expat: Any) -> None:
        """Take over element and character data events from the ElementTree parser that owns ``expat``."""
        self.expat = expat
        stack: list[PanNode | int] = [self.document]  # open elements; an int: a member without a node (its line)
        marks: list[int] = [0]  # per open element: where its text starts in ``parts``
        parts: list[str] = []  # character data of the open elements, in order
        join = "".join

        def start(tag: str, attr_list: list[str]) -> None:
            """``attr_list`` alternates names and values (ordered_attributes)."""
            if "}" in tag:
                tag = "{" + tag
            parent = stack[-1]
            if parent.__class__ is int:  # a member with children after all: give it its node
                parent = stack[-1] = PanNode("member", parent)  # type: ignore[arg-type]
                stack[-2].children.append(parent)  # type: ignore[union-attr]
            if tag == "member" and len(stack) > 1:
                stack.append(expat.CurrentLineNumber)
                marks.append(len(parts))
                return
            name = None
            if tag == "entry":
                for i in range(0, len(attr_list), 2):
                    if attr_list[i] == "name":
                        name = attr_list[i + 1]
            node = PanNode(tag, expat.CurrentLineNumber, 0, name)
            parent.children.append(node)  # type: ignore[union-attr]
            stack.append(node)
            marks.append(len(parts))

        def end(tag: str) -> None:
            node = stack.pop()
            mark = marks.pop()
            if isinstance(node, int):  # a member without children: its text is its value
                text = join(parts[mark:]).strip() if len(parts) > mark else ""
                values = [text] if text else []
            else:
                node.end_line = expat.CurrentLineNumber
                if mark < 0:  # a member ended in it: its values are its members' values
                    mark = ~mark
                    if any(c.tag == "member" for c in node.children):
                        node.children = [c for c in node.children if c.tag != "member"]
                elif not node.children and len(parts) > mark and (text := join(parts[mark:]).strip()):
                    node.values = [text]
                values = node.values
            if len(parts) > mark:
                del parts[mark:]
            if tag == "member" and len(stack) > 1:  # a member's values are its parent's
                parent = stack[-1]
                assert not isinstance(parent, int)  # a member's parent became a node when the member started
                parent.values += values
                if marks[-1] >= 0:
                    marks[-1] = ~marks[-1]

        expat.StartElementHandler = start
        expat.EndElementHandler = end
        expat.CharacterDataHandler = parts.append

    def close(self) -> PanNode | None:
        return self.document.children[0] if self.document.children else None

    def detach(self) -> None:
        """Break the cycle expat parser -> handlers -> (closures) expat parser: without it the whole
        tree (hundreds of thousands of nodes) outlives the parse until a collector pass finds it, and
        the scan after a parse, or a frozen command process, keeps walking or holding it."""
        if self.expat is not None:
            self.expat.StartElementHandler = self.expat.EndElementHandler = None
            self.expat.CharacterDataHandler = None
        self.expat = None
        self.document = PanNode("#document", 0)


def parse_xml_tree(text: str, file: str) -> PanNode:
    """Parse PAN-OS XML into a PanNode tree; refuse entities and malformed XML with an InputError."""
    builder = _LineRecordingBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    builder.attach(parser.parser)
    try:
        parser.feed(text)
        root: Any = parser.close()
    except ParseError as exc:
        line, column = exc.position
        raise InputError.at(file, line, column + 1, f"malformed XML: {exc.msg}", "well-formed PAN-OS XML") from exc
    except DefusedXmlException as exc:
        line = int(parser.parser.CurrentLineNumber)
        column = int(parser.parser.CurrentColumnNumber) + 1
        raise InputError.at(
            file, line, column, f"XML refused for safety: {exc}", "XML without entity declarations"
        ) from exc
    finally:
        builder.detach()
    if not isinstance(root, PanNode):
        raise InputError.at(file, 1, 1, "empty XML document", "a PAN-OS <config> document")
    return root
