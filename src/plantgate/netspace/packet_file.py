"""Packets from a CSV file (``fw test --packets``) and from command-line fields, with clear errors.

Why a module of its own: a 100,000-row file spent seconds in building one Flow (two
``ipaddress`` objects and its checks) per row. A row in the common shape (dotted IPv4
addresses, a protocol name or number, decimal ports) is read here straight into numbers for
the column evaluator; ``socket.inet_pton`` accepts exactly the dotted quads ``ipaddress``
accepts (a property test holds it to that). Every other row, IPv6 or malformed, goes through
``make_flow``, so its packet or its error message is exactly what it always was, and every
bad row is reported with its line, all at once.
"""

from __future__ import annotations

import csv
import ipaddress
import operator
import socket
from pathlib import Path

from plantgate.errors import InputError, InputProblem, Location
from plantgate.feeds.csvtext import checked
from plantgate.feeds.textfile import read_evidence_text
from plantgate.netspace.batch import PacketBatch, Row
from plantgate.netspace.flow import Flow

PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58, "icmp6": 58, "sctp": 132, "gre": 47,
                    "esp": 50, "ah": 51, "ospf": 89}
"""Protocol names a packet may be given by (the named protocols of the treaty's conduit services)."""

PORT_PROTOCOL_NUMBERS = frozenset({6, 17, 132})
REQUIRED = ("src", "dst", "proto", "sport", "dport")


def protocol_number(text: str) -> int:
    value = PROTOCOL_NUMBERS.get(text.lower())
    if value is not None:
        return value
    if text.isdigit() and 0 <= int(text) <= 255:
        return int(text)
    raise ValueError(f"unknown protocol {text!r}: use tcp, udp, icmp, icmpv6, sctp or a number 0-255")


def make_flow(src: str, dst: str, proto: str, sport: str | int | None, dport: str | int | None,
              icmp_type: int | None = None, icmp_code: int | None = None) -> Flow:
    number = protocol_number(str(proto))
    ports = number in PORT_PROTOCOL_NUMBERS
    return Flow(ipaddress.ip_address(src.strip()), ipaddress.ip_address(dst.strip()), number,
                sport=int(sport or 0) if ports else 0, dport=int(dport or 0) if ports else 0,
                icmp_type=icmp_type or 0, icmp_code=icmp_code or 0)


def ipv4_value(text: str) -> int | None:
    """A dotted-quad IPv4 address as an integer, None for anything else (left to ``ipaddress``)."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError, UnicodeError):
        return None


def _port(text: str) -> int | None:
    if not text:
        return 0
    if text.isascii() and text.isdigit() and len(text) <= 5:
        value = int(text)
        return value if value <= 65535 else None
    return None


def _fast_row(src: str, dst: str, proto: str, sport: str, dport: str) -> Row | None:
    """The packet of a row in the common shape, None for any other row (read by ``make_flow``)."""
    number = PROTOCOL_NUMBERS.get(proto.lower())
    if number is None:
        if not (proto.isascii() and proto.isdigit()) or int(proto) > 255:
            return None
        number = int(proto)
    source, destination = ipv4_value(src), ipv4_value(dst)
    if source is None or destination is None:
        return None
    if number not in PORT_PROTOCOL_NUMBERS:
        return source, destination, number, 0, 0, 0, 0
    source_port, destination_port = _port(sport), _port(dport)
    if source_port is None or destination_port is None:
        return None
    return source, destination, number, source_port, destination_port, 0, 0


def read_packet_batch(path: Path) -> PacketBatch:
    """Packets from CSV (header src,dst,proto,sport,dport[,from_zone,to_zone]); every bad row reported."""
    text = read_evidence_text(path, "packets file")
    rows = csv.reader(text.splitlines())
    lines = checked(rows, str(path), lambda: rows.line_num)
    header = next(lines, None) or []
    reader = (row for row in lines if row)  # as csv.DictReader: empty lines after the header skipped
    columns = {name.strip(): k for k, name in enumerate(header) if name}  # as DictReader: the last of a name
    if not set(REQUIRED) <= set(columns):
        raise InputError.at(str(path), 1, 1, "missing CSV header", "src,dst,proto,sport,dport[,from_zone,to_zone]")
    picks = [columns[name] for name in REQUIRED]
    from_column, to_column = columns.get("from_zone"), columns.get("to_zone")
    batch = PacketBatch()
    problems: list[InputProblem] = []
    contexts: dict[tuple[str | None, str | None], tuple[str | None, str | None]] = {}
    width = max(picks) + 1
    pick = operator.itemgetter(*picks)
    for index, row in enumerate(reader, start=2):  # counts rows, not lines, as it always has
        if len(row) >= width:
            values = [value.strip() for value in pick(row)]
        else:
            values = [(row[k] if k < len(row) else "").strip() for k in picks]
        context = (_cell(row, from_column), _cell(row, to_column))
        context = contexts.setdefault(context, context)
        fast = _fast_row(*values)
        if fast is not None:
            batch.add_row(fast, context)
            continue
        try:
            flow = make_flow(values[0], values[1], values[2], values[3] or None, values[4] or None)
        except ValueError as exc:
            problems.append(InputProblem(Location(str(path), index, 1), f"bad packet row: {exc}",
                                         expected="src,dst,proto,sport,dport"))
            continue
        batch.add_flow(flow, context)
    if problems:
        raise InputError(problems)
    return batch


def _cell(row: list[str], column: int | None) -> str | None:
    if column is None or column >= len(row):
        return None
    return row[column].strip() or None
