"""FortiOS configuration syntax: tokens, nested ``config``/``edit`` blocks, and CLI edit semantics.

FortiOS backups and ``show full-configuration`` output are CLI scripts: ``config X`` opens a
table, ``edit NAME`` ... ``next`` edits one entry, ``set``/``append``/``unset`` change its
attributes, ``end`` closes the table. Several blocks for the same table merge, a second
``edit`` of an entry changes the same entry, and ``move``/``clone``/``delete``/``rename``
reorder or change the table. Replaying those semantics here, once, keeps the policy and
object code free of syntax and keeps every statement's line number for the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from plantgate.errors import InputError
from plantgate.firewalls.interning import LineTexts
from plantgate.firewalls.ruleset import ParseWarning


@dataclass(slots=True)
class Statement:
    """One CLI command: its words (quotes removed) and the 1-based lines it spans.

    Not frozen only because a frozen dataclass is three times slower to build, and a large
    config has hundreds of thousands of these: nothing changes one once it is read.
    """

    words: tuple[str, ...]
    line: int
    end_line: int

    @property
    def verb(self) -> str:
        return self.words[0]


@dataclass(slots=True)
class Setting:
    """The current value of one attribute and the line that last changed it.

    Not frozen, as ``Statement``; settings are shared between the readers of an entry, never changed.
    """

    values: tuple[str, ...]
    line: int

    @property
    def first(self) -> str:
        return self.values[0] if self.values else ""


@dataclass(slots=True)
class Table:
    """A ``config`` table; all blocks with the same path in one scope merge into it."""

    path: str
    line: int
    end_line: int
    entries: dict[str, Entry] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)
    replayed: dict[str, Setting] | None = field(default=None, init=False, repr=False, compare=False)

    def attributes(self) -> dict[str, Setting]:
        """``settings(self.statements)``, replayed once the tree is read: several readers ask. Read-only."""
        if self.replayed is None:
            self.replayed = settings(self.statements)
        return self.replayed


@dataclass(slots=True)
class Entry:
    """One ``edit NAME`` entry of a table with its statements in order."""

    name: str
    line: int
    end_line: int
    statements: list[Statement] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)
    replayed: dict[str, Setting] | None = field(default=None, init=False, repr=False, compare=False)

    def attributes(self) -> dict[str, Setting]:
        """``settings(self.statements)``, replayed once the tree is read: policies, objects and NAT
        all read an entry's attributes. Read-only: the dict is shared."""
        if self.replayed is None:
            self.replayed = settings(self.statements)
        return self.replayed


@dataclass(slots=True)
class ConfigTree:
    """The top-level tables of a file, the raw lines, and the warnings found while reading."""

    tables: dict[str, Table]
    lines: list[str]
    warnings: list[ParseWarning]
    line_texts: LineTexts = field(init=False)

    def __post_init__(self) -> None:
        self.line_texts = LineTexts(self.lines)

    def text(self, line: int, end_line: int) -> str:
        return self.line_texts.text(line, end_line)


SETTING_VERBS = frozenset({"set", "unset", "append", "select", "unselect"})
TABLE_VERBS = frozenset({"move", "clone", "delete", "rename", "purge"})


# A line whose words are all plain or wholly quoted: no backslash, every quote closed on the line,
# and no quote glued to another piece of the same word. Nearly every real line is one of these.
SIMPLE_LINE = re.compile(r"""(?:[ \t\r]*(?:"[^"\\]*"|'[^'\\]*'|[^ \t\r"'\\]+)(?=[ \t\r]|\Z))*[ \t\r]*""")
SIMPLE_WORD = re.compile(r""""([^"]*)"|'([^']*)'|([^ \t\r"']+)""")

OTHER_WHITESPACE = re.compile(r"[^\S \t\r\n]")
"""Whitespace that ``str.split`` splits on and FortiOS does not (form feed, Unicode spaces, ...)."""
ASCII_OTHER_WHITESPACE = "\x0b\x0c\x1c\x1d\x1e\x1f"
"""The ASCII members of ``OTHER_WHITESPACE``: an ASCII text without them has none."""

Words = tuple[tuple[str, ...], int, int]
"""A statement's words (quotes removed), first line and last line."""


def _only_fortios_whitespace(text: str) -> bool:
    """True when the only whitespace in ``text`` is space, tab, CR and LF (the str.split path is then exact)."""
    if text.isascii():
        return not any(c in text for c in ASCII_OTHER_WHITESPACE)
    return OTHER_WHITESPACE.search(text) is None


def tokenize(text: str, file: str, split_plain: bool = True) -> list[Statement]:
    """Split the text into statements; a quoted value may span lines, ``#`` starts a comment line.

    ``split_plain`` False skips the ``str.split`` way of reading lines (the property test compares
    the two); see ``_statement_words``.
    """
    split_plain = split_plain and _only_fortios_whitespace(text)
    return [Statement(*words) for words in _statement_words(text, file, text.split("\n"), split_plain)]


def _statement_words(text: str, file: str, lines: list[str], split_plain: bool) -> Iterator[Words]:
    """Each statement's words and lines, in order; ``lines`` is ``text.split("\\n")``.

    Most lines are read by ``str.split``: a line without backslash or single quote whose double
    quotes each wrap a whole word with no space in it (``set srcaddr "a" "b"``). Other simple
    lines are read by a compiled regex, and a line with a backslash, a quote inside a word or a
    quote left open by the character scanner, which defines the syntax. ``split_plain`` says
    whether the first way may be used (not for a text with whitespace FortiOS does not split on).
    """
    count = len(lines)
    index = 0  # lines[index] is the next line to read
    offset_index = offset = 0  # text[offset] starts lines[offset_index]; advanced only for the scanner
    every_line_plain = split_plain and "\\" not in text and "'" not in text
    while index < count:
        raw = lines[index]
        index += 1
        if every_line_plain or split_plain and "\\" not in raw and "'" not in raw:
            if raw[-1:] == '"' and raw.count('"') == 2:  # the usual quoted line: one value, last
                quote = raw.index('"')
                value = raw[quote + 1:-1]
                if raw[quote - 1] in " \t\r" and " " not in value and "\t" not in value and "\r" not in value:
                    words = raw[:quote].split()
                    if not words or words[0][0] != "#":
                        words.append(value)
                        yield tuple(words), index, index
                    continue
            words = raw.split()
            if not words or words[0][0] == "#":
                continue
            if '"' not in raw:
                yield tuple(words), index, index
                continue
            for k, word in enumerate(words):
                if '"' in word:
                    if len(word) < 2 or word[0] != '"' or word[-1] != '"' or '"' in word[1:-1]:
                        break
                    words[k] = word[1:-1]
            else:
                yield tuple(words), index, index
                continue
        stripped = raw.lstrip(" \t\r")
        if not stripped or stripped[0] == "#":
            continue
        if SIMPLE_LINE.fullmatch(raw):
            yield tuple(["".join(groups) for groups in SIMPLE_WORD.findall(raw)]), index, index
            continue
        offset += sum(len(line) + 1 for line in lines[offset_index:index - 1])
        scanned, offset, next_line = _scan_statement(text, offset, index, file)
        if scanned is not None:
            yield scanned
        index = offset_index = next_line - 1


def _scan_statement(text: str, i: int, line: int, file: str) -> tuple[Words | None, int, int]:
    """Scan one statement character by character from the start of ``line`` (offset ``i``).

    Returns the statement (None if the line is blank) and the offset and number of the line
    after the newline that ends it; a quoted value may span lines.
    """
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quote = ""
    start_line = line
    quote_line = 0
    n = len(text)

    def finish_word() -> None:
        nonlocal in_word
        if in_word:
            words.append("".join(current))
            current.clear()
            in_word = False

    at_line_start = True
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < n and text[i + 1] in (quote, "\\"):
                current.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
                if ch == "\n":
                    line += 1
            i += 1
            continue
        if ch == "\n":
            finish_word()
            return ((tuple(words), start_line, line) if words else None), i + 1, line + 1
        if at_line_start and ch in " \t\r":
            i += 1
            continue
        if at_line_start and ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        at_line_start = False
        if ch in " \t\r":
            finish_word()
        elif ch in "\"'":
            if not words and not in_word:
                start_line = line
            quote = ch
            quote_line = line
            in_word = True
        elif ch == "\\" and i + 1 < n and text[i + 1] != "\n":
            if not words and not in_word:
                start_line = line
            current.append(text[i + 1])
            in_word = True
            i += 1
        else:
            if not words and not in_word:
                start_line = line
            current.append(ch)
            in_word = True
        i += 1
    if quote:
        raise InputError.at(file, quote_line, 1, f"unterminated {quote}quoted{quote} value", "a closing quote")
    finish_word()
    return ((tuple(words), start_line, line) if words else None), n, line + 1


def read_tree(text: str, file: str) -> ConfigTree:
    """Build the merged table tree; unbalanced ``config``/``edit``/``next``/``end`` raise InputError."""
    split = text.split("\n")
    plain = _only_fortios_whitespace(text)
    lines = (split[:-1] if split[-1] == "" else split) if plain and "\r" not in text else text.splitlines()
    warnings: list[ParseWarning] = []
    root = Table("", 1, max(len(lines), 1))
    stack: list[Table | Entry] = [root]
    top: Table | Entry = root
    for words, line, end_line in _statement_words(text, file, split, plain):
        verb = words[0]
        if verb in SETTING_VERBS:  # nearly every statement: tested first
            if top is root:
                raise InputError.at(file, line, 1, f"{verb!r} outside any config block", "config <table>")
            top.statements.append(Statement(words, line, end_line))
        elif verb == "edit":
            if not isinstance(top, Table) or top is root:
                raise InputError.at(file, line, 1, "'edit' outside a config table", "'next' or 'end' first")
            if len(words) != 2:
                raise InputError.at(file, line, 1, "'edit' needs exactly one name", "edit <name>")
            entry = top.entries.get(words[1])
            if entry is None:
                entry = top.entries[words[1]] = Entry(words[1], line, end_line)
            stack.append(entry)
            top = entry
        elif verb == "next":
            if not isinstance(top, Entry):
                raise InputError.at(file, line, 1, "'next' without a matching 'edit'", "'end' or 'edit'")
            top.end_line = max(top.end_line, end_line)
            stack.pop()
            top = stack[-1]
        elif verb == "config":
            if len(words) < 2:
                raise InputError.at(file, line, 1, "'config' without a table name", "config <table>")
            path = " ".join(words[1:])
            table = top.tables.get(path)
            if table is None:
                table = top.tables[path] = Table(path, line, end_line)
            stack.append(table)
            top = table
        elif verb == "end":
            if not isinstance(top, Table) or top is root:
                what = "'end' inside an 'edit' block" if isinstance(top, Entry) else "'end' without 'config'"
                raise InputError.at(file, line, 1, what, "'next' before 'end'")
            top.end_line = max(top.end_line, end_line)
            stack.pop()
            top = stack[-1]
        elif top is root:
            raise InputError.at(file, line, 1, f"{verb!r} outside any config block", "config <table>")
        elif verb in TABLE_VERBS and isinstance(top, Table):
            _table_operation(top, Statement(words, line, end_line), file, warnings)
        else:
            warnings.append(ParseWarning(file, line, f"unknown command {verb!r} ignored", " ".join(words)))
    if len(stack) > 1:
        open_block = stack[-1]
        kind = f"edit {open_block.name}" if isinstance(open_block, Entry) else f"config {open_block.path}"
        raise InputError.at(
            file, open_block.line, 1, f"'{kind}' is never closed",
            "'next'" if isinstance(open_block, Entry) else "'end'",
        )
    return ConfigTree(root.tables, lines, warnings)


def _table_operation(table: Table, st: Statement, file: str, warnings: list[ParseWarning]) -> None:
    """Replay ``move A before|after B``, ``clone A to B``, ``delete A``, ``rename A to B``, ``purge``."""
    w = st.words
    text = " ".join(w)

    def warn(message: str) -> None:
        warnings.append(ParseWarning(file, st.line, message, text))

    if w[0] == "purge":
        table.entries.clear()
        return
    if len(w) < 2 or w[1] not in table.entries:
        warn(f"{w[0]} of an entry that does not exist; ignored")
        return
    if w[0] == "delete":
        del table.entries[w[1]]
        return
    if len(w) != 4:
        warn(f"malformed {w[0]} command; ignored")
        return
    name, how, other = w[1], w[2], w[3]
    items = list(table.entries.items())
    if w[0] == "move":
        if how not in ("before", "after") or other not in table.entries or other == name:
            warn("move to an entry that does not exist; ignored")
            return
        moved = table.entries[name]
        items = [(k, v) for k, v in items if k != name]
        at = next(i for i, (k, _) in enumerate(items) if k == other) + (1 if how == "after" else 0)
        items.insert(at, (name, moved))
    elif w[0] in ("clone", "rename"):
        if how != "to" or other in table.entries:
            warn(f"{w[0]} onto an existing entry; ignored")
            return
        source = table.entries[name]
        if w[0] == "clone":
            copy = Entry(other, st.line, st.end_line, list(source.statements), dict(source.tables))
            items.append((other, copy))
            warn(f"clone of {name!r} placed at the end of the table")
        else:
            source.name = other
            items = [(other if k == name else k, v) for k, v in items]
    table.entries = dict(items)


def settings(
    statements: Iterable[Statement],
    resets: dict[str, tuple[str, ...]] | None = None,
    unset_resets: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, Setting]:
    """Replay set/append/unset/select/unselect in order.

    ``resets`` lists keys cleared when a key is set, ``unset_resets`` keys cleared when one is unset.
    """
    out: dict[str, Setting] = {}
    for st in statements:
        words = st.words
        if len(words) < 2:
            continue
        verb, key, values = words[0], words[1], words[2:]
        if verb == "set" or verb == "select":
            out[key] = Setting(values, st.line)
            if resets:
                for cleared in resets.get(key, ()):
                    out.pop(cleared, None)
        elif verb == "append":
            old = out.get(key)
            out[key] = Setting((old.values if old else ()) + values, st.line)
        elif verb == "unselect":
            old = out.get(key)
            if old:
                out[key] = Setting(tuple(v for v in old.values if v not in values), st.line)
        elif verb == "unset":
            out.pop(key, None)
            for cleared in (unset_resets or {}).get(key, ()):
                out.pop(cleared, None)
    return out
