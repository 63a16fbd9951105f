"""PAN-OS ``set`` commands and brace-style "show config" text, read into the XML-shaped tree.

Operators export PAN-OS configs as ``set`` commands (``set rulebase security rules R
from trust``), and Batfish/RANCID store the brace form (``config { devices { ... } }``).
Both are flattened to token paths and written into the same ``PanNode`` tree the XML
reader builds, so one interpreter serves all formats:

- a keyword that names a list of entries (``address``, ``rules``, ``vsys`` ...) takes the
  next token as the entry name (``<address><entry name="A">``); an interface entry holds no text, so a
  lone word after its name is an empty element (``ethernet ethernet1/1 layer2`` is ``<layer2/>``);
- the last token (or a ``[ a b ]`` list) is the value; repeated ``set`` lines append;
- ``set rulebase ...``/``set address ...`` without ``vsys`` write into ``vsys1``, device
  words (``deviceconfig``, ``network``, ``device-group`` ...) into the device entry, and
  ``shared``/``readonly``/``policy`` at the top, as the XML places them;
- ``move ... top|bottom|before X|after X`` reorders entries and ``delete`` removes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from plantgate.errors import InputError
from plantgate.firewalls.panos.xml_syntax import PanNode

DEVICE_NAME = "localhost.localdomain"
DEFAULT_VSYS = "vsys1"

#: Keywords whose next token names an entry of a list (``<kw><entry name=...>``).
ENTRY_LISTS = frozenset({
    "devices", "vsys", "device-group", "template", "template-stack", "address", "address-group",
    "service", "service-group", "zone", "rules", "application", "application-group",
    "application-filter", "external-list", "tag", "schedule", "region", "dynamic-user-group",
    "ethernet", "units", "virtual-router", "log-collector-group", "profile-group",
    "aggregate-ethernet", "static-route", "logical-router",
})
#: Entry lists of interfaces: ``ethernet NAME layer2`` names an element (the mode), never a text value.
INTERFACE_LISTS = frozenset({"ethernet", "aggregate-ethernet", "units"})
#: First words that live at the top of ``<config>``.
TOP_LEVEL = frozenset({"shared", "mgt-config", "readonly", "policy", "panorama"})
#: First words that live in ``<devices><entry name="localhost.localdomain">``.
DEVICE_LEVEL = frozenset({
    "deviceconfig", "network", "vsys", "device-group", "template", "template-stack",
    "log-collector", "log-collector-group", "platform", "plugins", "import",
})


@dataclass(frozen=True)
class Token:
    text: str
    line: int
    column: int
    quoted: bool = False
    end: int = 0  # the line the token ends on (a quoted string may span lines)


def tokenize(text: str, file: str, first_line: int = 1, braces: bool = False) -> list[Token]:
    """Split into words, quoted strings and ``[`` ``]`` (and ``{ } ;`` for the brace form)."""
    specials = "[]{};" if braces else "[]"
    tokens: list[Token] = []
    line, i, line_start = first_line, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line, i, line_start = line + 1, i + 1, i + 1
        elif ch in " \t\r":
            i += 1
        elif ch in "#!" and text[line_start:i].strip() == "":  # comment line
            while i < len(text) and text[i] != "\n":
                i += 1
        elif ch in specials:
            tokens.append(Token(ch, line, i - line_start + 1))
            i += 1
        elif ch in "\"'":
            end = text.find(ch, i + 1)
            newline = text.find("\n", i + 1)
            if end < 0 or (0 <= newline < end and ch == "'"):
                if ch == "'":  # a lone apostrophe is an ordinary character
                    j = i
                    while j < len(text) and text[j] not in " \t\r\n" + specials:
                        j += 1
                    tokens.append(Token(text[i:j], line, i - line_start + 1))
                    i = j
                    continue
                raise InputError.at(file, line, i - line_start + 1, "unterminated quoted string", 'a closing "')
            value = text[i + 1:end]
            start_line = line
            line += value.count("\n")
            tokens.append(Token(value, start_line, i - line_start + 1, quoted=True, end=line))
            if "\n" in value:
                line_start = i + 1 + value.rfind("\n") + 1
            i = end + 1
        else:
            j = i
            while j < len(text) and text[j] not in " \t\r\n" + specials:
                j += 1
            tokens.append(Token(text[i:j], line, i - line_start + 1))
            i = j
    return tokens


class TreeWriter:
    """Writes token paths into a PanNode tree shaped like the XML config."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.root = PanNode("config", line=1)

    def _step(self, node: PanNode, tag: str, line: int) -> PanNode:
        found = node.child(tag)
        if found is None:
            found = PanNode(tag, line=line, end_line=line)
            node.add_child(found)
        found.end_line = max(found.end_line, line)
        return found

    def _entry(self, holder: PanNode, name: str, line: int) -> PanNode:
        found = holder.entry(name)
        if found is None:
            found = PanNode("entry", line=line, end_line=line, name=name)
            holder.add_child(found)
        found.end_line = max(found.end_line, line)
        found.touched.append(line)
        return found

    def anchor(self, words: list[str], line: int) -> tuple[PanNode, list[str]]:
        """Where a set path starts in the tree (created as needed), and the words left to walk."""
        if words and words[0] == "config":
            return self.root, words[1:]
        if words and words[0] in TOP_LEVEL:
            return self.root, words
        device = self._entry(self._step(self.root, "devices", line), DEVICE_NAME, line)
        if words and words[0] in DEVICE_LEVEL:
            return device, words
        vsys = self._entry(self._step(device, "vsys", line), DEFAULT_VSYS, line)
        return vsys, words

    def _existing_anchor(self, words: list[str]) -> tuple[PanNode | None, list[str]]:
        if words and words[0] == "config":
            return self.root, words[1:]
        if words and words[0] in TOP_LEVEL:
            return self.root, words
        device = self.root.path("devices", "entry=" + DEVICE_NAME)
        if words and words[0] in DEVICE_LEVEL or device is None:
            return device, words
        return device.path("vsys", "entry=" + DEFAULT_VSYS), words

    def write(self, tokens: list[Token], has_value: bool, line: int = 0) -> PanNode:
        """Create the path; the last token or ``[ ... ]`` list is the value when ``has_value``.

        ``line`` is the statement's line when the path starts on an earlier one (a brace block's name).
        """
        line = line or tokens[0].line
        words, values = self._split_value(tokens, has_value)
        node, words = self.anchor(words, line)
        lone_word = len(values) == 1 and tokens[-1].text != "]"
        i = 0
        while i < len(words):
            word = words[i]
            node = self._step(node, word, line)
            rest = len(words) - i - 1
            if word in INTERFACE_LISTS and rest == 1 and lone_word:
                node = self._step(self._entry(node, words[i + 1], line), values.pop(), line)
                break
            if word in ENTRY_LISTS and (rest >= 2 or (rest == 1 and not values)):
                node = self._entry(node, words[i + 1], line)
                i += 2
                continue
            i += 1
        node.values.extend(values)
        node.touched.append(line)
        return node

    def _split_value(self, tokens: list[Token], has_value: bool) -> tuple[list[str], list[str]]:
        texts = [t.text for t in tokens]
        if not has_value or len(tokens) < 2:
            return [t for t in texts if t not in ("[", "]")], []
        if texts[-1] == "]" and not tokens[-1].quoted:
            try:
                opening = max(i for i, t in enumerate(tokens) if t.text == "[" and not t.quoted)
            except ValueError:
                raise InputError.at(self.file, tokens[-1].line, tokens[-1].column, "']' without '['") from None
            return texts[:opening], texts[opening + 1:-1]
        if "[" in texts and not any(t.text == "]" for t in tokens):
            bad = tokens[texts.index("[")]
            raise InputError.at(self.file, bad.line, bad.column, "unclosed '[' list", "']'")
        return texts[:-1], texts[-1:]

    def find(self, tokens: list[Token]) -> tuple[PanNode, PanNode] | None:
        """The (parent, node) a path names, without creating anything."""
        node, words = self._existing_anchor([t.text for t in tokens])
        if node is None:
            return None
        parent = node
        i = 0
        while i < len(words) and node is not None:
            parent, node = node, node.child(words[i])
            if node is not None and words[i] in ENTRY_LISTS and i + 1 < len(words):
                parent, node = node, node.entry(words[i + 1])
                i += 1
            i += 1
        return (parent, node) if node is not None else None

    def move(self, tokens: list[Token]) -> None:
        """``move <path to entry> top|bottom|before NAME|after NAME``."""
        words = [t.text for t in tokens]
        where_at = next((i for i, w in enumerate(words) if w in {"top", "bottom", "before", "after"}), -1)
        if where_at < 1:
            raise InputError.at(self.file, tokens[0].line, tokens[0].column, "move without a position",
                                "top, bottom, before NAME or after NAME")
        found = self.find(tokens[:where_at])
        if found is None or found[1].tag != "entry":
            raise InputError.at(self.file, tokens[0].line, tokens[0].column,
                                "move names an entry that is not defined above", "a defined rule name")
        holder, moved = found
        holder.children.remove(moved)
        holder.children_changed()
        moved.touched.append(tokens[0].line)
        where = words[where_at]
        if where == "top":
            holder.children.insert(0, moved)
        elif where == "bottom":
            holder.children.append(moved)
        else:
            if where_at + 1 >= len(words) or (anchor := holder.entry(words[where_at + 1])) is None:
                holder.add_child(moved)  # restore before refusing
                raise InputError.at(self.file, tokens[0].line, tokens[0].column,
                                    f"move {where} names an undefined entry", "a defined rule name")
            index = holder.children.index(anchor)
            holder.children.insert(index if where == "before" else index + 1, moved)
        holder.children_changed()

    def delete(self, tokens: list[Token]) -> bool:
        """Remove the named node, or the last word from its parent's values; False when absent."""
        found = self.find(tokens)
        if found is not None:
            found[0].children.remove(found[1])
            found[0].children_changed()
            return True
        parent = self.find(tokens[:-1]) if len(tokens) > 1 else None
        if parent is not None and tokens[-1].text in parent[1].values:
            parent[1].values.remove(tokens[-1].text)
            return True
        return False


def _statements(tokens: list[Token]) -> list[list[Token]]:
    """Split a flat token list into one-line statements (tokens share the first token's line)."""
    out: list[list[Token]] = []
    for token in tokens:
        if out and max(out[-1][-1].end, out[-1][-1].line) == token.line:
            out[-1].append(token)
        elif out and out[-1][-1].text == "[" or (out and _open_bracket(out[-1])):
            out[-1].append(token)
        else:
            out.append([token])
    return out


def _open_bracket(stmt: list[Token]) -> bool:
    depth = 0
    for t in stmt:
        if not t.quoted:
            depth += {"[": 1, "]": -1}.get(t.text, 0)
    return depth > 0


def parse_set_tree(text: str, file: str) -> tuple[PanNode, list[tuple[int, str, str]]]:
    """Read ``set``/``delete``/``move`` lines; return the tree and (line, message, text) of lines ignored."""
    writer = TreeWriter(file)
    unknown: list[tuple[int, str, str]] = []
    source = text.splitlines()
    for stmt in _statements(tokenize(text, file)):
        first = stmt[0]
        if first.text.startswith(("#", "!")) and not first.quoted:
            continue
        command, rest = first.text, stmt[1:]
        if command == "set" and rest:
            writer.write(rest, has_value=True)
        elif command == "move" and rest:
            writer.move(rest)
        elif command == "delete" and rest:
            if not writer.delete(rest):
                unknown.append((first.line, "delete of something not configured; ignored",
                                source[first.line - 1].strip()))
        else:
            unknown.append((first.line, "command not understood; ignored", source[first.line - 1].strip()))
    return writer.root, unknown


def parse_brace_tree(text: str, file: str) -> PanNode:
    """Read the brace form (``config { devices { ... } }``) by flattening it to set paths."""
    writer = TreeWriter(file)
    prefix: list[list[Token]] = []
    statement: list[Token] = []
    for token in tokenize(text, file, braces=True):
        if token.text in "{;" and not token.quoted:
            if not statement:
                raise InputError.at(file, token.line, token.column, f"'{token.text}' without a name")
            path = [t for part in prefix for t in part] + statement
            if token.text == "{":
                writer.write(path, has_value=False, line=statement[0].line)
                prefix.append(statement)
            else:
                writer.write(path, has_value=len(statement) > 1, line=statement[0].line)
            statement = []
        elif token.text == "}" and not token.quoted:
            if statement or not prefix:
                raise InputError.at(file, token.line, token.column, "unexpected '}'", "';' or a closed block")
            prefix.pop()
        else:
            statement.append(token)
    if prefix or statement:
        last = (statement or prefix[-1])[-1]
        raise InputError.at(file, last.line, last.column, "unclosed block at end of file", "'}'")
    return writer.root
