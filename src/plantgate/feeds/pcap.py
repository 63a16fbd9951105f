"""PCAP and PCAPNG captures turned into sessions, with the originator of each, via scapy.

A capture has packets, not connections; the checks need who opened each session (an
IT-initiated session into OT is a finding, the OT host answering it is not). The
originator is the sender of a bare SYN, the receiver of a SYN-ACK, and otherwise the
sender of the first packet seen unless only the other side uses a well-known port.
Packets are read one at a time; memory grows with the number of sessions.
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plantgate.errors import InputError
from plantgate.feeds.flows import FlowAggregator, checked_stamp

MAX_CAPTURE = 4 * 1024**3
"""Bytes: a capture is streamed (memory grows with sessions, not packets), so only time bounds it."""
WELL_KNOWN_LIMIT = 1024
ICS_PORTS = frozenset({102, 502, 2222, 2404, 4840, 20000, 34962, 34963, 34964, 44818, 47808})
SessionKey = tuple[int, str, int, str, int]


@dataclass(slots=True)
class _Session:
    src: str
    sport: int
    dst: str
    dport: int
    proto: int
    first: float
    last: float
    size: int
    answered: bool
    frame: int


def _service_port(port: int) -> bool:
    return port < WELL_KNOWN_LIMIT or port in ICS_PORTS


def _endpoints(packet: Any) -> tuple[str, str, int, int, int, int] | None:
    """(src, dst, proto, sport, dport, tcp flags) of an IP packet; None for non-IP frames."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.inet6 import IPv6

    if IP in packet:
        ip = packet[IP]
        proto = int(ip.proto)
    elif IPv6 in packet:
        ip = packet[IPv6]
        proto = int(ip.nh)
    else:
        return None
    if TCP in packet:
        tcp = packet[TCP]
        return str(ip.src), str(ip.dst), 6, int(tcp.sport), int(tcp.dport), int(tcp.flags)
    if UDP in packet:
        udp = packet[UDP]
        return str(ip.src), str(ip.dst), 17, int(udp.sport), int(udp.dport), 0
    if ICMP in packet:
        icmp = packet[ICMP]
        return str(ip.src), str(ip.dst), 1, int(icmp.type), int(icmp.code), 0
    return str(ip.src), str(ip.dst), proto, 0, 0, 0


def _originator_is_sender(proto: int, sport: int, dport: int, flags: int) -> bool:
    if proto == 6:
        syn, ack = bool(flags & 0x02), bool(flags & 0x10)
        if syn and not ack:
            return True
        if syn and ack:
            return False
    if proto in (6, 17) and _service_port(sport) and not _service_port(dport):
        return False
    return True


def _register_link_layers() -> None:
    """Load scapy's link and IP layers BEFORE a capture is opened.

    A classic .pcap names its link type once, in the file header, and scapy's reader looks the
    type up when the file is opened: with Ethernet not yet registered, every frame became a Raw
    blob and tcpdump's default output yielded zero flows (pcapng looks the type up per packet, so
    it worked). Importing the layers registers Ethernet, Linux cooked capture, loopback and raw IP.
    """
    import scapy.layers.inet
    import scapy.layers.inet6
    import scapy.layers.l2  # noqa: F401 - imported for the link types it registers


class _ClampedReads(io.BufferedReader):
    """A capture file whose reads never ask for more than the file still holds.

    A block or record length is read from the file itself: a corrupt or hostile PCAPNG block
    length of 4 GB made scapy allocate 4 GB for a 1 KB file. Clamped, memory stays within the
    file's size, and the short read is scapy's ordinary end-of-data."""

    def __init__(self, raw: io.FileIO, size: int) -> None:
        super().__init__(raw)
        self.size = size

    def read(self, n: int | None = -1) -> bytes:
        if n is not None and n >= 0:
            n = min(n, max(self.size - self.tell(), 0))
        return super().read(n)


def _open_capture(path: Path) -> _ClampedReads:
    file = str(path)
    try:
        raw = io.FileIO(file, "r")
    except OSError as exc:
        raise InputError.at(file, 0, 0, f"cannot read capture: {exc.strerror}", "a PCAP or PCAPNG file") from None
    info = os.fstat(raw.fileno())
    problem = ("not a regular file" if not stat.S_ISREG(info.st_mode)
               else f"{info.st_size:,} bytes; at most {MAX_CAPTURE:,} are read" if info.st_size > MAX_CAPTURE
               else "a gzip-compressed capture: decompress it first" if os.pread(raw.fileno(), 2, 0) == b"\x1f\x8b"
               else "")
    if problem:
        raw.close()
        raise InputError.at(file, 0, 0, f"cannot read capture: {problem}", "an uncompressed PCAP or PCAPNG file")
    return _ClampedReads(raw, info.st_size)


def read_pcap(path: Path, sink: FlowAggregator) -> None:
    """Stream a capture into sessions, then feed each session to ``sink`` (line = frame number)."""
    from scapy.error import Scapy_Exception
    from scapy.utils import PcapReader

    _register_link_layers()
    sessions: dict[SessionKey, _Session] = {}
    file = str(path)
    frame = 0
    handle = _open_capture(path)
    try:
        reader = PcapReader(handle)  # type: ignore[arg-type]  # scapy takes a file object too
    except (Scapy_Exception, OSError, EOFError) as exc:
        handle.close()
        raise InputError.at(file, 0, 0, f"cannot read capture: {exc}", "a PCAP or PCAPNG file") from None
    try:
        for frame, packet in enumerate(reader, start=1):
            ends = _endpoints(packet)
            if ends is None:
                continue
            src, dst, proto, sport, dport, flags = ends
            stamp, size = checked_stamp(float(packet.time)), len(packet)
            forward: SessionKey = (proto, src, sport, dst, dport)
            backward: SessionKey = (proto, dst, dport, src, sport)
            session = sessions.get(forward) or sessions.get(backward)
            if session is None:
                if proto in (1, 58) or _originator_is_sender(proto, sport, dport, flags):
                    session = _Session(src, sport, dst, dport, proto, stamp, stamp, 0, False, frame)
                else:
                    session = _Session(dst, dport, src, sport, proto, stamp, stamp, 0, True, frame)
                sessions[(proto, session.src, session.sport, session.dst, session.dport)] = session
            elif session.src != src or session.sport != sport:
                session.answered = True
            session.last = max(session.last, stamp)
            session.size += size
    except (Scapy_Exception, ValueError) as exc:
        raise InputError.at(file, frame + 1, 0, f"corrupt capture at frame {frame + 1}: {exc}",
                            "a complete PCAP or PCAPNG file") from None
    finally:
        reader.close()
        handle.close()
    for session in sessions.values():
        icmp = session.proto in (1, 58)
        key = (session.src, session.dst, str(session.proto), str(session.dport), "")
        sink.add(key, str(session.sport), session.first, 1, session.answered or icmp, session.size,
                 file, session.frame)
        if session.last != session.first:
            sink.add(key, str(session.sport), session.last, 0, False, 0, file, session.frame)
