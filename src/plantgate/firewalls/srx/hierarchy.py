"""Junos configuration text -> one word tree, whichever of the two formats it was written in.

An SRX config arrives either as the hierarchical ``show configuration`` form (braces, ``;``,
``[ a b ]`` lists, ``/* */`` and ``#`` comments, quoted strings, ``inactive:`` markers) or as
``display set`` command lines (``set ...``, ``deactivate ...``). Both describe the same thing:
a tree whose every path is a sequence of words (``security policies from-zone A to-zone B
policy P match source-address X``). Reading both into one ``ConfigNode`` tree keeps the
normaliser format-blind, so the same policy gives the same Ruleset in either form, and every
node remembers the source lines that built it (the evidence for a finding).

Malformed structure (unbalanced braces, unterminated quotes or comments, stray text) raises
InputError with file, line and column: a half-read firewall config must never look clean.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import ParseWarning

SET_COMMANDS = frozenset({"set", "deactivate", "activate", "delete", "protect", "unprotect", "insert"})
_IGNORED_PREFIXES = frozenset({"replace:", "protect:", "unprotect:"})
_PUNCTUATION = "{};[]"
_CLI_BANNER = re.compile(r"^\s*(\{[\w:.\-]+\}|\S+@\S+[>#%].*)\s*$")


@dataclass(eq=False)
class ConfigNode:
    """One word of the configuration tree; children keep first-appearance (= file) order."""

    word: str
    parent: ConfigNode | None = None
    children: dict[str, ConfigNode] = field(default_factory=dict)
    inactive: bool = False
    ranges: list[tuple[int, int]] = field(default_factory=list)

    def add(self, word: str) -> ConfigNode:
        node = self.children.get(word)
        if node is None:
            node = ConfigNode(word, self)
            self.children[word] = node
        return node

    def touch(self, first: int, last: int) -> None:
        self.ranges.append((first, last))

    def child(self, word: str, *, include_inactive: bool = False) -> ConfigNode | None:
        node = self.children.get(word)
        if node is None or (node.inactive and not include_inactive):
            return None
        return node

    def find(self, *words: str, include_inactive: bool = False) -> ConfigNode | None:
        node: ConfigNode | None = self
        for word in words:
            if node is None:
                return None
            node = node.child(word, include_inactive=include_inactive)
        return node

    def kids(self, *, include_inactive: bool = False) -> list[ConfigNode]:
        return [n for n in self.children.values() if include_inactive or not n.inactive]

    def words(self) -> list[str]:
        """The active child words (the values of a leaf list such as ``source-address``)."""
        return [n.word for n in self.kids()]

    def leaf_paths(self) -> Iterator[list[str]]:
        """Every active word sequence from below this node down to a leaf, in file order.

        Iterative, each path read back from its leaf: a statement of a thousand words is a thousand nested nodes.
        """
        pending = list(reversed(self.kids()))
        while pending:
            node = pending.pop()
            if node.children:
                pending.extend(reversed(node.kids()))
                continue
            path = []
            step: ConfigNode | None = node
            while step is not None and step is not self:  # the words up to here, read back from the leaf
                path.append(step.word)
                step = step.parent
            path.reverse()
            yield path

    def disabled(self) -> bool:
        """True when this node or any ancestor is inactive (deactivated)."""
        node: ConfigNode | None = self
        while node is not None:
            if node.inactive:
                return True
            node = node.parent
        return False

    def all_ranges(self) -> list[tuple[int, int]]:
        """Line ranges of this node and everything below it."""
        out: list[tuple[int, int]] = []
        pending = [self]
        while pending:  # iterative: blocks nest as deep as the file says
            node = pending.pop()
            out.extend(node.ranges)
            pending.extend(node.children.values())
        return out

    @property
    def line(self) -> int:
        ranges = self.all_ranges()
        return min(r[0] for r in ranges) if ranges else 0


@dataclass
class JunosConfig:
    """The tree read from one file, its source lines, and notes about skipped text."""

    root: ConfigNode
    lines: list[str]
    notes: list[ParseWarning]
    set_format: bool


@dataclass(frozen=True)
class _Token:
    kind: str  # "word" or one of the punctuation characters
    text: str
    line: int
    column: int


def _tokenize_line(text: str, line: int, file: str, comment_start: _Token | None) -> tuple[
    list[_Token], _Token | None
]:
    """Tokens of one line; ``comment_start`` carries an open ``/* */`` comment across lines."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if comment_start is not None:
            end = text.find("*/", i)
            if end < 0:
                return tokens, comment_start
            comment_start, i = None, end + 2
            continue
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("/*", i):
            comment_start = _Token("comment", "/*", line, i + 1)
            i += 2
        elif ch == "#":
            break
        elif ch in _PUNCTUATION:
            tokens.append(_Token(ch, ch, line, i + 1))
            i += 1
        elif ch == '"':
            j, chars = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                chars.append(text[j])
                j += 1
            if j >= n:
                raise InputError.at(file, line, i + 1, "unterminated quoted string", 'a closing "')
            tokens.append(_Token("word", "".join(chars), line, i + 1))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _PUNCTUATION and text[j] != '"':
                j += 1
            tokens.append(_Token("word", text[i:j], line, i + 1))
            i = j
    return tokens, comment_start


def _expand_lists(file: str, tokens: list[_Token]) -> list[list[_Token]]:
    """Turn ``a b [ c d ] e`` into the word paths ``a b c e`` and ``a b d e``."""
    paths: list[list[_Token]] = [[]]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "[":
            close = next((k for k in range(i + 1, len(tokens)) if tokens[k].kind == "]"), -1)
            if close < 0:
                raise InputError.at(file, tok.line, tok.column, "'[' list is never closed", "']'")
            items = tokens[i + 1 : close]
            bad = next((t for t in items if t.kind != "word"), None)
            if bad is not None:
                raise InputError.at(file, bad.line, bad.column, f"unexpected {bad.text!r} in a list", "words")
            paths = [p + [item] for p in paths for item in items] if items else paths
            i = close + 1
            continue
        if tok.kind == "]":
            raise InputError.at(file, tok.line, tok.column, "']' without a matching '['")
        paths = [p + [tok] for p in paths]
        i += 1
    return paths


@dataclass
class _Frame:
    nodes: list[ConfigNode]
    open_token: _Token


class _Reader:
    """Feeds lines into one ConfigNode tree, switching between set lines and braces."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.root = ConfigNode("")
        self.notes: list[ParseWarning] = []
        self.stack: list[_Frame] = []
        self.pending: list[_Token] = []
        self.set_lines = 0

    def run(self) -> JunosConfig:
        comment: _Token | None = None
        for number, text in enumerate(self.lines, start=1):
            stripped = text.strip()
            if comment is None and not self.stack and not self.pending:
                first = stripped.split(None, 1)[0] if stripped else ""
                if first in SET_COMMANDS:
                    self._set_command(text, number)
                    continue
                if stripped and _CLI_BANNER.match(text):
                    self.notes.append(ParseWarning(self.file, number, "CLI prompt or banner line skipped", stripped))
                    continue
            tokens, comment = _tokenize_line(text, number, self.file, comment)
            for tok in tokens:
                self._hierarchical_token(tok)
        if comment is not None:
            raise InputError.at(self.file, comment.line, comment.column, "'/*' comment is never closed", "'*/'")
        if self.pending:
            tok = self.pending[0]
            raise InputError.at(
                self.file, tok.line, tok.column, f"statement {tok.text!r} is not terminated", "';' or '{'"
            )
        if self.stack:
            tok = self.stack[-1].open_token
            raise InputError.at(self.file, tok.line, tok.column, "'{' block is never closed", "'}'")
        return JunosConfig(self.root, self.lines, self.notes, self.set_lines > 0)

    # -- display-set lines -------------------------------------------------------------
    def _set_command(self, text: str, number: int) -> None:
        tokens, comment = _tokenize_line(text, number, self.file, None)
        if comment is not None:
            raise InputError.at(self.file, number, comment.column, "'/*' comment inside a set command", "'*/'")
        bad = next((t for t in tokens if t.kind in "{};"), None)
        if bad is not None:
            raise InputError.at(self.file, bad.line, bad.column, f"unexpected {bad.text!r} in a set command")
        command, args = tokens[0].text, tokens[1:]
        self.set_lines += 1
        if not args:
            raise InputError.at(self.file, number, len(text) + 1, f"{command!r} without a path", "a config path")
        if command in ("protect", "unprotect"):
            return
        if command == "insert":
            self.notes.append(ParseWarning(self.file, number, "'insert' reordering is not applied", text.strip()))
            return
        for path in _expand_lists(self.file, args):
            words = [t.text for t in path]
            if command == "set":
                node = self.root
                for word in words:
                    node = node.add(word)
                    node.touch(number, number)
            elif command == "delete":
                target = self.root.find(*words, include_inactive=True)
                if target is not None and target.parent is not None:
                    del target.parent.children[target.word]
            else:
                node = self.root
                for word in words:
                    node = node.add(word)
                node.inactive = command == "deactivate"
                node.touch(number, number)

    # -- hierarchical text -------------------------------------------------------------
    def _hierarchical_token(self, tok: _Token) -> None:
        if tok.kind in ("word", "[", "]"):
            if tok.kind == "word" and not self.pending and tok.text in _IGNORED_PREFIXES:
                return
            if tok.kind == "word" and not self.pending and tok.text == "delete:":
                self.notes.append(ParseWarning(self.file, tok.line, "'delete:' marker ignored", tok.text))
                return
            self.pending.append(tok)
            return
        if tok.kind == ";":
            if self.pending:
                self._add_statement(tok)
            return
        if tok.kind == "{":
            self._open_block(tok)
            return
        # "}"
        if self.pending:
            first = self.pending[0]
            raise InputError.at(
                self.file, tok.line, tok.column, f"statement {first.text!r} (line {first.line}) is not terminated",
                "';' before '}'",
            )
        if not self.stack:
            raise InputError.at(self.file, tok.line, tok.column, "'}' without a matching '{'")
        frame = self.stack.pop()
        for node in frame.nodes:
            node.touch(frame.open_token.line, tok.line)

    def _statement_words(self, end: _Token) -> tuple[list[_Token], bool]:
        words = self.pending
        self.pending = []
        inactive = bool(words) and words[0].kind == "word" and words[0].text == "inactive:"
        if inactive:
            words = words[1:]
        if not words:
            raise InputError.at(self.file, end.line, end.column, "'inactive:' without a statement", "a statement")
        return words, inactive

    def _parent(self) -> ConfigNode:
        return self.stack[-1].nodes[-1] if self.stack else self.root

    def _add_statement(self, end: _Token) -> None:
        words, inactive = self._statement_words(end)
        first_line = words[0].line
        for path in _expand_lists(self.file, words):
            node = self._parent()
            created = []
            for tok in path:
                node = node.add(tok.text)
                node.touch(first_line, end.line)
                created.append(node)
            if inactive:
                # a leaf statement is identified by its keyword and first value ("address A ...")
                created[min(1, len(created) - 1)].inactive = True

    def _open_block(self, brace: _Token) -> None:
        if not self.pending:
            raise InputError.at(self.file, brace.line, brace.column, "'{' without a statement name", "a name")
        words, inactive = self._statement_words(brace)
        bracket = next((t for t in words if t.kind != "word"), None)
        if bracket is not None:
            raise InputError.at(self.file, bracket.line, bracket.column, "a list cannot open a block")
        node = self._parent()
        created = []
        for tok in words:
            node = node.add(tok.text)
            created.append(node)
        if inactive:
            node.inactive = True
        self.stack.append(_Frame(created, words[0]))


def read_junos_config(text: str, file: str) -> JunosConfig:
    """Parse hierarchical and/or display-set Junos text into one tree (InputError when malformed)."""
    return _Reader(text, file).run()
