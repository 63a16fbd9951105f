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

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, BinaryIO

import orjson

FLUSH_BYTES = 1 << 20
"""Chunks are gathered and written in blocks of about this size."""

STREAM_DEPTH = 4
"""Containers this deep (the top is 1) are written item by item; deeper ones are encoded whole."""


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
    for chunk in _chunks(data, STREAM_DEPTH, 0, indent, option, default):
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
    return b"".join(_chunks(data, STREAM_DEPTH, 0, indent, option, default)).decode("utf-8")


def _is_terminal(stream: BinaryIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _chunks(value: Any, depth: int, level: int, indent: bool, option: int,
            default: Callable[[Any], Any] | None) -> Iterator[bytes]:
    if depth > 1 and isinstance(value, Mapping) and value:
        yield from _container(((orjson.dumps(key if isinstance(key, str) else _key_text(key)), item)
                               for key, item in value.items()), b"{", b"}", depth, level, indent, option, default)
        return
    if depth > 1 and (isinstance(value, list | tuple) and value or isinstance(value, Iterator)):
        yield from _container(((None, item) for item in value), b"[", b"]", depth, level, indent, option, default)
        return
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping | list | tuple):
        value = list(value)  # a generator deeper than STREAM_DEPTH
    encoded = orjson.dumps(value, option=option, default=default)
    if indent and level:
        encoded = encoded.replace(b"\n", b"\n" + b"  " * level)  # JSON strings never hold a raw newline
    yield encoded


def _key_text(key: Any) -> str:
    """A non-string key as ``json.dumps`` writes it."""
    if key is True or key is False or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, int | float):
        return repr(key) if isinstance(key, float) else str(int(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _container(items: Iterator[tuple[bytes | None, Any]], opening: bytes, closing: bytes, depth: int, level: int,
               indent: bool, option: int, default: Callable[[Any], Any] | None) -> Iterator[bytes]:
    inner = b"\n" + b"  " * (level + 1) if indent else b""
    colon = b": " if indent else b":"
    first = True
    yield opening
    for key, item in items:
        yield (inner if first else b"," + inner) + (key + colon if key is not None else b"")
        first = False
        yield from _chunks(item, depth - 1, level + 1, indent, option, default)
    if not first and indent:
        yield b"\n" + b"  " * level
    yield closing
