"""The streaming JSON writer: the same document as the standard library's, item by item."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from plantgate.outputs.json_stream import dumps, write_json

SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


@given(DOCUMENTS)
def test_indented_output_is_the_standard_librarys_text(document: Any) -> None:
    assert dumps(document, indent=True) == json.dumps(document, indent=2, ensure_ascii=False)


@given(DOCUMENTS, st.booleans())
def test_output_reads_back_as_the_same_document(document: Any, indent: bool) -> None:
    assert json.loads(dumps(document, indent=indent)) == document


@given(st.lists(st.dictionaries(st.text(max_size=3), SCALARS, max_size=3), max_size=5),
       st.floats(allow_nan=False, allow_infinity=False))
def test_generators_and_tuples_are_arrays_and_floats_round_trip(items: list[dict[str, Any]], number: float) -> None:
    document = {"items": (item for item in items), "pair": (number, -number), 3: [iter(items)]}
    assert json.loads(dumps(document)) == {"items": items, "pair": [number, -number], "3": [items]}


def test_write_json_ends_with_a_newline_and_is_compact_off_a_terminal() -> None:
    out = io.BytesIO()
    write_json({"rules": [{"id": "a#1"}, {"id": "a#2"}]}, out)
    assert out.getvalue() == b'{"rules":[{"id":"a#1"},{"id":"a#2"}]}\n'
    out = io.BytesIO()
    write_json([1, 2], out, indent=True)
    assert out.getvalue() == b"[\n  1,\n  2\n]\n"


def test_large_output_is_written_in_blocks() -> None:
    writes: list[int] = []

    class Recorder(io.BytesIO):
        def write(self, data: Any) -> int:
            writes.append(len(data))
            return super().write(data)

    out = Recorder()
    write_json(({"text": "x" * 1000, "n": n} for n in range(5000)), out)
    assert len(writes) > 2 and max(writes) < 2 << 20
    assert len(json.loads(out.getvalue())) == 5000


def test_long_arrays_are_written_in_batches_as_one_array() -> None:
    items = [{"x": [n, {"y": str(n)}], "z": []} for n in range(1300)]
    document = {"a": items, "b": {"c": items[:3]}, "d": (i for i in items)}
    expected = {"a": items, "b": {"c": items[:3]}, "d": items}
    assert dumps(document, indent=True) == json.dumps(expected, indent=2, ensure_ascii=False)
    assert dumps(items, indent=True) == json.dumps(items, indent=2, ensure_ascii=False)
    assert json.loads(dumps({"a": (i for i in items)})) == {"a": items}
    assert dumps([]) == "[]" and dumps(iter([])) == "[]" and dumps({}) == "{}"
