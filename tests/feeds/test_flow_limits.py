"""Flow evidence that crashed or went quiet (issue 17 §8): a bad Zeek ``#separator``, NaN and
out-of-range timestamps, ports of thousands of digits, and classic ``.pcap`` files (tcpdump's
default) that yielded zero flows while the same packets as pcapng worked."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import plantgate
from plantgate.errors import InputError
from plantgate.feeds.flows import read_flows

DATA = Path(__file__).parent / "data"
ZEEK = (DATA / "conn_small.log").read_text(encoding="utf-8")
FIRST_RECORD = next(n for n, line in enumerate(ZEEK.splitlines(), start=1) if not line.startswith("#"))


def problem_of(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_flows([path], progress=False)
    return str(caught.value.problems[0])


@pytest.mark.parametrize("header", ["#separator", "#separator ", "#separator \\x", "#separator \\x0", "#separator ab",
                                    "#separator \\x0a"])
def test_a_bad_or_empty_zeek_separator_is_an_input_error_at_line_1(tmp_path: Path, header: str) -> None:
    path = tmp_path / "conn.log"
    path.write_text(ZEEK.replace("#separator \\x09", header, 1), encoding="utf-8")
    assert "conn.log:1:1: bad #separator" in problem_of(path)


@pytest.mark.parametrize("stamp", ["nan", "inf", "-inf", "1e300", "-5", "99999999999999"])
def test_a_zeek_timestamp_that_is_no_time_is_an_input_error_at_its_line(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "conn.log"
    path.write_text(ZEEK.replace("1795154400.000000", stamp, 1), encoding="utf-8")
    assert f"conn.log:{FIRST_RECORD}:1: bad value: timestamp" in problem_of(path)


@pytest.mark.parametrize("stamp", ["NaN", "1e999", "0001-01-01T00:00:00+14:00", "10000000000000"])
def test_a_flow_csv_time_that_is_no_time_is_an_input_error_at_its_line(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(f"src,dst,proto,dport,first_seen\n10.0.0.1,10.0.0.2,tcp,502,1795154400\n"
                    f"10.0.0.1,10.0.0.2,tcp,502,{stamp}\n", encoding="utf-8")
    assert "flows.csv:3:1: bad value:" in problem_of(path)


def test_a_zeek_json_timestamp_of_nan_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "conn.json"
    record = {"ts": 1e308 * 10, "id.orig_h": "10.0.0.1", "id.orig_p": 5, "id.resp_h": "10.0.0.2", "id.resp_p": 502,
              "proto": "tcp"}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")  # json.dumps writes Infinity
    assert "conn.json:1:" in problem_of(path)


@pytest.mark.parametrize("where", ["dport", "sport", "proto"])
def test_a_port_or_protocol_of_5000_digits_is_an_input_error(tmp_path: Path, where: str) -> None:
    row = {"src": "10.0.0.1", "dst": "10.0.0.2", "proto": "tcp", "sport": "4000", "dport": "502"}
    row[where] = "9" * 5000
    path = tmp_path / "flows.csv"
    path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n", encoding="utf-8")
    assert "flows.csv:2:1:" in problem_of(path)


def test_a_zeek_port_of_5000_digits_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "conn.log"
    path.write_text(ZEEK.replace("\t502\t", "\t" + "5" * 5000 + "\t", 1), encoding="utf-8")
    assert f"conn.log:{FIRST_RECORD}:1: bad port" in problem_of(path)


# ----------------------------------------------------------------------------- classic PCAP and PCAPNG

FRAMES = [  # (seconds, microseconds, Ethernet frame): a SYN from 10.0.0.1 to Modbus on 10.0.1.2, and its SYN-ACK
    (1795154400, 500000, "10.0.0.1", "10.0.1.2", 40000, 502, 0x02),
    (1795154401, 250000, "10.0.1.2", "10.0.0.1", 502, 40000, 0x12),
]


def _frame(src: str, dst: str, sport: int, dport: int, flags: int) -> bytes:
    tcp = struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 8192, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes(map(int, src.split("."))),
                     bytes(map(int, dst.split("."))))
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp


def classic_pcap(endian: str, nanoseconds: bool) -> bytes:
    """tcpdump's format, written by hand: the file header names the link type once (1, Ethernet)."""
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
    for seconds, micros, *packet in FRAMES:
        frame = _frame(*packet)  # type: ignore[arg-type]
        fraction = micros * 1000 if nanoseconds else micros
        out += struct.pack(endian + "IIII", seconds, fraction, len(frame), len(frame)) + frame
    return out


def pcapng() -> bytes:
    """The same packets as pcapng: section header, one Ethernet interface, enhanced packet blocks."""
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb = struct.pack("<IIHHI", 1, 20, 1, 0, 65535) + struct.pack("<I", 20)
    blocks = shb + idb
    for seconds, micros, *packet in FRAMES:
        frame = _frame(*packet)  # type: ignore[arg-type]
        padded = frame + b"\x00" * (-len(frame) % 4)
        stamp = seconds * 1_000_000 + micros
        length = 32 + len(padded)
        blocks += struct.pack("<IIIIIII", 6, length, 0, stamp >> 32, stamp & 0xFFFFFFFF, len(frame), len(frame))
        blocks += padded + struct.pack("<I", length)
    return blocks


def flows_in_fresh_process(path: Path) -> list[dict[str, object]]:
    """read_flows in a new interpreter: the bug depended on which scapy layers were imported before."""
    probe = ("import json, sys; from pathlib import Path; from plantgate.feeds.flows import read_flows\n"
             "print(json.dumps([f.to_dict() | {'sighting': ''} for f in read_flows([Path(sys.argv[1])], False)]))")
    source = str(Path(plantgate.__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": source, "PATH": "/usr/bin:/bin"})
    flows: list[dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return flows


def test_classic_pcap_in_every_byte_order_and_resolution_reads_as_pcapng(tmp_path: Path) -> None:
    (tmp_path / "capture.pcapng").write_bytes(pcapng())
    expected = flows_in_fresh_process(tmp_path / "capture.pcapng")
    assert [(f["src"], f["dst"], f["dport"], f["answered"]) for f in expected] == [("10.0.0.1", "10.0.1.2", 502, 1)]
    assert expected[0]["first_seen"] == "2026-11-20T06:00:00Z"
    for endian, nanoseconds in (("<", False), (">", False), ("<", True)):
        path = tmp_path / f"capture-{endian == '<'}-{nanoseconds}.pcap"
        path.write_bytes(classic_pcap(endian, nanoseconds))
        assert flows_in_fresh_process(path) == expected, (endian, nanoseconds)


def _pcapng_claiming(block_length: int) -> bytes:
    """A section header block, then a block whose length field claims ``block_length`` bytes."""
    options = b""
    body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + options
    header = struct.pack("<II", 0x0A0D0D0A, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
    return header + struct.pack("<II", 6, block_length) + b"\x00" * 64


def test_a_capture_block_that_claims_4_gb_is_read_within_the_file(tmp_path: Path) -> None:
    """Run under a 1 GB address-space limit: scapy once allocated the claimed length before reading."""
    capture = tmp_path / "hostile.pcapng"
    capture.write_bytes(_pcapng_claiming(0xFFFFFFF0))
    probe = ("import resource, sys\n"
             "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
             "from plantgate.errors import InputError\n"
             "from plantgate.feeds.flows import read_flows\n"
             "from pathlib import Path\n"
             f"try:\n    read_flows([Path({str(capture)!r})])\n"
             "except InputError as exc:\n    print('input error', exc)\n"
             "print('done')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "done" in done.stdout, done.stderr[-2000:]


def test_a_compressed_capture_is_refused_not_inflated(tmp_path: Path) -> None:
    import gzip

    capture = tmp_path / "capture.pcap"
    capture.write_bytes(gzip.compress(_pcapng_claiming(64) + b"\x00" * 1_000_000))
    with pytest.raises(InputError, match="gzip-compressed capture"):
        read_flows([capture])
