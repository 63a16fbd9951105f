"""Observed flows: Zeek conn.log (TSV or JSON lines), NAVV/Malcolm-style CSV and PCAP, aggregated.

The treaty says what should flow and the firewalls what may flow; sensors say what does.
Sensor logs are large (millions of lines a day), so every reader streams line by line and
feeds one aggregator keyed by (originator, responder, protocol, responder port, service):
memory grows with the number of distinct flows, never with the length of the log. A bad
line is an InputError naming the file and line, never a silently dropped sighting.
"""

from __future__ import annotations

import csv
import gzip
import io
import ipaddress
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from plantgate.errors import InputError
from plantgate.feeds.csvtext import checked
from plantgate.feeds.jsontext import parse_json
from plantgate.netspace.flow import Flow

PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "icmp6": 58, "sctp": 132}
ANSWERED_STATES = frozenset({"S1", "SF", "S2", "S3", "RSTO", "RSTR", "RSTRH", "SHR"})
"""Zeek conn_state values in which the responder answered (S0, REJ, SH, RSTOS0: it did not)."""
PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")
PROGRESS_EVERY = 1 << 16


@dataclass(slots=True)
class ObservedFlow:
    """All sightings of one (originator, responder, protocol, port, service), merged.

    ``answered`` counts the sessions in which the responder replied; ``file``/``line`` name the
    first sighting, the evidence a finding points to.
    """

    src: str
    dst: str
    proto: int
    dport: int
    service: str
    sport: int
    first_seen: float | None
    last_seen: float | None
    count: int
    answered: int
    bytes: int
    file: str
    line: int

    @property
    def src_ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_address(self.src)

    @property
    def dst_ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_address(self.dst)

    def packet(self) -> Flow:
        """The first packet of one such session, as the firewall engine sees it."""
        if self.proto in (1, 58):
            return Flow(self.src_ip, self.dst_ip, self.proto, icmp_type=self.sport & 0xFF, icmp_code=self.dport & 0xFF)
        if self.proto in (6, 17, 132):
            return Flow(self.src_ip, self.dst_ip, self.proto, self.sport, self.dport)
        return Flow(self.src_ip, self.dst_ip, self.proto)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def service_text(self) -> str:
        name = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6", 132: "sctp"}.get(self.proto, f"proto {self.proto}")
        port = f"/{self.dport}" if self.proto in (6, 17, 132) else ""
        return f"{name}{port}" + (f" ({self.service})" if self.service else "")

    def to_dict(self) -> dict[str, Any]:
        return {"src": self.src, "dst": self.dst, "proto": self.proto, "dport": self.dport,
                "service": self.service, "first_seen": _iso(self.first_seen), "last_seen": _iso(self.last_seen),
                "count": self.count, "answered": self.answered, "bytes": self.bytes, "sighting": self.where}


def _iso(stamp: float | None) -> str | None:
    return None if stamp is None else datetime.utcfromtimestamp(stamp).isoformat(timespec="seconds") + "Z"


RawKey = tuple[str, str, str, str, str]


class FlowAggregator:
    """Merges sightings; a key is validated once, when first seen, so long logs stay cheap."""

    def __init__(self) -> None:
        self.table: dict[RawKey, ObservedFlow] = {}
        self.lines = 0

    def add(self, key: RawKey, sport: str, stamp: float | None, count: int, answered: bool, size: int,
            file: str, line: int) -> None:
        """Record ``count`` sessions of ``key`` = (src, dst, proto, dport, service) as written in the log."""
        self.lines += 1
        flow = self.table.get(key)
        if flow is None:
            self.table[key] = _new_flow(key, sport, stamp, count, answered, size, file, line)
            return
        flow.count += count
        flow.bytes += size
        if answered:
            flow.answered += count
        if stamp is not None:
            if flow.first_seen is None or stamp < flow.first_seen:
                flow.first_seen = stamp
            if flow.last_seen is None or stamp > flow.last_seen:
                flow.last_seen = stamp

    def flows(self) -> list[ObservedFlow]:
        """The merged flows, keyed canonically (two spellings of one IPv6 address merge)."""
        merged: dict[tuple[str, str, int, int, str], ObservedFlow] = {}
        for flow in self.table.values():
            key = (flow.src, flow.dst, flow.proto, flow.dport, flow.service)
            other = merged.get(key)
            if other is None:
                merged[key] = flow
                continue
            other.count += flow.count
            other.answered += flow.answered
            other.bytes += flow.bytes
            stamps = [s for s in (other.first_seen, flow.first_seen) if s is not None]
            other.first_seen = min(stamps) if stamps else None
            stamps = [s for s in (other.last_seen, flow.last_seen) if s is not None]
            other.last_seen = max(stamps) if stamps else None
        return sorted(merged.values(), key=lambda f: (f.src, f.dst, f.proto, f.dport, f.service))


def _new_flow(key: RawKey, sport: str, stamp: float | None, count: int, answered: bool, size: int,
              file: str, line: int) -> ObservedFlow:
    src, dst, proto_text, dport_text, service = key
    try:
        src_ip, dst_ip = ipaddress.ip_address(src.strip()), ipaddress.ip_address(dst.strip())
    except ValueError as exc:
        raise InputError.at(file, line, 1, f"bad address: {exc}", "IPv4 or IPv6 addresses") from None
    if src_ip.version != dst_ip.version:
        raise InputError.at(file, line, 1, "originator and responder are of different IP versions")
    proto = protocol_number(proto_text, file, line)
    if proto == 1 and src_ip.version == 6:
        proto = 58
    dport, orig_port = _port(dport_text, file, line), _port(sport, file, line)
    if proto not in (1, 6, 17, 58, 132):
        dport = orig_port = 0
    return ObservedFlow(str(src_ip), str(dst_ip), proto, dport, service, orig_port, stamp, stamp, count,
                        count if answered else 0, size, file, line)


def protocol_number(text: str, file: str, line: int) -> int:
    value = text.strip().lower()
    if value in PROTOCOLS:
        return PROTOCOLS[value]
    if _small_number(value, 255):
        return int(value)
    raise InputError.at(file, line, 1, f"unknown protocol {text[:40]!r}", "tcp, udp, icmp or an IP protocol number")


def _port(text: str, file: str, line: int) -> int:
    value = text.strip()
    if value in ("", "-"):
        return 0
    if _small_number(value, 65535):
        return int(value)
    raise InputError.at(file, line, 1, f"bad port {text[:40]!r}", "a port number 0-65535")


def _small_number(value: str, top: int) -> bool:
    """ASCII digits of a number 0..top, judged by length before conversion (a 5,000-digit port
    would overflow Python's integer conversion limit)."""
    return value.isascii() and value.isdigit() and len(value) <= len(str(top)) and int(value) <= top


def _count(text: str | None) -> int:
    """A byte or packet counter; Zeek writes '-' when unset."""
    if text is None or text in ("", "-", "(empty)"):
        return 0
    return int(text)


LAST_STAMP = 253402300799.0
"""9999-12-31T23:59:59Z, the last second an ISO date can name; a timestamp is 0 up to this."""


def _stamp(value: Any) -> float | None:
    """Epoch seconds from a number or an ISO date; ValueError for what is none of these or out of range."""
    if value is None or value in ("", "-"):
        return None
    if isinstance(value, int | float):
        return checked_stamp(float(value))
    text = str(value).strip()
    try:
        return checked_stamp(float(text))
    except ValueError:
        try:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError, OSError):
            raise ValueError(f"{text[:40]!r} is not an epoch or ISO 8601 time") from None
        return checked_stamp(stamp)


def checked_stamp(stamp: float) -> float:
    """``stamp`` if it is a finite time from 1970 up to year 9999; ValueError otherwise (NaN, inf and
    out-of-range times crashed every output format of ``check --flows``)."""
    if not 0.0 <= stamp <= LAST_STAMP:  # also false for NaN
        raise ValueError(f"timestamp {stamp!r} is not a time from 1970 to 9999")
    return stamp


def _answered(state: str | None, resp_pkts: str | None, resp_bytes: str | None) -> bool:
    """Whether the responder replied; unknown counts as answered (never hide a possible bypass)."""
    if state in ANSWERED_STATES:
        return True
    if state and state != "OTH":
        return False  # S0, REJ, SH, RSTOS0: the responder never answered
    if resp_pkts is None and resp_bytes is None:
        return True
    return bool(_count(resp_pkts) or _count(resp_bytes))


# ----------------------------------------------------------------------------- streaming input


@contextmanager
def _lines(path: Path, progress: bool) -> Iterator[Iterator[tuple[int, str]]]:
    """Numbered text lines of a (possibly gzipped) file, with a progress bar on a terminal."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError.at(str(path), 0, 0, f"cannot read flow file: {exc}", "a readable file") from None
    total = path.stat().st_size
    binary: IO[bytes] = gzip.GzipFile(fileobj=raw) if raw.peek(2)[:2] == b"\x1f\x8b" else raw  # type: ignore[assignment]
    handle = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    bar = _progress_bar(path, total) if progress else None

    def numbered() -> Iterator[tuple[int, str]]:
        number = 0
        try:
            if bar is None:
                for number, text in enumerate(handle, start=1):  # noqa: B007 - number is read on error
                    yield number, text
                return
            for number, text in enumerate(handle, start=1):  # noqa: B007
                if number % PROGRESS_EVERY == 0:
                    bar[0].update(bar[1], completed=raw.tell())
                yield number, text
        except UnicodeDecodeError:
            line, column = _first_undecodable(path)
            raise InputError.at(str(path), line or number + 1, column or 1, "not UTF-8 text", "a UTF-8 log") from None

    try:
        if bar is not None:
            bar[0].start()
        yield numbered()
    finally:
        if bar is not None:
            bar[0].stop()
        handle.close()
        raw.close()


def _first_undecodable(path: Path) -> tuple[int, int]:
    """(line, column) of the first byte that is not UTF-8, found again on the raw lines: the text
    reader decodes whole chunks ahead, so its error does not know the line. (0, 0) if none is found."""
    with path.open("rb") as raw:
        binary: IO[bytes] = gzip.GzipFile(fileobj=raw) if raw.read(2) == b"\x1f\x8b" else raw  # type: ignore[assignment]
        raw.seek(0)
        for number, data in enumerate(binary, start=1):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, exc.start + 1
    return 0, 0


def _progress_bar(path: Path, total: int) -> tuple[Any, Any] | None:
    """A rich progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from plantgate.terminal import make_console

    bar = Progress(TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(),
                   TimeRemainingColumn(), console=make_console(stderr=True), transient=True)
    return bar, bar.add_task(path.name, total=total)


def sniff_format(path: Path) -> str:
    """zeek-tsv, zeek-json, csv or pcap, from the first bytes (gzip is looked through)."""
    try:
        with path.open("rb") as raw:
            head = raw.read(4096)
    except OSError as exc:
        raise InputError.at(str(path), 0, 0, f"cannot read flow file: {exc}", "a readable file") from None
    if head[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as unpacked:
            try:
                head = unpacked.read(4096)
            except OSError as exc:
                raise InputError.at(str(path), 0, 0, f"broken gzip file: {exc}") from None
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"#separator") or text.startswith(b"#fields"):
        return "zeek-tsv"
    if text.startswith(b"{"):
        return "zeek-json"
    if not text:
        raise InputError.at(str(path), 1, 1, "empty flow file", "a Zeek conn.log, flow CSV or PCAP")
    return "csv"


def read_flows(paths: Iterable[Path], progress: bool = True,
               aggregator: FlowAggregator | None = None) -> list[ObservedFlow]:
    """Stream every file into one aggregator; the format of each file is sniffed."""
    sink = aggregator or FlowAggregator()
    for path in paths:
        kind = sniff_format(path)
        if kind == "pcap":
            from plantgate.feeds.pcap import read_pcap

            read_pcap(path, sink)
            continue
        with _lines(path, progress) as lines:
            if kind == "zeek-tsv":
                read_zeek_tsv(lines, str(path), sink)
            elif kind == "zeek-json":
                read_zeek_json(lines, str(path), sink)
            else:
                read_flow_csv(lines, str(path), sink)
    return sink.flows()


# ----------------------------------------------------------------------------- Zeek


def _separator(header: str, file: str, line: int) -> str:
    """The one character of a ``#separator`` header, written as Zeek writes it (``\\x09``)."""
    written = header.split(" ", 1)[1] if " " in header else ""
    try:
        separator = written.encode("utf-8").decode("unicode_escape")
    except UnicodeDecodeError:
        separator = ""
    if len(separator) != 1 or separator in "\r\n":
        raise InputError.at(file, line, 1, f"bad #separator {written[:20]!r}",
                            "'#separator' and one character, as Zeek writes it: #separator \\x09")
    return separator


def read_zeek_tsv(lines: Iterator[tuple[int, str]], file: str, sink: FlowAggregator) -> None:
    """Zeek's ASCII writer: ``#separator``, ``#fields`` and ``#types`` headers, then one line a connection."""
    separator, unset = "\t", "-"
    columns: dict[str, int] | None = None
    for number, text in lines:
        text = text.rstrip("\r\n")
        if not text:
            continue
        if text[0] == "#":
            if text.startswith("#separator"):
                separator = _separator(text, file, number)
            else:
                name, _, value = text.partition(separator)
                if name == "#unset_field":
                    unset = value
                elif name == "#path" and value not in ("conn", "conn_long"):
                    raise InputError.at(file, number, 1, f"this is Zeek's {value}.log", "a Zeek conn.log")
                elif name == "#fields":
                    columns = {field: index for index, field in enumerate(value.split(separator))}
                    _require(columns, file, number)
            continue
        if columns is None:
            raise InputError.at(file, number, 1, "connection line before the #fields header", "a Zeek conn.log")
        _tsv_records(lines, number, text, columns, separator, unset, sink, file)
        return


def _tsv_records(lines: Iterator[tuple[int, str]], first_number: int, first_text: str, columns: dict[str, int],
                 separator: str, unset: str, sink: FlowAggregator, file: str) -> None:
    """The data lines: the hot path of a multi-million-line log, so every field is read by index.

    A missing optional column points one past the end, where an unset value is appended.
    """
    width = len(columns)
    i_src, i_dst, i_proto, i_dport = (columns[n] for n in ("id.orig_h", "id.resp_h", "proto", "id.resp_p"))
    i_ts, i_sport, i_service, i_state, i_ob, i_rb, i_rp = (
        columns.get(n, width) for n in ("ts", "id.orig_p", "service", "conn_state", "orig_bytes", "resp_bytes",
                                        "resp_pkts"))
    table = sink.table
    for number, text in _chain_first(first_number, first_text, lines):
        if text[0] == "#":
            if text.startswith("#fields") or text.startswith("#separator"):
                raise InputError.at(file, number, 1, "a second header inside the log", "one conn.log a file")
            continue
        parts = text.rstrip("\r\n").split(separator)
        if len(parts) != width:
            if not text.strip():
                continue
            raise InputError.at(file, number, 1, f"{len(parts)} fields where #fields names {width}",
                                "one value per #fields column")
        parts.append(unset)
        service = parts[i_service]
        if service == unset or service == "(empty)":
            service = ""
        key = (parts[i_src], parts[i_dst], parts[i_proto], parts[i_dport], service)
        ts, orig_bytes, resp_bytes, state = parts[i_ts], parts[i_ob], parts[i_rb], parts[i_state]
        try:
            size = (0 if orig_bytes == unset else int(orig_bytes)) + (0 if resp_bytes == unset else int(resp_bytes))
            stamp = None if ts == unset else checked_stamp(float(ts))
        except ValueError as exc:
            raise InputError.at(file, number, 1, f"bad value: {exc}", "Zeek counts and timestamps") from None
        if state in ANSWERED_STATES:
            answered = True
        elif state != unset and state != "OTH":
            answered = False
        else:
            answered = _answered(None if state == unset else state, None if parts[i_rp] == unset else parts[i_rp],
                                 None if resp_bytes == unset else resp_bytes)
        flow = table.get(key)
        if flow is None or stamp is None:
            sink.add(key, parts[i_sport], stamp, 1, answered, size, file, number)
            continue
        sink.lines += 1
        flow.count += 1
        flow.bytes += size
        if answered:
            flow.answered += 1
        if flow.last_seen is None or stamp > flow.last_seen:
            flow.last_seen = stamp
        elif flow.first_seen is None or stamp < flow.first_seen:
            flow.first_seen = stamp


def _chain_first(number: int, text: str, rest: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    yield number, text
    yield from rest


def _field(parts: list[str], columns: dict[str, int], name: str, unset: str) -> str | None:
    index = columns.get(name)
    if index is None:
        return None
    value = parts[index]
    return None if value == unset else value


_REQUIRED = ("id.orig_h", "id.resp_h", "id.resp_p", "proto")


def _require(columns: Iterable[str], file: str, line: int) -> None:
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise InputError.at(file, line, 1, "missing Zeek field(s) " + ", ".join(missing),
                            "a conn.log with " + ", ".join(_REQUIRED))


def _zeek_record(get: Any, sink: FlowAggregator, file: str, number: int) -> None:
    try:
        resp_bytes, resp_pkts = get("resp_bytes"), get("resp_pkts")
        size = _count(get("orig_bytes")) + _count(resp_bytes)
        stamp = _stamp(get("ts"))
    except ValueError as exc:
        raise InputError.at(file, number, 1, f"bad value: {exc}", "Zeek counts and timestamps") from None
    service = get("service") or ""
    key = (get("id.orig_h") or "", get("id.resp_h") or "", get("proto") or "", get("id.resp_p") or "",
           "" if service == "(empty)" else service)
    sink.add(key, get("id.orig_p") or "0", stamp, 1, _answered(get("conn_state"), resp_pkts, resp_bytes), size,
             file, number)


def read_zeek_json(lines: Iterator[tuple[int, str]], file: str, sink: FlowAggregator) -> None:
    """Zeek's JSON writer: one object a line with the same dotted field names."""
    for number, text in lines:
        if not text.strip():
            continue
        record = parse_json(text, file, number)
        if not isinstance(record, dict):
            raise InputError.at(file, number, 1, "not a JSON object", "one Zeek conn record a line")
        _require(record, file, number)

        def get(name: str, record: dict[str, Any] = record) -> str | None:
            value = record.get(name)
            if value is None:
                return None
            if isinstance(value, list):
                return ",".join(str(v) for v in value)
            return str(value) if not isinstance(value, float) or name != "ts" else repr(value)
        _zeek_record(get, sink, file, number)


# ----------------------------------------------------------------------------- CSV

CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "src": ("source.ip", "src_ip", "src", "source", "id.orig_h", "orig_h", "srcaddr", "source ip"),
    "dst": ("destination.ip", "dst_ip", "dest_ip", "dst", "destination", "id.resp_h", "resp_h", "dstaddr",
            "destination ip"),
    "dport": ("destination.port", "dst_port", "dest_port", "dport", "port", "id.resp_p", "resp_p", "dstport",
              "destination port"),
    "sport": ("source.port", "src_port", "sport", "id.orig_p", "srcport", "source port"),
    "proto": ("network.transport", "proto", "protocol", "transport", "ip_proto"),
    "service": ("network.protocol", "service", "app", "application", "zeek.service"),
    "count": ("count", "event.count", "connections", "sessions", "flows", "conn_count"),
    "bytes": ("network.bytes", "bytes", "total_bytes", "totbytes"),
    "first": ("firstpacket", "first_seen", "event.start", "start", "@timestamp", "ts", "timestamp"),
    "last": ("lastpacket", "last_seen", "event.end", "end"),
    "state": ("conn_state", "zeek.conn.conn_state", "state"),
}
"""Column names of NAVV summaries, Malcolm (ECS) exports and plain flow CSVs, lower-cased."""


def csv_columns(header: list[str], file: str) -> dict[str, int]:
    lowered = [name.strip().lower() for name in header]
    found: dict[str, int] = {}
    for key, aliases in CSV_ALIASES.items():
        for alias in aliases:
            if alias in lowered:
                found[key] = lowered.index(alias)
                break
    missing = [k for k in ("src", "dst", "dport", "proto") if k not in found]
    if missing:
        raise InputError.at(file, 1, 1, "flow CSV header lacks " + ", ".join(missing),
                            "columns such as source.ip, destination.ip, destination.port, network.transport")
    return found


def read_flow_csv(lines: Iterator[tuple[int, str]], file: str, sink: FlowAggregator) -> None:
    """A NAVV- or Malcolm-style flow CSV: one row a flow (or a count of flows), with a header."""
    numbers: list[int] = []

    def texts() -> Iterator[str]:
        for number, text in lines:
            numbers.append(number)
            yield text

    reader = csv.reader(texts())
    columns: dict[str, int] | None = None
    for row in checked(reader, file, lambda: numbers[-1] if numbers else 1):
        number = numbers[-1]
        numbers.clear()
        if not row or not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = csv_columns(row, file)
            continue
        def cell(key: str, row: list[str] = row, cols: dict[str, int] = columns) -> str | None:
            index = cols.get(key)
            return row[index].strip() if index is not None and index < len(row) else None
        try:
            count = int(cell("count") or 1)
            size = _count(cell("bytes"))
            first, last = _stamp(cell("first")), _stamp(cell("last"))
        except ValueError as exc:
            raise InputError.at(file, number, 1, f"bad value: {exc}", "numbers and ISO or epoch times") from None
        key = (cell("src") or "", cell("dst") or "", cell("proto") or "", cell("dport") or "", cell("service") or "")
        state = cell("state")
        answered = state in ANSWERED_STATES if state else True
        sink.add(key, cell("sport") or "0", first, count, answered, size, file, number)
        if last is not None and last != first:
            sink.add(key, cell("sport") or "0", last, 0, answered, 0, file, number)
