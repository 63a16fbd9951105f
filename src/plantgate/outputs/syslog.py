"""Sending the CEF events to the SOC's collector as RFC 5424 syslog, over UDP or TCP.

Most SIEMs take CEF over syslog. Findings go out one message per finding: UDP (RFC 5426)
one datagram each, TCP with RFC 6587 octet-counting framing so that a message never splits
or merges with the next. The syslog severity follows the finding's, and the MSGID is the
PlantGate rule id, so a collector can route on it before parsing the CEF body.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plantgate.checks.finding import Severity
from plantgate.errors import InputError, PlantGateError
from plantgate.outputs.cef import cef_events

if TYPE_CHECKING:
    from plantgate.outputs.formats import CheckReport

FACILITY_SECURITY = 4
"""RFC 5424 facility 4: security/authorization messages."""

SYSLOG_SEVERITY: dict[Severity, int] = {
    Severity.CRITICAL: 2, Severity.HIGH: 3, Severity.MEDIUM: 4, Severity.LOW: 5, Severity.INFO: 6,
}
"""critical -> Critical(2), high -> Error(3), medium -> Warning(4), low -> Notice(5), info -> Informational(6)."""

APP_NAME = "plantgate"
BOM = "\ufeff"
TIMEOUT_SECONDS = 10.0
_TARGET = re.compile(r"^(?:(?P<scheme>udp|tcp)://)?(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:/\s\[\]]+)):(?P<port>\d{1,5})$",
                     re.IGNORECASE)


class SyslogError(PlantGateError):
    """The collector could not be reached or refused the messages."""


@dataclass(frozen=True)
class SyslogTarget:
    transport: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}://{host}:{self.port}"


def parse_target(value: str) -> SyslogTarget:
    """``HOST:PORT`` (UDP), ``udp://HOST:PORT`` or ``tcp://HOST:PORT``; IPv6 hosts in brackets."""
    match = _TARGET.match(value.strip())
    port = int(match.group("port")) if match else 0
    if match is None or not 1 <= port <= 65535:
        raise InputError.at("--syslog", 0, 0, f"'{value}' is not a syslog destination",
                            "HOST:PORT, udp://HOST:PORT or tcp://HOST:PORT with a port 1-65535")
    transport = (match.group("scheme") or "udp").lower()
    return SyslogTarget(transport, match.group("v6") or match.group("host"), port)


def _header_token(value: str, limit: int) -> str:
    """An RFC 5424 header field: printable US-ASCII without spaces, or the NILVALUE '-'."""
    token = "".join(ch for ch in value if 33 <= ord(ch) <= 126)[:limit]
    return token or "-"


def rfc5424_message(cef_line: str, severity: Severity, msgid: str, *, now: dt.datetime, hostname: str,
                    facility: int = FACILITY_SECURITY, procid: str = "") -> bytes:
    """One syslog message carrying one CEF line as MSG (with the BOM RFC 5424 asks for if not ASCII)."""
    priority = facility * 8 + SYSLOG_SEVERITY[severity]
    timestamp = now.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    body = cef_line if cef_line.isascii() else BOM + cef_line
    header = " ".join([f"<{priority}>1", timestamp, _header_token(hostname, 255), APP_NAME,
                       _header_token(procid or str(os.getpid()), 128), _header_token(msgid, 32), "-"])
    return f"{header} {body}".encode()


def octet_counted(message: bytes) -> bytes:
    """RFC 6587 octet-counting frame: the length, a space, the message."""
    return str(len(message)).encode("ascii") + b" " + message


def send_findings(report: CheckReport, host_port: str, *, now: dt.datetime | None = None) -> int:
    """Send every finding of ``report`` as a CEF-over-syslog message; return how many were sent."""
    return send_cef_lines(host_port, [(line, finding.severity, finding.rule_id) for finding, line in
                                      cef_events(report)], now=now)


def send_cef_lines(host_port: str, lines: list[tuple[str, Severity, str]], *, now: dt.datetime | None = None) -> int:
    """Send CEF lines (line, severity, message id) to a syslog collector; return how many were sent."""
    moment = now or dt.datetime.now(dt.UTC)
    hostname = socket.gethostname()
    return send_messages([rfc5424_message(line, severity, msgid, now=moment, hostname=hostname)
                          for line, severity, msgid in lines], host_port, "findings")


def send_messages(messages: list[bytes], host_port: str, what: str = "messages") -> int:
    """Send ready RFC 5424 messages to the collector (one datagram each, or octet-counted over TCP)."""
    target = parse_target(host_port)
    try:
        addresses = socket.getaddrinfo(target.host, target.port,
                                       type=socket.SOCK_DGRAM if target.transport == "udp" else socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SyslogError(f"cannot resolve syslog host {target.host}: {exc}") from None
    family, kind, proto, _, address = addresses[0]
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(TIMEOUT_SECONDS)
            if target.transport == "udp":
                for message in messages:
                    sock.sendto(message, address)
            else:
                sock.connect(address)
                sock.sendall(b"".join(octet_counted(message) for message in messages))
    except OSError as exc:
        raise SyslogError(f"could not send {what} to {target}: {exc}") from None
    return len(messages)
