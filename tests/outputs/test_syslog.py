"""CEF over RFC 5424 syslog, received by UDP and TCP collectors the test runs on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading

import pytest

from plantgate.checks.finding import Severity
from plantgate.errors import InputError
from plantgate.outputs.formats import CheckReport
from plantgate.outputs.syslog import SyslogError, SyslogTarget, parse_target, rfc5424_message, send_findings

NOW = dt.datetime(2026, 11, 26, 2, 0, 0, 123456, tzinfo=dt.UTC)
RFC5424 = re.compile(rb"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) plantgate (?P<pid>\S+) (?P<msgid>\S+) - "
                     rb"(?P<msg>CEF:0\|.*)$", re.DOTALL)


def _tcp_collector(received: list[bytes]) -> tuple[int, threading.Thread]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(5)

    def serve() -> None:
        with server, server.accept()[0] as connection:
            connection.settimeout(5)
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
            while data:  # RFC 6587 octet counting: LEN SP MSG
                length, _, rest = data.partition(b" ")
                received.append(rest[: int(length)])
                data = rest[int(length):]

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server.getsockname()[1], thread


def _check_messages(report: CheckReport, messages: list[bytes]) -> None:
    assert len(messages) == len(report.findings)
    for finding, raw in zip(report.findings, messages, strict=True):
        match = RFC5424.match(raw)
        assert match, raw[:120]
        assert match["msgid"].decode() == finding.rule_id
        assert int(match["pri"]) == 4 * 8 + {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}[
            finding.severity.value]
        assert match["ts"] == b"2026-11-26T02:00:00.123456Z"
        assert b"cs4Label=controlRoomPhone cs4=+1 281 555 0199" in match["msg"]
        assert f"externalId={finding.fingerprint}".encode() in match["msg"]


def test_udp_messages_arrive_intact(example_report: CheckReport) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    with sock:
        send_findings(example_report, f"udp://127.0.0.1:{sock.getsockname()[1]}", now=NOW)
        messages = [sock.recv(65535) for _ in example_report.findings]
    _check_messages(example_report, messages)


def test_tcp_octet_counted(example_report: CheckReport) -> None:
    received: list[bytes] = []
    port, thread = _tcp_collector(received)
    assert send_findings(example_report, f"tcp://127.0.0.1:{port}", now=NOW) == len(example_report.findings)
    thread.join(10)
    _check_messages(example_report, received)


def test_unreachable_tcp_collector_is_a_clear_error(example_report: CheckReport) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(SyslogError, match="could not send findings to tcp://127.0.0.1"):
        send_findings(example_report, f"tcp://127.0.0.1:{port}")


@pytest.mark.parametrize("value, expected", [
    ("collector.example:514", SyslogTarget("udp", "collector.example", 514)),
    ("TCP://10.0.0.5:6514", SyslogTarget("tcp", "10.0.0.5", 6514)),
    ("udp://[::1]:514", SyslogTarget("udp", "::1", 514)),
])
def test_parse_target(value: str, expected: SyslogTarget) -> None:
    assert parse_target(value) == expected


@pytest.mark.parametrize("value", ["collector", "host:0", "host:70000", "http://host:514", "::1:514"])
def test_bad_target_is_input_error(value: str) -> None:
    with pytest.raises(InputError, match="syslog destination"):
        parse_target(value)


def test_non_ascii_message_gets_the_bom() -> None:
    raw = rfc5424_message("CEF:0|PlantGate|PlantGate|1|PG-X|Zürich|5|", Severity.MEDIUM, "PG X", now=NOW,
                          hostname="plant host")
    assert raw.startswith(b"<36>1 2026-11-26T02:00:00.123456Z planthost plantgate ")
    assert b" PGX - \xef\xbb\xbfCEF:0|" in raw
