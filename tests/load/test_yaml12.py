"""The libyaml reader gives the same values and the same line:column as ruamel's round-trip loader did.

ruamel (YAML 1.2, round trip) is the reference: it defined what a treaty means before the
reader moved to libyaml for speed. Generated documents mix block and flow styles, odd
indentation, comments, anchors and the scalars whose meaning differs between YAML 1.1 and 1.2.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from plantgate.load.yaml12 import YamlProblem, dump, parse
from tests.sites import EXAMPLE

TRICKY = ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "true", "True", "FALSE", "tRue", "null", "Null", "~",
          "0777", "0o17", "017", "08", "0x1F", "0xff", "0b101", "1_000", "+12", "-0", "1:20", "190:20:30.15",
          "1.5", "1.", ".5", "+.5", "1e3", "1.5E-3", "1_0.5", "-.inf", ".Inf", ".nan", "2027-06-30",
          "2027-06-30 12:00:00", "2027-06-30T12:00:00Z", "2027-06-30t12:00:00.5+02:00", "2027-6-3", "0xg", "0b",
          "10.0.0.0/16", "tcp/502", "C-B00042", "fw-dmz-ot", "a b", "x:y", "'quoted: yes'", '"dq \\u00e9 \\t"',
          "'it''s'", "\"0777\"", "'no'"]
KEYS = ["id", "zones", "no", "on", "1", "01", "true", "2027-06-30", "x y", "'q'"]


def _reference(text: str) -> tuple[Any, dict[tuple[str | int, ...], tuple[int, int]]]:
    """What the treaty reader built with ruamel: plain values and 1-based positions of keys and items."""
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)  # type: ignore[assignment]
    yaml.allow_duplicate_keys = False
    positions: dict[tuple[str | int, ...], tuple[int, int]] = {}

    def plain(node: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(node, CommentedMap):
            out = {}
            for key, value in node.items():
                line, col = node.lc.key(key)
                positions[(*path, str(key))] = (line + 1, col + 1)
                out[str(key)] = plain(value, (*path, str(key)))
            return out
        if isinstance(node, CommentedSeq):
            items = []
            for index, value in enumerate(node):
                line, col = node.lc.item(index)
                positions[(*path, index)] = (line + 1, col + 1)
                items.append(plain(value, (*path, index)))
            return items
        return node

    return plain(yaml.load(text), ()), positions


def _typed(value: Any) -> Any:
    """Values with their exact type (ruamel's int/float/str subclasses as the base type; nan comparable)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    for kind in (bool, int, float, dt.datetime, dt.date, str):
        if isinstance(value, kind):
            if kind is float and math.isnan(value):
                return ("float", "nan")
            return (kind.__name__, kind.isoformat(value) if kind in (dt.datetime, dt.date) else kind(value))
    assert value is None, f"unexpected {type(value)}"
    return None


def assert_same_as_ruamel(text: str) -> None:
    try:
        expected = _reference(text)
    except MarkedYAMLError as exc:
        with pytest.raises(YamlProblem) as caught:
            parse(text)
        mark = exc.problem_mark or exc.context_mark
        if "duplicate key" in str(exc.problem):
            assert (caught.value.line, caught.value.column) == (mark.line + 1, mark.column + 1)
            # same key and place; the values quoted after it are written alike for scalars only (ruamel keeps
            # non-string keys of a nested mapping as values, the treaty reader names them as strings)
            assert caught.value.message.split(" with value")[0] == str(exc.problem).split(" with value")[0]
        return
    value, positions = parse(text)
    assert _typed(value) == _typed(expected[0]), text
    assert positions == expected[1], text


@pytest.mark.parametrize("scalar", TRICKY)
@pytest.mark.parametrize("context", ["k: {}\n", "- {}\n", "k: [a, {}]\n", "k:\n  - {}\n  -   {}\n", "{}: v\n",
                                     "k: {{x: {}}}\n"])
def test_scalars_resolve_as_yaml_1_2(scalar: str, context: str) -> None:
    assert_same_as_ruamel(context.format(scalar, scalar))


def test_yaml_1_2_meanings_that_matter() -> None:
    value, _ = parse("a: no\nb: on\nc: 0777\nd: 0o17\ne: 2027-06-30\nf: 1:20\ng: true\n")
    assert value == {"a": "no", "b": "on", "c": 777, "d": 15, "e": dt.date(2027, 6, 30), "f": "1:20", "g": True}


def test_a_yaml_1_1_directive_is_honoured_as_ruamel_does() -> None:
    text = "%YAML 1.1\n---\na: no\nb: 0777\nc: 1:20\n"
    assert_same_as_ruamel(text)
    assert parse(text)[0] == {"a": False, "b": 511, "c": 80}


def test_every_example_file_reads_the_same() -> None:
    files = sorted(EXAMPLE.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        assert_same_as_ruamel(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [
    "a: 1\nb: 2\na: 3\n", "1: a\n01: b\n", "- {x: 1, x: 2}\n", "a: [1, 2\n", "a: b: c\n", "a:\n\t- b\n",
    "- a\n- b\n---\n- c\n", "a: 'open\n", "k: &x [1]\nj: *x\nl: *y\n", "- &a\n  k: 1\n- *a\n",
    "a: [1]\na: {b: 2}\n", "a: 2027-06-30\na: null\n",
])
def test_errors_and_aliases_as_ruamel(text: str) -> None:
    assert_same_as_ruamel(text)


@pytest.mark.parametrize(("text", "where", "message"), [
    ("a: &m {p: 1}\nb:\n  <<: *m\n", (3, 3), "merge keys"),
    ("a: &r [*r]\n", (1, 4), "recursive alias"),
    ("a: !!binary aGVsbG8=\n", (1, 4), "unsupported tag"),
    ("a: !!set {x}\n", (1, 4), "unsupported tag"),
    ("a: !!int twelve\n", (1, 4), "not a valid int"),
    ("? [1, 2]\n: x\n", (1, 3), "a key must be a single value"),
    ("%YAML 1.3\n---\na: 1\n", (1, 1), "incompatible YAML document"),
])
def test_what_a_treaty_never_needs_is_refused_where_it_is(text: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(YamlProblem) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column) == where
    assert message in caught.value.message


def test_explicit_standard_tags() -> None:
    assert parse("a: !!str 12\nb: !!int '12'\nc: !!float 1\nd: !!bool true\n")[0] == {
        "a": "12", "b": 12, "c": 1.0, "d": True}


def test_empty_text_is_no_document() -> None:
    assert parse("") == (None, {})
    assert parse("# only a comment\n") == (None, {})


RUAMEL_CRASHES = re.compile(r"0[box]_+")
"""Plain scalars on which the reference itself crashes (ruamel.yaml 0.18's int constructor: IndexError)."""


def _scalars() -> st.SearchStrategy[str]:
    words = st.text(alphabet="abcxyz019 -_./", min_size=1, max_size=8).filter(
        lambda s: s.strip() == s and not s.startswith(("-", "- ", ".")) and ": " not in s and not s.endswith(":")
        and not RUAMEL_CRASHES.fullmatch(s))
    return st.one_of(st.sampled_from(TRICKY), words)


def _render(node: Any, indent: int, step: int, offset: int) -> list[str]:
    """Block YAML lines for ``node`` (a ('map'|'seq'|'flow', ...) tree or a scalar token)."""
    pad = " " * indent
    if isinstance(node, str):
        return [pad + node]
    kind, items = node
    lines: list[str] = []
    if kind == "map":
        for key, value in items:
            if isinstance(value, str) or value[0] == "flow":
                lines.append(f"{pad}{key}: {_inline(value)}")
            else:
                lines.append(f"{pad}{key}:")
                lines += _render(value, indent + (offset if value[0] == "seq" else step), step, offset)
    elif kind == "seq":
        for value in items:
            if isinstance(value, str) or value[0] == "flow":
                lines.append(f"{pad}- {_inline(value)}")
            else:
                inner = _render(value, indent + 2, step, offset)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines += inner[1:]
    return lines


def _inline(node: Any) -> str:
    if isinstance(node, str):
        return node
    return "[" + ", ".join(_inline(v) for v in node[1]) + "]"


def _trees() -> st.SearchStrategy[Any]:
    flow = st.lists(_scalars(), max_size=3).map(lambda xs: ("flow", xs))
    leaf = st.one_of(_scalars(), flow)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(st.tuples(st.sampled_from(KEYS), inner), min_size=1, max_size=4).map(lambda kv: ("map", kv)),
            st.lists(inner, min_size=1, max_size=4).map(lambda xs: ("seq", xs))),
        max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_trees(), step=st.sampled_from([2, 4]), offset=st.sampled_from([0, 2]),
       comments=st.booleans())
def test_generated_documents_read_the_same(tree: Any, step: int, offset: int, comments: bool) -> None:
    document = ("map", [("root", tree)]) if isinstance(tree, str) or tree[0] != "map" else tree
    lines = _render(document, 0, step, offset)
    if comments:
        lines = [line + ("  # note" if i % 2 else "") for i, line in enumerate(lines)] + ["", "# end"]
    assert_same_as_ruamel("\n".join(lines) + "\n")


def _plain_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        st.sampled_from(TRICKY), st.text(max_size=12))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner,
                                                     max_size=4)), max_leaves=16)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.dictionaries(st.sampled_from(["zones", "conduits", "site", "no", "1"]), _plain_values(),
                                max_size=4))
def test_dump_reads_back_the_same_in_yaml_1_2_and_1_1(document: dict[str, Any]) -> None:
    text = dump(document)
    assert _typed(parse(text)[0]) == _typed(document)
    assert _typed(parse("%YAML 1.1\n---\n" + text)[0]) == _typed(document)  # strings safe under 1.1 too
    assert _typed(_reference(text)[0]) == _typed(document)  # and ruamel reads it alike


YAML11_LOOKALIKES = [
    "=", "<<", "!", "&", "*", "~", "", "null", "Null", "NULL", "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "NO",
    "on", "On", "ON", "off", "Off", "OFF", "true", "False", "yEs", "oFf", "nUlL", "0o17", "0x1F", "0b101", "017",
    "+1", "-0", "1_000", "1_0.5", "1:20", "190:20:30.15", "-1:30", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "1e3",
    "1.", ".5", "6.8523015e+5", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
]
"""Strings a YAML 1.1 or 1.2 reader (ruamel, PyYAML) would take for another type (issue 17 §9: ``=``)."""


@pytest.mark.parametrize("text", YAML11_LOOKALIKES)
def test_dump_quotes_every_string_a_yaml_reader_could_take_for_another_type(text: str) -> None:
    written = dump({"value": text, "list": [text]})
    assert parse(written)[0] == {"value": text, "list": [text]}
    assert parse("%YAML 1.1\n---\n" + written)[0] == {"value": text, "list": [text]}
    assert yaml.safe_load(written) == {"value": text, "list": [text]}  # PyYAML: a YAML 1.1 reader
    assert _typed(_reference(written)[0]) == _typed({"value": text, "list": [text]})


def test_dump_leaves_ordinary_words_plain() -> None:
    assert dump({"zone": "control", "ports": ["502", "1024-65535"], "id": "C-01"}) == (
        "zone: control\nports:\n- '502'\n- 1024-65535\nid: C-01\n")
