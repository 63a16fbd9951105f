"""YAML text <-> plain values for treaty files, fast: positions of every key and item when reading.

The treaty was first read with ruamel.yaml's round-trip loader, which is pure Python: ~12 s for
a 10,000-conduit register, so the first check of a new revision kept a web user waiting.
libyaml (PyYAML's C parser) builds the node tree many times faster, and every node keeps its
start mark; the plain values are built here with the semantics the treaty had under ruamel:

- scalars resolve by ruamel's own YAML 1.2 table (a ``%YAML 1.1`` directive selects its 1.1
  table, as ruamel does), so ``no``/``yes``/``on`` stay strings, ``0o17`` is octal and ``017``
  decimal, ``2027-06-30`` is a date;
- a duplicate key is refused at the second key, with ruamel's message;
- positions are those ruamel gave: each key where it is written, each item where it starts.

What a treaty never needs is refused at its position rather than guessed: merge keys
(``<<``, which crashed the old reader), tags other than YAML's standard scalar and collection
tags, complex keys and recursive aliases.

A treaty is untrusted input, so what a small text can make the reader build is capped, each cap
an error at the node that passes it: aliases expand to at most ``ALIAS_EXPANSION`` times the
document's own nodes, within ``MIN_ALIAS_NODES`` and ``MAX_ALIAS_NODES`` (a 356-byte file of 9-way
aliases once took 101 s and 2.7 GB; a register that reuses one anchored service list for 10,000
conduits expands to about 40,000), collections nest at most ``MAX_DEPTH`` deep, and a scalar
holds at most ``MAX_SCALAR`` characters.

``dump`` writes plain values with libyaml's emitter (ruamel's pure-Python one took ~9 s per
10,000 conduits, paid again for every web revision) and quotes every string that either YAML
1.1 or 1.2 would read as something else, so any YAML reader gets the strings back.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import yaml
from ruamel.yaml.resolver import implicit_resolvers
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.representer import SafeRepresenter
from yaml.resolver import BaseResolver

try:
    from yaml.cyaml import CEmitter, CParser
except ImportError as missing:  # PyPI's PyYAML wheels all include libyaml
    raise ImportError("PlantGate needs PyYAML built with libyaml (yaml.cyaml)") from missing

Path = tuple[str | int, ...]
Position = tuple[int, int]
"""1-based line and column."""

YAML = "tag:yaml.org,2002:"
STR, NULL, BOOL, INT, FLOAT, TIMESTAMP, MERGE = (YAML + t for t in
                                                ("str", "null", "bool", "int", "float", "timestamp", "merge"))
MAP, SEQ = YAML + "map", YAML + "seq"
RESOLVED_TAGS = frozenset({NULL, BOOL, INT, FLOAT, TIMESTAMP, MERGE})
"""ruamel's implicit types that a treaty can hold (its ``=`` value and ``yaml`` tags are left as strings)."""
ALIAS_EXPANSION, MIN_ALIAS_NODES, MAX_ALIAS_NODES = 10, 100_000, 1_000_000
"""Nodes built again through aliases, per document, relative to the nodes written and within bounds."""
MAX_DEPTH = 64
"""Collections inside collections: the deepest treaty section nests about 8."""
MAX_SCALAR = 256 * 1024
"""Characters in one value: the longest real ones are descriptions of a few hundred."""
TRUE_WORDS = frozenset({"true", "yes", "y", "on"})  # the last three only resolve as bool under %YAML 1.1


class YamlProblem(Exception):
    """The text is not valid YAML (or uses what a treaty may not): where and what."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.line, self.column, self.message = line, column, message


class _Resolver(BaseResolver):
    """PyYAML's resolver with one table of ruamel's implicit types, remembering each plain scalar's tag.

    libyaml asks for the tag of every node: at 10,000 conduits that is a third of a million
    questions, mostly about the same few hundred words (zone ids, protocols, owners)."""

    def __init__(self) -> None:
        BaseResolver.__init__(self)
        self.tags: dict[str, str] = {}

    @classmethod
    def with_types_of(cls, versions: set[tuple[int, int]], tags: frozenset[str] | None = RESOLVED_TAGS) -> None:
        """Resolve as ruamel does for these YAML versions, only ``tags`` (None: every tag ruamel knows)."""
        cls.yaml_implicit_resolvers = {}
        for table_versions, tag, regexp, first in implicit_resolvers:
            if versions & set(table_versions) and (tags is None or str(tag) in tags):
                cls.add_implicit_resolver(str(tag), regexp, first)

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not ScalarNode:
            return SEQ if kind is SequenceNode else MAP
        if not implicit[0]:
            return STR
        tag = self.tags.get(value)
        if tag is None:
            tag = self.tags[value] = BaseResolver.resolve(self, kind, value, implicit)
        return tag


def _loader(version: tuple[int, int]) -> type:
    """A libyaml loader whose implicit scalar types are ruamel's for this YAML version."""

    class Loader(CParser, _Resolver):  # type: ignore[misc]
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _Resolver.__init__(self)

    Loader.with_types_of({version})
    return Loader


LOADERS = {(1, 2): _loader((1, 2)), (1, 1): _loader((1, 1))}


class _Dumper(CEmitter, SafeRepresenter, _Resolver):  # type: ignore[misc]
    """libyaml's emitter; a string is written plain only if no YAML reader takes it for another type.

    Its resolver knows every implicit type of ruamel's 1.1 and 1.2 tables (``=`` is the 1.1
    ``value`` type, ``!`` ``&`` ``*`` the ``yaml`` type), PyYAML's 1.1 table, and the YAML 1.1
    booleans and nulls in any letter case; the emitter quotes a string that any of them resolves.
    """

    def __init__(self, stream: Any) -> None:
        CEmitter.__init__(self, stream, width=4096, allow_unicode=True)
        SafeRepresenter.__init__(self, default_flow_style=False, sort_keys=False)
        _Resolver.__init__(self)

    def ignore_aliases(self, data: Any) -> bool:
        """Values shared in memory are written out each time: people read and edit these files."""
        return True


_Dumper.with_types_of({(1, 1), (1, 2)}, tags=None)
for _first, _resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
    for _tag, _regexp in _resolvers:
        _Dumper.add_implicit_resolver(_tag, _regexp, None if _first is None else [_first])
_Dumper.add_implicit_resolver(BOOL, re.compile(r"^(?i:y|n|yes|no|on|off|true|false)$"), list("yYnNoOtTfF"))
_Dumper.add_implicit_resolver(NULL, re.compile(r"^(?i:null|~)$"), list("nN~"))


def _version(text: str) -> tuple[int, int]:
    """The document's ``%YAML`` version (1.2 unless it says otherwise; libyaml refuses any but 1.x)."""
    events = CParser(text)
    try:
        events.get_event()
        start = events.get_event()
    except yaml.YAMLError:
        return (1, 2)  # composing reports the same error with its position
    finally:
        events.dispose()
    version = getattr(start, "version", None)
    return (1, 1) if version == (1, 1) else (1, 2)


def _problem(node: Node, message: str) -> YamlProblem:
    return YamlProblem(node.start_mark.line + 1, node.start_mark.column + 1, message)


def _int(text: str, version: tuple[int, int]) -> int:
    """ruamel's integer forms: ``_`` separators, 0b/0o/0x, and under 1.1 leading-0 octal and base 60."""
    digits = text.replace("_", "")
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    if version == (1, 1) and ":" in digits:
        return sign * int(_base60([int(part) for part in digits.split(":")]))
    if version == (1, 1) and len(digits) > 1 and digits[0] == "0":
        return sign * int(digits, 8)
    return sign * int(digits)


def _float(text: str, version: tuple[int, int]) -> float:
    digits = text.replace("_", "").lower()
    sign = -1.0 if digits[0] == "-" else 1.0
    digits = digits.lstrip("+-")
    if digits == ".nan":
        return float("nan")
    if digits == ".inf":
        return sign * float("inf")
    if version == (1, 1) and ":" in digits:
        return sign * float(_base60([float(part) for part in digits.split(":")]))
    return sign * float(digits)


def _base60(parts: list[Any]) -> Any:
    value = 0
    for part in parts:
        value = value * 60 + part
    return value


_TIMESTAMPS = yaml.constructor.SafeConstructor()


class _Builder:
    """Plain values from a composed node tree, recording each key's and item's position by path."""

    def __init__(self, version: tuple[int, int], root: Node) -> None:
        self.version = version
        self.root = root
        self.alias_budget = MIN_ALIAS_NODES  # raised once, from the document's size, only if aliases reach it
        self.positions: dict[Path, Position] = {}
        self.open: set[int] = set()  # collections being built: an alias back into one is a cycle
        self.built: set[int] = set()  # collections built once: meeting one again is an alias
        self.aliased = 0  # nodes of the document built again through an alias
        self.in_alias = 0  # how many aliases the node being built is inside

    def value(self, node: Node, path: Path) -> Any:
        if self.in_alias:
            self.aliased += 1
            if self.aliased > self.alias_budget and self.alias_budget == MIN_ALIAS_NODES:
                # counting the document is a pass over all of it: paid only by documents that alias this much
                self.alias_budget = min(MAX_ALIAS_NODES, max(MIN_ALIAS_NODES,
                                                             ALIAS_EXPANSION * _written_nodes(self.root)))
            if self.aliased > self.alias_budget:
                raise _problem(node, f"aliases expand to more than {self.alias_budget:,} nodes: "
                                     "write the values out, or use fewer anchors")
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in self.open:
            raise _problem(node, "recursive alias: a node cannot contain itself")
        if len(self.open) >= MAX_DEPTH:
            raise _problem(node, f"nesting deeper than {MAX_DEPTH} levels")
        alias = id(node) in self.built
        self.open.add(id(node))
        self.in_alias += alias
        try:
            if isinstance(node, MappingNode) and node.tag == MAP:
                return self.mapping(node, path)
            if isinstance(node, SequenceNode) and node.tag == SEQ:
                return self.sequence(node, path)
        finally:
            self.open.discard(id(node))
            self.built.add(id(node))
            self.in_alias -= alias
        raise _problem(node, f"unsupported tag {node.tag}")

    def scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if len(text) > MAX_SCALAR:
            raise _problem(node, f"a value of {len(text):,} characters; at most {MAX_SCALAR:,} are read")
        if tag == STR:
            return text
        if tag == NULL:
            return None
        if tag == BOOL:
            return text.lower() in TRUE_WORDS
        try:  # an explicit tag (``!!int abc``) can hold anything
            if tag == INT:
                return _int(text, self.version)
            if tag == FLOAT:
                return _float(text, self.version)
            if tag == TIMESTAMP and _TIMESTAMPS.timestamp_regexp.match(text):
                stamp: dt.date = _TIMESTAMPS.construct_yaml_timestamp(node)
                return stamp
        except ValueError:
            pass
        if tag == MERGE:
            raise _problem(node, "merge keys (<<) are not supported in a treaty: write the keys out")
        if tag in (INT, FLOAT, TIMESTAMP):
            raise _problem(node, f"{text!r} is not a valid {tag.removeprefix(YAML)}")
        raise _problem(node, f"unsupported tag {tag}")

    def mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[Any, Any] = {}  # key value -> its value (``1`` and ``01`` are the same key)
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _problem(key_node, "a key must be a single value, not a list or mapping")
            key = self.scalar(key_node)
            name = _key_name(key, key_node.value)
            self.positions[(*path, name)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            value = self.value(value_node, (*path, name))
            if key in seen:
                raise _problem(key_node, f'found duplicate key "{name}" with value "{value}" '
                                         f'(original value: "{seen[key]}")')
            out[name] = seen[key] = value
        return out

    def sequence(self, node: SequenceNode, path: Path) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.positions[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(self.value(item, (*path, index)))
        return items


def _written_nodes(root: Node) -> int:
    """How many distinct nodes the text holds (an alias is the node it names, counted once)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return len(seen)


def _key_name(key: Any, text: str) -> str:
    """The key as ruamel named it: ``str`` of its value (its timestamps written with ``T`` keep the ``T``)."""
    if isinstance(key, dt.datetime) and "t" in text.lower():
        return key.isoformat()
    return str(key)


def parse(text: str) -> tuple[Any, dict[Path, Position]]:
    """The document's plain value (None when empty) and the position of every key and item in it."""
    version = _version(text)
    loader = LOADERS[version](text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = str(exc.problem or exc.context)
        if exc.problem and exc.context and exc.context_mark and exc.context_mark is not mark:
            # e.g. an unclosed quote is only noticed at the end of the file: say where it began
            where = exc.context_mark
            message += f" ({exc.context} at line {where.line + 1}, column {where.column + 1})"
        raise YamlProblem(mark.line + 1 if mark else 0, mark.column + 1 if mark else 0, message) from None
    except yaml.YAMLError as exc:  # e.g. a character YAML does not allow: no mark, the message says where
        raise YamlProblem(0, 0, str(exc)) from None
    finally:
        loader.dispose()
    if root is None:
        return None, {}
    builder = _Builder(version, root)
    return builder.value(root, ()), builder.positions


def dump(data: Any) -> str:
    """Plain values (str, int, float, bool, None, lists, string-keyed mappings) as block YAML."""
    stream = io.StringIO()
    dumper = _Dumper(stream)
    try:
        dumper.open()
        dumper.represent(data)
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()
