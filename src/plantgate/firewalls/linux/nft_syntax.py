"""The block structure of ``nft list ruleset`` text (and ``nft -f`` scripts of that shape).

Separated from the rule semantics in ``nftables`` so that brace balance, statements,
sets and chains are checked once, with exact line:column errors, before any meaning
is given to them. Output: tables holding sets and chains, each chain a list of rule
token lists with their source line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plantgate.errors import InputError
from plantgate.firewalls.interning import LineTexts
from plantgate.firewalls.limits import MAX_NESTING, NESTING_EXPECTED, is_decimal

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|!=|==|<=|>=|[{}();,<>@$]|[^\s{}();,"<>@$!=]+|!|=')
BLOCK_KEYWORDS = frozenset({"table", "chain", "set", "map", "flowtable", "counter", "quota", "limit",
                            "ct", "secmark", "synproxy"})
FAMILIES = frozenset({"ip", "ip6", "inet", "arp", "bridge", "netdev"})


@dataclass(frozen=True, slots=True)
class NftToken:
    text: str
    line: int
    column: int

    @property
    def unquoted(self) -> str:
        if len(self.text) >= 2 and self.text[0] == '"' and self.text[-1] == '"':
            return self.text[1:-1].replace('\\"', '"')
        return self.text


@dataclass
class Statement:
    tokens: list[NftToken]
    text: str

    @property
    def line(self) -> int:
        return self.tokens[0].line

    @property
    def end_line(self) -> int:
        return self.tokens[-1].line


@dataclass
class NftChain:
    name: str
    header: NftToken
    header_text: str
    hook: str = ""
    chain_type: str = ""
    priority: int = 0
    policy: str = "accept"
    comments: list[str] = field(default_factory=list)
    rules: list[Statement] = field(default_factory=list)


@dataclass
class NftSet:
    name: str
    header: NftToken
    header_text: str
    statements: list[Statement] = field(default_factory=list)


@dataclass
class NftTable:
    family: str
    name: str
    header: NftToken
    chains: dict[str, NftChain] = field(default_factory=dict)
    sets: dict[str, NftSet] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)


@dataclass
class NftFile:
    tables: list[NftTable] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, what) for warnings
    includes: list[tuple[int, str]] = field(default_factory=list)  # (line, statement): files not read


class _Lexer:
    def __init__(self, text: str, file: str) -> None:
        self.file, self.lines = file, text.splitlines()
        self.tokens: list[NftToken | None] = []  # None marks an end of line
        for number, raw in enumerate(self.lines, start=1):
            line = raw.rstrip()
            continued = line.endswith("\\")
            line = line[:-1] if continued else line
            pos = 0
            while pos < len(line):
                if line[pos].isspace():
                    pos += 1
                    continue
                if line[pos] == "#":
                    break
                m = _TOKEN.match(line, pos)
                if m is None or (m.group().startswith('"') and not m.group().endswith('"')):
                    raise InputError.at(file, number, pos + 1, "cannot read this text", "an nftables word or string")
                self.tokens.append(NftToken(m.group(), number, pos + 1))
                pos = m.end()
            if not continued:
                self.tokens.append(None)


class _Parser:
    """Recursive descent over lines: table { chain { ... } set { ... } }."""

    def __init__(self, text: str, file: str) -> None:
        lexer = _Lexer(text, file)
        self.file, self.lines, self.tokens = file, lexer.lines, lexer.tokens
        self.line_texts = LineTexts(self.lines)
        self.pos = 0
        self.defines: dict[str, list[NftToken]] = {}
        self.result = NftFile()

    def error(self, tok: NftToken | None, message: str, expected: str = "") -> InputError:
        if tok is None:
            return InputError.at(self.file, len(self.lines), 0, message, expected)
        return InputError.at(self.file, tok.line, tok.column, message, expected)

    def _statement(self) -> tuple[list[NftToken], str] | None:
        """Next statement: its tokens and how it ends ("{", "}", ";", "eol" or "eof")."""
        out: list[NftToken] = []
        depth = 0
        while self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            self.pos += 1
            if tok is None:
                if depth == 0 and out:
                    return out, "eol"
                continue
            if tok.text == "$" and self.pos < len(self.tokens) and self.tokens[self.pos] is not None:
                name_tok = self.tokens[self.pos]
                assert name_tok is not None
                self.pos += 1
                if name_tok.text not in self.defines:
                    raise self.error(tok, f"undefined variable ${name_tok.text}", "a name set with define")
                out.extend(NftToken(t.text, tok.line, tok.column) for t in self.defines[name_tok.text])
                continue
            if depth == 0 and tok.text == ";":
                if out:
                    return out, ";"
                continue
            if tok.text == "{":
                if depth == 0 and out and out[0].text in BLOCK_KEYWORDS and not self._is_value_brace(out):
                    out.append(tok)
                    return out, "{"
                depth += 1
            elif tok.text == "}":
                if depth == 0:
                    if out:
                        self.pos -= 1
                        return out, "eol"
                    return [tok], "}"
                depth -= 1
            out.append(tok)
        if depth:
            raise self.error(out[0] if out else None, "unbalanced braces: '{' never closed", "a closing }")
        return (out, "eof") if out else None

    @staticmethod
    def _is_value_brace(out: list[NftToken]) -> bool:
        return any(t.text in ("=", "elements") for t in out) or (out[0].text == "ct" and len(out) > 1
                                                                 and out[1].text in ("state", "status", "mark"))

    def _text(self, toks: list[NftToken]) -> str:
        first, last = toks[0].line, toks[-1].line
        return self.line_texts.text(first, last, strip=True)

    def parse(self) -> NftFile:
        while (item := self._statement()) is not None:
            toks, end = item
            head = toks[0].text
            if head == "}":
                raise self.error(toks[0], "unbalanced braces: '}' without an open block", "a table block")
            if head == "define":
                if len(toks) < 4 or toks[2].text != "=":
                    raise self.error(toks[0], "bad define", "define NAME = VALUE")
                self.defines[toks[1].text] = toks[3:]
                continue
            if head == "include":
                self.result.includes.append((toks[0].line, " ".join(t.text for t in toks)))
                continue
            if head == "flush":
                self.result.skipped.append((toks[0].line, " ".join(t.text for t in toks)))
                continue
            if head in ("add", "create") and len(toks) > 1 and toks[1].text == "table" and end == "{":
                toks = toks[1:]
                head = "table"
            if head != "table" or end != "{":
                raise self.error(toks[0], f"unexpected {head!r} outside a table block",
                                 "table FAMILY NAME { ... } (rules must be inside a chain)")
            names = [t for t in toks[1:-1]]
            family = names[0].text if len(names) == 2 else "ip"
            if family not in FAMILIES or len(names) not in (1, 2):
                raise self.error(toks[0], "bad table header", "table ip|ip6|inet|arp|bridge|netdev NAME {")
            self._table(NftTable(family, names[-1].text, toks[0]))
        return self.result

    def _table(self, table: NftTable) -> None:
        existing = next((t for t in self.result.tables if (t.family, t.name) == (table.family, table.name)), None)
        if existing is None:
            self.result.tables.append(table)
        else:
            table = existing
        while True:
            item = self._statement()
            if item is None:
                raise self.error(table.header, f"table {table.name} never closed", "a closing }")
            toks, end = item
            head = toks[0].text
            if head == "}":
                return
            if end == "{" and head in ("chain", "set") and len(toks) == 3:
                name = toks[1].unquoted
                if head == "chain":
                    chain = table.chains.get(name)
                    if chain is None:
                        chain = table.chains[name] = NftChain(name, toks[0], self._text(toks))
                        table.order.append(name)
                    self._chain(chain)
                else:
                    nft_set = table.sets.setdefault(name, NftSet(name, toks[0], self._text(toks)))
                    nft_set.statements.extend(self._block_statements(toks[0]))
            elif end == "{":
                self.result.skipped.append((toks[0].line, f"{head} block in table {table.name} not modelled"))
                self._block_statements(toks[0])
            elif head in ("flags", "comment"):
                continue
            else:
                raise self.error(toks[0], f"unexpected {head!r} in table {table.name}",
                                 "chain NAME { ... }, set NAME { ... } or a closing }")

    def _block_statements(self, opener: NftToken, depth: int = 0) -> list[Statement]:
        if depth > MAX_NESTING:
            raise self.error(opener, f"blocks nested more than {MAX_NESTING} levels deep", NESTING_EXPECTED)
        out: list[Statement] = []
        while True:
            item = self._statement()
            if item is None:
                raise self.error(opener, "block opened here never closed", "a closing }")
            toks, end = item
            if toks[0].text == "}":
                return out
            if end == "{":
                self._block_statements(toks[0], depth + 1)
                continue
            out.append(Statement(toks, self._text(toks)))

    def _chain(self, chain: NftChain) -> None:
        for stmt in self._block_statements(chain.header):
            words = [t.text for t in stmt.tokens]
            if words[0] == "type":
                self._chain_type(chain, stmt)
            elif words[0] == "policy" and len(words) == 2:
                if words[1] not in ("accept", "drop"):
                    raise self.error(stmt.tokens[1], f"bad policy {words[1]!r}", "accept or drop")
                chain.policy = words[1]
            elif words[0] == "comment" and len(words) == 2:
                chain.comments.append(stmt.tokens[1].unquoted)
            elif words[0] in ("devices", "flags"):
                continue
            else:
                chain.rules.append(stmt)

    def _chain_type(self, chain: NftChain, stmt: Statement) -> None:
        toks = stmt.tokens
        words = [t.text for t in toks]
        if len(words) < 5 or words[2] != "hook" or "priority" not in words:
            raise self.error(toks[0], "bad base chain header", "type filter hook input priority 0")
        chain.chain_type, chain.hook = words[1], words[3]
        prio = words[words.index("priority") + 1:]
        chain.priority = _priority(prio, toks[words.index("priority")], self)


PRIORITY_NAMES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100,
                  "out": 100, "br-filter": -200}


def _priority(words: list[str], at: NftToken, parser: _Parser) -> int:
    text = "".join(words)
    m = re.fullmatch(r"([a-z-]+?|-?\d+)(?:([+-])(\d+))?", text)
    if not m:
        raise parser.error(at, f"bad priority {text!r}", "a number or filter/raw/mangle... [+|- N]")
    base = m.group(1)
    value = int(base) if is_decimal(base.lstrip("-")) else PRIORITY_NAMES.get(base)
    if value is None:
        raise parser.error(at, f"unknown priority name {base!r}", ", ".join(PRIORITY_NAMES))
    if m.group(2):
        value += int(m.group(3)) * (1 if m.group(2) == "+" else -1)
    return value


def parse_structure(text: str, file: str) -> NftFile:
    """Tables, sets and chains of an nftables ruleset; InputError on broken structure."""
    return _Parser(text, file).parse()
