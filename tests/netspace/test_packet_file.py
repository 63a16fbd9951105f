"""The packets CSV reader: the fast row path gives the very packets and errors of the Flow path."""

from __future__ import annotations

import csv
import ipaddress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.errors import InputError, InputProblem, Location
from plantgate.model.conduits import PROTOCOL_NUMBERS as TREATY_PROTOCOLS
from plantgate.netspace.flow import Flow
from plantgate.netspace.packet_file import PROTOCOL_NUMBERS, ipv4_value, make_flow, read_packet_batch


def reference_read(path: Path) -> list[tuple[Flow, str | None, str | None]]:
    """The reader as it was (cli_fw.read_packets before the fast path): the oracle."""
    text = path.read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    required = {"src", "dst", "proto", "sport", "dport"}
    if reader.fieldnames is None or not required <= {f.strip() for f in reader.fieldnames}:
        raise InputError.at(str(path), 1, 1, "missing CSV header", "src,dst,proto,sport,dport[,from_zone,to_zone]")
    rows: list[tuple[Flow, str | None, str | None]] = []
    problems: list[InputProblem] = []
    for index, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        try:
            flow = make_flow(row["src"], row["dst"], row["proto"], row["sport"] or None, row["dport"] or None)
        except ValueError as exc:
            problems.append(InputProblem(Location(str(path), index, 1), f"bad packet row: {exc}",
                                         expected="src,dst,proto,sport,dport"))
            continue
        rows.append((flow, row.get("from_zone") or None, row.get("to_zone") or None))
    if problems:
        raise InputError(problems)
    return rows


def test_protocol_names_are_the_treatys() -> None:
    assert PROTOCOL_NUMBERS == {name: number for name, number in TREATY_PROTOCOLS.items() if number >= 0}


OCTETS = st.sampled_from(["0", "1", "10", "255", "256", "01", "00", "999", "", " 1", "1 ", "٣", "0x1", "+1", "-1"])


@given(st.lists(OCTETS, min_size=1, max_size=5).map(".".join) | st.text(max_size=20))
def test_fast_ipv4_accepts_exactly_what_ipaddress_accepts(text: str) -> None:
    try:
        expected: int | None = int(ipaddress.IPv4Address(text))
    except ValueError:
        expected = None
    assert ipv4_value(text) == expected


CELLS = {
    "src": st.sampled_from(["10.0.0.1", "192.0.2.255", "2001:db8::1", "::ffff:10.0.0.9", "10.0.0.256", "x", ""]),
    "dst": st.sampled_from(["10.0.0.2", "0.0.0.0", "2001:db8::2", "010.0.0.1", " 10.0.0.3 "]),
    "proto": st.sampled_from(["tcp", "UDP", "icmp", "6", "17", "47", "256", "ip", "²", "sctp", " tcp", ""]),
    "sport": st.sampled_from(["", "0", "1024", "65535", "65536", "-1", "abc", "٣", "+5", "007"]),
    "dport": st.sampled_from(["", "22", "443", "99999", "x", " 80"]),
    "from_zone": st.sampled_from(["", "inside", " dmz "]),
    "to_zone": st.sampled_from(["", "outside"]),
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries(CELLS), max_size=12), st.booleans(), st.booleans(), st.data())
def test_reader_equals_the_flow_reader(tmp_path: Path, rows: list[dict[str, str]], zones: bool, blank: bool,
                                       data: st.DataObject) -> None:
    header = ["src", "dst", "proto", "sport", "dport"] + (["from_zone", "to_zone"] if zones else [])
    header = data.draw(st.permutations(header))
    lines = [",".join(header)] + [",".join(row[name] for name in header) for row in rows]
    if blank and len(lines) > 2:
        lines.insert(2, "")
    path = tmp_path / "packets.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        expected = reference_read(path)
    except InputError as error:
        with pytest.raises(InputError) as raised:
            read_packet_batch(path)
        assert [str(p) for p in raised.value.problems] == [str(p) for p in error.problems]
        return
    batch = read_packet_batch(path)
    assert [(batch.flow(k), *batch.contexts[k]) for k in range(len(batch))] == expected


def test_missing_header(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("\nsrc,dst,proto,sport,dport\n10.0.0.1,10.0.0.2,tcp,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing CSV header"):
        read_packet_batch(path)
