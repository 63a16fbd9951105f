"""JSON for tools, written as it is made: encoded by orjson, streamed, indented only for a person.

Why it exists: ``plantgate fw show --format json`` of a 20,000-term config is about 28 MB, and
the standard library's indented encoder spent 3.5 s of the command's 5.5 s writing it. orjson
encodes in C; this writer also streams the outer containers item by item, so a list of 37,000
rules (or 100,000 packet verdicts, which may come from a generator) is never held as one string,
and output starts before the last item is made. Indentation costs bytes and time that a program
reading the output does not need, so it is on only when the output is a terminal or the caller
asks for it. The JSON is the same document either way; ``json.loads`` reads both.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

import orjson

FLUSH_BYTES = 1 << 20
"""Chunks are gathered and written in blocks of about this size."""

BATCH = 512
"""Items of a streamed array encoded per orjson call."""


def write_json(data: Any, stream: BinaryIO | None = None, *, indent: bool | None = None,
               default: Callable[[Any], Any] | None = None) -> None:
    """Write ``data`` and a newline to ``stream`` (standard output by default).

    Lists, tuples and generators are written as JSON arrays, mappings as objects. ``indent``
    None means: two-space indentation when ``stream`` is a terminal, compact otherwise.
    ``default`` converts objects orjson does not know (as ``json.dumps(default=...)``).
    """
    if stream is None:
        sys.stdout.flush()
        stream = sys.stdout.buffer
    if indent is None:
        indent = _is_terminal(stream)
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    pending: list[bytes] = []
    size = 0
    for chunk in _chunks(data, 0, indent, option, _with_iterators(default)):
        pending.append(chunk)
        size += len(chunk)
        if size >= FLUSH_BYTES:
            stream.write(b"".join(pending))
            pending, size = [], 0
    pending.append(b"\n")
    stream.write(b"".join(pending))
    stream.flush()


def dumps(data: Any, *, indent: bool = False, default: Callable[[Any], Any] | None = None) -> str:
    """``data`` as a JSON string (the same encoding as ``write_json``, without the newline)."""
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return b"".join(_chunks(data, 0, indent, option, _with_iterators(default))).decode("utf-8")


def _is_terminal(stream: BinaryIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _with_iterators(default: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """orjson's ``default``: iterators deep inside the data become lists, the rest goes to ``default``."""

    def convert(value: Any) -> Any:
        if isinstance(value, Iterator):
            return list(value)
        if default is None:
            raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")
        return default(value)

    return convert


def _chunks(value: Any, level: int, indent: bool, option: int, default: Callable[[Any], Any]) -> Iterator[bytes]:
    """The top mapping item by item, iterators and long arrays a batch of items at a time, the rest whole."""
    if level == 0 and isinstance(value, Mapping) and value:
        inner = b"\n  " if indent else b""
        colon = b": " if indent else b":"
        yield b"{"
        for number, (key, item) in enumerate(value.items()):
            name = orjson.dumps(key if isinstance(key, str) else _key_text(key))
            yield (inner if not number else b"," + inner) + name + colon
            yield from _chunks(item, level + 1, indent, option, default)
        yield (b"\n}" if indent else b"}")
    elif isinstance(value, Iterator) or isinstance(value, list | tuple) and len(value) > BATCH:
        yield from _array(iter(value), level, indent, option, default)
    else:
        yield _encoded(value, level, indent, option, default)


def _encoded(value: Any, level: int, indent: bool, option: int, default: Callable[[Any], Any]) -> bytes:
    encoded = orjson.dumps(value, option=option, default=default)
    if indent and level:
        encoded = encoded.replace(b"\n", b"\n" + b"  " * level)  # JSON strings never hold a raw newline
    return encoded


def _array(items: Iterator[Any], level: int, indent: bool, option: int, default: Callable[[Any], Any]
           ) -> Iterator[bytes]:
    """``[...]`` written ``BATCH`` items per orjson call: each call's own brackets are cut off."""
    first = True
    yield b"["
    while batch := list(itertools.islice(items, BATCH)):
        body = _encoded(batch, level, indent, option, default)
        body = body[1:-2 - 2 * level] if indent else body[1:-1]  # "[" ... "\n" + indentation + "]"
        yield body if first else b"," + body
        first = False
    if indent and not first:
        yield b"\n" + b"  " * level
    yield b"]"


def _key_text(key: Any) -> str:
    """A non-string key as ``json.dumps`` writes it."""
    if key is True or key is False or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, int | float):
        return repr(key) if isinstance(key, float) else str(int(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
