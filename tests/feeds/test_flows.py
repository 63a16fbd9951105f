"""Observed flow readers: Zeek TSV and JSON, flow CSV, PCAP/PCAPNG (generated with scapy), aggregation."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.feeds.flows import ObservedFlow, read_flows, sniff_format

DATA = Path(__file__).parent / "data"


def _by_port(flows: list[ObservedFlow]) -> dict[tuple[str, str, int, int], ObservedFlow]:
    return {(f.src, f.dst, f.proto, f.dport): f for f in flows}


def test_zeek_tsv_aggregates_sessions_and_knows_which_were_answered() -> None:
    flows = _by_port(read_flows([DATA / "conn_small.log"], progress=False))
    modbus = flows[("10.20.0.10", "10.1.0.10", 6, 502)]
    assert (modbus.count, modbus.answered, modbus.bytes, modbus.service) == (3, 2, 660, "modbus")
    assert (modbus.first_seen, modbus.last_seen) == (1795154400.0, 1795154500.0)
    assert modbus.where.endswith("conn_small.log:9") and modbus.sport == 49152
    assert flows[("10.20.0.21", "10.1.0.20", 6, 20000)].answered == 0  # REJ: the responder refused
    assert flows[("10.30.0.30", "10.1.0.30", 6, 102)].answered == 1  # RSTO: established, then aborted
    dns = flows[("10.20.0.21", "8.8.8.8", 17, 53)]
    assert dns.service == "dns" and dns.packet().to_dict()["sport"] == 53001
    icmp = flows[("fe80::1", "fe80::2", 58, 0)]
    assert icmp.packet().icmp_type == 8 and icmp.answered == 1
    assert len(flows) == 5


def test_zeek_json_lines_read_the_same_as_tsv() -> None:
    tsv = [f.to_dict() | {"sighting": ""} for f in read_flows([DATA / "conn_small.log"], progress=False)]
    jsonl = [f.to_dict() | {"sighting": ""} for f in read_flows([DATA / "conn_small.json"], progress=False)]
    assert tsv == jsonl
    assert sniff_format(DATA / "conn_small.json") == "zeek-json"


def test_malcolm_style_csv_with_counts() -> None:
    flows = _by_port(read_flows([DATA / "malcolm_flows.csv"], progress=False))
    modbus = flows[("10.20.0.10", "10.1.0.10", 6, 502)]
    assert (modbus.count, modbus.bytes, modbus.service, modbus.line) == (2, 360, "modbus", 2)


def test_files_merge_into_one_aggregate() -> None:
    flows = _by_port(read_flows([DATA / "conn_small.log", DATA / "malcolm_flows.csv"], progress=False))
    dns = flows[("10.20.0.21", "8.8.8.8", 17, 53)]
    assert dns.count == 2


@pytest.mark.parametrize(("line", "expected"), [
    ("1795154400.0\tC1\t10.0.0.1\t1\t10.0.0.999\t80\ttcp\t-\t1\t1\t1\tSF\tT\tT\t0\t-\t1\t1\t1\t1\t-", "bad address"),
    ("1795154400.0\tC1\t10.0.0.1\t1\t10.0.0.2\t80\ttcp\t-\t1\t1\t1\tSF", "fields where #fields"),
    ("notatime\tC1\t10.0.0.1\t1\t10.0.0.2\t80\ttcp\t-\t1\t1\t1\tSF\tT\tT\t0\t-\t1\t1\t1\t1\t-", "bad value"),
    ("1795154400.0\tC1\t10.0.0.1\t1\t10.0.0.2\t99999\ttcp\t-\t1\t1\t1\tSF\tT\tT\t0\t-\t1\t1\t1\t1\t-", "bad port"),
])
def test_bad_zeek_line_is_named_by_line(tmp_path: Path, line: str, expected: str) -> None:
    lines = (DATA / "conn_small.log").read_text().splitlines()
    lines.insert(9, line)
    bad = tmp_path / "conn.log"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        read_flows([bad], progress=False)
    problem = caught.value.problems[0]
    assert problem.location.line == 10 and expected in problem.message


def test_other_zeek_logs_are_refused(tmp_path: Path) -> None:
    text = (DATA / "conn_small.log").read_text().replace("#path\tconn", "#path\tdns")
    (tmp_path / "dns.log").write_text(text)
    with pytest.raises(InputError, match="dns.log"):
        read_flows([tmp_path / "dns.log"], progress=False)


def _ics_packets() -> list[object]:
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.l2 import Ether

    packets: list[object] = []
    stamp = 1795154400.0
    for client, server, port in (("10.20.0.10", "10.1.0.10", 502), ("10.30.0.30", "10.1.0.11", 102),
                                 ("10.20.0.11", "10.1.0.12", 20000), ("10.20.0.12", "10.1.0.13", 44818)):
        for src, dst, sport, dport, flags in ((client, server, 50000, port, "S"), (server, client, port, 50000, "SA"),
                                              (client, server, 50000, port, "PA"), (server, client, port, 50000, "PA")):
            packet = Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags) / (b"x" * 12)
            packet.time = stamp
            stamp += 0.5
            packets.append(packet)
    for src, dst, port in (("10.20.0.21", "10.30.0.21", 53), ("10.30.0.20", "172.16.35.50", 123)):
        for a, b, sport, dport in ((src, dst, 40000, port), (dst, src, port, 40000)):
            packet = Ether() / IP(src=a, dst=b) / UDP(sport=sport, dport=dport) / (b"q" * 20)
            packet.time = stamp
            stamp += 0.5
            packets.append(packet)
    # a capture that starts mid-session: the first packet seen is the server's SYN-ACK
    late = Ether() / IP(src="10.1.0.14", dst="10.20.0.13") / TCP(sport=502, dport=51000, flags="SA")
    late.time = stamp
    packets.append(late)
    return packets


@pytest.mark.parametrize("writer", ["pcap", "pcapng"])
def test_pcap_sessions_know_the_originator(tmp_path: Path, writer: str) -> None:
    from scapy.utils import PcapNgWriter, PcapWriter

    path = tmp_path / f"plant.{writer}"
    out = PcapWriter(str(path)) if writer == "pcap" else PcapNgWriter(str(path))
    for packet in _ics_packets():
        out.write(packet)
    out.close()
    assert sniff_format(path) == "pcap"
    flows = _by_port(read_flows([path], progress=False))
    assert set(flows) == {("10.20.0.10", "10.1.0.10", 6, 502), ("10.30.0.30", "10.1.0.11", 6, 102),
                          ("10.20.0.11", "10.1.0.12", 6, 20000), ("10.20.0.12", "10.1.0.13", 6, 44818),
                          ("10.20.0.21", "10.30.0.21", 17, 53), ("10.30.0.20", "172.16.35.50", 17, 123),
                          ("10.20.0.13", "10.1.0.14", 6, 502)}
    modbus = flows[("10.20.0.10", "10.1.0.10", 6, 502)]
    assert (modbus.count, modbus.answered, modbus.sport, modbus.line) == (1, 1, 50000, 1)
    assert modbus.last_seen == modbus.first_seen + 1.5
    assert flows[("10.20.0.13", "10.1.0.14", 6, 502)].count == 1


def test_truncated_capture_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.pcap"
    path.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 7)
    with pytest.raises(InputError):
        read_flows([path], progress=False)
